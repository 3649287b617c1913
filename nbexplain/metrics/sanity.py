"""The sanity check of Adebayo et al. (2018): does the explanation change when the model's weights are random?

:func:`sanity_check` randomises a deep copy of the model (the user's model is never modified,
nor run) one layer at a time from the output layer down, re-explains the inputs with each
method after every step, and measures how similar each map still is to the map of the trained
model. A method whose map depends on what the model learned changes; one that mostly shows the
input (an edge detector, guided backprop in the paper) does not, and fails.

- **Layers**: the modules holding parameters, in reverse forward-execution order
  (:func:`nbexplain.metrics._randomise.layers_top_down`); ``layers=`` limits them (the top
  ``N``, or names). Each layer's own parameters are re-drawn from a seeded generator of ours with
  torch's default initialisation (:func:`nbexplain.metrics._randomise.default_init`), or by
  ``init(module, generator)``. **Cascading** (default): step ``i`` has layers ``0..i``
  randomised; **independent** (``cascading=False``): only layer ``i``, the others trained.
- **Targets** stay those of the trained model (``target=None``: its predicted class), so every
  step explains the same output.
- **Maps**: ``|attribution|`` summed over the channels of an image (a row for features or
  tokens); **measures** (:mod:`nbexplain.metrics._similarity`): ``"spearman"`` (rank correlation
  of the maps), ``"ssim"`` (Gaussian-window SSIM of the maps rescaled to [0, 1]; NaN for maps
  without two spatial axes), ``"top_k"`` (overlap of the ``top_k`` largest positions); the
  mean over the samples per step, and per sample.
- **Verdict** (:data:`THRESHOLD`): a method *fails* when the mean Spearman similarity of its maps
  to the trained model's is still ``>= threshold`` (default 0.5) once the top half of the
  layers (rounded up) is randomised (cascading), or, independent, for the median layer. At 0.5
  the ranking of the pixels still shares a quarter of its variance with the trained model's
  after half the network has been replaced by noise.

Compared with Quantus's ``MPRT`` (``ModelParameterRandomisation``): the same cascade from the top
and, for single-channel maps, the same Spearman rank correlation of ``|attribution|`` (Quantus
takes ``|a|`` of the full attribution; here the channels are summed first, the map the widget
draws). Differences: Quantus orders layers by registration (``named_modules`` with
``reset_parameters``), here by execution; Quantus re-initialises with ``reset_parameters()``
under ``torch.manual_seed(seed + 1)`` (the global generator; it also resets ``BatchNorm``'s
running statistics), here with our own generator (statistics kept); Quantus's targets are the
labels given, here the trained model's prediction unless ``target=``. With the same layer
order, the same re-initialisation (``init=``) and the same targets the numbers agree (tested).

The copy holds as much memory as the model (on its device). Hooks on the user's model are
copied with it (a pruning mask keeps working); a hook of the user's that records into a list of
theirs therefore also sees the copies' passes.

Known behaviour: methods that multiply by the input (Integrated Gradients with a zero baseline,
Gradient x Input) keep a high similarity on inputs with many exact zeros (MNIST-like digits in
[0, 1]: about half the pixels), because ``|x * g|`` is 0 there whatever the weights; Adebayo et
al. report the same. On inputs without structural zeros (scaled to [-1, 1]) they pass.

Example:
    >>> import torch
    >>> from nbexplain.explainers.gradients.saliency import Saliency
    >>> model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    >>> x = torch.randn(4, 6, generator=torch.Generator().manual_seed(0))
    >>> r = sanity_check(model, {"saliency": lambda m: Saliency(m)}, x, measures=("spearman", "top_k"))
    >>> r.layers, r.similarity["saliency"]["spearman"].shape, r.maps["saliency"].shape
    (['2', '0'], (2,), (3, 4, 1, 6))
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nbexplain.guard import guard
from nbexplain.metrics._randomise import (
    default_init,
    layer_generator,
    layers_top_down,
    restore,
    snapshot,
)
from nbexplain.metrics._sanity_inputs import (
    SanityCheckError,
    inputs_for,
    maps_of,
    named_methods,
    resolve_targets,
    select_layers,
)
from nbexplain.metrics._similarity import (
    MEASURES,
    MeasureError,
    check_measures,
    downsample,
    similarities,
)
from nbexplain.validate import check_int, check_number

if TYPE_CHECKING:
    from nbexplain.tasks import TaskControl

__all__ = ["MEASURES", "THRESHOLD", "SanityCheckError", "SanityResult", "SanityVerdict", "sanity_check"]

#: A method fails when its Spearman similarity is still at least this after the top half is randomised.
THRESHOLD = 0.5


@dataclass(frozen=True)
class SanityVerdict:
    """Pass or fail for one method, with the rule and a sentence a view can show.

    ``similarity`` is the mean Spearman similarity at the step the rule reads (``step``, an index
    into :attr:`SanityResult.layers`; -1 for the independent variant's median).

    Example:
        >>> v = SanityVerdict("saliency", True, 0.12, 1, "rule", "The map changes.")
        >>> v.passed, v.label
        (True, 'passed')
    """

    method: str
    passed: bool
    similarity: float
    step: int
    rule: str
    explanation: str

    @property
    def label(self) -> str:
        """``"passed"`` or ``"failed"``."""
        return "passed" if self.passed else "failed"


@dataclass
class SanityResult:
    """What :func:`sanity_check` measured.

    ``layers``: the randomised layers (dotted names), output layer first; ``layer_types`` their
    class names. Step ``i`` is the model with ``layers[:i + 1]`` randomised (cascading) or
    ``layers[i]`` alone. ``methods``: the method names; ``measures``: the measures computed.
    ``similarity[method][measure]``: float64 ``(len(layers),)``, the mean over the samples of the
    similarity to the trained model's map after each step; ``per_sample[method][measure]``:
    ``(len(layers), n)``. ``maps[method]``: float32 ``(len(layers) + 1, n_kept, h, w)``, the
    magnitude maps of the first ``n_kept`` samples, index 0 the trained model's, downsampled to
    at most ``max_map_size`` per side. ``verdicts[method]``: a :class:`SanityVerdict`.
    ``target``: the explained output index per sample (int64 ``(n,)``); ``threshold``, ``top_k``
    and ``seed``: the settings used; ``notes``: caveats (layers that never ran, a
    measure that does not apply).

    Example:
        >>> import numpy as np
        >>> r = SanityResult(layers=["fc", "conv"], layer_types=["Linear", "Conv2d"], methods=["m"],
        ...                  measures=("spearman",), cascading=True)
        >>> r.step_labels
        ['trained', 'fc', '+ conv']
    """

    layers: list[str]
    layer_types: list[str]
    methods: list[str]
    measures: tuple[str, ...]
    cascading: bool
    similarity: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    per_sample: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    verdicts: dict[str, SanityVerdict] = field(default_factory=dict)
    target: np.ndarray | None = None  # set by sanity_check
    threshold: float = THRESHOLD
    top_k: int | float = 0.1
    seed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def step_labels(self) -> list[str]:
        """A label per map in :attr:`maps` (``"trained"``, then each step's layer; ``"+ name"`` when cascading)."""
        more = "+ " if self.cascading else ""
        return ["trained"] + [name if i == 0 or not self.cascading else more + name
                              for i, name in enumerate(self.layers)]

    def passed(self) -> dict[str, bool]:
        """``{method: passed}``."""
        return {m: v.passed for m, v in self.verdicts.items()}


def _check_step(n_layers: int) -> int:
    """The step the cascading rule reads: the top half of the layers (rounded up) randomised."""
    return max(1, math.ceil(n_layers / 2)) - 1


def _verdict(method: str, spearman: np.ndarray, cascading: bool, threshold: float, layers: list[str]) -> SanityVerdict:
    n = len(layers)
    if cascading:
        step = _check_step(n)
        value = float(spearman[step])
        said = f"similarity {value:.2f} after the top {step + 1} of {n} layers are randomised"
        rule = (f"fails when the mean Spearman rank correlation of |attribution| with the trained model's map is still "
                f">= {threshold:g} after the top half of the layers (rounded up) is randomised, cascading from the "
                "output layer")
    else:
        step, value = -1, float(np.median(spearman))
        said = f"median similarity {value:.2f} over the {n} layers randomised one at a time"
        rule = (f"fails when the median, over the layers randomised one at a time, of the mean Spearman rank "
                f"correlation of |attribution| with the trained model's map is >= {threshold:g}")
    passed = bool(value < threshold)
    if passed:
        text = (f"The map changes when the model's weights are random ({said}), so it depends "
                "on what the model learned.")
    else:
        text = (f"The map barely changes when the model's weights are random ({said}), so it "
                "reflects the input more than the model, like an edge detector.")
    return SanityVerdict(method, passed, value, step, rule, text)


def sanity_check(model: Any, methods: Any, inputs: Any, target: Any = None, *, cascading: bool = True,
                 layers: Any = None, measures: Any = MEASURES, top_k: int | float = 0.1, seed: int = 0,
                 threshold: float = THRESHOLD, data: Any = None, init: Callable[[Any, Any], None] | None = None,
                 keep_maps: int = 4, max_map_size: int = 64, control: TaskControl | None = None) -> SanityResult:
    """Model-parameter randomisation test of each method on ``inputs`` (see the module docstring).

    ``model``: a ``torch.nn.Module`` with parameters (deep-copied; the copy is randomised).
    ``methods``: a registry name (:func:`nbexplain.explainers.registry.get_explainer`; ``data``
    goes to the names that take a background), a factory ``lambda model: Saliency(model)``, or a
    list or ``{name: ...}`` dict of them. ``target``: None (the trained model's prediction), an
    int or one per sample. ``layers``: None (all), the top ``N``, or names. ``measures``: any of
    :data:`MEASURES`; ``top_k``: an int or a fraction of the positions; ``seed`` seeds the
    re-initialisation; ``init(module, generator)`` replaces :func:`default_init`.
    ``keep_maps`` samples keep their maps (``max_map_size`` per side at most). ``control``: a
    :class:`~nbexplain.tasks.TaskControl` (progress per explanation, cancel between them).

    Example:
        >>> import torch
        >>> from nbexplain.explainers.gradients.saliency import Saliency
        >>> m = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
        >>> r = sanity_check(m, "saliency", torch.ones(2, 3), cascading=False, measures="spearman", keep_maps=1)
        >>> r.methods, r.verdicts["saliency"].step
        (['saliency'], -1)
    """
    from nbexplain.models import is_torch_module

    if not is_torch_module(model):
        raise SanityCheckError(f"the sanity check randomises a torch.nn.Module's weights; got {type(model).__name__}. "
                               "A model without weights of its own (a predict function) cannot be randomised")
    if not any(True for _ in model.parameters()):
        raise SanityCheckError(f"the {type(model).__name__} has no parameters: there is nothing to randomise, so the "
                               "sanity check (does the explanation depend on the learned weights?) does not apply")
    try:
        measures = check_measures(measures)
    except MeasureError as err:
        raise SanityCheckError(str(err)) from err
    if isinstance(top_k, float):
        check_number(top_k, "top_k", min=0.0, max=1.0, min_open=True)
    else:
        check_int(top_k, "top_k", min=1)
    check_int(seed, "seed", min=0)
    check_int(keep_maps, "keep_maps", min=0)
    check_int(max_map_size, "max_map_size", min=1)
    threshold = check_number(threshold, "threshold", min=-1.0, max=1.0)
    if not isinstance(cascading, (bool, np.bool_)):
        raise SanityCheckError(f"cascading must be True or False, got {cascading!r}")
    if init is not None and not callable(init):
        raise SanityCheckError(f"init must be a callable init(module, generator), got {type(init).__name__}")
    specs = named_methods(methods, data)
    with guard(model):
        try:
            work = copy.deepcopy(model)
        except Exception as err:
            raise SanityCheckError(f"the model cannot be deep-copied ({type(err).__name__}: {err}); the sanity check "
                                   "randomises a copy so that your model is never changed") from err
        return _run(work, specs, inputs, target, bool(cascading), layers, measures, top_k, int(seed), threshold,
                    init or default_init, keep_maps, max_map_size, control)


def _run(work: Any, specs: list[tuple[str | None, Callable[[Any], Any]]], inputs: Any, target: Any, cascading: bool,
         layers: Any, measures: tuple[str, ...], top_k: Any, seed: int, threshold: float, init: Any, keep_maps: int,
         max_map_size: int, control: Any) -> SanityResult:
    from nbexplain.batched import _control
    from nbexplain.metrics._robustness_parts import normalise_target

    control = control or _control()
    example, fresh = inputs_for(inputs)
    order, unused = layers_top_down(work, example)
    chosen = select_layers(order, layers)
    if not chosen:
        raise SanityCheckError("no layer with parameters ran on these inputs; nothing to randomise")
    n = len(fresh())
    target = resolve_targets(work, fresh(), normalise_target(target, n))
    names = [name for name, _ in chosen]
    result = SanityResult(layers=names, layer_types=[type(m).__name__ for _, m in chosen], methods=[],
                          measures=measures, cascading=cascading, threshold=threshold, top_k=top_k, seed=seed)
    if unused:
        result.notes.append(f"{len(unused)} layer(s) with parameters did not run on these inputs and were not "
                            f"randomised: {unused[:5]}")
    total, done = (len(names) + 1) * len(specs), [0]

    def explain(explainer: Any, label: str) -> np.ndarray:
        control.check()
        e = explainer.explain(fresh(), target=target)
        done[0] += 1
        control.progress(done[0], total, label)
        return maps_of(e, label, n)

    original: dict[str, np.ndarray] = {}
    method_names: list[str] = []
    for i, (name, spec) in enumerate(specs):
        built = spec(work)
        label = name or (built.method if isinstance(getattr(built, "method", None), str) else f"method {i + 1}")
        while label in method_names:
            label += "'"
        method_names.append(label)
        original[label] = explain(built, f"{label}: trained")
    result.methods = method_names
    result.target = target
    kept = min(keep_maps, n)
    strips = {m: [downsample(original[m][:kept], max_map_size)] for m in method_names}
    per = {m: {s: np.empty((len(names), n)) for s in set(measures) | {"spearman"}} for m in method_names}
    index = {name: i for i, (name, _) in enumerate(order)}  # a layer's seed does not depend on the selection
    for step, (lname, module) in enumerate(chosen):
        saved = None if cascading else snapshot(module)
        init(module, layer_generator(seed, index[lname]))
        try:
            for label, (_, spec) in zip(method_names, specs, strict=True):
                maps = explain(spec(work), f"{label}: {lname} randomised")
                for s in per[label]:
                    per[label][s][step] = similarities(s, original[label], maps, top_k)
                strips[label].append(downsample(maps[:kept], max_map_size))
        finally:
            if saved is not None:
                restore(saved)
    for label in method_names:
        result.per_sample[label] = {s: per[label][s] for s in measures}
        result.similarity[label] = {s: per[label][s].mean(axis=1) for s in measures}
        result.maps[label] = np.stack(strips[label]).astype(np.float32)
        result.verdicts[label] = _verdict(label, per[label]["spearman"].mean(axis=1), cascading, threshold, names)
    if "ssim" in measures and any(np.isnan(result.similarity[m]["ssim"]).any() for m in method_names):
        result.notes.append("SSIM needs maps with two spatial axes of at least 3 pixels; it is NaN for the others")
    return result
