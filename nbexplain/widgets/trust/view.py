"""TrustView: can I trust these explanations? Faithfulness curves, a scrubber, a ranking and the sanity check.

One widget over a :class:`~nbexplain.metrics.TrustReport` (:func:`~nbexplain.metrics.trust_report`):

- the deletion and the insertion curves of every method, one chart each
  (:class:`~nbexplain.widgets.trust.curves.CurveChart`), their AUCs in the legend and the random
  order's curve dashed: the mean over the samples or one sample (the "show" menu);
- a scrubber (:class:`~nbexplain.widgets.trust.scrubber.Scrubber`): a slider over the fraction
  removed that shows the input there (the masked image, the replaced features, the dropped
  words) and the model's output, with a marker on the curve;
- the methods ranked by each metric, with what "better" means in words
  (:class:`~nbexplain.widgets.trust.table.RankingTable`);
- the sanity-check strip: each method's maps as the layers are randomised, the similarity curve
  and the verdict (:class:`~nbexplain.widgets.trust.sanity.SanityStrip`).

``TrustView(model, inputs, explanations)`` computes when its "compute" button is pressed (or at
once with ``compute=True``) on a background worker (:class:`~nbexplain.tasks.TaskRunner`), with
progress and a cancel button; the notebook stays usable. ``TrustView.from_report(report)`` draws
a report computed elsewhere. CSS class ``nbx-trust``.

Example:
    >>> import numpy as np
    >>> from nbexplain.metrics import trust_report
    >>> f = lambda X: np.c_[0.2 - X.mean(1) / 10, 0.8 + X.mean(1) / 10]     # P(yes) grows with every feature
    >>> X = np.random.default_rng(0).random((3, 4))
    >>> view = TrustView(f, X, {"exact": X / 4, "reversed": -X / 4}, baseline=0.0, metrics=("deletion", "insertion"),
    ...                  compute=True, sync=True, class_names=["no", "yes"])
    >>> view.report.ranking("deletion").order, view.deletion_chart.y_axis.label
    (['exact', 'reversed'], 'P(yes)')
    >>> view.close()
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets

from ...tasks import Cancelled, TaskRunner
from .._base import ClosesTree, close_tree, error_line
from ..chart_layout import ChartRow
from ..progress import TaskProgress
from .curves import UNITS, CurveChart, method_color, output_name
from .sanity import SanityStrip
from .scrubber import Scrubber
from .table import RankingTable

__all__ = ["TrustView"]

#: Keyword arguments passed on to :func:`nbexplain.metrics.trust_report`.
REPORT_OPTIONS = ("kind", "metrics", "sanity_methods", "background", "baseline", "tokenizer", "detokenizer", "steps",
                  "samples", "patch_size", "n_random", "output", "batch_size", "seed")
MEAN = -1


def _section(text: str) -> ipywidgets.Label:
    label = ipywidgets.Label(text)
    label.add_class("nbx-trust-section")
    label.style.font_weight = "bold"
    return label


class TrustView(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """Can I trust these explanations? (see the module docstring).

    Parameters:
        model, inputs, explanations: as :func:`~nbexplain.metrics.trust_report` takes them
            (``{method: Explanation}`` of the same samples); None for :meth:`from_report`.
        compute: start computing at once (default False: the "compute" button starts it).
        class_names: names of the model's outputs, for the axis labels (``"P(benign)"``).
        feature_names: a table's feature names for the scrubber's rows (default: the explanations' or
            the DataFrame's, else ``"feature i"``).
        title: a heading (default "Can I trust these explanations?").
        runner: a :class:`~nbexplain.tasks.TaskRunner` to compute on (e.g. a Dashboard's); default
            a runner of its own (``sync=True``: computing runs inline, for scripts and tests).
        **options: passed to :func:`~nbexplain.metrics.trust_report` (``metrics``, ``samples``,
            ``steps``, ``background``, ``sanity_methods``, ...); others raise ``TypeError``.

    Attributes: ``report`` (the :class:`~nbexplain.metrics.TrustReport` drawn, or None),
    ``deletion_chart`` / ``insertion_chart``, ``scrubber``, ``table``, ``sanity_strip``,
    ``compute_button``, ``sample_picker``, ``status``, ``progress``, ``runner``.
    """

    def __init__(self, model: Any = None, inputs: Any = None, explanations: dict[str, Any] | None = None, *,
                 compute: bool = False, class_names: Any = None, feature_names: Any = None, title: str = "",
                 runner: TaskRunner | None = None, sync: bool = False, **options: Any) -> None:
        unknown = sorted(set(options) - set(REPORT_OPTIONS))
        if unknown:
            raise TypeError(f"TrustView() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; valid "
                            f"ones are: compute, class_names, feature_names, title, runner, sync, {', '.join(REPORT_OPTIONS)}")
        if runner is not None and not isinstance(runner, TaskRunner):
            raise TypeError(f"runner must be an nbexplain.tasks.TaskRunner or None, got {type(runner).__name__}")
        if explanations is not None and (not isinstance(explanations, dict) or not explanations):
            raise ValueError("explanations must be a non-empty dict {method name: Explanation of the inputs}")
        self.model, self.inputs, self.explanations, self.options = model, inputs, explanations, options
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.feature_names = None if feature_names is None else [str(f) for f in feature_names]
        self.report: Any = None
        self._lock = threading.RLock()  # the worker's delivery and a sample picked draw one at a time
        self._own_runner = runner is None
        self.runner = runner if runner is not None else TaskRunner(sync=sync)
        self.task: Any = None
        self.heading = ipywidgets.Label(title or "Can I trust these explanations?")
        self.heading.add_class("nbx-trust-title")
        self.heading.style.font_weight = "bold"
        self.compute_button = ipywidgets.Button(description="compute", tooltip="measure every method: runs the model "
                                                "on many perturbed copies of each sample")
        self.compute_button.add_class("nbx-trust-compute")
        self.compute_button.on_click(lambda _b: self.compute())
        self.sample_picker = ipywidgets.Dropdown(options=[("mean", MEAN)], value=MEAN, description="show",
                                                 layout=ipywidgets.Layout(width="260px", display="none"))
        self.sample_picker.add_class("nbx-trust-sample")
        self.sample_picker.observe(lambda _c: self._draw(), names="value")
        self.status = ipywidgets.Label("")
        self.status.add_class("nbx-trust-status")
        self.progress = TaskProgress(self.runner, delay=0.3)
        self.deletion_chart = CurveChart("deletion")
        self.insertion_chart = CurveChart("insertion")
        self.scrubber = Scrubber(on_move=self._mark)
        self.table = RankingTable()
        self.sanity_strip = SanityStrip()
        self._sections = {
            "curves": _section("Faithfulness: the prediction as the units each method ranks first are removed "
                               "(deletion) or put back (insertion)"),
            "scrub": _section("Scrub along a curve: the input at that point and the model's output there"),
            "table": _section("Ranking of the methods by each metric"),
            "sanity": _section("Sanity check: model-parameter randomisation"),
        }
        self.curves_row = ChartRow([self.deletion_chart, self.insertion_chart])
        # Filled when a report is drawn, with the parts it has: bqplot lays a figure out at zero size
        # (negative widths) when it is rendered hidden, so nothing hidden is ever in the page.
        self.body = ipywidgets.VBox([])
        header = ipywidgets.HBox([self.heading, self.compute_button, self.sample_picker],
                                 layout=ipywidgets.Layout(flex_flow="row wrap", align_items="center"))
        header.add_class("nbx-trust-header-row")
        super().__init__([header, self.progress, self.status, self.body])
        self.add_class("nbx-trust")
        self.add_class("nbx-kernel-scope")  # its controls call Python: disabled with the reason without a kernel
        if model is None:
            self.compute_button.layout.display = "none"
        else:
            self.status.value = "Press compute to measure the methods (this runs the model on many perturbed copies)."
        if compute:
            self.compute()

    @classmethod
    def from_report(cls, report: Any, *, class_names: Any = None, feature_names: Any = None,
                    title: str = "") -> TrustView:
        """A view of a :class:`~nbexplain.metrics.TrustReport` computed elsewhere (no compute button).

        Example:
            >>> import numpy as np
            >>> from nbexplain.metrics import trust_report
            >>> r = trust_report(lambda X: X, np.ones((1, 2)), {"m": [[1.0, 0.0]]}, metrics="deletion", baseline=0.0,
            ...                  output="raw", n_random=0)
            >>> view = TrustView.from_report(r); view.deletion_chart.legend_texts(); view.close()
            ['m: AUC 0.25']
        """
        view = cls(class_names=class_names, feature_names=feature_names, title=title)
        view.show_report(report)
        return view

    # -- computing ------------------------------------------------------------------------------
    def compute(self) -> Any:
        """Start computing the report on the worker (progress and cancel in the widget); returns the Task.

        Example:
            >>> import numpy as np
            >>> view = TrustView(lambda X: X, np.ones((1, 2)), {"m": [[1.0, 0.0]]}, metrics="deletion", baseline=0.0,
            ...                  output="raw", n_random=0)
            >>> task = view.compute(); view.wait(), task.state, view.report.ranking("deletion").mean
            (True, 'done', {'m': 0.25})
            >>> view.close()
        """
        from ...metrics.report import trust_report

        if self.model is None or self.inputs is None or self.explanations is None:
            raise ValueError("this TrustView has no model, inputs and explanations to compute from (it draws a given "
                             "report); create it as TrustView(model, inputs, explanations)")
        model, inputs, explanations, options = self.model, self.inputs, self.explanations, dict(self.options)

        def run(control: Any) -> Any:
            try:
                return trust_report(model, inputs, explanations, control=control, **options)
            except Cancelled:
                self._stopped("cancelled: nothing was measured; press compute to start again")
                raise

        self.compute_button.disabled = True
        self.status.value = "measuring..."
        self.task = self.runner.submit(run, label="trust report", on_done=self.show_report, on_error=self._failed,
                                       replace="trust report")
        return self.task

    def cancel(self) -> None:
        """Stop computing (at the next step); what was drawn stays."""
        if self.task is not None:
            self.task.cancel()

    def wait(self, timeout: float | None = 120.0) -> bool:
        """Block until the worker is idle (for scripts, tests and notebooks run top to bottom)."""
        return bool(self.runner.wait(timeout))

    def _stopped(self, text: str) -> None:
        self.status.value = text
        self.compute_button.disabled = False

    def _failed(self, exc: BaseException) -> None:
        self._stopped(f"the report failed: {error_line(exc)}")

    # -- drawing --------------------------------------------------------------------------------
    def show_report(self, report: Any) -> None:
        """Draw ``report`` (a :class:`~nbexplain.metrics.TrustReport`)."""
        with self._lock:
            self._show_report(report)

    def _show_report(self, report: Any) -> None:
        self.report = report
        n = report.n_samples
        options = [(f"sample {int(s)}", k) for k, s in enumerate(report.samples)]
        if n > 1:
            options = [(f"mean over {n} samples", MEAN), *options]
        with self.hold_sync():
            self.sample_picker.options = options
            self.sample_picker.value = options[0][1]
            self.sample_picker.layout.display = ""
            self.compute_button.disabled = False
            self.compute_button.description = "compute again"
            self._draw()
            self.status.value = f"{len(report.methods)} methods measured on {n} sample{'s' if n != 1 else ''}."

    def _y_label(self, positions: Any) -> str:
        r = self.report
        target = None if r.target is None else r.target[positions]
        return output_name(r.output, target, self.class_names)

    def _draw(self) -> None:
        with self._lock:
            self._draw_report()

    def _draw_report(self) -> None:
        r = self.report
        if r is None:
            return
        sel = self.sample_picker.value
        sample = None if sel == MEAN else int(sel)
        pos = 0 if sample is None else sample
        colors = {m: method_color(i) for i, m in enumerate(r.methods)}
        y_label = self._y_label(slice(None) if sample is None else [pos])
        units = UNITS[r.kind]
        charts = [(c, curves) for c, curves in ((self.deletion_chart, r.deletion), (self.insertion_chart, r.insertion))
                  if curves]
        for chart, curves in charts:
            chart.show(curves, sample=sample, y_label=y_label, units=units, colors=colors)
        parts: list[Any] = []
        if charts:
            if list(self.curves_row.children) != [c for c, _ in charts]:
                self.curves_row.children = [c for c, _ in charts]
            self.scrubber.show(r, pos, mean=sample is None, y_label=self._y_label([pos]),
                               feature_names=self.feature_names)
            parts += [self._sections["curves"], self.curves_row, self._sections["scrub"], self.scrubber]
        verdicts = {m: r.verdict(m) for m in r.methods if r.verdict(m) is not None}
        self.table.show(r.rankings, n_samples=r.n_samples, methods=r.methods, verdicts=verdicts, notes=r.notes)
        parts += [self._sections["table"], self.table]
        if "sanity" in r.rankings:
            self.sanity_strip.show(r.sanity, sample=pos, sample_name=str(int(r.samples[pos])),
                                   skipped=r.rankings["sanity"].skipped, colors=colors)
            parts += [self._sections["sanity"], self.sanity_strip]
        if list(self.body.children) != parts:
            self.body.children = parts

    def _mark(self, curve: str, method: str, fraction: float) -> None:
        self.deletion_chart.mark(method if curve == "deletion" else None, fraction)
        self.insertion_chart.mark(method if curve == "insertion" else None, fraction)

    # -- closing --------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop its own worker and close every widget the view made (charts, heatmaps, layouts)."""
        close_tree(self)

    def _release(self) -> None:
        """Called by :func:`close_tree` first: stop the worker it owns (a shared runner is left running)."""
        if self.__dict__.get("_own_runner") and self.__dict__.get("runner") is not None:
            self.runner.close()
