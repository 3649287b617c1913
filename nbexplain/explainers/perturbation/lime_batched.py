"""Tabular LIME of our own: lime's sampling and surrogate, one batched model call, seeded.

Same semantics as ``lime.lime_tabular.LimeTabularExplainer`` (defaults included):

- ``discretize_continuous=True``: each continuous feature is cut at its training quartiles
  (``discretizer="decile"``: deciles); a perturbation draws a bin per feature from the training
  bin frequencies and a value inside that bin from a normal truncated to the bin, with the bin's
  training mean and std (lime's ``undiscretize``). The surrogate sees "same bin as the sample"
  indicators. ``categorical_features`` draw a training value by frequency, indicator "same value".
- ``discretize_continuous=False``: continuous features are ``N(0, 1) * std + mean`` of the training
  data; the surrogate sees the standardised values.
- kernel ``sqrt(exp(-d^2 / width^2))`` on the euclidean distance to the sample's surrogate row,
  width ``0.75 * sqrt(F)``; surrogate ``Ridge(alpha=1)`` with intercept, weighted by the kernel, on
  all ``F`` features (lime's ``num_features=F`` keeps every feature under ``feature_selection="auto"``).

What differs: every row's perturbations (``rows x num_samples``) go through the model in ONE call,
and the weighted ridge fits are solved with numpy (closed form) instead of one sklearn fit per
row. Each row draws from ``numpy.random.default_rng(seed)``, so a row's values do not depend on the
batch it is in and a rerun is identical; the random streams are numpy's, not lime's, so the values
agree with lime in distribution, not number for number. A draw is one uniform per feature into a
table of 4096 equiprobable atoms: each bin gets atoms in proportion to its training frequency
(rounded to 1/4096, at least one), valued at the truncated normal's quantiles within the bin, so a
(bin, value) pair follows lime's two-step draw up to that rounding. In a bin whose training values
are all equal, the draw is that value (lime returns the bin's z-score there, which is 0 only when
the value is 0). Memory: two float64 arrays of ``rows x num_samples x F`` (240 MB for 100 x 5000 x 30);
explain large batches in slices.

A pandas DataFrame (mixed columns, :mod:`nbexplain.frames`) is explained in its own columns: its
string, categorical and bool columns are lime's categorical features (a training category drawn
by frequency, "same category" in the surrogate), and the model is called with the DataFrame.
Missing values (NaN in a numeric column of a DataFrame) are a bin of their own: drawn with their
training frequency (handed to the model as NaN) and, for a sample whose value is missing, "same
bin" means missing too; with ``discretize_continuous=False`` they are refused (no normal draw).

Example:
    >>> import numpy as np
    >>> X = np.random.RandomState(0).randn(80, 3)
    >>> f = lambda Z: np.stack([1 / (1 + np.exp(Z[:, 0])), 1 - 1 / (1 + np.exp(Z[:, 0]))], 1)
    >>> e = LimeTabularBatched(f, X, num_samples=500).explain(X[:4], target=1)
    >>> e.values.shape, int(np.argmax(np.abs(e.values[0])))
    ((4, 3), 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain.explainers._seed_spread import seed_spread
from nbexplain.explainers._targets import callable_objective, is_callable_target, resolve_target
from nbexplain.explainers.perturbation.shap_tabular import default_predict_fn, tabular_matrix
from nbexplain.explanation import Explanation
from nbexplain.frame_inputs import frame_model, table_input
from nbexplain.frames import FrameEncoding
from nbexplain.guard import guarded
from nbexplain.validate import (
    check_class_names,
    check_feature_names,
    check_int,
    check_model_output,
    check_number,
    column_names,
)

_ATOMS = 4096  # equiprobable values per feature that a perturbation draws from
_PERCENTILES = {"quartile": [25, 50, 75], "decile": [10, 20, 30, 40, 50, 60, 70, 80, 90]}


class LimeTabularBatched:
    """Batched tabular LIME: coefficients ``(n, F)`` of a kernel-weighted ridge surrogate per row.

    ``explain(X, target=None)`` explains the target class (default: predicted class), or a
    callable ``target(outputs) -> (n,)`` as a regression. ``base_values`` is the surrogate's
    intercept; ``diagnostics["score"]`` its weighted R^2 and ``diagnostics["local_prediction"]``
    its prediction at the sample.

    ``n_seeds=k > 1`` measures how much LIME's sampling moves the values: the explanation is
    run with seeds ``seed .. seed+k-1`` (k model calls), ``values`` (and intercept, score, local
    prediction) are the mean over the runs, and ``diagnostics`` adds ``"seed_std"`` ``(n, F)``, the
    standard deviation of a value over the runs (ddof=1), ``"std_error"`` ``(n, F)`` =
    ``seed_std / sqrt(k)``, the standard error of the mean shown, ``"topk_overlap"`` ``(n,)``, the
    mean over pairs of runs of the share of their top ``"top_k"`` = ``min(5, F)`` features by
    ``|value|`` they have in common (1: the same top features every run), and ``"n_seeds"``.
    ``n_seeds=1`` (default) is one run, as fast as before, without these keys.

    Example:
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> X = np.random.RandomState(0).randn(60, 4); y = (X[:, 1] > 0).astype(int)
        >>> lime = LimeTabularBatched(LogisticRegression().fit(X, y), X, num_samples=300, seed=1)
        >>> a, b = lime.explain(X[:3]), lime.explain(X[2:3])
        >>> np.array_equal(a.values[2:], b.values)
        True
    """

    def __init__(self, model_or_predict: Any, training_data: Any, *, feature_names: Sequence[str] | None = None,
                 class_names: Sequence[str] | None = None, categorical_features: Sequence[int] | None = None,
                 discretize_continuous: bool = True, discretizer: str = "quartile",
                 kernel_width: float | None = None, num_samples: int = 5000, seed: int = 0, n_seeds: int = 1,
                 output: str | None = None, encoding: FrameEncoding | None = None) -> None:
        data, self.encoding = table_input(training_data, "training_data", encoding)
        if data is None:
            data = tabular_matrix(training_data, "training_data")
        F = data.shape[1]
        self._columns = self.encoding.names if self.encoding is not None else column_names(training_data)
        feature_names = self._columns if feature_names is None else feature_names
        self.training_data, self.n_features = data, F
        feature_names = check_feature_names(feature_names, F, what="training_data")
        num_samples = check_int(num_samples, "num_samples", min=10)
        check_int(seed, "seed", min=0)
        self.n_seeds = check_int(n_seeds, "n_seeds (runs with seeds seed, seed+1, ...)", min=1)
        if kernel_width is not None:
            kernel_width = check_number(kernel_width, "kernel_width", min=0.0, min_open=True)
        if categorical_features is not None and (isinstance(categorical_features, (str, bytes)) or any(
                isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer)) for c in categorical_features)):
            raise TypeError(f"categorical_features must be a list of int column indices, got {categorical_features!r}")
        if discretize_continuous and discretizer not in _PERCENTILES:
            raise ValueError(f"discretizer must be one of {sorted(_PERCENTILES)}, got {discretizer!r} "
                             "(lime's 'entropy' needs training labels and is not supported here)")
        cats = sorted({int(c) for c in (categorical_features or [])}
                      | set(self.encoding.categorical_indices if self.encoding is not None else []))
        if cats and (cats[0] < 0 or cats[-1] >= F):
            raise ValueError(f"categorical_features must be column indices 0..{F - 1}, got {list(categorical_features or [])}")
        self.feature_names = None if feature_names is None else [str(f) for f in feature_names]
        self.class_names = check_class_names(class_names)
        self.categorical_features = cats
        self.discretize_continuous, self.discretizer = bool(discretize_continuous), discretizer
        self.kernel_width = float(np.sqrt(F) * 0.75 if kernel_width is None else kernel_width)
        if self.kernel_width <= 0:
            raise ValueError(f"kernel_width must be > 0, got {kernel_width!r}")
        self.num_samples, self.seed = num_samples, int(seed)
        self.model = model_or_predict
        if self.encoding is not None:  # the model is called with the user's DataFrame
            model_or_predict = frame_model(model_or_predict, self.encoding)
        self.predict = default_predict_fn(model_or_predict, output)
        self._fit_statistics(data)

    def _fit_statistics(self, data: np.ndarray) -> None:
        from scipy.special import ndtr, ndtri  # type: ignore[import-untyped]  # scipy comes with scikit-learn

        F = self.n_features
        cont = [f for f in range(F) if f not in self.categorical_features]
        self._binned = np.zeros(F, bool)
        self._binned[cont] = self.discretize_continuous
        self._sampled = self._binned.copy()  # drawn from a value table (bins or categories)
        self._sampled[self.categorical_features] = True
        missing = np.isnan(data)
        for f in np.flatnonzero(missing.all(0)):
            raise ValueError(f"training_data column {self._name(f)!r} holds only missing values; drop it")
        for f in np.flatnonzero(missing.any(0)):
            if not self._sampled[f]:
                raise ValueError(f"training_data column {self._name(f)!r} has missing values (NaN), and with "
                                 "discretize_continuous=False LIME draws it from N(mean, std), where a missing "
                                 "value has no place; use discretize_continuous=True (missing values are then a "
                                 "bin of their own) or impute it")
        # StandardScaler(with_mean=False) keeps mean_ for the centring lime does (NaN: missing values left out)
        self._mean = np.nanmean(data, 0) if missing.any() else data.mean(0)
        self._scale = np.nanstd(data, 0) if missing.any() else data.std(0)
        self._scale[self._scale == 0] = 1.0
        self._edges: dict[int, np.ndarray] = {}
        tables: list[tuple[np.ndarray, ...] | None] = []  # per sampled feature: values, probabilities, bin mean, std, min, max
        for f in range(F):
            col = data[:, f]
            if self._binned[f]:
                nan = np.isnan(col)
                col = col[~nan]
                qts = np.unique(np.percentile(col, _PERCENTILES[self.discretizer]))
                self._edges[f] = qts
                codes = np.searchsorted(qts, col)
                nb = len(qts) + 1
                vals = np.arange(nb + 1, dtype=float)  # bin nb: missing values (NaN), drawn as NaN
                mean = np.array([col[codes == b].mean() if (codes == b).any() else 0.0 for b in range(nb)] + [0.0])
                std = np.array([col[codes == b].std() if (codes == b).any() else 0.0 for b in range(nb)] + [0.0]) + 1e-11
                lo, hi = np.r_[col.min(), qts, np.nan], np.r_[qts, col.max(), np.nan]
                counts = np.r_[np.bincount(codes, minlength=nb), nan.sum()].astype(float)
                keep = counts > 0  # lime draws from the bins that occur in the training data
                tables.append((vals[keep], counts[keep] / counts.sum(), mean[keep], std[keep], lo[keep], hi[keep]))
            elif self._sampled[f]:
                vals, counts = np.unique(col, return_counts=True)
                z = np.zeros(len(vals))
                tables.append((vals, counts / counts.sum(), z, z + 1, vals, vals))
            else:
                tables.append(None)
        # One uniform per draw picks an "atom" of a per-feature table of _ATOMS equiprobable values:
        # bin b (probability p_b, its training frequency) owns round(p_b * _ATOMS) consecutive atoms,
        # the quantiles (j + 1/2) / count of the normal with the bin's mean and std truncated to the
        # bin (lime's truncnorm) -- or the category's / point bin's value itself. Drawing an atom is
        # drawing lime's (bin, value) pair up to 1/(2 * _ATOMS) in probability, with one gather;
        # "same bin as x" is a range test on the atom index, with no gather at all.
        self._atoms = np.zeros((F, _ATOMS))
        self._own_start, self._own_end = np.zeros(F, np.intp), np.zeros(F, np.intp)
        self._bin_values: dict[int, np.ndarray] = {}
        self._bin_starts: dict[int, np.ndarray] = {}
        for f, t in enumerate(tables):
            if t is None:
                continue
            vals, prob, mean, std, lo, hi = t
            counts = _apportion(prob, _ATOMS)
            starts = np.r_[0, np.cumsum(counts)]
            a, b = (lo - mean) / std, (hi - mean) / std
            for k in range(len(vals)):
                u = (np.arange(counts[k]) + 0.5) / counts[k]
                if np.isnan(lo[k]):  # the missing-value bin
                    atoms = np.full(counts[k], np.nan)
                elif a[k] == b[k]:
                    atoms = np.full(counts[k], lo[k])
                else:
                    flip = a[k] > 0  # mirrored so the CDF is evaluated in the lower tail, where it is accurate
                    zlo, zhi = (-b[k], -a[k]) if flip else (a[k], b[k])
                    pa = ndtr(zlo)
                    z = np.clip(ndtri(pa + u * (ndtr(zhi) - pa)), zlo, zhi)
                    atoms = mean[k] + std[k] * (-z if flip else z)
                self._atoms[f, starts[k]:starts[k + 1]] = atoms
            self._bin_values[f], self._bin_starts[f] = vals, starts

    def __repr__(self) -> str:
        seeds = f", n_seeds={self.n_seeds}" if self.n_seeds > 1 else ""
        return (f"LimeTabularBatched(features={self.n_features}, num_samples={self.num_samples}, "
                f"discretize_continuous={self.discretize_continuous}, seed={self.seed}{seeds})")

    def _perturb(self, x: np.ndarray, seed: int | None = None, num_samples: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """One row's neighbourhood (``seed``, ``num_samples``: default the explainer's): (surrogate inputs
        Z (S, F), model inputs (S, F)); row 0 is ``x``."""
        S, F = self.num_samples if num_samples is None else num_samples, self.n_features
        rng = np.random.default_rng(self.seed if seed is None else seed)
        u_pick = rng.random((S, F))
        Z = np.empty((S, F))
        inv = np.empty((S, F))
        cont = ~self._sampled
        if cont.any():  # continuous, not binned: N(0, 1) in standardised units
            Z[:, cont] = rng.standard_normal((S, int(cont.sum())))
            inv[:, cont] = Z[:, cont] * self._scale[cont] + self._mean[cont]
        s = self._sampled
        if s.any():
            cols: Any = slice(None) if s.all() else np.nonzero(s)[0]  # a slice avoids masked copies
            start, end = np.zeros(F, np.intp), np.zeros(F, np.intp)
            for f in np.nonzero(s)[0].tolist():  # x's own bin (lime: searchsorted(quartiles, x)) or category
                own = (len(self._edges[f]) + 1 if np.isnan(x[f]) else np.searchsorted(self._edges[f], x[f])
                       ) if self._binned[f] else x[f]
                hit = np.nonzero(self._bin_values[f] == own)[0]  # none: a category unseen in training
                if hit.size:
                    start[f], end[f] = self._bin_starts[f][hit[0]], self._bin_starts[f][hit[0] + 1]
            u = u_pick[:, cols]
            u *= _ATOMS
            atom = u.astype(np.intp)
            Z[:, cols] = (atom >= start[cols]) & (atom < end[cols])
            atom += (np.arange(F) * _ATOMS)[cols]
            inv[:, cols] = self._atoms.ravel()[atom]
        Z[0, s], Z[0, cont] = 1.0, (x[cont] - self._mean[cont]) / self._scale[cont]
        inv[0] = x
        return Z, inv

    @guarded
    def explain(self, X: Any, target: Any = None) -> Explanation:
        """Explain each row of ``X`` (n, F) with one model call for all ``n * num_samples`` perturbations (per seed).

        Example:
            >>> import numpy as np
            >>> f = lambda Z: np.stack([np.full(len(Z), 0.3), np.full(len(Z), 0.7)], 1)
            >>> e = LimeTabularBatched(f, np.random.RandomState(0).randn(20, 2), num_samples=50).explain(np.zeros(2))
            >>> int(e.target[0]), round(float(e.outputs[0]), 2), bool(np.abs(e.values).max() < 1e-9)
            (1, 0.7, True)
        """
        if self.encoding is not None:
            X = table_input(X, "X", self.encoding)[0]
        else:
            X = tabular_matrix(X, "X", self.n_features, columns=self._columns)
        runs = [self._fit(X, target, self.seed + j) for j in range(self.n_seeds)]
        coef, intercept, score, local, targets, y0 = runs[0]
        diagnostics: dict[str, Any] = {}
        if self.n_seeds > 1:
            coefs = np.stack([r[0] for r in runs])
            coef, intercept = coefs.mean(0), np.mean([r[1] for r in runs], 0)
            score, local = np.mean([r[2] for r in runs], 0), np.mean([r[3] for r in runs], 0)
            diagnostics = seed_spread(coefs, top_k=5)
        return Explanation(
            coef, intercept, X, feature_names=self.feature_names,
            output_names=self.class_names if targets is not None else ["target"],
            target=targets, outputs=y0, method="lime_tabular_batched",
            params={"seed": self.seed, "num_samples": self.num_samples, "kernel_width": self.kernel_width,
                    "discretize_continuous": self.discretize_continuous, "discretizer": self.discretizer,
                    "categorical_features": self.categorical_features, "n_seeds": self.n_seeds},
            diagnostics={"score": score, "local_prediction": local, **diagnostics}, encoding=self.encoding,
        )

    def _fit(self, X: np.ndarray, target: Any, seed: int) -> tuple[np.ndarray, ...]:
        """One LIME run with ``seed``: coefficients, intercept, R^2, local prediction, targets, outputs at x."""
        n, S, F = X.shape[0], self.num_samples, self.n_features
        Zs = np.empty((n, S, F))
        inv = np.empty((n * S, F))
        for i in range(n):  # a loop over rows only; each row's S x F draws are vectorised
            Zs[i], inv[i * S:(i + 1) * S] = self._perturb(X[i], seed)
        preds = check_model_output(self.predict(inv), "the model")  # the one model call
        y, targets = self._objective(preds, target, n, S)
        coef, intercept, score = _weighted_ridge(Zs, y, self._kernel(Zs), alpha=1.0)
        local = intercept + np.einsum("nf,nf->n", coef, Zs[:, 0])
        return coef, intercept, score, local, targets, y[:, 0]

    def _objective(self, preds: np.ndarray, target: Any, n: int, S: int) -> tuple[np.ndarray, np.ndarray | None]:
        """What the surrogates imitate, ``(n, S)``, and the explained class per row (None: a callable target)."""
        if is_callable_target(target):
            y = np.asarray(callable_objective(target, preds, n * S), dtype=float).reshape(n, S)
            targets = None
        else:
            if preds.shape[1] < 2:
                raise ValueError("LimeTabularBatched explains class probabilities (n, k >= 2) but the model returns "
                                 "one column; for a regressor pass target=lambda out: out[:, 0]")
            if self.class_names is not None and len(self.class_names) != preds.shape[1]:
                raise ValueError(f"got {len(self.class_names)} class_names but the model has {preds.shape[1]} outputs")
            targets = resolve_target(target, preds[::S])
            y = preds.reshape(n, S, -1)[np.arange(n), :, targets]
        return y, targets

    def perturb(self, x: Any, *, seed: int | None = None, num_samples: int | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """The perturbations of one row ``x`` that :meth:`explain` fits on, without calling the model.

        Returns ``(interpretable, rows)``, both ``(S, F)``: the surrogate's inputs (``"same bin as
        x"`` indicators, or standardised values) and the rows the model is called with (for a
        DataFrame: its encoded numbers). Row 0 is ``x`` itself. ``seed`` and ``num_samples``
        default to the explainer's; a larger ``num_samples`` with the same seed extends the
        neighbourhood (its first rows stay the same) when every feature is binned or categorical.

        Example:
            >>> X = np.random.RandomState(0).randn(30, 2)
            >>> Z, rows = LimeTabularBatched(lambda A: np.c_[A[:, 0], -A[:, 0]], X, num_samples=20).perturb(X[0])
            >>> Z.shape, np.array_equal(rows[0], X[0]), np.array_equal(
            ...     LimeTabularBatched(lambda A: A, X, num_samples=40).perturb(X[0])[1][:20], rows)
            ((20, 2), True, True)
        """
        S = self.num_samples if num_samples is None else check_int(num_samples, "num_samples", min=10)
        return self._perturb(self._row(x), seed=self.seed if seed is None else check_int(seed, "seed", min=0),
                             num_samples=S)

    def _row(self, x: Any) -> np.ndarray:
        """One row to explain, ``(F,)``, checked as :meth:`explain` checks ``X``."""
        if self.encoding is not None:
            X = table_input(x, "x", self.encoding)[0]
        else:
            X = tabular_matrix(x, "x", self.n_features, columns=self._columns)
        if X.shape[0] != 1:
            raise ValueError(f"x must be one row (F,) or (1, F), got {X.shape[0]} rows; pick one, e.g. X[3]")
        return X[0]

    @guarded
    def neighbourhood(self, x: Any, target: Any = None, *, seed: int | None = None,
                      num_samples: int | None = None) -> dict[str, Any]:
        """What LIME drew around one row ``x`` and the surrogate it fitted: exactly ``explain(x)``'s fit.

        One model call. Keys: ``"interpretable"`` and ``"rows"`` ``(S, F)`` (see :meth:`perturb`),
        ``"outputs"`` ``(S, k)`` (the model's outputs for the rows), ``"y"`` ``(S,)`` (what the
        surrogate imitates: the target class' output), ``"target"`` (the class, None for a callable
        target), ``"distances"`` ``(S,)`` (euclidean, to row 0, in the surrogate's inputs),
        ``"weights"`` ``(S,)`` (:func:`lime_kernel` at ``kernel_width``), ``"coef"`` ``(F,)``,
        ``"intercept"``, ``"surrogate"`` ``(S,)`` (its predictions), ``"score"`` (weighted R^2),
        ``"kernel_width"``, ``"seed"``, ``"num_samples"``.

        Example:
            >>> X = np.random.RandomState(0).randn(40, 3)
            >>> f = lambda A: np.c_[1 / (1 + np.exp(A[:, 0])), 1 - 1 / (1 + np.exp(A[:, 0]))]
            >>> lime = LimeTabularBatched(f, X, num_samples=200)
            >>> nb = lime.neighbourhood(X[1], target=1)
            >>> nb["interpretable"].shape, bool(np.allclose(nb["coef"], lime.explain(X[1:2], target=1).values[0]))
            ((200, 3), True)
        """
        s = self.seed if seed is None else check_int(seed, "seed", min=0)
        S = self.num_samples if num_samples is None else check_int(num_samples, "num_samples", min=10)
        Z, rows = self._perturb(self._row(x), seed=s, num_samples=S)
        preds = check_model_output(self.predict(rows), "the model")
        y, targets = self._objective(preds, target, 1, S)
        d2 = ((Z - Z[0]) ** 2).sum(1)
        w = lime_kernel(d2, self.kernel_width)
        coef, intercept, score = _weighted_ridge(Z[None], y, w[None], alpha=1.0)
        return {"interpretable": Z, "rows": rows, "outputs": preds, "y": y[0],
                "target": None if targets is None else int(targets[0]), "distances": np.sqrt(d2), "weights": w,
                "coef": coef[0], "intercept": float(intercept[0]), "surrogate": intercept[0] + Z @ coef[0],
                "score": float(score[0]), "kernel_width": self.kernel_width, "seed": s, "num_samples": S}

    def _name(self, f: int) -> str:
        return self.feature_names[f] if self.feature_names is not None else f"column {f}"

    def _kernel(self, Zs: np.ndarray) -> np.ndarray:
        """lime's exponential kernel on the euclidean distance to each row's own surrogate input."""
        d2 = np.stack([((Z - Z[0]) ** 2).sum(1) for Z in Zs])
        return lime_kernel(d2, self.kernel_width)


def lime_kernel(squared_distances: np.ndarray, width: float) -> np.ndarray:
    """lime's exponential kernel, ``sqrt(exp(-d^2 / width^2))``, from squared distances.

    Example:
        >>> lime_kernel(np.array([0.0, 4.0]), 2.0).round(4).tolist()
        [1.0, 0.6065]
    """
    return np.sqrt(np.exp(-np.asarray(squared_distances, dtype=np.float64) / float(width) ** 2))


def _apportion(prob: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to ``total``, proportional to ``prob``, at least 1 each (largest remainder).

    Example:
        >>> _apportion(np.array([0.5, 0.25, 0.25]), 8).tolist()
        [4, 2, 2]
    """
    raw = prob * total
    counts = np.maximum(np.floor(raw).astype(np.intp), 1)
    while counts.sum() < total:
        counts[np.argmax(raw - counts)] += 1
    while counts.sum() > total:
        counts[np.argmax(np.where(counts > 1, counts - raw, -np.inf))] -= 1
    return counts


def _weighted_ridge(Z: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row ``Ridge(alpha).fit(Z[i], y[i], sample_weight=w[i])`` in closed form, plus weighted R^2.

    Example:
        >>> import numpy as np
        >>> Z = np.random.RandomState(0).randn(1, 50, 2); y = Z[..., 0] * 3 + 1
        >>> c, b, r2 = _weighted_ridge(Z, y, np.ones((1, 50)), alpha=0.0)
        >>> c.round(6).tolist(), b.round(6).tolist(), r2.round(6).tolist()
        ([[3.0, -0.0]], [1.0], [1.0])
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # a scikit-learn dependency

    n, F = Z.shape[0], Z.shape[2]
    coef, intercept, score = np.empty((n, F)), np.empty(n), np.empty(n)
    eye = alpha * np.eye(F)
    # F x F systems gain nothing from BLAS threads, and on busy cores threads waiting on each other
    # cost 10-100x; one thread for the fits
    with threadpool_limits(1, user_api="blas"):
        _ridge_rows(Z, y, w, eye, coef, intercept, score)
    return coef, intercept, score


def _ridge_rows(Z: np.ndarray, y: np.ndarray, w: np.ndarray, eye: np.ndarray, coef: np.ndarray,
                intercept: np.ndarray, score: np.ndarray) -> None:
    for i in range(Z.shape[0]):  # rows one by one keep the (S, F) temporaries in cache; samples are vectorised
        Zi, wi, yi = Z[i], w[i], y[i]
        wsum = wi.sum()
        m1, ybar = (wi @ Zi) / wsum, (wi @ yi) / wsum
        Zw = Zi * wi[:, None]
        # centred weighted moments from raw ones: no centred copy of Z
        gram = Zw.T @ Zi - wsum * np.outer(m1, m1)
        zy = Zw.T @ yi - wsum * m1 * ybar
        c = np.linalg.solve(gram + eye, zy)
        ss_tot = wi @ (yi - ybar) ** 2
        ss_res = max(ss_tot - 2 * c @ zy + c @ gram @ c, 0.0)
        coef[i], intercept[i] = c, ybar - m1 @ c
        # sklearn's r2 convention for a constant target: 1 if fitted exactly, else 0
        score[i] = 1 - ss_res / ss_tot if ss_tot > 0 else (0.0 if ss_res > 1e-12 else 1.0)

