"""Can I trust it? Every faithfulness and sanity metric of several methods in one report, ranked (pure compute).

:func:`trust_report` runs the chosen metrics (:data:`METRICS`) for each method's explanation of
the same samples, one sample or a subsample (``samples=``: averaged, with the spread over the
samples), and ranks the methods by each metric, with what "better" means in words
(:func:`better_sentence`). It calls the metrics modules and adds nothing to their numbers:

- ``"deletion"`` / ``"insertion"``: :func:`~nbexplain.metrics.deletion_curves` and
  :func:`~nbexplain.metrics.insertion_curves` (the mean AUC, its floor from random orders);
- ``"correlation"``: :func:`~nbexplain.metrics.faithfulness_correlation` (images and tables);
- ``"sanity"``: :func:`~nbexplain.metrics.sanity_check` for the methods it can re-run on a
  randomised copy of a torch model: ``sanity_methods={method: registry name or factory}``, or by
  default the methods whose name (or explanation's ``method``) is a registry name of a gradient
  method (re-built with the registry's default settings). Other methods are skipped, with the
  reason, and so is every method when the model is not a ``torch.nn.Module`` or the data is text.

A metric that fails for one method is recorded for that method (``Ranking.skipped``, the
error in one line); the others go on. A cancel (``control``) stops the whole report.

Example:
    >>> import numpy as np
    >>> w = np.array([3.0, 1.0, 0.0, -2.0])
    >>> f = lambda X: X @ w[:, None]
    >>> x = np.ones((2, 4))
    >>> r = trust_report(f, x, {"exact": x * w, "reversed": -x * w}, metrics=("deletion",), baseline=0.0,
    ...                  output="raw", n_random=0)
    >>> r.ranking("deletion").order, r.ranking("deletion").mean["exact"]
    (['exact', 'reversed'], -1.0)
    >>> r.better("deletion")
    'deletion AUC: lower is better — removing the features the method ranks first should drop the prediction fast'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nbexplain.guard import guarded
from nbexplain.metrics._report_inputs import (
    AGNOSTIC,
    METRICS,
    Stage,
    check_metrics,
    infer_kind,
    pick_samples,
    split_explanations,
    take_inputs,
)
from nbexplain.tasks import Cancelled
from nbexplain.validate import InputError, check_int

if TYPE_CHECKING:
    from nbexplain.tasks import TaskControl

__all__ = ["LABELS", "METRICS", "Ranking", "TrustReport", "better_sentence", "trust_report"]

#: What each metric's number is called in a table.
LABELS = {"deletion": "deletion AUC", "insertion": "insertion AUC", "correlation": "faithfulness correlation",
          "sanity": "sanity similarity"}
#: Which way is better, per metric.
BETTER = {"deletion": "lower", "insertion": "higher", "correlation": "higher", "sanity": "lower"}
_UNITS = {"image": "patches", "table": "features", "text": "tokens"}


def better_sentence(metric: str, kind: str = "table") -> str:
    """What "better" means for ``metric`` on ``kind`` data, in one sentence.

    Example:
        >>> better_sentence("insertion", "image")
        'insertion AUC: higher is better — putting the patches the method ranks first back should restore the prediction fast'
    """
    units = _UNITS.get(kind, "features")
    why = {
        "deletion": f"removing the {units} the method ranks first should drop the prediction fast",
        "insertion": f"putting the {units} the method ranks first back should restore the prediction fast",
        "correlation": (f"the attributions of a random subset of {units} should predict how much removing it lowers "
                        "the prediction (1: perfectly, 0: not at all)"),
        "sanity": ("the map should change once the model's weights are randomised; a map that stays the same shows "
                   "the input, not what the model learned"),
    }[metric]
    return f"{LABELS[metric]}: {BETTER[metric]} is better — {why}"


@dataclass
class Ranking:
    """The methods ranked by one metric, best first, with the numbers behind the order.

    ``mean[m]`` is the metric averaged over the samples, ``spread[m]`` its standard deviation
    over them (0 for one sample), ``n[m]`` the samples counted (correlation: those where it is
    defined). ``floor[m]``: the random order's mean AUC (deletion, insertion), else absent.
    ``skipped[m]``: why method ``m`` has no number. ``sentence``: what better means.

    Example:
        >>> r = Ranking("deletion", "lower", "deletion AUC: ...", ["a", "b"], {"a": 0.1, "b": 0.3})
        >>> r.rank("b"), r.rank("c")
        (2, None)
    """

    metric: str
    better: str
    sentence: str
    order: list[str]
    mean: dict[str, float]
    spread: dict[str, float] = field(default_factory=dict)
    n: dict[str, int] = field(default_factory=dict)
    floor: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The metric's name in a table (``"deletion AUC"``)."""
        return LABELS[self.metric]

    def rank(self, method: str) -> int | None:
        """1 for the best method; None for a method without a number."""
        return self.order.index(method) + 1 if method in self.order else None

    def mean_floor(self) -> float | None:
        """The random floor averaged over the methods (their random orders are the same; None without one)."""
        values = [v for v in self.floor.values() if np.isfinite(v)]
        return float(np.mean(values)) if values else None


