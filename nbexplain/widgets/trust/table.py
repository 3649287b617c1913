"""The methods ranked by each metric, as a grid of Labels, with what "better" means under it.

A row per method, a column per metric (its name, which way is better and, for deletion and
insertion, the random order's AUC in the header); a cell holds the method's rank by that metric
and its number: ``"#1  0.213 ± 0.04"`` (the mean over the samples ± their standard deviation). Under the grid, per metric, the sentence
that says what better means (:func:`nbexplain.metrics.report.better_sentence`) and why a method
has no number there. Every text is a widget value (never HTML).

Example:
    >>> from nbexplain.metrics.report import Ranking
    >>> r = Ranking("deletion", "lower", "deletion AUC: lower is better — ...", ["a", "b"], {"a": 0.1, "b": 0.3},
    ...             {"a": 0.01, "b": 0.02}, {"a": 4, "b": 4}, {"a": 0.5, "b": 0.5})
    >>> t = RankingTable()
    >>> t.show({"deletion": r}, n_samples=4)
    >>> [c.value for c in t.grid.children]
    ['method', 'deletion AUC (lower is better; random 0.5)', 'a', '#1  0.1 ± 0.01', 'b', '#2  0.3 ± 0.02']
"""

from __future__ import annotations

from typing import Any

import ipywidgets

from .._base import ClosesTree, replace_children
from .._format import format_number

__all__ = ["RankingTable", "cell_text", "header_text"]


def header_text(ranking: Any) -> str:
    """A metric's column header: its name, which way is better, the random floor.

    Example:
        >>> from nbexplain.metrics.report import Ranking
        >>> header_text(Ranking("correlation", "higher", "", [], {}))
        'faithfulness correlation (higher is better)'
    """
    floor = ranking.mean_floor()
    tail = "" if floor is None else f"; random {format_number(floor)}"
    return f"{ranking.label} ({ranking.better} is better{tail})"


def cell_text(ranking: Any, method: str, n_samples: int) -> str:
    """``"<mean> ± <sd>"`` of one method (no spread for one sample).

    Example:
        >>> from nbexplain.metrics.report import Ranking
        >>> cell_text(Ranking("deletion", "lower", "", ["a"], {"a": 0.25}, {"a": 0.0}), "a", 1)
        '0.25'
    """
    text = format_number(ranking.mean[method])
    if n_samples > 1 and method in ranking.spread:
        text += f" ± {format_number(ranking.spread[method])}"
    return text


class RankingTable(ClosesTree, ipywidgets.VBox):  # type: ignore[misc]
    """A ``GridBox`` of Labels (``.grid``): a row per method, a column per metric, each cell the method's rank
    by that metric and its number; then the sentences (``.notes``). CSS class ``nbx-trust-table``.

    Rows follow the first metric's ranking (methods without a number there last). Cells carry CSS
    classes: ``nbx-trust-header``, ``nbx-trust-method``, ``nbx-trust-cell``, ``nbx-trust-best``
    (rank 1) and, on a sanity cell, ``nbx-trust-pass`` or ``nbx-trust-fail``.
    """

    def __init__(self) -> None:
        self.grid = ipywidgets.GridBox([], layout=ipywidgets.Layout(grid_gap="2px 18px", width="fit-content",
                                                                    max_width="100%"))
        self.grid.add_class("nbx-trust-grid")
        self.notes = ipywidgets.VBox([])
        self.notes.add_class("nbx-trust-notes")
        super().__init__([self.grid, self.notes])
        self.add_class("nbx-trust-table")

    def show(self, rankings: dict[str, Any], *, n_samples: int, methods: list[str] | None = None,
             verdicts: dict[str, Any] | None = None, notes: Any = ()) -> None:
        """Draw ``{metric: Ranking}`` for ``methods`` (default: those ranked); ``verdicts``: ``{method:
        SanityVerdict}`` for the sanity column; ``notes``: lines said under the sentences."""
        verdicts = verdicts or {}
        metrics = list(rankings)
        ranked = [m for r in rankings.values() for m in r.order]
        methods = list(dict.fromkeys([*(methods or []), *ranked]))
        if metrics:
            first = rankings[metrics[0]]
            methods.sort(key=lambda m: first.rank(m) or len(methods) + 1)

        def label(text: str, *classes: str) -> ipywidgets.Label:
            w = ipywidgets.Label(text)
            for c in classes:
                w.add_class(c)
            return w

        cells = [label("method", "nbx-trust-header")]
        cells += [label(header_text(rankings[metric]), "nbx-trust-header") for metric in metrics]
        for m in methods:
            cells.append(label(m, "nbx-trust-method"))
            for metric in metrics:
                r = rankings[metric]
                rank = r.rank(m)
                if rank is None:
                    cells.append(label("n/a" if m in r.skipped else "", "nbx-trust-cell", "nbx-trust-none"))
                    continue
                text, extra = f"#{rank}  {cell_text(r, m, n_samples)}", ["nbx-trust-cell"]
                if rank == 1 and len(r.order) > 1:
                    extra.append("nbx-trust-best")
                v = verdicts.get(m) if metric == "sanity" else None
                if v is not None:
                    text += f"  {v.label}"
                    extra.append("nbx-trust-pass" if v.passed else "nbx-trust-fail")
                cells.append(label(text, *extra))
        for c in cells:
            if {"nbx-trust-header", "nbx-trust-best"} & set(c._dom_classes):
                c.style.font_weight = "bold"
        self.grid.layout.grid_template_columns = f"auto repeat({len(metrics)}, minmax(0, auto))"
        replace_children(self.grid, cells)
        lines: list[ipywidgets.Label] = []
        for metric in metrics:
            r = rankings[metric]
            lines.append(label(r.sentence, "nbx-trust-better"))
            lines += [label(f"{r.label}, {m}: n/a, {why}", "nbx-trust-skipped") for m, why in r.skipped.items()]
        lines += [label(f"note: {n}", "nbx-trust-skipped") for n in notes]
        if n_samples > 1:
            lines.append(label(f"#: the rank by that metric; the mean over {n_samples} samples ± their standard "
                               "deviation", "nbx-trust-skipped"))
        replace_children(self.notes, lines)
