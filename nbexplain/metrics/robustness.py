"""Robustness of an explanation: infidelity and max-sensitivity, with the definitions of ``captum.metrics``.

**Infidelity** (Yeh et al. 2019, ``captum.metrics.infidelity``): for each sample ``x`` with
attribution ``a``, draw ``n_perturb_samples`` perturbations ``I`` and perturbed inputs ``x'``;
with ``p = sum(a * I)`` (what the attribution predicts) and ``d = f(x) - f(x')`` (what the
model does), infidelity is the mean over the draws of ``(p - d)^2``. With ``normalize=True`` the
attribution is first scaled by ``beta = E[p d] / E[p^2]`` (the best scale; Captum's ``safe_div``:
``beta = E[p d]`` where ``E[p^2] = 0``), so the score does not depend on the attribution's scale:
``(beta^2 E[p^2] - 2 beta E[p d] + E[d^2])``. Lower is better.

**Max-sensitivity** (Yeh et al. 2019, ``captum.metrics.sensitivity_max``): re-explain each of
``n_perturb_samples`` perturbed inputs ``x'`` (by default uniform noise in the L-inf ball of
radius ``perturb_radius``) and take the largest ``||e(x) - e(x')|| / ||e(x)||`` (the norm
``norm_ord`` of the flattened explanations; Captum's ``"fro"`` is the 2-norm; a zero
``||e(x)||`` counts as 1). Lower is better.

Perturbations: ``"gaussian"`` (``x' = x - N(0, noise_scale^2)``), ``"uniform"``
(``x' = x + U(-r, r)``), ``"subset"`` (each feature at its baseline with probability 1/2), drawn
from a ``torch.Generator`` of our own seeded with ``seed`` (the global generators are never
touched; one row at a time, so the chunk size does not change the draws). For infidelity the
perturbation of a built-in is ``I = x - x'``, or with ``multiply_by_inputs=True``
``I = (x - x') / (x - baseline)`` (1 where ``x = baseline``), exactly as Captum's
``infidelity_perturb_func_decorator(multiply_by_inputs)``: use it for attributions that already
multiply by the input (Integrated Gradients, Gradient x Input, DeepLIFT, SHAP, LIME); ``"auto"``
decides by the explanation's method name. A callable ``perturb(inputs)`` (or
``perturb(inputs, baselines)`` when baselines are given) is Captum's convention: for infidelity it
returns ``(perturbation, perturbed_inputs)``, for max-sensitivity the perturbed inputs. It is
called on chunks of rows in which each sample is repeated ``n_perturb_samples`` times in a row
(Captum's ``repeat_interleave`` order), so the same function fed to both gives the same draws.

The model runs inside the one state guard (:mod:`nbexplain.guard`); perturbed rows go through it
in chunks (``batch_size="auto"``: what fits 256 MiB of inputs; a CUDA out-of-memory error halves
the chunk, as in the gradient engine). Explainers are nbexplain explainers (any object with
``.explain(inputs, target=...)`` returning an :class:`~nbexplain.Explanation`) or callables
``fn(inputs, target=...)`` returning one, a tensor or an array; infidelity also takes
precomputed attributions (an Explanation, tensor or array shaped like the inputs).

Example:
    >>> import torch
    >>> from nbexplain.explainers.gradients.saliency import Saliency
    >>> model = torch.nn.Linear(4, 3)
    >>> x = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    >>> inf = infidelity(model, Saliency(model), x, target=1)
    >>> inf.metric, inf.scores.shape, bool(inf.mean < 1e-10)      # exact for a linear model
    ('infidelity', (5,), True)
    >>> max_sensitivity(Saliency(model), x, target=1).mean        # a constant gradient
    0.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbexplain.guard import guard
from nbexplain.metrics._robustness_parts import (
    PERTURBATIONS,
    Attributor,
    Forward,
    RobustnessError,
    call_user,
    draw_perturbed,
    expand_target,
    input_tensor,
    make_generator,
    norm_order,
    normalise_target,
    norms,
    rows_per_chunk,
    user_infidelity_perturbation,
)
from nbexplain.validate import check_finite, check_int, check_number

__all__ = ["PERTURBATIONS", "RobustnessError", "RobustnessScores", "infidelity", "max_sensitivity"]

#: What each metric measures and which way is better, in words (for tables and tooltips).
BETTER = {
    "infidelity": "lower is better: the attribution predicts how much the output changes when the input is "
                  "perturbed (mean squared error of sum(attribution x perturbation) against the actual change)",
    "max_sensitivity": "lower is better: the explanation barely changes when the input moves a little (largest "
                       "relative change of the explanation over perturbed inputs)",
}
#: Method names (substrings) whose attributions already multiply by the input (``multiply_by_inputs="auto"``).
INPUT_MULTIPLIED = ("integrated_gradients", "expected_gradients", "gradient_x_input", "deeplift", "shap", "lime",
                    "occlusion")


@dataclass(frozen=True)
class RobustnessScores:
    """One robustness metric of one method, per sample.

    ``metric``: ``"infidelity"`` or ``"max_sensitivity"``; ``method``: the explainer's method
    name; ``scores``: float64 ``(n,)``, one per sample (lower is better for both, see
    :data:`BETTER`); ``target``: the explained output index per sample (None for a callable
    target); ``params``: the settings used (perturbation, its scale, ``n_perturb_samples``,
    ``seed``, ...).

    Example:
        >>> import numpy as np
        >>> r = RobustnessScores("infidelity", "saliency", np.array([1.0, 3.0]))
        >>> r.mean, r.better.split(":")[0], len(r)
        (2.0, 'lower is better', 2)
    """

    metric: str
    method: str
    scores: np.ndarray
    target: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> float:
        """The mean score over the samples."""
        return float(np.mean(self.scores))

    @property
    def sem(self) -> float:
        """The standard error of :attr:`mean` (0 for one sample)."""
        n = len(self.scores)
        return float(np.std(self.scores, ddof=1) / math.sqrt(n)) if n > 1 else 0.0

    @property
    def better(self) -> str:
        """What the metric measures and which way is better, in words."""
        return BETTER[self.metric]

    def describe(self) -> str:
        """One sentence for a table row or a tooltip.

        Example:
            >>> RobustnessScores("max_sensitivity", "saliency", np.array([0.5])).describe()[:40]
            'max-sensitivity of saliency: 0.5 (1 samp'
        """
        n = len(self.scores)
        spread = f" \u00b1 {self.sem:.3g}" if n > 1 else ""
        return (f"{self.metric.replace('_', '-')} of {self.method or 'the explanation'}: {self.mean:.4g}{spread} "
                f"({n} sample{'s' if n != 1 else ''}); {self.better}")


def _check_common(n_perturb_samples: int, seed: int) -> None:
    check_int(n_perturb_samples, "n_perturb_samples", min=1)
    check_int(seed, "seed", min=0)


def _perturb_kind(perturb: Any, allowed: tuple[str, ...]) -> str | None:
    if callable(perturb):
        return None
    if perturb not in allowed:
        raise RobustnessError(f"perturb must be one of {allowed} or a callable (Captum's convention), got {perturb!r}")
    return str(perturb)


def _baselines(baselines: Any, x: Any) -> Any:
    """Baselines as rows like ``x`` (zeros when None), finite."""
    from nbexplain.explainers.gradients._engine import baseline_tensor

    return baseline_tensor(baselines, x)


def _multiply(flag: Any, explanation: Any, method: str) -> bool:
    if flag == "auto":
        if explanation is not None and explanation.params.get("multiply_by_inputs") is False:
            return False
        return any(name in method for name in INPUT_MULTIPLIED)
    if not isinstance(flag, (bool, np.bool_)):
        raise RobustnessError(f"multiply_by_inputs must be True, False or 'auto', got {flag!r}")
    return bool(flag)


def _check_outputs(e: Any, f0: np.ndarray, output: str) -> None:
    """Refuse an explanation of another output space than the one measured (probabilities vs logits)."""
    if e is None or e._outputs is None or e._outputs.shape != f0.shape:
        return
    got = np.asarray(e._outputs, dtype=np.float64)
    tol = 1e-2 * (np.abs(f0) + 1e-2 * np.abs(f0).max() + 1e-8)
    bad = np.abs(got - f0) > tol
    if bad.any():
        i = int(np.argmax(bad))
        raise RobustnessError(
            f"the explanation explains output {got[i]:.6g} for sample {i} but the model gives {f0[i]:.6g} there "
            f"(output={output!r}): it explains another output space (probabilities vs logits, or a link). Pass the "
            "output= the explainer uses (e.g. output='probabilities'), so that both measure the same numbers")


def infidelity(model: Any, explainer: Any, inputs: Any, target: Any = None, *, baselines: Any = None,
               perturb: Any = "gaussian", noise_scale: float = 0.1, n_perturb_samples: int = 10,
               normalize: bool = False, multiply_by_inputs: Any = "auto", output: str = "auto",
               batch_size: Any = "auto", seed: int = 0, explain_options: dict[str, Any] | None = None,
               ) -> RobustnessScores:
    """Infidelity per sample of ``explainer``'s attributions on ``inputs`` (see the module docstring).

    ``model``: a ``torch.nn.Module`` or any predict function / estimator (as
    :func:`nbexplain.models.as_predict_fn`; ``output`` picks its output space, which must be the
    one the explainer explains: an :class:`~nbexplain.Explanation` whose ``outputs`` disagree
    with the model's raises :class:`RobustnessError`). ``explainer``: an explainer, a callable,
    or precomputed attributions shaped like ``inputs``. ``target``: None (the explanation's own
    target, else the top output), an int, one per sample, or a callable of the outputs.
    ``baselines``: for ``"subset"`` and ``multiply_by_inputs`` (None = zeros). ``perturb``:
    ``"gaussian"`` (``noise_scale`` is the standard deviation, in input units), ``"subset"``, or a
    callable returning ``(perturbation, perturbed_inputs)``. ``explain_options`` go to every
    ``explain`` call.

    Example:
        >>> import numpy as np
        >>> w = np.array([1.0, -2.0, 0.5])
        >>> exact = lambda x, target=None: x * w          # attributions of a linear model, times input
        >>> r = infidelity(lambda X: (X @ w)[:, None], exact, np.ones((3, 3)), target=0, perturb="subset")
        >>> r.scores.round(12).tolist()
        [0.0, 0.0, 0.0]
    """
    _check_common(n_perturb_samples, seed)
    kind = _perturb_kind(perturb, ("gaussian", "subset"))
    scale = check_number(noise_scale, "noise_scale", min=0.0, min_open=True)
    if not isinstance(normalize, (bool, np.bool_)):
        raise RobustnessError(f"normalize must be True or False, got {normalize!r}")
    from nbexplain.models import is_torch_module

    is_module = is_torch_module(model)
    if not is_module and not callable(model) and not hasattr(model, "predict"):
        raise RobustnessError(f"model must be a torch.nn.Module or a predict function, got {type(model).__name__}")
    attributor = Attributor(explainer, explain_options or {}, fixed_ok=True)
    with guard(model if is_module else None):
        x, was_numpy = input_tensor(inputs)
        if is_module:
            from nbexplain.explainers.gradients._engine import as_model_tensor

            x = as_model_tensor(x, model)
        else:
            x = x.double()
        n = len(x)
        target = normalise_target(target, n)
        values, e = attributor(x.cpu().numpy() if was_numpy else x, target)
        if values.shape != tuple(x.shape):
            raise RobustnessError(f"the attributions have shape {values.shape} but the inputs {tuple(x.shape)}; "
                                  "infidelity needs attributions shaped like the inputs (a layer's or a coarse map "
                                  "cannot be multiplied by an input perturbation)")
        if e is not None and e._data is not None and e._data.shape == tuple(x.shape) and not np.allclose(
                np.asarray(e._data, dtype=np.float64), x.detach().double().cpu().numpy(), rtol=1e-4, atol=1e-6):
            raise RobustnessError("the explanation was computed on other inputs than the ones given (its data "
                                  "differ); pass the inputs it explains")
        if target is None and e is not None and e._target is not None:
            target = np.asarray(e._target, dtype=np.int64)
        return _infidelity(model, attributor.method, e, x, values, target, baselines, kind, perturb, scale,
                           n_perturb_samples, bool(normalize), _multiply(multiply_by_inputs, e, attributor.method),
                           output, batch_size, seed)


def _infidelity(model: Any, method: str, e: Any, x: Any, values: np.ndarray, target: Any, baselines: Any,
                kind: str | None, perturb: Any, scale: float, S: int, normalize: bool, multiply: bool,
                output: str, batch_size: Any, seed: int) -> RobustnessScores:
    import torch

    from nbexplain.explainers.gradients._engine import frozen

    n = len(x)
    chunk = rows_per_chunk(batch_size, x[:1].numel() * x.element_size(), n * S)
    fwd = Forward(model, output, chunk)
    ctx = frozen(model) if fwd.torch else guard(None)
    with ctx:
        if target is None or isinstance(target, int):
            from nbexplain.explainers._targets import resolve_target

            outs = np.concatenate([fwd.outputs(x[a:a + chunk]).detach().double().cpu().numpy()
                                   for a in range(0, n, chunk)])
            target = resolve_target(None if target is None else np.full(n, target), outs)
        f0 = fwd.explained(x, target)
        _check_outputs(e, f0, output)
        attr = torch.from_numpy(values).to(x.device)
        base = _baselines(baselines, x) if (baselines is not None or kind == "subset" or multiply) else None
        gen = make_generator(seed, x.device)
        sums = np.zeros((3, n)) if normalize else np.zeros((1, n))
        for start in range(0, n * S, chunk):
            rows = np.arange(start, min(n * S, start + chunk)) // S
            xr = x[rows]
            br = None if base is None else base[rows]
            if kind is None:
                pert, xp = user_infidelity_perturbation(perturb, xr, br)
            else:
                xp = draw_perturbed(kind, xr, br, gen, scale)
                pert = xr - xp
                if multiply:
                    denom = xr - br
                    pert = pert / torch.where(denom != 0, denom, torch.ones_like(denom))
            check_finite(xp, "the perturbed inputs")
            pred = (attr[rows] * pert.to(attr.dtype)).reshape(len(rows), -1).sum(1).cpu().numpy()
            diff = f0[rows] - fwd.explained(xp.to(x.dtype), expand_target(target, rows))
            if normalize:
                for k, term in enumerate((pred * pred, pred * diff, diff * diff)):
                    np.add.at(sums[k], rows, term)
            else:
                np.add.at(sums[0], rows, (pred - diff) ** 2)
    if normalize:
        beta = sums[1] / np.where(sums[0] != 0, sums[0], 1.0)
        scores = beta * beta * sums[0] - 2 * beta * sums[1] + sums[2]
    else:
        scores = sums[0]
    params = {"perturb": kind or getattr(perturb, "__name__", type(perturb).__name__), "noise_scale": scale if kind else None,
              "n_perturb_samples": S, "normalize": normalize, "multiply_by_inputs": multiply, "output": output,
              "seed": seed, "batch_size": chunk}
    tgt = target if isinstance(target, np.ndarray) else None
    return RobustnessScores("infidelity", method, scores / S, tgt, params)


def max_sensitivity(explainer: Any, inputs: Any, target: Any = None, *, perturb: Any = "uniform",
                    perturb_radius: float = 0.02, n_perturb_samples: int = 10, norm_ord: Any = "fro",
                    baselines: Any = None, batch_size: Any = "auto", seed: int = 0,
                    explain_options: dict[str, Any] | None = None) -> RobustnessScores:
    """Max-sensitivity per sample of ``explainer`` on ``inputs`` (see the module docstring).

    ``explainer``: an nbexplain explainer or a callable ``fn(inputs, target=...)``; each perturbed
    input is re-explained for the same target as its sample (``target=None``: the target the
    explainer resolved on the clean inputs, e.g. the predicted class). ``perturb``: ``"uniform"``
    (the L-inf ball of radius ``perturb_radius``, Captum's default), ``"gaussian"`` (standard
    deviation ``perturb_radius``) or a callable returning perturbed inputs. ``norm_ord``:
    ``"fro"`` (2-norm), or a positive number or ``inf``. ``baselines`` go to ``explain`` (one per
    sample are taken along with the rows). ``batch_size``: rows per ``explain`` call.

    Example:
        >>> import numpy as np
        >>> square = lambda x, target=None: x ** 2
        >>> r = max_sensitivity(square, np.ones((2, 4)), perturb_radius=0.1, n_perturb_samples=20)
        >>> bool(0.1 < r.mean < 0.2)         # |2x dx + dx^2| / |x^2| stays under ~0.21
        True
    """
    import torch

    _check_common(n_perturb_samples, seed)
    kind = _perturb_kind(perturb, ("uniform", "gaussian"))
    radius = check_number(perturb_radius, "perturb_radius", min=0.0, min_open=True)
    p = norm_order(norm_ord)
    attributor = Attributor(explainer, explain_options or {}, fixed_ok=False)
    options = dict(explain_options or {})
    with guard(getattr(explainer, "model", None) if hasattr(explainer, "model") else None):
        x, was_numpy = input_tensor(inputs)
        n, S = len(x), n_perturb_samples
        target = normalise_target(target, n)
        per_sample_base = baselines is not None and tuple(np.shape(baselines)) == tuple(x.shape)
        if baselines is not None:
            options["baselines"] = baselines
        attributor.options = options
        e0, e = attributor(x.numpy() if was_numpy else x.clone(), target)
        if target is None and e is not None and e._target is not None:
            target = np.asarray(e._target, dtype=np.int64)
        flat0 = e0.reshape(n, -1)
        norm0 = norms(flat0, p)
        norm0 = np.where(norm0 == 0, 1.0, norm0)
        chunk = rows_per_chunk(batch_size, 2 * x[:1].numel() * 8, n * S)
        gen = make_generator(seed, x.device)
        best = np.full(n, -np.inf)
        for start in range(0, n * S, chunk):
            rows = np.arange(start, min(n * S, start + chunk)) // S
            xr = x[rows]
            if kind is None:
                xp = torch.as_tensor(call_user(perturb, xr, None)).to(x.device, x.dtype)
                if tuple(xp.shape) != tuple(xr.shape):
                    raise RobustnessError(f"perturb returned shape {tuple(xp.shape)} for inputs of shape "
                                          f"{tuple(xr.shape)}; return one perturbed row per input row")
            else:
                xp = draw_perturbed(kind, xr, None, gen, radius)
            check_finite(xp, "the perturbed inputs")
            if per_sample_base:
                rb = baselines[rows] if not isinstance(baselines, torch.Tensor) else baselines[torch.as_tensor(rows)]
                attributor.options = {**options, "baselines": rb}
            ep, _ = attributor(xp.cpu().numpy() if was_numpy else xp, expand_target(target, rows))
            if ep.shape[1:] != e0.shape[1:]:
                raise RobustnessError(f"the explainer returned shape {ep.shape[1:]} per sample on perturbed inputs but "
                                      f"{e0.shape[1:]} on the inputs")
            sens = norms(flat0[rows] - ep.reshape(len(rows), -1), p) / norm0[rows]
            np.maximum.at(best, rows, sens)
    params = {"perturb": kind or getattr(perturb, "__name__", type(perturb).__name__), "perturb_radius": radius,
              "n_perturb_samples": S, "norm_ord": norm_ord, "seed": seed, "batch_size": chunk}
    tgt = target if isinstance(target, np.ndarray) else None
    return RobustnessScores("max_sensitivity", attributor.method, best, tgt, params)
