"""Partial dependence (PDP) and individual conditional expectation (ICE), 1-D and 2-D.

For each grid value the chosen feature(s) are set to that value in every row and the model output
is averaged (PDP) or kept per row (ICE). All grid points x rows go through the model in a few
large chunked calls.

Example:
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(50, 2))
    >>> pd = partial_dependence(lambda A: A[:, 0] ** 2 + A[:, 1], X, 0, grid_resolution=5)
    >>> pd.grid[0].shape, pd.average.shape, pd.ice.shape
    ((5,), (5,), (50, 5))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbexplain.explainers.global_methods._tabular_inputs import (
    CHUNK_VALUES,
    check_names,
    default_output,
    frame_table,
    predict_chunked,
    resolve_feature,
    wrap_predict,
)
from nbexplain.guard import guarded
from nbexplain.validate import column_names

KINDS = ("average", "individual", "both")
GRIDS = ("quantile", "uniform")
MAX_ICE_VALUES = 20_000_000  # above this a 2-D ICE array is not kept (the average still is)


@dataclass
class PartialDependence:
    """A PDP/ICE result.

    ``grid``: one array of values per feature; ``average``: the mean output on the grid, shape
    ``(len(grid[0]),)`` or ``(len(grid[0]), len(grid[1]))``; ``ice``: ``(n_ice, *grid shape)`` or
    ``None``; ``ice_rows``: the rows of ``X`` the ICE lines belong to.

    Example:
        >>> import numpy as np
        >>> r = PartialDependence(["a"], [np.array([0.0, 1.0])], np.array([1.0, 2.0]), None, 0, [False])
        >>> r.to_dict()["average"]
        [1.0, 2.0]
    """

    feature_names: list[str]
    grid: list[np.ndarray]
    average: np.ndarray
    ice: np.ndarray | None
    target: int
    categorical: list[bool]
    features: list[int] = field(default_factory=list)
    ice_rows: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    #: Per feature: the labels of the grid values (a DataFrame's categories, in grid order), or None.
    grid_labels: list[list[str] | None] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and scalars (JSON-ready).

        Example:
            >>> import numpy as np
            >>> PartialDependence(["a"], [np.zeros(1)], np.zeros(1), None, 0, [True]).to_dict()["ice"] is None
            True
        """
        return {
            "feature_names": list(self.feature_names),
            "features": list(self.features),
            "grid": [g.tolist() for g in self.grid],
            "average": self.average.tolist(),
            "ice": None if self.ice is None else self.ice.tolist(),
            "ice_rows": None if self.ice_rows is None else self.ice_rows.tolist(),
            "target": self.target,
            "categorical": list(self.categorical),
            "notes": list(self.notes),
            "grid_labels": [None if g is None else list(g) for g in self.grid_labels],
        }


def _grid(col: np.ndarray, name: str, categorical: bool, resolution: int, grid: str,
          percentiles: tuple[float, float]) -> np.ndarray:
    col = col[~np.isnan(col)]  # missing values (a DataFrame's NaN) are no grid point
    if col.size == 0:
        raise ValueError(f"feature {name!r} holds only missing values; pick another feature")
    uniq = np.unique(col)
    if len(uniq) < 2:
        raise ValueError(f"feature {name!r} is constant (every row is {uniq[0]!r}); "
                         "its partial dependence is a single point, pick another feature")
    if categorical:
        return uniq
    lo, hi = np.quantile(col, percentiles)
    if lo == hi:
        lo, hi = uniq[0], uniq[-1]
    if grid == "uniform":
        return np.linspace(lo, hi, resolution)
    return np.unique(np.quantile(col, np.linspace(percentiles[0], percentiles[1], resolution)))


