"""Deletion and insertion curves: does the output follow the units the explanation ranks first?

**Deletion** (Samek et al. 2017, "pixel flipping"; Petsiuk et al. 2018, RISE): remove the units
(patches or superpixels, features, tokens; :mod:`nbexplain.metrics._removal`) most relevant first
and follow the explained output; a faithful explanation makes it fall fast, so a **lower** area
under the curve is better. **Insertion**: start from the input with every unit removed (a blurred
image by default, the background for a table, the empty text) and put the units back most
relevant first; the output should rise fast, so a **higher** area is better. The same curves for
``n_random`` seeded random orders, averaged, are the floor an explanation must beat.

The point at fraction ``f`` (``steps + 1`` points from 0 to 1) has ``round(f * U)`` of the
sample's ``U`` units removed (inserted), so fractions count units, not pixels. The AUC is the
trapezoid rule over the fractions, so it lies in the output's range (a probability: [0, 1]).
Every step of every sample and order goes through the model in chunks (``batch_size``, or
``"auto"``: as many rows as ``memory_budget`` allows), identical removal sets evaluated once (the
unmodified input, the fully removed one, repeated counts when ``steps`` exceeds ``U``).

Definitional notes against Quantus 0.6 (``PixelFlipping``, the test reference): Quantus ranks
elements of the input (each pixel of each channel) while ours ranks units whose score is the sum
of the attributions over the unit and the channels (with one channel and ``patch_size=1`` they
coincide, and the curves match Quantus's to float precision in the tests); Quantus's curve omits
the unmodified input (our point 0) and its AUC is ``np.trapz`` with ``dx=1`` over the steps, not
over the fraction in [0, 1]; Quantus breaks ties by ``np.argsort`` (unstable), ours by a seeded
permutation; Quantus's default baseline ``"black"`` is each image's minimum, ours a number you pass.

Example:
    >>> import numpy as np
    >>> w = np.array([3.0, 1.0, 0.0, -2.0])
    >>> f = lambda X: X @ w[:, None]                 # a linear score: the curve is known by hand
    >>> x = np.ones((1, 4)); attr = x * w            # gradient x input: exact for a linear model
    >>> d = deletion_curves(f, x, attr, baseline=0.0, output="raw", n_random=0)
    >>> d.fractions.tolist(), d.scores[0].tolist(), float(d.auc[0])
    ([0.0, 0.25, 0.5, 0.75, 1.0], [2.0, -1.0, -2.0, -2.0, 0.0], -1.0)
    >>> d.masked_input(0, 0.5).tolist()
    [0.0, 0.0, 1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nbexplain.explainers.gradients._engine import CPU_MEMORY_BUDGET
from nbexplain.guard import guarded
from nbexplain.metrics._problem import Problem, prepare
from nbexplain.metrics._removal import (
    STREAM_ORDER,
    check_order,
    random_orders,
    relevance_order,
    sample_rng,
)
from nbexplain.validate import InputError, check_int, check_number

if TYPE_CHECKING:
    from nbexplain.tasks import TaskControl

__all__ = ["KINDS", "FaithfulnessCurves", "deletion_curves", "insertion_curves"]

#: The two curves.
KINDS = ("deletion", "insertion")
#: Steps of an image curve by default (tables and texts: one step per feature / token, at most this).
DEFAULT_STEPS = 50
_UNITS = {"image": "patches", "table": "features", "text": "tokens"}
_OUTPUT_WORDS = {"probabilities": "class probability", "logits": "logit", "raw": "model output"}


class FaithfulnessCurves:
    """Deletion or insertion curves of ``n`` samples, with their areas and the random floor.

    Attributes: ``kind`` (``"deletion"`` / ``"insertion"``), ``modality`` (``"image"``,
    ``"table"``, ``"text"``), ``fractions`` ``(S + 1,)`` from 0 to 1 (removed for deletion,
    inserted for insertion), ``scores`` ``(n, S + 1)`` (the explained output along the
    explanation's order), ``random_runs`` ``(n, R, S + 1)`` (each random order; None when
    ``n_random=0``), ``target`` ``(n,)``, ``output`` (``"probabilities"``, ``"logits"`` or
    ``"raw"``), ``method`` (the explanation's), ``params`` (the call's settings) and
    ``n_evaluations`` (model rows run). Derived: :attr:`random_scores`, :attr:`auc`,
    :attr:`random_auc`, :attr:`mean_auc`, :attr:`mean_random_auc`, :attr:`gain`, :attr:`better`.
    :meth:`masked_input` recomputes the input at a fraction for one sample (nothing of the kind
    is stored).

    Example:
        >>> import numpy as np
        >>> f = lambda X: X[:, :1] + X[:, 1:2]
        >>> c = insertion_curves(f, np.ones((2, 3)), [[1.0, 1.0, 0.0]] * 2, baseline=0.0, output="raw", n_random=2)
        >>> c.scores.tolist(), c.better, c.auc.round(4).tolist()
        ([[0.0, 1.0, 2.0, 2.0], [0.0, 1.0, 2.0, 2.0]], 'higher', [1.3333, 1.3333])
        >>> c.random_runs.shape, round(float(c.gain[0]), 3) >= 0
        ((2, 2, 4), True)
    """

    def __init__(self, *, kind: str, problem: Problem, fractions: np.ndarray, scores: np.ndarray,
                 random_runs: np.ndarray | None, orders: list[np.ndarray], counts: list[np.ndarray],
                 params: dict[str, Any]) -> None:
        self.kind = kind
        self.modality = problem.modality
        self.fractions = fractions
        self.scores = scores
        self.random_runs = random_runs
        self.target = problem.targets.copy()
        self.output = problem.output
        self.method = problem.method
        self.params = params
        self.n_evaluations = int(problem.evaluations)
        self._removal = problem.removal
        self._names = problem.unit_names
        self._orders = orders
        self._counts = counts

    # -- numbers ------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @property
    def steps(self) -> int:
        """Number of steps ``S`` (``S + 1`` points)."""
        return len(self.fractions) - 1

    @property
    def random_scores(self) -> np.ndarray | None:
        """The random-order curves averaged over the runs, ``(n, S + 1)`` (None without runs)."""
        return None if self.random_runs is None else self.random_runs.mean(axis=1)

    @property
    def auc(self) -> np.ndarray:
        """Area under each sample's curve over the fraction in [0, 1] (trapezoid rule), ``(n,)``."""
        return np.trapezoid(self.scores, self.fractions, axis=-1)

    @property
    def random_auc(self) -> np.ndarray | None:
        """Area under each sample's random-order curve (averaged over runs), ``(n,)``."""
        r = self.random_scores
        return None if r is None else np.trapezoid(r, self.fractions, axis=-1)

    @property
    def mean_auc(self) -> float:
        """The AUC averaged over the samples."""
        return float(self.auc.mean())

    @property
    def mean_random_auc(self) -> float | None:
        """The random floor's AUC averaged over the samples (None without random runs)."""
        r = self.random_auc
        return None if r is None else float(r.mean())

    @property
    def better(self) -> str:
        """``"lower"`` (deletion: the output should fall fast) or ``"higher"`` (insertion)."""
        return "lower" if self.kind == "deletion" else "higher"

    @property
    def gain(self) -> np.ndarray | None:
        """How much better than random, per sample: ``random_auc - auc`` (deletion), ``auc - random_auc``
        (insertion); positive is better than random. None without random runs."""
        r = self.random_auc
        if r is None:
            return None
        return r - self.auc if self.kind == "deletion" else self.auc - r

    @property
    def mean_scores(self) -> np.ndarray:
        """The curve averaged over the samples, ``(S + 1,)``."""
        return self.scores.mean(axis=0)

    def summary(self) -> dict[str, Any]:
        """The numbers a table of methods shows: kind, method, mean AUCs, gain, what is better.

        Example:
            >>> import numpy as np
            >>> c = deletion_curves(lambda X: X, np.ones((1, 2)), [[1.0, 0.0]], baseline=0.0, output="raw", n_random=0)
            >>> c.summary()["mean_auc"], c.summary()["better"]
            (0.25, 'lower')
        """
        gain = self.gain
        return {"kind": self.kind, "method": self.method, "modality": self.modality, "n": len(self),
                "steps": self.steps, "mean_auc": self.mean_auc, "mean_random_auc": self.mean_random_auc,
                "mean_gain": None if gain is None else float(gain.mean()), "better": self.better,
                "output": self.output}

    def describe(self) -> str:
        """What the curve measures and what is better, in words (for a view's caption).

        Example:
            >>> import numpy as np
            >>> c = deletion_curves(lambda X: X, np.ones((1, 2)), [[1.0, 0.0]], baseline=0.0, output="raw", n_random=0)
            >>> c.describe().split(";")[0]
            'Deletion: the model output as the most relevant features are removed first'
        """
        units, out = _UNITS[self.modality], _OUTPUT_WORDS[self.output]
        if self.modality == "image":
            size = self._removal.patch_size  # type: ignore[attr-defined]
            units = "superpixels" if size is None else "pixels" if size == 1 else units
        if self.kind == "deletion":
            head = (f"Deletion: the {out} as the most relevant {units} are removed first; a faithful explanation "
                    f"makes it fall fast, so a LOWER area is better")
        else:
            head = (f"Insertion: the {out} as the most relevant {units} are put back first onto the input with all "
                    f"of them removed; a faithful explanation makes it rise fast, so a HIGHER area is better")
        tail = f" (mean AUC {self.mean_auc:.3g}"
        floor = self.mean_random_auc
        tail += ")." if floor is None else f"; random order {floor:.3g})."
        return head + tail

    # -- one sample at one fraction (the scrubber) --------------------------------------------------
    def _sample(self, i: Any) -> int:
        n = len(self)
        k = check_int(i, "i", min=-n, max=n - 1)
        return k % n

    def step_index(self, fraction: Any) -> int:
        """The index of the curve point nearest to ``fraction`` (in [0, 1]).

        Example:
            >>> import numpy as np
            >>> c = deletion_curves(lambda X: X, np.ones((1, 4)), [[4.0, 3.0, 2.0, 1.0]], baseline=0.0,
            ...                     output="raw", n_random=0)
            >>> c.step_index(0.3), c.output_at(0, 0.3)
            (1, 0.0)
        """
        f = check_number(fraction, "fraction", min=0.0, max=1.0)
        return round(f * self.steps)

    def _run(self, random_run: Any) -> int:
        if random_run is None:
            return 0
        runs = 0 if self.random_runs is None else self.random_runs.shape[1]
        if runs == 0:
            raise InputError("these curves have no random runs (n_random=0); pass random_run=None")
        return 1 + check_int(random_run, "random_run", min=0, max=runs - 1)

    def removed(self, i: int, fraction: float, random_run: int | None = None) -> np.ndarray:
        """bool ``(U,)``: the units removed from sample ``i`` at ``fraction`` (``random_run``: a random order's)."""
        i, j, r = self._sample(i), self.step_index(fraction), self._run(random_run)
        order, k = self._orders[i][r], int(self._counts[i][j])
        mask = np.zeros(order.size, bool)
        mask[order[:k] if self.kind == "deletion" else order[k:]] = True
        return mask

    def removed_pixels(self, i: int, fraction: float, random_run: int | None = None) -> np.ndarray:
        """bool ``(H, W)``: the removed pixels of image ``i`` at ``fraction`` (images only)."""
        if self.modality != "image":
            raise InputError(f"removed_pixels is for images; these are {self.modality} curves: use removed()")
        return self._removal.pixel_mask(self._sample(i), self.removed(i, fraction, random_run))  # type: ignore[attr-defined]

    def masked_input(self, i: int, fraction: float, random_run: int | None = None) -> Any:
        """Sample ``i`` at ``fraction``: an image ``(C, H, W)``, a row ``(F,)`` (removed features shown as the
        mean of the background values used) or a text (str), recomputed on each call."""
        return self._removal.masked_input(self._sample(i), self.removed(i, fraction, random_run))

    def output_at(self, i: int, fraction: float, random_run: int | None = None) -> float:
        """The explained output of sample ``i`` at the point nearest to ``fraction``."""
        i, j, r = self._sample(i), self.step_index(fraction), self._run(random_run)
        return float(self.scores[i, j] if r == 0 else self.random_runs[i, r - 1, j])  # type: ignore[index]

    def unit_labels(self, i: int) -> list[str] | None:
        """Names of sample ``i``'s units: a table's feature names (from the explanation or the DataFrame), a
        text's tokens; None for images and unnamed features.

        Example:
            >>> import numpy as np
            >>> c = deletion_curves(lambda t: np.ones((len(t), 2)), ["a b"], [np.ones(2)], tokenizer=str.split)
            >>> c.unit_labels(0)
            ['a', 'b']
        """
        i = self._sample(i)
        if self.modality == "text":
            return list(self._removal.tokens[i])  # type: ignore[attr-defined]
        return None if self._names is None else list(self._names)

    def unit_order(self, i: int) -> np.ndarray:
        """Sample ``i``'s units, most relevant first (the order the curve removes / inserts them)."""
        return self._orders[self._sample(i)][0].copy()

    def __repr__(self) -> str:
        floor = "" if self.mean_random_auc is None else f", random {self.mean_random_auc:.4g}"
        return (f"FaithfulnessCurves(kind={self.kind!r}, {self.modality}, n={len(self)}, steps={self.steps}, "
                f"mean AUC {self.mean_auc:.4g}{floor}, {self.better} is better)")