@dataclass
class TrustReport:
    """What :func:`trust_report` measured: the metric results per method, and the rankings.

    ``kind`` (``"image"``, ``"table"``, ``"text"``), ``methods``, ``metrics`` (those asked),
    ``samples`` (indices into the inputs given), ``inputs`` (those samples, copied),
    ``explanations`` (each method's, for those samples), ``deletion`` / ``insertion``
    ``{method: FaithfulnessCurves}``, ``correlation`` ``{method: FaithfulnessCorrelation}``,
    ``sanity`` ``{method: SanityResult}``, ``rankings`` ``{metric: Ranking}``, ``target`` (the
    explained output per sample), ``output`` (``"probabilities"``, ``"logits"``, ``"raw"``),
    ``notes`` (caveats in words), ``settings`` (the call's options).
    """

    kind: str
    methods: list[str]
    metrics: tuple[str, ...]
    samples: np.ndarray
    inputs: Any
    explanations: dict[str, Any]
    deletion: dict[str, Any] = field(default_factory=dict)
    insertion: dict[str, Any] = field(default_factory=dict)
    correlation: dict[str, Any] = field(default_factory=dict)
    sanity: dict[str, Any] = field(default_factory=dict)
    rankings: dict[str, Ranking] = field(default_factory=dict)
    target: np.ndarray | None = None
    output: str = "probabilities"
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        """Samples measured."""
        return len(self.samples)

    def ranking(self, metric: str) -> Ranking:
        """The :class:`Ranking` of one metric (a KeyError names those computed)."""
        if metric not in self.rankings:
            raise KeyError(f"{metric!r} was not computed; this report has {list(self.rankings)}")
        return self.rankings[metric]

    def better(self, metric: str) -> str:
        """What better means for ``metric``, in words (:func:`better_sentence`)."""
        return better_sentence(metric, self.kind)

    def curves(self, kind: str) -> dict[str, Any]:
        """``{method: FaithfulnessCurves}`` of ``"deletion"`` or ``"insertion"``."""
        if kind not in ("deletion", "insertion"):
            raise ValueError(f"kind must be 'deletion' or 'insertion', got {kind!r}")
        return self.deletion if kind == "deletion" else self.insertion

    def verdict(self, method: str) -> Any:
        """The :class:`~nbexplain.metrics.SanityVerdict` of ``method``, or None (not checked)."""
        result = self.sanity.get(method)
        return None if result is None else result.verdicts.get(method)

    def describe(self) -> str:
        """The rankings in words, one block per metric (for a print-out).

        Example:
            >>> import numpy as np
            >>> r = trust_report(lambda X: X, np.ones((1, 2)), {"m": [[1.0, 0.0]]}, metrics=("deletion",),
            ...                  baseline=0.0, output="raw", n_random=0)
            >>> print(r.describe())
            deletion AUC: lower is better — removing the features the method ranks first should drop the prediction fast
              1. m  0.25
        """
        lines: list[str] = []
        for r in self.rankings.values():
            lines.append(r.sentence)
            for i, m in enumerate(r.order):
                spread = f" ± {r.spread[m]:.3g}" if self.n_samples > 1 and m in r.spread else ""
                floor = f" (random {r.floor[m]:.3g})" if m in r.floor else ""
                lines.append(f"  {i + 1}. {m}  {r.mean[m]:.3g}{spread}{floor}")
            lines += [f"  -  {m}: {why}" for m, why in r.skipped.items()]
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def __repr__(self) -> str:
        best = ", ".join(f"{m}: {r.order[0]}" for m, r in self.rankings.items() if r.order)
        return (f"TrustReport({self.kind}, {len(self.methods)} methods, {self.n_samples} samples, "
                f"best by metric: {best or 'none'})")


