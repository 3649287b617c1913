"""LIME's neighbourhood of one instance: the samples it drew, their kernel weights, the surrogate fitted on them.

A :class:`NeighbourhoodSession` holds one instance (a table row, an image or a document) and the
LIME explainer of nbexplain that explains it (:class:`~nbexplain.explainers.LimeTabularBatched`,
or lime's own through :class:`~nbexplain.explainers.LimeImage` /
:class:`~nbexplain.explainers.LimeText`). ``session.run(seed, num_samples, kernel_width)``
returns a :class:`Neighbourhood`: EXACTLY the samples the explanation with those settings is fitted
on (drawn by the explainer's own ``perturb`` / ``neighbourhood`` hooks, never re-sampled here),
the model's outputs on them, the kernel distances and weights, and the weighted ridge surrogate
(lime's: ``Ridge(alpha=1)`` with intercept, on every feature), its predictions and its weighted R^2.

Refits are cheap: the model's outputs are cached per seed, so another ``kernel_width`` only
re-weights and refits (no model call), and for a table another ``num_samples`` calls the model
only on rows it has not seen (a neighbourhood drawn with more samples starts with the rows of
one with fewer, whenever every feature is binned or categorical: lime's default; the rows are
compared when the cache grows, and otherwise it is not used). ``session.spread(num_samples, kernel_width)`` runs the
``n_seeds`` seeds ``seed .. seed + n_seeds - 1`` (:class:`SeedSpread`: each run's coefficients,
their mean and standard deviation, the top-k overlap between runs, from the same
:func:`~nbexplain.explainers._seed_spread.seed_spread` as ``LimeTabularBatched(n_seeds=...)``).

What differs from the explainer's ``explain``: nothing in the fit. For images, every seed of a
session shares the superpixels of the first (so coefficients compare between seeds); lime's
quickshift segmentation itself depends on the seed, so a run with another seed matches
``LimeImage(seed=s).explain`` exactly only for a seed-free segmentation (``"slic"``,
``"felzenszwalb"`` or a callable). The weighted R^2 of a refit is computed in closed form, as
``LimeTabularBatched`` does; it equals lime's ``score`` (sklearn's ``r2_score``) except when the
model's output is constant over the samples, where sklearn reads 0 for any rounding residual and
the closed form reads 1 for an exact fit.

Example:
    >>> import numpy as np
    >>> X = np.random.RandomState(0).randn(60, 3)
    >>> f = lambda A: np.c_[1 / (1 + np.exp(2 * A[:, 0])), 1 - 1 / (1 + np.exp(2 * A[:, 0]))]
    >>> s = NeighbourhoodSession.for_table(f, X[0], X, num_samples=400, n_seeds=3)
    >>> nb = s.run(kernel_width=1.0)
    >>> nb.interpretable.shape, s.model_calls, bool(np.argmax(np.abs(nb.coef)) == 0)
    ((400, 3), 1, True)
    >>> s.spread().coefs.shape, s.model_calls
    ((3, 3), 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from nbexplain.explainers._seed_spread import seed_spread
from nbexplain.explainers.perturbation.lime_batched import (
    LimeTabularBatched,
    _ridge_rows,
    lime_kernel,
)
from nbexplain.guard import guard
from nbexplain.validate import check_int, check_model_output, check_number

__all__ = ["Neighbourhood", "NeighbourhoodSession", "Projection", "SeedSpread", "fit_surrogate", "pca_2d"]

TOP_K = 5  # features compared between seeds (as LimeTabularBatched(n_seeds=...))
_CONTROLLER: list[Any] = []  # threadpoolctl's controller, found once (finding the BLAS libraries takes ~3 ms)


def _one_blas_thread() -> Any:
    """One BLAS thread for the F x F fits (as lime_batched's ridge: threads only wait on each other there)."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]  # a scikit-learn dependency

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def fit_surrogate(interpretable: np.ndarray, y: np.ndarray, distances: np.ndarray, kernel_width: float
                  ) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, float]:
    """lime's fit: kernel weights, then ``Ridge(alpha=1)`` weighted by them. ``(weights, coef, intercept,
    surrogate predictions, weighted R^2)``.

    Example:
        >>> Z = np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]); y = Z @ [2.0, 0.5]
        >>> w, coef, b, pred, r2 = fit_surrogate(Z, y, np.zeros(4), 1.0)
        >>> w.tolist(), coef.round(3).tolist(), round(r2, 3)
        ([1.0, 1.0, 1.0, 1.0], [1.0, 0.25], 0.75)
    """
    w = lime_kernel(np.asarray(distances, dtype=np.float64) ** 2, kernel_width)
    F = interpretable.shape[1]
    coef, intercept, score = np.empty((1, F)), np.empty(1), np.empty(1)
    with _one_blas_thread():  # the closed-form weighted ridge of LimeTabularBatched, row by row
        _ridge_rows(interpretable[None], np.asarray(y, dtype=np.float64)[None], w[None], np.eye(F), coef, intercept,
                    score)
    return w, coef[0], float(intercept[0]), intercept[0] + interpretable @ coef[0], float(score[0])