def _default_steps(p: Problem, steps: Any) -> int:
    if steps is not None:
        return check_int(steps, "steps", min=1)
    most = max(p.removal.n_units(i) for i in range(p.n))
    return most if p.modality != "image" else DEFAULT_STEPS if most >= DEFAULT_STEPS else most


def _curves(kind: str, p: Problem, steps: int, n_random: int, order: str, seed: int,
            control: TaskControl | None, params: dict[str, Any]) -> FaithfulnessCurves:
    deletion = kind == "deletion"
    grid = np.arange(steps + 1)
    jobs: list[tuple[int, int, int]] = []
    orders, counts, ids = [], [], []
    for i in range(p.n):
        U = p.removal.n_units(i)
        rng = sample_rng(seed, STREAM_ORDER, i)
        o = np.vstack([relevance_order(p.scores[i], order, rng)[None], random_orders(U, n_random, rng)])
        k = (grid * U + steps // 2) // steps
        gone = k if deletion else U - k
        seen: dict[Any, int] = {}
        sample_ids = np.full((1 + n_random, steps + 1), -1)
        for r in range(1 + n_random):
            for j in range(steps + 1):
                if gone[j] == 0:
                    continue  # the unmodified input: its output is known
                key = "all" if gone[j] == U else (r, int(k[j]))
                if key not in seen:
                    seen[key] = len(jobs)
                    jobs.append((i, r, int(k[j])))
                sample_ids[r, j] = seen[key]
        orders.append(o)
        counts.append(k)
        ids.append(sample_ids)

    def removed_of(j: int) -> np.ndarray:
        i, r, k = jobs[j]
        o = orders[i][r]
        mask = np.zeros(o.size, bool)
        mask[o[:k] if deletion else o[k:]] = True
        return mask

    values = p.evaluate(np.array([i for i, _, _ in jobs], dtype=np.int64), removed_of, control, kind)
    explained = p.explained()
    curves = np.stack([np.where(s < 0, explained[i], values[np.maximum(s, 0)] if len(values) else 0.0)
                       for i, s in enumerate(ids)])
    return FaithfulnessCurves(kind=kind, problem=p, fractions=grid / steps, scores=curves[:, 0],
                              random_runs=curves[:, 1:] if n_random else None, orders=orders, counts=counts,
                              params=params)


def _faithfulness(kind: str, model: Any, inputs: Any, attributions: Any, **kw: Any) -> FaithfulnessCurves:
    order = check_order(kw.pop("order"))
    n_random = check_int(kw.pop("n_random"), "n_random", min=0, max=100)
    steps, control = kw.pop("steps"), kw.get("control")
    params = {k: v for k, v in kw.items() if k in ("output", "patch_size", "blur_sigma", "background_mode",
                                                    "n_background", "seed")}
    params.update(order=order, n_random=n_random, baseline=kw["baseline"] if isinstance(kw.get("baseline"), (
        str, int, float)) else "array" if kw.get("baseline") is not None else None)
    p = prepare(model, inputs, attributions, image_baseline="zeros" if kind == "deletion" else "blur", **kw)
    params["baseline"] = params["baseline"] or (p.removal.baseline if p.modality == "image" else None)  # type: ignore[attr-defined]
    s = _default_steps(p, steps)
    params["steps"] = s
    return _curves(kind, p, s, n_random, order, kw["seed"], control, params)


_SIGNATURE_DOC = """
    ``model``: a torch module, Keras model, estimator or callable (images, tables), or a text model
    (a :class:`nbexplain.text.TextClassifier`, ``predict_proba(list[str])`` or a function of a
    list of texts). ``inputs``: images ``(n, C, H, W)``, a table ``(n, F)``, or a list of texts.
    ``attributions``: an :class:`~nbexplain.Explanation` (its target is the one followed), a list
    of them (texts), or an array: images ``(n, C, H, W)`` or ``(n, H, W)`` (a Grad-CAM map at the
    image's resolution), tables ``(n, F)``, texts one array per text. ``target``: the output to
    follow (default: the explanation's, else the predicted class). ``steps``: points - 1 (default
    50 for images, one per feature / token up to 50 otherwise). ``output``: ``"probabilities"``
    (the output-kind rule), ``"logits"`` or ``"raw"``. Images: ``baseline`` (a number, ``"zeros"``,
    ``"mean"``, ``"blur"``, an image), ``patch_size`` or ``segments`` (superpixel labels),
    ``blur_sigma``. Tables: ``background`` rows (``background_mode="rows"`` averages over
    ``n_background`` seeded rows; ``"mean"`` uses column means) or a ``baseline`` row. Texts:
    ``tokenizer`` / ``detokenizer`` (default: the model's). ``order``: ``"value"`` or ``"abs"``.
    ``n_random``: random orders averaged for the floor. ``batch_size``: rows per model call or
    ``"auto"`` (within ``memory_budget`` bytes). ``seed``: ties and random orders. ``control``: a
    :class:`~nbexplain.tasks.TaskControl` (progress, cancel).
"""


@guarded
def deletion_curves(model: Any, inputs: Any, attributions: Any, *, target: Any = None, steps: int | None = None,
                    output: str = "probabilities", baseline: Any = None, patch_size: int | None = None,
                    segments: Any = None, blur_sigma: float | None = None, background: Any = None,
                    background_mode: str = "rows", n_background: int = 32, order: str = "value", n_random: int = 3,
                    tokenizer: Callable[[str], Sequence[str]] | None = None,
                    detokenizer: Callable[[Sequence[str]], str] | None = None, batch_size: int | str = "auto",
                    memory_budget: int = CPU_MEMORY_BUDGET, seed: int = 0,
                    control: TaskControl | None = None) -> FaithfulnessCurves:
    """Deletion curves: the explained output as the most relevant units are removed first (lower AUC is better).

    Images are replaced by ``baseline="zeros"`` by default (RISE's deletion).
    """
    return _faithfulness("deletion", **locals())


@guarded
def insertion_curves(model: Any, inputs: Any, attributions: Any, *, target: Any = None, steps: int | None = None,
                     output: str = "probabilities", baseline: Any = None, patch_size: int | None = None,
                     segments: Any = None, blur_sigma: float | None = None, background: Any = None,
                     background_mode: str = "rows", n_background: int = 32, order: str = "value", n_random: int = 3,
                     tokenizer: Callable[[str], Sequence[str]] | None = None,
                     detokenizer: Callable[[Sequence[str]], str] | None = None, batch_size: int | str = "auto",
                     memory_budget: int = CPU_MEMORY_BUDGET, seed: int = 0,
                     control: TaskControl | None = None) -> FaithfulnessCurves:
    """Insertion curves: the explained output as the most relevant units are put back first (higher AUC is better).

    Images start from ``baseline="blur"`` by default (RISE's insertion).
    """
    return _faithfulness("insertion", **locals())


deletion_curves.__doc__ = (deletion_curves.__doc__ or "") + _SIGNATURE_DOC
insertion_curves.__doc__ = (insertion_curves.__doc__ or "") + _SIGNATURE_DOC