def _rank(metric: str, kind: str, values: dict[str, np.ndarray], floors: dict[str, float],
          skipped: dict[str, str]) -> Ranking:
    """Mean and spread per method (NaN samples left out), best first."""
    mean, spread, n = {}, {}, {}
    skipped = dict(skipped)
    for m, v in values.items():
        v = np.asarray(v, dtype=np.float64)
        ok = v[np.isfinite(v)]
        if not ok.size:
            skipped[m] = "undefined on every sample (the attributions or the output drops did not vary)"
            continue
        mean[m], spread[m], n[m] = float(ok.mean()), float(ok.std()), int(ok.size)
    sign = 1.0 if BETTER[metric] == "lower" else -1.0
    order = sorted(mean, key=lambda m: sign * mean[m])
    return Ranking(metric, BETTER[metric], better_sentence(metric, kind), order, mean, spread, n,
                   {m: f for m, f in floors.items() if m in mean}, skipped)


def _sanity_specs(model: Any, kind: str, methods: list[str], parts: dict[str, Any], sanity_methods: Any,
                  background: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """``{method: registry name or factory}`` to re-run, and ``{method: why not}``."""
    from nbexplain.explainers.registry import available_explainers
    from nbexplain.models import is_torch_module

    if kind == "text":
        return {}, dict.fromkeys(methods, "the sanity check re-explains number tensors; texts are not supported")
    if not is_torch_module(model):
        why = (f"the sanity check randomises a torch.nn.Module's weights; this model is a {type(model).__name__}, "
               "which has none to randomise")
        return {}, dict.fromkeys(methods, why)
    if sanity_methods is not None and not isinstance(sanity_methods, dict):
        raise InputError("sanity_methods must be None or a dict {method: registry name or factory model -> "
                         f"explainer}}, got {type(sanity_methods).__name__}")
    known = set(available_explainers(kind)) - AGNOSTIC
    if sanity_methods is not None:
        unknown = sorted(set(sanity_methods) - set(methods))
        if unknown:
            raise InputError(f"sanity_methods names {unknown}, which are not among the explanations' methods {methods}")
    specs, skipped = {}, {}
    for m in methods:
        if sanity_methods is not None:
            if m in sanity_methods:
                specs[m] = sanity_methods[m]
            else:
                skipped[m] = "not in sanity_methods (give it a registry name or a factory model -> explainer there)"
            continue
        name = m if m in known else getattr(parts[m], "method", None)
        if isinstance(name, str) and name in known and (name != "expected_gradients" or background is not None):
            specs[m] = name
        else:
            skipped[m] = ("not a gradient method the check can re-run by name; pass sanity_methods={"
                          f"{m!r}: lambda model: ...}} to check it")
    return specs, skipped


@guarded
def trust_report(model: Any, inputs: Any, explanations: dict[str, Any], *, kind: str | None = None,
                 metrics: Sequence[str] = ("deletion", "insertion", "correlation", "sanity"),
                 sanity_methods: dict[str, Any] | None = None, background: Any = None, baseline: Any = None,
                 tokenizer: Callable[[str], Sequence[str]] | None = None,
                 detokenizer: Callable[[Sequence[str]], str] | None = None, steps: int | None = None,
                 samples: int | Sequence[int] | None = None, patch_size: int | None = None, n_random: int = 3,
                 output: str = "probabilities", batch_size: int | str = "auto", seed: int = 0,
                 control: TaskControl | None = None) -> TrustReport:
    """Measure and rank ``explanations`` (``{method: Explanation}`` of the same ``inputs``); see the module docstring.

    ``inputs``: images ``(n, C, H, W)``, a table ``(n, F)`` (an array or DataFrame) or a list of
    texts; ``explanations``: per method an :class:`~nbexplain.Explanation` of those samples, in
    order (texts: also a list of one per text), or an array of attributions. ``kind``:
    ``"image"``, ``"table"`` or ``"text"`` (default: from the inputs; checked). ``samples``: all
    (None), a seeded subsample of that many, or indices. ``background`` (tables: the rows removed
    features are drawn from; also ``expected_gradients``' data) or ``baseline`` (a number, an
    image baseline name, a row). ``steps``, ``patch_size``, ``n_random``, ``output``, ``batch_size``
    (rows per model call) and ``tokenizer`` / ``detokenizer`` go to the metrics as
    :func:`~nbexplain.metrics.deletion_curves` takes them.
    ``control``: a :class:`~nbexplain.tasks.TaskControl` (progress over the whole report, cancel).
    """
    metrics = check_metrics(metrics)
    check_int(seed, "seed", min=0)
    kind = infer_kind(inputs, kind)
    parts_all, n = split_explanations(explanations, inputs, kind)
    idx = pick_samples(samples, n, seed)
    x = take_inputs(inputs, idx, kind)
    parts = {m: p(idx) for m, p in parts_all.items()}
    methods = list(parts)
    specs, sanity_skipped = ({}, {}) if "sanity" not in metrics else _sanity_specs(
        model, kind, methods, parts, sanity_methods, background)
    faithful = [m for m in metrics if m != "sanity"]
    if kind == "text" and "correlation" in faithful:
        faithful.remove("correlation")
    jobs = [(metric, m) for metric in faithful for m in methods] + [("sanity", m) for m in specs]
    stages = Stage.plan(control, len(jobs))
    report = TrustReport(kind, methods, metrics, idx, x, parts, output=output,
                         settings={"n_inputs": n, "steps": steps, "seed": seed, "n_random": n_random, "patch_size": patch_size,
                                   "background": background is not None, "baseline": baseline,
                                   "sanity_specs": specs})
    failed: dict[str, dict[str, str]] = {metric: {} for metric in metrics}
    if "correlation" in metrics and kind == "text":
        failed["correlation"] = dict.fromkeys(methods, "faithfulness correlation takes images or tables, not texts")
    failed.setdefault("sanity", {}).update(sanity_skipped)
    common = {"background": background, "baseline": baseline, "output": output, "seed": seed, "batch_size": batch_size}
    if kind == "image":
        common["patch_size"] = patch_size
    for j, (metric, m) in enumerate(jobs):
        ctl = stages.stage(j, f"{LABELS[metric]}: {m}", minor=0 if metric == "sanity" else len(idx))
        try:
            if metric in ("deletion", "insertion"):
                fn = _curve_fn(metric)
                text = {"tokenizer": tokenizer, "detokenizer": detokenizer} if kind == "text" else {}
                extra = {k: v for k, v in common.items() if not (kind == "text" and k in ("background", "baseline"))}
                res = fn(model, x, parts[m], steps=steps, n_random=n_random, control=ctl, **extra, **text)
                report.curves(metric)[m] = res
            elif metric == "correlation":
                from nbexplain.metrics.correlation import faithfulness_correlation

                report.correlation[m] = faithfulness_correlation(model, x, parts[m], control=ctl, **common)
            else:
                from nbexplain.metrics.sanity import sanity_check

                target = getattr(parts[m], "target", None)
                report.sanity[m] = sanity_check(model, {m: specs[m]}, x, target=target, data=background, seed=seed,
                                                keep_maps=min(4, len(idx)), control=ctl)
        except Cancelled:
            raise
        except Exception as exc:  # one method's failure is said in its row; the others go on
            failed[metric][m] = f"failed: {type(exc).__name__}: {' '.join(str(exc).split())}"
    _finish(report, failed)
    return report


def _curve_fn(metric: str) -> Callable[..., Any]:
    from nbexplain.metrics.faithfulness import deletion_curves, insertion_curves

    return deletion_curves if metric == "deletion" else insertion_curves


def _finish(report: TrustReport, failed: dict[str, dict[str, str]]) -> None:
    """Rankings from the results; the explained targets; notes."""
    kind = report.kind
    for metric in report.metrics:
        floors: dict[str, float] = {}
        if metric in ("deletion", "insertion"):
            curves = report.curves(metric)
            values = {m: c.auc for m, c in curves.items()}
            floors = {m: c.mean_random_auc for m, c in curves.items() if c.mean_random_auc is not None}
        elif metric == "correlation":
            values = {m: c.correlation for m, c in report.correlation.items()}
        else:
            values = {}
            for m, res in report.sanity.items():
                v = res.verdicts[m]
                values[m] = res.per_sample[m]["spearman"][v.step] if v.step >= 0 else np.array([v.similarity])
        report.rankings[metric] = _rank(metric, kind, values, floors, failed.get(metric, {}))
    for result in (*report.deletion.values(), *report.insertion.values(), *report.correlation.values()):
        report.target, report.output = result.target, result.output
        break
    if any(isinstance(spec, str) for spec in report.settings.get("sanity_specs", {}).values()):
        report.notes.append("the sanity check re-ran methods given by name with the registry's default settings")