@guarded
def partial_dependence(
    model_or_predict: Any,
    X: Any,
    features: Any,
    *,
    grid_resolution: int = 20,
    grid: str = "quantile",
    percentiles: tuple[float, float] = (0.05, 0.95),
    categorical: Any = None,
    target: int | None = None,
    kind: str = "both",
    sample: int | None = None,
    seed: int = 0,
    feature_names: Sequence[str] | None = None,
    encoding: Any = None,
) -> PartialDependence:
    """PDP and ICE of the model output for one feature (1-D) or a pair (2-D).

    ``features``: an index or name, or a pair of them. ``grid``: ``"quantile"`` (values at evenly
    spaced percentiles between ``percentiles``) or ``"uniform"`` (evenly spaced between them).
    ``categorical``: ``None`` (auto: a feature with at most 10 unique values gets a grid of its
    unique values), a bool, or one bool per feature. ``target``: the output column (default: the
    only one, the positive class of two, else the largest mean output). ``kind``: ``"average"``,
    ``"individual"`` or ``"both"``. ``sample``: keep ICE lines for this many rows (seeded by
    ``seed``); the average always uses every row. A 2-D ICE array with more than 20 million values
    is not kept (``ice=None`` and a note).

    A pandas DataFrame ``X`` (:mod:`nbexplain.frames`) is varied in its own columns and the model
    is called with the DataFrame: a string, categorical or bool column is categorical, its grid
    is its categories found in ``X`` (codes in ``grid``, their labels in ``grid_labels``, the
    ``"(missing)"`` category included). Missing values (NaN in a numeric column) stay in the rows
    (the model takes them) and are no grid point. ``encoding`` codes arrays as a DataFrame's.

    Example:
        >>> import numpy as np
        >>> X = np.c_[np.random.default_rng(0).normal(size=30), np.arange(30) % 3]
        >>> pd = partial_dependence(lambda A: A.sum(axis=1), X, (0, 1), grid_resolution=4)
        >>> pd.average.shape, pd.categorical, pd.grid[1].tolist()
        ((4, 3), [False, True], [0.0, 1.0, 2.0])
    """
    Xa, enc = frame_table(X, "X", encoding)
    n, n_feat = Xa.shape
    names = check_names(feature_names if feature_names is not None else enc.names if enc else column_names(X), n_feat)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if grid not in GRIDS:
        raise ValueError(f"grid must be one of {GRIDS}, got {grid!r}")
    if not isinstance(grid_resolution, (int, np.integer)) or grid_resolution < 2:
        raise ValueError(f"grid_resolution must be an int >= 2, got {grid_resolution!r}")
    p0, p1 = (float(p) for p in percentiles)
    if not 0.0 <= p0 < p1 <= 1.0:
        raise ValueError(f"percentiles must be (low, high) with 0 <= low < high <= 1, got {percentiles!r}")
    feats = list(features) if isinstance(features, (list, tuple)) else [features]
    if len(feats) not in (1, 2):
        raise ValueError(f"features must be one feature or a pair, got {len(feats)}: {features!r}")
    idx = [resolve_feature(ft, names) for ft in feats]
    if len(idx) == 2 and idx[0] == idx[1]:
        raise ValueError(f"a 2-D partial dependence needs two different features, got {names[idx[0]]!r} twice")
    coded = set(enc.categorical_indices) if enc is not None else set()
    if categorical is None:
        cats = [j in coded or len(np.unique(Xa[:, j])) <= 10 for j in idx]
    elif isinstance(categorical, (bool, np.bool_)):
        cats = [bool(categorical)] * len(idx)
    else:
        cats = [bool(c) for c in categorical]
        if len(cats) != len(idx):
            raise ValueError(f"categorical has {len(cats)} flags for {len(idx)} features")
    for j, c in zip(idx, cats, strict=True):
        if j in coded and not c:
            raise ValueError(f"feature {names[j]!r} is categorical (its values are categories, not numbers); "
                             "pass categorical=True (or None) for it")
    grids = [_grid(Xa[:, j], names[j], c, int(grid_resolution), grid, (p0, p1)) for j, c in zip(idx, cats, strict=True)]
    shape = tuple(len(g) for g in grids)
    points = np.stack(np.meshgrid(*grids, indexing="ij"), axis=-1).reshape(-1, len(idx))

    labels = [[enc.label_of(j, v) for v in g] if j in coded else None for j, g in zip(idx, grids, strict=True)]
    f = wrap_predict(model_or_predict, n_feat, enc)
    per_call = max(1, CHUNK_VALUES // (n * n_feat))  # grid points per model call
    outs = []
    for s in range(0, len(points), per_call):
        stacked = np.repeat(Xa[None], len(points[s:s + per_call]), axis=0)  # (p, n, F)
        stacked[:, :, idx] = points[s:s + per_call, None, :]
        outs.append(predict_chunked(f, stacked.reshape(-1, n_feat)))
    out = np.concatenate(outs, axis=0)
    col = default_output(target, out)
    vals = out[:, col].reshape(len(points), n).T.reshape(n, *shape)  # (n, *grid shape)

    notes: list[str] = []
    ice_rows: np.ndarray | None = None
    ice: np.ndarray | None = None
    if kind != "average":
        ice_rows = np.arange(n)
        if sample is not None:
            if not isinstance(sample, (int, np.integer)) or sample < 1:
                raise ValueError(f"sample must be a positive int (number of ICE rows), got {sample!r}")
            if sample < n:
                ice_rows = np.sort(np.random.default_rng(seed).choice(n, size=int(sample), replace=False))
        if len(idx) == 2 and len(ice_rows) * len(points) > MAX_ICE_VALUES:
            notes.append(f"2-D ICE not kept: {len(ice_rows)} rows x {len(points)} grid cells is over "
                         f"{MAX_ICE_VALUES} values; pass sample= to keep fewer rows")
            ice_rows = None
        else:
            ice = vals[ice_rows]
    return PartialDependence(
        feature_names=[names[j] for j in idx], grid=grids,
        average=vals.mean(axis=0),
        ice=ice, target=col, categorical=cats, features=idx, ice_rows=ice_rows, notes=notes, grid_labels=labels,
    )
