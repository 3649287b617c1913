"""The coalition lattice behind exact Shapley values: every coalition's value, the marginal contributions
of a feature and their Shapley weights (no widgets; :class:`nbexplain.widgets.ShapleyView` draws it).

For ``M <= 10`` players (features, or groups of features) :func:`coalition_lattice` evaluates
**every** coalition ``S`` with KernelSHAP's own value function (:class:`~nbexplain.explainers.KernelShap`,
the expected output over the background rows with the absent features replaced, in one batched,
chunked model call) and keeps the ``2**M`` values. From them:

- feature ``i``'s marginal contribution to ``S`` (``i`` not in ``S``) is ``v(S + i) - v(S)``,
  weighted by the Shapley weight ``|S|! (M - |S| - 1)! / M!`` (:func:`shapley_weight`); the
  ``2**(M-1)`` weights sum to 1, each coalition size together weighs ``1/M``;
- the weighted sum is the Shapley value, the very number ``KernelShap(...).explain(x)`` returns
  (its exact mode: the same values, the same formula);
- efficiency: the values sum from the base value ``v({})`` to the prediction ``v(all)``.

Coalition ``c`` is the bit mask of its members (player ``i`` present iff bit ``i`` of ``c``), as
:func:`~nbexplain.explainers.perturbation._coalitions.all_coalitions` orders them. Above 10 players the lattice
is refused with :class:`LatticeTooLargeError`, which points to KernelSHAP's estimate as its
budget grows (:func:`nbexplain.explainers.teaching.shapley_convergence.shapley_convergence`).

Example:
    >>> import numpy as np
    >>> f = lambda X: X[:, :1] * X[:, 1:2] + X[:, 2:3]          # x0 * x1 + x2
    >>> lat = coalition_lattice(f, np.ones(3), np.zeros((4, 3)), feature_names=["a", "b", "c"])
    >>> lat.values.tolist()                                     # v({}), v({a}), v({b}), v({a, b}), ..., v(all)
    [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0]
    >>> lat.shapley.tolist(), lat.base_value, lat.prediction
    ([0.5, 0.5, 1.0], 0.0, 2.0)
    >>> m = lat.marginals(0); m.contributions.tolist(), m.weights.round(4).tolist()
    ([0.0, 1.0, 0.0, 1.0], [0.3333, 0.1667, 0.1667, 0.3333])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import comb, factorial
from typing import Any

import numpy as np

from nbexplain.explainers.global_methods.permutation import _groups as resolve_groups
from nbexplain.explainers.perturbation._coalitions import all_coalitions
from nbexplain.explainers.perturbation.kernel_shap import KernelShap
from nbexplain.explanation import Explanation
from nbexplain.frames import is_frame
from nbexplain.guard import guarded
from nbexplain.models import to_numpy
from nbexplain.validate import column_names

__all__ = [
    "KERNEL_OPTIONS",
    "MAX_LATTICE_PLAYERS",
    "CoalitionLattice",
    "LatticeTooLargeError",
    "Marginals",
    "coalition_lattice",
    "players",
    "shapley_weight",
]

#: The most players the lattice enumerates (2**10 = 1024 coalitions, 5120 edges).
MAX_LATTICE_PLAYERS = 10
#: KernelShap's options the lattice and the convergence run pass on (the value function's settings).
KERNEL_OPTIONS = ("output", "link", "background_size", "background_summary", "batch_size", "encoding")


class LatticeTooLargeError(ValueError):
    """More players than the lattice draws; the message offers groups and the convergence view."""


def shapley_weight(size: int, m: int) -> float:
    """The Shapley weight ``size! (m - size - 1)! / m!`` of a coalition of ``size`` players (of ``m``).

    Example:
        >>> [round(shapley_weight(s, 3), 4) for s in range(3)]
        [0.3333, 0.1667, 0.3333]
    """
    if not 0 <= size < m:
        raise ValueError(f"a coalition a player joins has 0..{m - 1} members, got size {size}")
    return factorial(size) * factorial(m - size - 1) / factorial(m)


def players(background: Any, feature_names: Sequence[str] | None, groups: Any) -> tuple[list[list[int]] | None,
                                                                                          list[str] | None]:
    """KernelShap's ``groups`` (index lists) and one name per player, from names or indices.

    ``groups``: None (one player per feature), a list of groups (lists of column indices or names,
    names from ``feature_names`` with one name per feature or a DataFrame's columns) or a dict
    ``{group name: members}``. Group names: the dict's keys, else ``feature_names`` when it has
    one name per group, else the members' names joined by ``+``.

    Example:
        >>> players(np.zeros((2, 3)), ["a", "b", "c"], [["a", "c"], [1]])
        ([[0, 2], [1]], ['a+c', 'b'])
        >>> players(np.zeros((2, 3)), None, {"first": [0], "rest": [1, 2]})
        ([[0], [1, 2]], ['first', 'rest'])
    """
    if groups is None:
        return None, None if feature_names is None else [str(f) for f in feature_names]
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__iter__"):
        raise TypeError(f"groups must be a list of feature lists (indices or names) or a dict {{name: features}}, "
                        f"got {type(groups).__name__} {groups!r}")
    columns = column_names(background)
    n_features = len(columns) if columns is not None else int(np.shape(to_numpy(background))[-1])
    names = [str(f) for f in feature_names] if feature_names is not None else None
    per_feature = names if names is not None and len(names) == n_features else columns
    cols, labels = resolve_groups(groups, per_feature or [f"feature {j}" for j in range(n_features)])
    if not isinstance(groups, Mapping):
        if names is not None and len(names) == len(cols) and names is not per_feature:
            labels = names
        elif per_feature is None:
            labels = [f"group {g}" for g in range(len(cols))]
    return [[int(j) for j in c] for c in cols], labels


def one_sample(x: Any) -> Any:
    """``x`` as a one-row table: ``(F,)`` or ``(1, F)`` arrays, or a one-row DataFrame; else a named error.

    Example:
        >>> one_sample(np.arange(3.0)).shape
        (1, 3)
    """
    if is_frame(x):
        if len(x) != 1:
            raise ValueError(f"x must be one sample; got a DataFrame of {len(x)} rows: pass df.iloc[[i]]")
        return x
    a = to_numpy(x)
    if a.ndim == 1:
        return a[None]
    if a.ndim == 2 and a.shape[0] == 1:
        return a
    raise ValueError(f"x must be one sample, shape (F,) or (1, F); got shape {tuple(a.shape)}: pass X[i]")


def output_label(e: Explanation, link: str) -> str:
    """What the explained value is: ``output 'cat'`` or ``output 1``, in log-odds with ``link='logit'``."""
    t = int(e.target[0])
    names = e.output_names
    label = f"output '{names[t]}'" if names is not None and t < len(names) else f"output {t}"
    return f"log-odds of {label}" if link == "logit" else label


@dataclass(frozen=True)
class Marginals:
    """Feature ``feature``'s ``2**(M-1)`` marginal contributions, one per coalition ``S`` without it.

    ``without``/``with_``: the coalitions ``S`` and ``S + i`` (bit masks); ``sizes``: ``|S|``;
    ``contributions``: ``v(S + i) - v(S)``; ``weights``: the Shapley weights (they sum to 1).
    """

    feature: int
    without: np.ndarray
    with_: np.ndarray
    sizes: np.ndarray
    contributions: np.ndarray
    weights: np.ndarray

    @property
    def value(self) -> float:
        """The weighted sum: the feature's Shapley value."""
        return float(self.contributions @ self.weights)


@dataclass(frozen=True)
class CoalitionLattice:
    """The value of every coalition of ``M`` players for one sample, and the Shapley values it gives.

    ``values`` ``(2**M,)``: ``v(S)`` by bit mask (``values[0]`` the base value, ``values[-1]`` the
    prediction); ``shapley`` ``(M,)``: KernelShap's exact values; ``names``: one per player;
    ``groups``: the feature indices of each player; ``explanation``: KernelShap's
    :class:`~nbexplain.explanation.Explanation` of the sample (one row); ``output_label``: what
    ``v`` measures.
    """

    names: list[str]
    groups: list[list[int]]
    values: np.ndarray
    shapley: np.ndarray
    output_label: str
    explanation: Explanation = field(repr=False)

    @property
    def n_players(self) -> int:
        """``M``."""
        return len(self.names)

    @property
    def base_value(self) -> float:
        """``v({})``: the expected output over the background."""
        return float(self.values[0])

    @property
    def prediction(self) -> float:
        """``v(all)``: the output explained."""
        return float(self.values[-1])

    @property
    def sizes(self) -> np.ndarray:
        """``|S|`` of every coalition ``(2**M,)``."""
        return all_coalitions(self.n_players).sum(axis=1)

    def members(self, c: int) -> list[int]:
        """The players in coalition ``c`` (a bit mask).

        Example:
            >>> _lattice().members(5)
            [0, 2]
        """
        if not 0 <= int(c) < 2 ** self.n_players:
            raise ValueError(f"coalition {c} is not a bit mask of {self.n_players} players (0..{2 ** self.n_players - 1})")
        return [i for i in range(self.n_players) if (int(c) >> i) & 1]

    def index(self, members: Sequence[int | str]) -> int:
        """The bit mask of the coalition of ``members`` (player indices or names).

        Example:
            >>> _lattice().index(["a", 2])
            5
        """
        c = 0
        for m in members:
            i = self.names.index(m) if isinstance(m, str) and m in self.names else m
            if isinstance(i, str) or not 0 <= int(i) < self.n_players:
                raise ValueError(f"unknown player {m!r}: use an index 0..{self.n_players - 1} or one of {self.names}")
            c |= 1 << int(i)
        return c

    def marginals(self, feature: int | str) -> Marginals:
        """Feature ``feature``'s marginal contributions to every coalition without it, with their weights.

        Example:
            >>> m = _lattice().marginals("c"); m.contributions.tolist(), m.value
            ([1.0, 1.0, 1.0, 1.0], 1.0)
        """
        i = self.index([feature]).bit_length() - 1
        m = self.n_players
        idx = np.arange(2 ** m, dtype=np.int64)
        without = idx[((idx >> i) & 1) == 0]
        sizes = self.sizes[without]
        weights = np.array([shapley_weight(s, m) for s in range(m)])[sizes]
        return Marginals(i, without, without | (1 << i), sizes, self.values[without | (1 << i)] - self.values[without],
                         weights)

    def weight_groups(self, feature: int | str) -> list[dict[str, float]]:
        """One row per coalition size ``s`` (0..M-1): ``size``, ``count`` (``C(M-1, s)`` coalitions),
        ``weight`` (each), ``mean`` (their mean contribution), ``weighted`` (weight x sum) and
        ``running`` (the sum so far; the last is the Shapley value).

        Example:
            >>> [(r["size"], r["count"], round(r["running"], 3)) for r in _lattice().weight_groups(0)]
            [(0, 1, 0.0), (1, 2, 0.167), (2, 1, 0.5)]
        """
        mg = self.marginals(feature)
        m, running, rows = self.n_players, 0.0, []
        for s in range(m):
            pick = mg.sizes == s
            weighted = float(mg.contributions[pick].sum() * shapley_weight(s, m))
            running += weighted
            rows.append({"size": s, "count": comb(m - 1, s), "weight": shapley_weight(s, m),
                         "mean": float(mg.contributions[pick].mean()), "weighted": weighted, "running": running})
        return rows

    def efficiency_gap(self) -> float:
        """``sum(shapley) - (prediction - base_value)``: 0 up to float rounding (efficiency).

        Example:
            >>> abs(_lattice().efficiency_gap()) < 1e-12
            True
        """
        return float(self.shapley.sum() - (self.prediction - self.base_value))


class _Recording(KernelShap):
    """KernelShap that keeps the coalition values its exact mode computes (its own value function)."""

    recorded: np.ndarray | None = None

    def _game(self, X: np.ndarray, Z: np.ndarray, targets: np.ndarray, k: int) -> np.ndarray:
        v = super()._game(X, Z, targets, k)
        self.recorded = v
        return v


def kernel_options(options: dict[str, Any], caller: str) -> dict[str, Any]:
    """The KernelShap options in ``options``; anything else is a ``TypeError`` naming the valid ones."""
    unknown = sorted(set(options) - set(KERNEL_OPTIONS))
    if unknown:
        raise TypeError(f"{caller}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; the "
                        f"value function's options are: {', '.join(KERNEL_OPTIONS)}")
    return dict(options)


def too_large(m: int, what: str = "the coalition lattice") -> LatticeTooLargeError:
    """The error for ``m`` players above :data:`MAX_LATTICE_PLAYERS`, with the two ways out."""
    return LatticeTooLargeError(
        f"{what} draws all 2**M coalitions and stops at M = {MAX_LATTICE_PLAYERS} players (1024 coalitions); "
        f"this has M = {m} features or groups. Group them into {MAX_LATTICE_PLAYERS} or fewer (groups=[[...], ...] or "
        f"{{name: [...]}}), or show KernelSHAP's estimate as its budget grows instead: "
        f"ShapleyView(..., mode='convergence') or "
        f"nbexplain.explainers.teaching.shapley_convergence.shapley_convergence(...)")


@guarded
def coalition_lattice(model: Any, x: Any, background: Any, *, feature_names: Sequence[str] | None = None,
                      groups: Any = None, target: Any = None, class_names: Sequence[str] | None = None,
                      **options: Any) -> CoalitionLattice:
    """Every coalition's value for one sample ``x`` and the exact Shapley values (see the module docstring).

    ``model``: a torch module, an estimator or a callable ``X -> (n, k)``, as KernelShap takes it;
    ``background``: the rows that stand in for absent features (array or DataFrame); ``groups``:
    see :func:`players`; ``target``: the output explained (default: the top one). ``options``:
    KernelShap's ``output``, ``link``, ``background_size``, ``background_summary``,
    ``batch_size``, ``encoding``. Raises :class:`LatticeTooLargeError` above 10 players.

    Example:
        >>> lat = coalition_lattice(lambda X: X @ [[1.0], [2.0]], np.ones(2), np.zeros((3, 2)))
        >>> lat.names, lat.values.tolist(), lat.output_label
        (['feature 0', 'feature 1'], [0.0, 1.0, 2.0, 3.0], 'output 0')
    """
    opts = kernel_options(options, "coalition_lattice")
    idx, names = players(background, feature_names, groups)
    ks = _Recording(model, background, feature_names=names, groups=idx, class_names=class_names,
                    exact_max_features=MAX_LATTICE_PLAYERS, **opts)
    m = ks.n_players
    if m > MAX_LATTICE_PLAYERS:
        raise too_large(m)
    if m < 2:
        raise ValueError(f"the lattice needs at least 2 features or groups, got {m}: with one player its Shapley "
                         "value is simply prediction - base value")
    e = ks.explain(one_sample(x), target=target)
    if ks.recorded is None or ks.recorded.shape != (1, 2 ** m - 2):
        raise RuntimeError("KernelShap did not evaluate every coalition (its exact mode); please report this")
    v = np.empty(2 ** m)
    v[0], v[-1] = float(e.base_values[0]), float(e.outputs[0])
    v[1:-1] = ks._linked(ks.recorded[0], "masked rows (their mean output)")
    labels = ks.feature_names or [f"feature {j}" for j in range(m)]
    return CoalitionLattice(list(labels), [[int(j) for j in g] for g in ks.groups], v, np.asarray(e.values[0], float),
                            output_label(e, ks.link), e)


def _lattice() -> CoalitionLattice:
    """The docstrings' example: ``x0 * x1 + x2`` at ones, a zero background."""
    return coalition_lattice(lambda X: X[:, :1] * X[:, 1:2] + X[:, 2:3], np.ones(3), np.zeros((2, 3)),
                             feature_names=["a", "b", "c"])
