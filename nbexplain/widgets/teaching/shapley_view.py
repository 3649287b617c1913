"""ShapleyView: how exact Shapley values are made from coalition values, and how KernelSHAP estimates them.

Two modes, one view (``_view = "shapley_lattice"``):

- ``"lattice"`` (up to 10 features or groups): every coalition ``S`` as a node, one row per size,
  coloured by its value ``v(S)`` around the base value ``v({})``; pick a feature and its edges
  ``S -> S + i`` show its marginal contributions, a table sums them with their Shapley weights
  into its Shapley value; a waterfall walks from the base value to the prediction (efficiency).
  The numbers come from :func:`nbexplain.explainers.teaching.shapley_lattice.coalition_lattice`.
- ``"convergence"`` (any number of players; the default above 10): KernelSHAP's estimate of each
  value as its coalition budget grows, with the band ``estimate +- z * std_error`` and the exact
  value where it is computable (:func:`nbexplain.explainers.teaching.shapley_convergence.shapley_convergence`).

What the student clicks comes back to Python: ``feature`` (a player index, -1 = none) and
``coalition`` (the members' indices, None = none); :meth:`selection` says it in names and numbers.

Example:
    >>> import numpy as np
    >>> f = lambda X: X[:, :1] * X[:, 1:2] + X[:, 2:3]                 # x0 * x1 + x2
    >>> view = ShapleyView(f, np.ones(3), np.zeros((4, 3)), feature_names=["a", "b", "c"])
    >>> view.mode, view.names, view.shapley.tolist(), view.base_value, view.prediction
    ('lattice', ['a', 'b', 'c'], [0.5, 0.5, 1.0], 0.0, 2.0)
    >>> view.feature, view.coalition = 0, [1]                           # what a click sets
    >>> s = view.selection(); s["feature"], s["coalition"], s["value"], s["contribution"]
    ('a', ['b'], 0.0, 1.0)
    >>> view.close()
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from ...explainers.teaching.shapley_convergence import ShapleyConvergence, shapley_convergence
from ...explainers.teaching.shapley_lattice import (
    MAX_LATTICE_PLAYERS,
    CoalitionLattice,
    LatticeTooLargeError,
    coalition_lattice,
    kernel_options,
    one_sample,
    players,
    shapley_weight,
)
from ...frames import is_frame
from ...models import to_numpy
from .._base import NbxWidget
from .._traits import ArrayTrait

__all__ = ["MODES", "ShapleyView"]

#: ``mode``: the lattice (<= 10 players) or KernelSHAP's convergence (any number).
MODES = ("auto", "lattice", "convergence")


def _details(x: Any, background: Any, groups: list[list[int]] | None, names: list[str]) -> list[str]:
    """One line per player: the sample's value of a feature, or a group's members."""
    row = one_sample(x)
    if is_frame(row):
        columns = [str(c) for c in row.columns]
        values = [row.iloc[0, j] for j in range(len(columns))]
    else:
        values = list(np.asarray(to_numpy(row))[0])
        columns = None
    def show(v: Any) -> str:
        return f"{float(v):.4g}" if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else str(v)
    if groups is None:
        return [f"x = {show(v)}" for v in values][: len(names)]
    label = columns or [f"feature {j}" for j in range(len(values))]
    return [f"{len(g)} feature{'s' if len(g) != 1 else ''}: " + ", ".join(f"{label[j]} = {show(values[j])}" for j in g)
            for g in groups]


class ShapleyView(NbxWidget):
    """Exact Shapley values on the coalition lattice (<= 10 players), or KernelSHAP's convergence.

    Parameters:
        model: a torch module, a fitted estimator or a callable ``X -> (n, k)`` (as
            :class:`~nbexplain.explainers.perturbation.kernel_shap.KernelShap` takes it).
        x: one sample, ``(F,)``, ``(1, F)`` or a one-row DataFrame.
        background: the rows that stand in for absent features (array or DataFrame).
        feature_names: one name per feature (or per group); groups: None (one player per feature),
            a list of feature lists (indices or names) or ``{group name: features}``.
        target: the output explained (None: the top one); class_names: labels (text only).
        mode: ``"auto"`` (the lattice up to 10 players, else the convergence), ``"lattice"`` or
            ``"convergence"``; budgets, max_budget, seed, level: the convergence run's (see
            :func:`~nbexplain.explainers.teaching.shapley_convergence.shapley_convergence`).
        width: CSS pixels of the lattice; options: KernelShap's ``output``, ``link``,
            ``background_size``, ``background_summary``, ``batch_size``, ``encoding``.

    Attributes: ``lattice`` (:class:`~nbexplain.explainers.teaching.shapley_lattice.CoalitionLattice` or
    None), ``convergence_result`` (:class:`~nbexplain.explainers.teaching.shapley_convergence.ShapleyConvergence`
    or None), and :meth:`selection` (what the student picked).

    Example:
        >>> import numpy as np
        >>> w = np.arange(1.0, 13.0)
        >>> view = ShapleyView(lambda X: (X @ w)[:, None], np.ones(12), np.zeros((3, 12)), budgets=[64, 256])
        >>> view.mode, view.estimates.shape, view.exact.tolist()[:3]       # 12 players: the convergence
        ('convergence', (2, 12), [1.0, 2.0, 3.0])
        >>> view.close()
    """

    _view = traitlets.Unicode("shapley_lattice").tag(sync=True)
    mode = traitlets.Enum(("lattice", "convergence"), "lattice",
                          help='str: "lattice" (every coalition) or "convergence" (KernelSHAP\'s estimates).').tag(sync=True)
    names = traitlets.List(traitlets.Unicode(), help="list[str]: one name per player (feature or group; text).").tag(
        sync=True)
    details = traitlets.List(traitlets.Unicode(), help="list[str]: per player, its value in x or a group's members "
                             "(text).").tag(sync=True)
    values = ArrayTrait(ndims=(1,), allow_none=True, help="array (2**M,) or None: v(S) - v({}) of every coalition "
                        "S (bit mask; lattice mode).").tag(sync=True)
    base_value = traitlets.Float(0.0, help="float: v({}), the expected output over the background.").tag(sync=True)
    prediction = traitlets.Float(0.0, help="float: v(all), the output explained.").tag(sync=True)
    shapley = ArrayTrait(ndims=(1,), help="array (M,): the Shapley values the waterfall sums (exact in the lattice; "
                         "in the convergence the exact ones, else the largest budget's estimate).").tag(sync=True)
    budgets = ArrayTrait(ndims=(1,), allow_none=True, help="array (K,) or None: the coalition budgets "
                         "(convergence).").tag(sync=True)
    estimates = ArrayTrait(ndims=(2,), allow_none=True, help="array (K, M) or None: KernelSHAP's estimate at each "
                           "budget.").tag(sync=True)
    std_errors = ArrayTrait(ndims=(2,), allow_none=True, help="array (K, M) or None: their standard errors "
                            "(NaN: none measured).").tag(sync=True)
    exact = ArrayTrait(ndims=(1,), allow_none=True, help="array (M,) or None: the exact values (M <= 16).").tag(
        sync=True)
    z = traitlets.Float(1.96, help="float: the band's half-width in standard errors.").tag(sync=True)
    level = traitlets.Float(0.95, help="float: the band's nominal coverage.").tag(sync=True)
    output_label = traitlets.Unicode("output", help="str: what v measures (text).").tag(sync=True)
    note = traitlets.Unicode("", help='str: a remark shown above the view; "" = none.').tag(sync=True)
    width = traitlets.Int(720, min=240, max=4096, help="int, default 720: CSS pixels of the lattice / chart.").tag(
        sync=True)
    feature = traitlets.Int(-1, help="int, default -1: the player picked (index into names), -1 = none; set by a "
                            "click in the browser and saved back.").tag(sync=True)
    coalition = traitlets.List(traitlets.Int(), allow_none=True, default_value=None,
                               help="list[int] or None: the members of the coalition clicked (lattice), None = "
                               "none; saved back.").tag(sync=True)

    _extra_kwargs = ("model", "x", "background", "feature_names", "groups", "target", "class_names", "budgets",
                     "max_budget", "seed", "level", "options")

    def __init__(self, model: Any, x: Any, background: Any, *, feature_names: Any = None, groups: Any = None,
                 target: Any = None, class_names: Any = None, mode: str = "auto", budgets: Any = None,
                 max_budget: int = 4096, seed: int = 0, level: float = 0.95, width: int = 720,
                 title: str = "", **options: Any) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}: 'lattice' draws every coalition (up to "
                             f"{MAX_LATTICE_PLAYERS} players), 'convergence' KernelSHAP's estimates")
        options = kernel_options(options, "ShapleyView")
        names = None if feature_names is None else [str(f) for f in feature_names]
        args = {"feature_names": names, "groups": groups, "target": target,
                "class_names": None if class_names is None else [str(c) for c in class_names]}
        self.lattice: CoalitionLattice | None = None
        self.convergence_result: ShapleyConvergence | None = None
        note = ""
        # computed before the widget exists: a bad input raises here and leaves no widget behind
        if mode in ("auto", "lattice"):
            try:
                self.lattice = coalition_lattice(model, x, background, **args, **options)
            except LatticeTooLargeError:
                if mode == "lattice":
                    raise
                note = (f"More than {MAX_LATTICE_PLAYERS} features or groups: the lattice (2**M coalitions) is too "
                        "large to draw, so this shows how KernelSHAP's estimate settles as its budget grows. "
                        "Group the features (groups=...) to see the lattice.")
        if self.lattice is not None:
            traits = self._lattice_traits(self.lattice)
        else:
            self.convergence_result = shapley_convergence(model, x, background, **args, budgets=budgets,
                                                          max_budget=max_budget, seed=seed, level=level, **options)
            traits = self._convergence_traits(self.convergence_result)
            note = " ".join(t for t in (note, self.convergence_result.note) if t)
        idx, _ = players(background, names, groups)
        traits["details"] = _details(x, background, idx, traits["names"])
        if len(traits["details"]) != len(traits["names"]):
            traits["details"] = [""] * len(traits["names"])
        super().__init__(note=note, width=width, title=title, **traits)

    # -- traits from the results ------------------------------------------------------------------
    @staticmethod
    def _lattice_traits(lat: CoalitionLattice) -> dict[str, Any]:
        # centred on the base value: float32 keeps the differences the view shows exact enough
        return {"mode": "lattice", "names": list(lat.names), "values": (lat.values - lat.base_value).astype(np.float32),
                "base_value": lat.base_value, "prediction": lat.prediction, "shapley": lat.shapley.astype(np.float32),
                "output_label": lat.output_label}

    @staticmethod
    def _convergence_traits(c: ShapleyConvergence) -> dict[str, Any]:
        shown = c.exact if c.exact is not None else c.estimates[-1]
        return {"mode": "convergence", "names": list(c.names), "values": None, "base_value": c.base_value,
                "prediction": c.prediction, "shapley": np.asarray(shown, dtype=np.float32),
                "budgets": c.budgets.astype(np.float32), "estimates": c.estimates.astype(np.float32),
                "std_errors": c.std_errors.astype(np.float32),
                "exact": None if c.exact is None else c.exact.astype(np.float32), "z": c.z, "level": c.level,
                "output_label": c.output_label}

    # -- the selection ----------------------------------------------------------------------------
    @traitlets.validate("feature")
    def _valid_feature(self, proposal: Any) -> int:
        f = int(proposal["value"])
        if not -1 <= f < len(self.names):
            raise traitlets.TraitError(f"feature must be -1 (none) or a player index 0..{len(self.names) - 1}, got {f}")
        return f

    @traitlets.validate("coalition")
    def _valid_coalition(self, proposal: Any) -> list[int] | None:
        members = proposal["value"]
        if members is None:
            return None
        m = len(self.names)
        if self.mode != "lattice":
            raise traitlets.TraitError("coalition is picked on the lattice; this view shows the convergence")
        bad = [i for i in members if not 0 <= int(i) < m]
        if bad:
            raise traitlets.TraitError(f"coalition members must be player indices 0..{m - 1}, got {bad}")
        return sorted({int(i) for i in members})

    def selection(self) -> dict[str, Any]:
        """What the student picked, in names and numbers.

        ``feature`` (a name or None) and ``shapley`` (its value); ``coalition`` (member names or
        None) and ``value`` (``v(S)``); with both: ``contribution`` (the feature's marginal
        contribution ``v(S with i) - v(S without i)``) and ``weight`` (its Shapley weight). In the
        convergence mode, for the feature: ``estimates`` and ``std_errors`` per budget.

        Example:
            >>> view = ShapleyView(lambda X: X @ [[1.0], [2.0]], np.ones(2), np.zeros((2, 2)))
            >>> view.coalition = [1]; view.selection()["value"]
            2.0
            >>> view.close()
        """
        f = self.feature
        out: dict[str, Any] = {"feature": self.names[f] if f >= 0 else None,
                               "shapley": float(self.shapley[f]) if f >= 0 else None,
                               "coalition": None if self.coalition is None else [self.names[i] for i in self.coalition]}
        if self.lattice is not None and self.coalition is not None:
            lat = self.lattice
            c = lat.index(self.coalition)
            out["value"] = float(lat.values[c])
            if f >= 0:
                without = c & ~(1 << f)
                out["contribution"] = float(lat.values[without | (1 << f)] - lat.values[without])
                out["weight"] = shapley_weight(bin(without).count("1"), lat.n_players)
        if self.convergence_result is not None and f >= 0:
            r = self.convergence_result
            out["budgets"] = [int(b) for b in r.budgets]
            out["estimates"] = r.estimates[:, f].copy()
            out["std_errors"] = r.std_errors[:, f].copy()
        return out
