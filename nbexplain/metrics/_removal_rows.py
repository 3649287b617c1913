"""Removal for tables (features replaced by background values) and texts (tokens dropped).

The table and text halves of the one removal mechanism (:mod:`nbexplain.metrics._removal` has
the images, the orderings and the base class; its docstring says why background rows are the
default for tables).

Example:
    >>> import numpy as np
    >>> TextRemoval([["a", "b"]], " ".join).masked_input(0, np.array([True, False]))
    'b'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nbexplain.metrics._removal import STREAM_BACKGROUND, Removal, sample_rng
from nbexplain.validate import InputError, ParameterError, check_finite

__all__ = ["BACKGROUND_MODES", "TableRemoval", "TextRemoval", "table_fill"]


# -- tables -----------------------------------------------------------------------------------------
class TableRemoval(Removal):
    """Features of rows ``(n, F)`` replaced by background values.

    ``fill``: the replacement rows ``(k, F)``; a job's output is the mean over them (see
    :func:`table_fill`).

    Example:
        >>> r = TableRemoval(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0], [10.0, 10.0]]))
        >>> r.build(np.array([0]), [np.array([False, True])]).tolist()
        [[1.0, 0.0], [1.0, 10.0]]
        >>> r.masked_input(0, np.array([False, True])).tolist()
        [1.0, 5.0]
    """

    modality = "table"

    def __init__(self, X: np.ndarray, fill: np.ndarray) -> None:
        self.x, self.fill = X, fill
        self.n, self.n_features = X.shape
        self.rows_per_job = len(fill)

    def n_units(self, i: int) -> int:
        return self.n_features

    def unit_scores(self, i: int, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, np.float64).reshape(self.n_features)

    def build(self, samples: np.ndarray, removed: Sequence[np.ndarray]) -> np.ndarray:
        k, F = self.fill.shape
        mask = np.stack([np.asarray(r, bool) for r in removed])[:, None, :]
        rows = np.where(mask, self.fill[None], self.x[samples][:, None, :])
        return rows.reshape(len(samples) * k, F)

    def masked_input(self, i: int, removed: np.ndarray) -> np.ndarray:
        """The row with each removed feature shown as the mean of the background values used."""
        return np.where(np.asarray(removed, bool), self.fill.mean(axis=0), self.x[i])

    def row_bytes(self) -> int:
        return int(self.x[0].nbytes)


BACKGROUND_MODES = ("rows", "mean")


def table_fill(n_features: int, *, background: Any, baseline: Any, background_mode: str, n_background: int,
               seed: int) -> np.ndarray:
    """The replacement rows ``(k, F)`` of a table metric, from ``background`` or ``baseline``.

    ``background`` ``(m, F)``: ``background_mode="rows"`` takes ``min(m, n_background)`` rows
    (drawn without replacement from ``sample_rng(seed, STREAM_BACKGROUND)`` when ``m`` is larger),
    ``"mean"`` one row of column means. Without a background, ``baseline`` (a number or a row
    ``(F,)``) is the one replacement row.

    Example:
        >>> table_fill(2, background=None, baseline=0.5, background_mode="rows", n_background=8, seed=0).tolist()
        [[0.5, 0.5]]
    """
    from nbexplain.explainers.global_methods._tabular_inputs import check_table

    if background_mode not in BACKGROUND_MODES:
        raise ParameterError(f"background_mode must be one of {BACKGROUND_MODES} ('rows': average the output over "
                             f"background rows; 'mean': put the column means in), got {background_mode!r}")
    if background is not None:
        if baseline is not None:
            raise InputError("pass background or baseline for a table, not both: removed features take the "
                             "background rows' values, or the one baseline row")
        bg = check_table(background, "background")
        if bg.shape[1] != n_features:
            raise InputError(f"background has {bg.shape[1]} features but the inputs have {n_features}; pass rows "
                             "with the same columns, in the same order")
        if background_mode == "mean":
            return bg.mean(axis=0, keepdims=True)
        if bg.shape[0] > n_background:
            pick = np.sort(sample_rng(seed, STREAM_BACKGROUND).choice(bg.shape[0], n_background, replace=False))
            bg = bg[pick]
        return bg
    if baseline is None:
        raise InputError("a table metric needs the values removed features take: pass background=X_train[:100] "
                         "(rows of the training data; recommended) or baseline=0.0 / a row of F values")
    row = np.asarray(baseline, dtype=np.float64)
    if row.ndim == 0:
        row = np.full(n_features, float(row))
    if row.shape != (n_features,):
        raise InputError(f"baseline has shape {row.shape} but the inputs have {n_features} features; pass a number or "
                         f"one row of {n_features} values")
    return check_finite(row[None], "baseline")


# -- text -------------------------------------------------------------------------------------------
class TextRemoval(Removal):
    """Tokens of texts dropped; texts rebuilt from the kept tokens by ``detokenize``.

    ``build`` returns token lists (the text model wrapper joins them, see
    :mod:`nbexplain.explainers.perturbation.token_shap`).

    Example:
        >>> r = TextRemoval([["not", "a", "bad", "film"]], " ".join)
        >>> r.build(np.array([0]), [np.array([True, False, True, False])]), r.masked_input(0, np.array([0, 0, 1, 0], bool))
        ([['a', 'film']], 'not a film')
    """

    modality = "text"

    def __init__(self, tokens: list[list[str]], detokenize: Callable[[Sequence[str]], str]) -> None:
        self.tokens, self.detokenize = tokens, detokenize
        self.n = len(tokens)

    def n_units(self, i: int) -> int:
        return len(self.tokens[i])

    def unit_scores(self, i: int, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, np.float64).reshape(self.n_units(i))

    def build(self, samples: np.ndarray, removed: Sequence[np.ndarray]) -> list[list[str]]:
        return [[t for t, r in zip(self.tokens[int(i)], rem, strict=True) if not r]
                for i, rem in zip(samples, removed, strict=True)]

    def masked_input(self, i: int, removed: np.ndarray) -> str:
        return self.detokenize(self.build(np.array([i]), [removed])[0])

    def row_bytes(self) -> int:
        return 64 * max((len(t) for t in self.tokens), default=1)
