"""IGPathView: how Integrated Gradients reaches its answer, for one sample of a torch model.

An alpha slider walks the straight path from the baseline to the input, in the browser with no
kernel round trip (every alpha's arrays travel once; :mod:`nbexplain.widgets.teaching.ig_path_wire` keeps
them within a wire budget and says what it cut): the interpolated input at alpha, the gradient
there, the attribution accumulated up to alpha (one colour scale across alphas), and the model
output along the path with the integration rule's points drawn under it, sized by weight. A
second chart shows the completeness error ``|sum(attr) - (f(x) - f(b))|`` against the number of
steps (2 to 256) for every rule. Tables get bars per feature instead of maps.

The baseline, rule and steps pickers recompute in Python (``baseline``, ``rule``, ``steps``; the
pickers are greyed without a kernel); ``alpha`` (snapped to the grid) and ``baseline`` come back
to Python. The numbers come from :func:`nbexplain.explainers.teaching.ig_path.ig_path` and
:func:`~nbexplain.explainers.teaching.ig_path.completeness_curve` (no widgets).

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.Tanh(), torch.nn.Flatten(),
    ...                             torch.nn.Linear(4 * 8 * 8, 3))
    >>> view = IGPathView(model, torch.rand(1, 8, 8), baseline="blur", steps=16, convergence=False)
    >>> view.kind, view.frames.shape, view.gradients.shape, view.baseline_options[:3]
    ('image', (33, 8, 8), (33, 8, 8), ['black', 'blur', 'uniform'])
    >>> view.alpha = 0.5; view.at_alpha()["alpha"]
    0.5
    >>> view.close()
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from ...codec import PRECISIONS, encode_array
from ...explainers.gradients.integrated_gradients import RULES
from ...explainers.teaching.ig_path import (
    BASELINES,
    CONVERGENCE_STEPS,
    completeness_curve,
    convergence_points,
    ig_path,
)
from .._base import NbxWidget
from .._traits import ArrayTrait, to_numpy
from .ig_path_wire import MAX_BYTES, MAX_MAP, pack_path

__all__ = ["CONVERGENCE_AUTO_SECONDS", "IGPathView"]

#: ``convergence="auto"`` computes the completeness chart at once when it should take less than this.
CONVERGENCE_AUTO_SECONDS = 3.0


def _float32_json(value: np.ndarray | None, widget: Any) -> dict[str, Any] | None:
    return None if value is None else encode_array(value, precision="float32")


class _Exact(ArrayTrait):
    """A small array always sent as float32 (alphas, outputs, the rule's points)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metadata.update(to_json=_float32_json)


class _Frames(ArrayTrait):
    """8-bit input frames ``(G, h, w)`` or ``(G, h, w, 3)``, sent as raw bytes."""

    def validate(self, obj: Any, value: Any) -> np.ndarray | None:
        if value is None:
            return super().validate(obj, value)
        a = to_numpy(value)
        if a.dtype != np.uint8 or a.ndim not in (3, 4) or (a.ndim == 4 and a.shape[3] != 3):
            raise traitlets.TraitError(f"'frames' of {type(obj).__name__} must be uint8 (G, h, w) or (G, h, w, 3), "
                                       f"got {a.dtype} of shape {list(a.shape)}")
        a = np.array(a, copy=True)
        a.flags.writeable = False
        return a


class IGPathView(NbxWidget):
    """The path of Integrated Gradients for one sample ``x`` (no batch axis) of a torch ``model``.

    Parameters:
        model, x: a ``torch.nn.Module`` and one sample, images ``(C, H, W)`` / ``(H, W)`` or a table row ``(F,)``.
        baseline: ``"black"``, ``"blur"``, ``"uniform"``, ``"gaussian"``, ``"mean"`` / ``"data"`` (need
            ``data``), a tensor shaped like ``x`` (``"given"``; several ``(m, *x.shape)`` are averaged), or
            a list of these (averaged, as expected gradients averages its baselines).
        rule, steps: the integration rule (``"gausslegendre"`` or a Riemann rule) and its number of points.
        target: the explained output (None: the predicted class); data: training inputs ``(N, *x.shape)``.
        n_alphas: grid points of the slider (2..129); convergence: ``"auto"`` (compute the completeness
            chart now when it takes under :data:`CONVERGENCE_AUTO_SECONDS`, else its "compute" button
            does), True or False; convergence_steps: its step counts.
        max_bytes, max_map: the wire budget and the largest map side sent (see
            :mod:`~nbexplain.widgets.teaching.ig_path_wire`); class_names, feature_names: labels (text only);
            n_data, seed, sigma: the ``"data"`` rows, the noise draws, the blur; internal_batch_size,
            dtype, preprocess: the gradient engine's.

    Attributes: ``path`` (the full-resolution :class:`~nbexplain.explainers.teaching.ig_path.IGPath`),
    ``convergence_result`` (:class:`~nbexplain.explainers.teaching.ig_path.IGConvergence` or None), and
    :meth:`at_alpha` (the arrays at the alpha the student picked).
    """

    _view = traitlets.Unicode("ig_path").tag(sync=True)
    kind = traitlets.Enum(("image", "table"), "image", help='str: "image" (maps) or "table" (bars).').tag(sync=True)
    alphas = _Exact(ndims=(1,), help="array (G,): the grid alphas the slider walks, 0 to 1.").tag(sync=True)
    frames = _Frames(ndims=(3, 4), allow_none=True, help="uint8 (G, h, w[, 3]) or None: the input at each alpha "
                     "(images).").tag(sync=True)
    inputs = ArrayTrait(ndims=(2,), allow_none=True, help="array (G, F) or None: the input at each alpha "
                        "(tables).").tag(sync=True)
    gradients = ArrayTrait(ndims=(2, 3), help="array (G, h, w) or (G, F): the gradient at each alpha (channels "
                           "summed).").tag(sync=True)
    accumulated = ArrayTrait(ndims=(2, 3), help="array (G, h, w) or (G, F): the attribution accumulated up to "
                             "each alpha.").tag(sync=True)
    accumulated_sum = _Exact(ndims=(1,), help="array (G,): the sum of the accumulated attribution.").tag(sync=True)
    outputs = _Exact(ndims=(1,), help="array (G,): the explained output at each alpha.").tag(sync=True)
    points = _Exact(ndims=(1,), help="array (S,): the rule's points.").tag(sync=True)
    weights = _Exact(ndims=(1,), help="array (S,): the rule's weights.").tag(sync=True)
    point_outputs = _Exact(ndims=(1,), help="array (S,): the output at the rule's points.").tag(sync=True)
    fx = traitlets.Float(0.0, help="float: the explained output at x.").tag(sync=True)
    fb = traitlets.Float(0.0, help="float: the explained output at the baseline (mean over baselines).").tag(sync=True)
    delta = traitlets.Float(0.0, help="float: sum(attribution) - (fx - fb).").tag(sync=True)
    convergence = _Exact(ndims=(2,), allow_none=True, help="array (rules, steps) or None: |completeness error|.").tag(
        sync=True)
    convergence_rules = traitlets.List(traitlets.Unicode(), help="list[str]: the chart's rules.").tag(sync=True)
    convergence_steps = traitlets.List(traitlets.Int(), help="list[int]: the chart's step counts.").tag(sync=True)
    convergence_seconds = traitlets.Float(float("nan"), help="float: estimated seconds for the chart.").tag(sync=True)
    alpha = traitlets.Float(1.0, help="float, default 1.0: the alpha shown (snapped to the grid); set in the "
                            "browser by the slider and saved back.").tag(sync=True)
    baseline = traitlets.Unicode("black", help="str: the baseline shown, one of baseline_options.").tag(sync=True)
    baseline_options = traitlets.List(traitlets.Unicode(), help="list[str]: the baselines to pick from.").tag(sync=True)
    baseline_labels = traitlets.List(traitlets.Unicode(), help="list[str]: their labels.").tag(sync=True)
    rule = traitlets.Enum(RULES, "gausslegendre", help="str: the integration rule.").tag(sync=True)
    rules = traitlets.List(traitlets.Unicode(), list(RULES), help="list[str]: the rules to pick from.").tag(sync=True)
    steps = traitlets.Int(32, min=1, help="int: the rule's number of points.").tag(sync=True)
    steps_options = traitlets.List(traitlets.Int(), help="list[int]: step counts to pick from.").tag(sync=True)
    gradient_scale = traitlets.Enum(("alpha", "path"), "alpha", help='str, default "alpha": the gradient map\'s '
                                    'colour scale, per alpha or one for the whole path.').tag(sync=True)
    feature_names = traitlets.List(traitlets.Unicode(), help="list[str]: a table's feature names (text).").tag(sync=True)
    output_label = traitlets.Unicode("output", help="str: what the explained output is (text).").tag(sync=True)
    note = traitlets.Unicode("", help='str: what was cut to fit the wire budget; "" = nothing.').tag(sync=True)
    width = traitlets.Int(160, min=16, max=2048, help="int, default 160: CSS pixels of each map.").tag(sync=True)
    precision = traitlets.Enum(PRECISIONS, "float16", help='str, default "float16": wire encoding of the maps.')

    _extra_kwargs = ("model", "x", "target", "data", "n_alphas", "convergence", "max_bytes", "max_map",
                     "class_names", "n_data", "seed", "sigma", "internal_batch_size", "dtype", "preprocess")

    def __init__(self, model: Any, x: Any, baseline: Any = "black", rule: str = "gausslegendre", steps: int = 32,
                 target: Any = None, data: Any = None, *, n_alphas: int = 33, convergence: bool | str = "auto",
                 convergence_steps: Any = CONVERGENCE_STEPS, max_bytes: int = MAX_BYTES, max_map: int = MAX_MAP,
                 feature_names: Any = None, class_names: Any = None, n_data: int = 16, seed: int = 0,
                 sigma: float | None = None, internal_batch_size: int | str = "auto", dtype: Any = None,
                 preprocess: Any = None, **kwargs: Any) -> None:
        from ...explainers.gradients._engine import riemann_or_gauss
        from ...validate import check_int

        self._check_kwargs(kwargs)
        riemann_or_gauss(rule, steps)  # names the known rules and a bad step count
        if convergence not in (True, False, "auto"):
            raise ValueError(f"convergence must be True, False or 'auto', got {convergence!r}")
        check_int(n_alphas, "n_alphas", min=2, max=129)
        check_int(max_bytes, "max_bytes", min=1)
        check_int(max_map, "max_map", min=1)
        names = [str(f) for f in feature_names] if feature_names is not None else []
        n_features = np.size(to_numpy(x))
        if names and np.ndim(to_numpy(x)) == 1 and len(names) != n_features:
            raise ValueError(f"got {len(names)} feature_names for {n_features} features; pass one name per feature")
        self.model, self._data, self._target, self._policy = model, data, target, convergence
        self._options = {"n_data": n_data, "seed": seed, "sigma": sigma, "internal_batch_size": internal_batch_size,
                         "dtype": dtype, "preprocess": preprocess}
        self._x, self._n_alphas, self._budget = x, n_alphas, (max_bytes, max_map)
        self._class_names = None if class_names is None else [str(c) for c in class_names]
        self.convergence_result: Any = None
        self._busy_update = False
        self._specs = self._baseline_specs(x, baseline, data)
        chosen = next(iter(self._specs)) if not isinstance(baseline, str) else baseline
        steps_list = [check_int(n, "convergence_steps", min=2) for n in convergence_steps]
        # computed before the widget exists: a bad input raises here and leaves no widget behind
        traits = self._path_traits(chosen, rule, steps, steps_list)
        super().__init__(rule=rule, steps=steps, baseline=chosen, baseline_options=list(self._specs),
                         baseline_labels=[self._label(n) for n in self._specs], feature_names=names,
                         steps_options=sorted({*CONVERGENCE_STEPS, int(steps)}), convergence_steps=steps_list,
                         convergence_rules=list(RULES), **traits, **kwargs)
        if convergence is True or (convergence == "auto" and self.convergence_seconds < CONVERGENCE_AUTO_SECONDS):
            self.compute_convergence()
        self.observe(self._on_choice, names=["baseline", "rule", "steps"])
        self.on_event("convergence", lambda _msg: self.compute_convergence())

    # -- baselines ----------------------------------------------------------------------------------
    def _baseline_specs(self, x: Any, baseline: Any, data: Any) -> dict[str, Any]:
        """Picker name -> the ``baseline`` argument of :func:`ig_path`, the user's own choice first when custom."""
        table = np.ndim(to_numpy(x)) == 1
        names = [n for n in BASELINES if not (table and n == "blur") and (data is not None or n not in ("mean", "data"))]
        specs: dict[str, Any] = {}
        if not isinstance(baseline, str) and baseline is not None:
            parts = baseline if isinstance(baseline, (list, tuple)) and any(
                isinstance(b, str) or hasattr(b, "shape") for b in baseline) else [baseline]
            label = "+".join(b if isinstance(b, str) else "given" for b in parts)
            specs[label] = baseline
        elif baseline is not None and baseline not in names:
            raise ValueError(f"unknown baseline {baseline!r}; use one of {names}, a tensor shaped like x, or a list "
                             "of them (averaged)" + ("" if data is not None else "; 'mean' and 'data' need data="))
        specs.update({n: n for n in names})
        return specs

    @staticmethod
    def _label(name: str) -> str:
        if name in BASELINES:
            return BASELINES[name]
        return "given baseline" if name == "given" else f"average of {name.replace('+', ' + ')}"

    # -- computing ----------------------------------------------------------------------------------
    def _path_traits(self, baseline: str, rule: str, steps: int, convergence_steps: list[int],
                     alpha: float = 1.0) -> dict[str, Any]:
        """Compute the path (kept as :attr:`path`) and return the traits that draw it."""
        opts = self._options
        path = ig_path(self.model, self._x, self._specs[baseline], rule=rule, steps=steps, alphas=self._n_alphas,
                       target=self._target, data=self._data, n_data=opts["n_data"], seed=opts["seed"],
                       sigma=opts["sigma"], internal_batch_size=opts["internal_batch_size"], dtype=opts["dtype"],
                       preprocess=opts["preprocess"])
        packed = pack_path(path, max_bytes=self._budget[0], max_map=self._budget[1])
        packed.pop("indices")
        # the chart's pass costs what this one did per point (the same model and input), times its points
        unique = len(convergence_points(RULES, convergence_steps)[0])
        estimate = path.seconds * unique / (len(path.alphas) + len(path.points))
        label = "output" if path.target is None else f"output {path.target}"
        if self._class_names is not None and path.target is not None and path.target < len(self._class_names):
            label = f"output '{self._class_names[path.target]}'"
        self.path = path
        alpha = float(packed["alphas"][int(np.argmin(np.abs(packed["alphas"] - alpha)))])
        return {**packed, "points": path.points, "weights": path.weights, "point_outputs": path.point_outputs,
                "fx": path.fx, "fb": path.fb, "delta": path.delta, "output_label": label,
                "convergence_seconds": estimate, "alpha": alpha}

    def _compute_path(self) -> None:
        traits = self._path_traits(self.baseline, self.rule, self.steps, list(self.convergence_steps), self.alpha)
        with self.hold_sync(), self.hold_trait_notifications():
            for name, value in traits.items():
                setattr(self, name, value)

    def compute_convergence(self) -> Any:
        """Compute the completeness-error chart now (the view's "compute" button calls this); returns it.

        Example:
            >>> import torch
            >>> view = IGPathView(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh()), torch.ones(3),
            ...                   convergence=False)
            >>> view.convergence is None, view.compute_convergence().errors.shape, view.convergence.shape
            (True, (5, 8), (5, 8))
            >>> view.close()
        """
        with self._computing("computing the completeness errors"):
            opts = self._options
            result = completeness_curve(self.model, self._x, self._specs[self.baseline], rules=RULES,
                                        steps=self.convergence_steps, target=self._target, data=self._data,
                                        n_data=opts["n_data"], seed=opts["seed"], sigma=opts["sigma"],
                                        internal_batch_size=opts["internal_batch_size"], dtype=opts["dtype"],
                                        preprocess=opts["preprocess"])
            self.convergence_result = result
            self.convergence = result.errors
        return self.convergence_result

    def _on_choice(self, change: Any) -> None:
        """A picker changed (browser or Python): recompute; on failure show the error and go back."""
        if self._busy_update:
            return
        failed = False
        with self._computing("the previous choice is shown"):
            try:
                self._compute_path()
            except Exception:
                failed = True
                raise
        if failed:
            self._busy_update = True
            try:
                setattr(self, change["name"], change["old"])
            finally:
                self._busy_update = False
            return
        if change["name"] == "baseline":
            self.convergence_result = None
            self.convergence = None
            if self._policy is True or (self._policy == "auto" and self.convergence_seconds < CONVERGENCE_AUTO_SECONDS):
                self.compute_convergence()

    @traitlets.validate("alpha")
    def _snap_alpha(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not 0.0 <= value <= 1.0:
            raise traitlets.TraitError(f"alpha must lie in [0, 1], got {value}")
        grid = self.alphas
        return float(grid[int(np.argmin(np.abs(grid - value)))]) if grid is not None and len(grid) else value

    @traitlets.validate("baseline")
    def _valid_baseline(self, proposal: Any) -> str:
        value = str(proposal["value"])
        if value not in self._specs:
            raise traitlets.TraitError(f"baseline must be one of {list(self._specs)}, got {value!r}")
        return value

    # -- what the student picked ---------------------------------------------------------------------
    def at_alpha(self) -> dict[str, Any]:
        """The path at the alpha shown, at full resolution: ``alpha``, ``input``, ``gradient``,
        ``accumulated`` (the attribution up to alpha), ``output`` and ``baseline``.

        Example:
            >>> import torch
            >>> view = IGPathView(torch.nn.Linear(3, 2), torch.ones(3), n_alphas=5, convergence=False)
            >>> view.alpha = 0.3                      # snapped to the grid 0, 0.25, ..., 1
            >>> at = view.at_alpha(); at["alpha"], at["input"].tolist()
            (0.25, [0.25, 0.25, 0.25])
            >>> view.close()
        """
        i = int(np.argmin(np.abs(self.path.alphas - self.alpha)))
        p = self.path
        return {"alpha": float(p.alphas[i]), "input": p.inputs[i].copy(), "gradient": p.gradients[i].copy(),
                "accumulated": p.accumulated[i].copy(), "output": float(p.outputs[i]), "baseline": self.baseline}