@dataclass(frozen=True)
class Projection:
    """A 2-D view of the interpretable rows: ``points`` ``(S, 2)``, the ``components`` ``(2, F)`` and the
    share of the variance each explains (``explained``). ``method`` says which projection it is."""

    points: np.ndarray
    components: np.ndarray
    explained: np.ndarray
    method: str = "PCA of the interpretable rows (centred, not scaled)"


def pca_2d(rows: np.ndarray) -> Projection:
    """The first two principal components of ``rows`` ``(S, F)`` (numpy; each axis' sign: largest loading > 0).

    Example:
        >>> p = pca_2d(np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 0.1]]))
        >>> (p.points[:, 0].round(2) + 0.0).tolist(), p.explained.round(3).tolist()
        ([-2.0, 0.0, 2.0], [1.0, 0.0])
    """
    Z = np.asarray(rows, dtype=np.float64)
    centred = Z - Z.mean(0)
    cov = centred.T @ centred / max(1, len(Z) - 1)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:2]
    comps = vecs[:, order].T
    vals = np.clip(vals[order], 0.0, None)
    if comps.shape[0] < 2:  # one feature: a flat second axis
        comps, vals = np.vstack([comps, np.zeros_like(comps)]), np.r_[vals, 0.0]
    big = np.argmax(np.abs(comps), axis=1)
    comps = comps * np.where(comps[np.arange(2), big] < 0, -1.0, 1.0)[:, None]
    total = float(np.trace(cov))
    return Projection(centred @ comps.T, comps, vals / total if total > 0 else np.zeros(2))


@dataclass(frozen=True)
class Neighbourhood:
    """One LIME run around one instance: what it drew, what the model said, what the surrogate fitted.

    ``interpretable`` ``(S, F)``: the surrogate's inputs (tables: "same bin as the instance"
    indicators or standardised values; images: superpixel on/off; text: word kept/removed), row 0
    is the instance. ``y`` ``(S,)``: the model's output the surrogate imitates (``outputs`` ``(S,
    k)``: all of them). ``distances``, ``weights`` (lime's kernel at ``kernel_width``), ``coef``,
    ``intercept``, ``surrogate`` (its predictions), ``score`` (weighted R^2). ``rows`` (tables: the
    rows the model was called with), ``texts`` (text: the documents) and ``extra`` (images:
    ``segments``, ``image``, ``hidden``; text: ``tokens``, ``pieces``) say what each sample was.
    """

    kind: str
    interpretable: np.ndarray
    y: np.ndarray
    outputs: np.ndarray
    distances: np.ndarray
    kernel_width: float
    weights: np.ndarray
    coef: np.ndarray
    intercept: float
    surrogate: np.ndarray
    score: float
    seed: int
    num_samples: int
    target: int | None
    feature_names: list[str]
    rows: np.ndarray | None = None
    texts: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def local_prediction(self) -> float:
        """The surrogate's prediction at the instance (row 0)."""
        return float(self.surrogate[0])

    @property
    def effective_samples(self) -> float:
        """Kish's effective sample size of the weights, ``(sum w)^2 / sum w^2``: how many samples the fit
        really rests on (``num_samples`` for equal weights, about 1 for a very narrow kernel)."""
        w = self.weights
        return float(w.sum() ** 2 / (w @ w)) if w @ w > 0 else 0.0

    def refit(self, kernel_width: float) -> Neighbourhood:
        """The same samples and outputs, re-weighted with another kernel width and refitted (no model call).

        Example:
            >>> nb = NeighbourhoodSession.for_table(lambda A: np.c_[A[:, 0], -A[:, 0]], np.zeros(2),
            ...                                     np.eye(2).repeat(10, 0), num_samples=50, n_seeds=1).run()
            >>> nb.refit(0.5).kernel_width, nb.refit(0.5).num_samples
            (0.5, 50)
        """
        width = check_number(kernel_width, "kernel_width", min=0.0, min_open=True)
        w, coef, b, pred, r2 = fit_surrogate(self.interpretable, self.y, self.distances, width)
        return replace(self, kernel_width=width, weights=w, coef=coef, intercept=b, surrogate=pred, score=r2)


@dataclass(frozen=True)
class SeedSpread:
    """LIME's coefficients over several seeds: ``coefs`` ``(n_seeds, F)`` (one run each), their ``mean`` and
    ``std`` (ddof=1), ``std_error`` (of the mean), ``topk_overlap`` (the mean share of their top
    ``top_k`` features by ``|coef|`` two runs have in common), ``scores`` (each run's R^2)."""

    seeds: list[int]
    coefs: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    std_error: np.ndarray
    topk_overlap: float
    top_k: int
    scores: np.ndarray


class NeighbourhoodSession:
    """LIME runs around one instance, with the model's outputs cached (see the module docstring).

    Build one with :meth:`for_table`, :meth:`for_image` or :meth:`for_text`. ``run(seed,
    num_samples, kernel_width)`` gives a :class:`Neighbourhood` (defaults: the explainer's);
    ``spread(num_samples, kernel_width)`` the :class:`SeedSpread` over ``seeds``. ``model_calls``
    counts the calls this session made to the model. Everything that runs the model goes through
    the state guard. Memory: a table keeps, per seed, the interpretable rows and the rows drawn and
    the model's outputs (``n_seeds x num_samples x F`` x 8 bytes twice: 48 MB for 20 x 5000 x 30).
    """

    def __init__(self, kind: str, explainer: Any, instance: Any, target: Any, *, model: Any, n_seeds: int,
                 feature_names: Sequence[str]) -> None:
        self.kind, self.explainer, self.instance, self.model = kind, explainer, instance, model
        self.n_seeds = check_int(n_seeds, "n_seeds", min=1)
        self.seed, self.num_samples = int(explainer.seed), int(explainer.num_samples)
        self.kernel_width = float(explainer.kernel_width)
        self.seeds = [self.seed + j for j in range(self.n_seeds)]
        self.feature_names = [str(f) for f in feature_names]
        self.model_calls = 0
        self._target = target
        self._rows: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # tables: seed -> (Z, rows, outputs)
        self._draws: dict[tuple[int, int], Neighbourhood] = {}
        self._last_s = self.num_samples
        self._segments: np.ndarray | None = None
        self.target: int | None = None
        self.output_name = "model output"
        first = self._draw(self.seed, self.num_samples)  # resolves the target as explain does
        self.target, self._first = first.target, first
        self._target = first.target if first.target is not None else target

    # -- constructors ----------------------------------------------------------------------------------
    @classmethod
    def for_table(cls, model: Any, x: Any, data: Any, *, target: Any = None, n_seeds: int = 20,
                  num_samples: int = 5000, seed: int = 0, kernel_width: float | None = None,
                  feature_names: Sequence[str] | None = None, class_names: Sequence[str] | None = None,
                  **lime_options: Any) -> NeighbourhoodSession:
        """A session for one table row ``x`` (``(F,)``, ``(1, F)`` or a one-row DataFrame) with
        :class:`~nbexplain.explainers.perturbation.lime_batched.LimeTabularBatched` on ``data`` (its training rows);
        ``lime_options`` go to it (``discretize_continuous``, ``categorical_features``, ``output``, ...).

        Example:
            >>> X = np.random.RandomState(2).randn(30, 2)
            >>> s = NeighbourhoodSession.for_table(lambda A: np.c_[A[:, 1], -A[:, 1]], X[0], X, num_samples=50,
            ...                                    n_seeds=2, feature_names=["a", "b"])
            >>> s.feature_names, s.seeds, s.target, s.output_name
            (['a', 'b'], [0, 1], 1, 'output of class 1')
        """
        lime = LimeTabularBatched(model, data, feature_names=feature_names, class_names=class_names,
                                  num_samples=num_samples, seed=seed, kernel_width=kernel_width, **lime_options)
        names = lime.feature_names or [f"feature {i}" for i in range(lime.n_features)]
        session = cls("table", lime, lime._row(x), target, model=model, n_seeds=n_seeds, feature_names=names)
        session._name_output(class_names)
        return session

    @classmethod
    def for_image(cls, model: Any, image: Any, *, target: Any = None, n_seeds: int = 20, num_samples: int = 1000,
                  seed: int = 0, kernel_width: float = 0.25, class_names: Sequence[str] | None = None,
                  **lime_options: Any) -> NeighbourhoodSession:
        """A session for one image ``(H, W, 3)`` or ``(H, W)`` with
        :class:`~nbexplain.explainers.perturbation.lime_package.LimeImage` (``lime_options``: ``segmentation``,
        ``hide_color``, ``batch_size``). Features are the superpixels ``"superpixel i"``.

        Example:
            >>> img = np.zeros((8, 8, 3)); img[:, 4:] = 1.0
            >>> f = lambda B: np.stack([1 - B[..., 0].mean((1, 2)), B[..., 0].mean((1, 2))], 1)
            >>> s = NeighbourhoodSession.for_image(f, img, segmentation=lambda im: (im[..., 0] > 0.5).astype(int),
            ...                                    hide_color=0.0, num_samples=30, n_seeds=1)
            >>> s.feature_names, s.output_name
            (['superpixel 0', 'superpixel 1'], 'P(class 0)')
        """
        from nbexplain.explainers.perturbation.lime_package import LimeImage

        lime = LimeImage(model, num_samples=num_samples, seed=seed, kernel_width=kernel_width,
                         class_names=class_names, **lime_options)
        session = cls("image", lime, image, target, model=model, n_seeds=n_seeds, feature_names=[])
        session._name_output(class_names)
        return session

    @classmethod
    def for_text(cls, predict_fn: Any, text: str, *, target: Any = None, n_seeds: int = 20, num_samples: int = 1000,
                 seed: int = 0, kernel_width: float = 25.0, class_names: Sequence[str] | None = None,
                 **lime_options: Any) -> NeighbourhoodSession:
        """A session for one document with :class:`~nbexplain.explainers.perturbation.lime_package.LimeText`
        (``lime_options``: ``split_expression``, ``bow``, ``mask_string``). Features are its distinct words.

        Example:
            >>> f = lambda docs: np.array([[0.3, 0.7] if "fun" in d else [0.8, 0.2] for d in docs])
            >>> s = NeighbourhoodSession.for_text(f, "fun fun day", num_samples=40, n_seeds=1, class_names=["no", "yes"])
            >>> s.feature_names, s.output_name, s.run().texts[0]
            (['fun', 'day'], 'P(yes)', 'fun fun day')
        """
        from nbexplain.explainers.perturbation.lime_package import LimeText

        lime = LimeText(predict_fn, num_samples=num_samples, seed=seed, kernel_width=kernel_width,
                        class_names=class_names, **lime_options)
        session = cls("text", lime, text, target, model=predict_fn, n_seeds=n_seeds, feature_names=[])
        session._name_output(class_names)
        return session

    def _name_output(self, class_names: Sequence[str] | None) -> None:
        """``output_name``: what the surrogate imitates, ``"P(benign)"`` (probabilities), ``"output of class 2"``."""
        from nbexplain.output_kind import detect

        t = self.target
        if t is not None:
            name = str(class_names[t]) if class_names is not None and t < len(class_names) else f"class {t}"
            outputs = self._first.outputs
            self.output_name = f"P({name})" if detect(outputs) == "probabilities" else f"output of {name}"

    # -- runs --------------------------------------------------------------------------------------------
    def run(self, seed: int | None = None, num_samples: int | None = None, kernel_width: float | None = None
            ) -> Neighbourhood:
        """The neighbourhood of ``seed`` with ``num_samples`` samples, fitted at ``kernel_width``.

        Model calls only for samples not drawn before (see the module docstring).

        Example:
            >>> X = np.random.RandomState(3).randn(40, 3)
            >>> s = NeighbourhoodSession.for_table(lambda A: np.c_[A[:, 0], -A[:, 0]], X[0], X, num_samples=200,
            ...                                    n_seeds=1)
            >>> nb = s.run(num_samples=100, kernel_width=0.5)
            >>> nb.num_samples, nb.kernel_width, s.model_calls    # the first 100 rows of the 200 drawn
            (100, 0.5, 1)
        """
        s = self.seed if seed is None else check_int(seed, "seed", min=0)
        S = self.num_samples if num_samples is None else check_int(
            num_samples, "num_samples", min=10 if self.kind == "table" else 2)
        nb = self._draw(s, S)
        if kernel_width is None or float(kernel_width) == nb.kernel_width:
            return nb
        return nb.refit(kernel_width)

    def spread(self, num_samples: int | None = None, kernel_width: float | None = None) -> SeedSpread:
        """The coefficients of the ``n_seeds`` runs (``seeds``) with these settings, and how much they agree.

        Example:
            >>> X = np.random.RandomState(1).randn(50, 4)
            >>> s = NeighbourhoodSession.for_table(lambda A: np.c_[A[:, 0], -A[:, 0]], X[0], X, num_samples=100,
            ...                                    n_seeds=4)
            >>> sp = s.spread(); sp.seeds, sp.coefs.shape, 0.0 <= sp.topk_overlap <= 1.0
            ([0, 1, 2, 3], (4, 4), True)
        """
        runs = [self.run(s, num_samples, kernel_width) for s in self.seeds]
        coefs = np.stack([r.coef for r in runs])
        scores = np.array([r.score for r in runs])
        if len(runs) < 2:
            zero = np.zeros_like(coefs[0])
            return SeedSpread(self.seeds, coefs, coefs[0], zero, zero, 1.0, min(TOP_K, coefs.shape[1]), scores)
        d = seed_spread(coefs[:, None, :], top_k=TOP_K)
        return SeedSpread(self.seeds, coefs, coefs.mean(0), d["seed_std"][0], d["std_error"][0],
                          float(d["topk_overlap"][0]), int(d["top_k"]), scores)

    def _draw(self, seed: int, S: int) -> Neighbourhood:
        key = (seed, S)
        if key not in self._draws:
            with guard(self.model):  # only a new draw may run the model (a cached one is free of the guard's cost)
                nb = self._draw_table(seed, S) if self.kind == "table" else self._draw_lime(seed, S)
            if len({s for _seed, s in self._draws} | {S}) > 2:  # keep two sample counts: the current and the last
                self._draws = {k: v for k, v in self._draws.items() if k[1] == self._last_s}
            self._draws[key] = nb
            self._last_s = S
        return self._draws[key]

    def _predict(self, rows: np.ndarray) -> np.ndarray:
        self.model_calls += 1
        return check_model_output(self.explainer.predict(rows), "the model")

    def _draw_table(self, seed: int, S: int) -> Neighbourhood:
        lime: LimeTabularBatched = self.explainer
        seen = self._rows.get(seed)
        if seen is not None and S <= len(seen[0]) and self._prefix_by_construction():
            Z, rows, outputs = seen[0][:S], seen[1][:S], seen[2][:S]
        else:
            Z, rows = lime.perturb(self.instance, seed=seed, num_samples=S)
            m = 0 if seen is None else min(S, len(seen[0]))
            if seen is not None and np.array_equal(rows[:m], seen[1][:m], equal_nan=True):
                outputs = seen[2][:m] if m == S else np.concatenate([seen[2], self._predict(rows[m:])])
                if S > len(seen[0]):
                    self._rows[seed] = (Z, rows, outputs)
            else:
                outputs = self._predict(rows)
                self._rows[seed] = (Z, rows, outputs)
        y, targets = lime._objective(outputs, self._target, 1, S)  # as explain: the class predicted at row 0
        d = np.sqrt(((Z - Z[0]) ** 2).sum(1))
        w, coef, b, pred, r2 = fit_surrogate(Z, y[0], d, self.kernel_width)
        return Neighbourhood("table", Z, y[0], outputs, d, self.kernel_width, w, coef, b, pred, r2, seed, S,
                             None if targets is None else int(targets[0]), self.feature_names, rows=rows)

    def _prefix_by_construction(self) -> bool:
        """True when a table's neighbourhood with fewer samples is the first rows of one with more: every
        feature is drawn from the explainer's value tables, by ``S x F`` uniforms that numpy's generator
        fills row by row (a continuous, not binned, feature draws normals after them: not a prefix)."""
        return bool(np.all(self.explainer._sampled))

    def _draw_lime(self, seed: int, S: int) -> Neighbourhood:
        self.model_calls += 1
        if self.kind == "image":
            raw = self.explainer.neighbourhood(self.instance, self._target, seed=seed, num_samples=S,
                                               segments=self._segments)
            self._segments = raw["segments"]  # every seed shares the first run's superpixels
            extra = {k: raw[k] for k in ("segments", "image", "hidden")}
            if not self.feature_names:
                self.feature_names = [f"superpixel {i}" for i in range(raw["interpretable"].shape[1])]
        else:
            raw = self.explainer.neighbourhood(self.instance, self._target, seed=seed, num_samples=S)
            extra = {"tokens": raw["tokens"], "pieces": raw["pieces"]}
            self.feature_names = list(raw["tokens"])
        Z, y = raw["interpretable"], np.asarray(raw["y"], dtype=np.float64)
        w, coef, b, pred, r2 = fit_surrogate(Z, y, raw["distances"], self.kernel_width)
        return Neighbourhood(self.kind, Z, y, np.asarray(raw["outputs"], dtype=np.float64), raw["distances"],
                             self.kernel_width, w, coef, b, pred, r2, seed, S, raw["target"], self.feature_names,
                             texts=raw.get("texts"), extra=extra)
