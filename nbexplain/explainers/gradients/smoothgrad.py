"""SmoothGrad: average any gradient method over noisy copies of the input.

SmoothGrad (Smilkov et al., 2017) explains ``x`` by the mean attribution over ``n_samples``
copies ``x + N(0, sigma^2)``, with ``sigma = noise * (max(x) - min(x))`` per sample, as in the
paper. Variants: ``"mean"`` (SmoothGrad), ``"squared"`` (SmoothGrad-squared: mean of squares) and
``"variance"`` (VarGrad: population variance over the copies).

The unit noise is one pattern ``z`` of ``n_samples`` sample-shaped draws per call, from
``torch.Generator().manual_seed(seed)`` on the CPU (float32), then moved to the input's device
and dtype: the same seed gives the same result on any device, and every sample gets the same
``z`` scaled by its own ``sigma``, so a sample's result does not depend on the batch around it
(Captum's NoiseTunnel draws fresh noise from the global generator instead).

Example:
    >>> import torch
    >>> from nbexplain.explainers.gradients.saliency import Saliency
    >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> e = SmoothGrad(Saliency(model), n_samples=8).explain(torch.ones(2, 3), target=0)
    >>> e.method, e.values.shape
    ('smoothgrad(saliency)', (2, 3))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain.explainers.gradients._engine import GradientExplainer, RunContext, baseline_tensor
from nbexplain.validate import check_int, check_number

#: Variant -> the method name's prefix.
VARIANTS = {"mean": "smoothgrad", "squared": "smoothgrad_sq", "variance": "vargrad"}
_OWN = ("n_samples", "noise", "seed", "variant", "n_seeds")


class SmoothGrad(GradientExplainer):
    """Wrap a gradient explainer (Saliency, GradientXInput, IntegratedGradients, ...) in noise.

    ``base``: a :class:`~nbexplain.explainers.gradients._engine.GradientExplainer` instance, whose engine
    options (``internal_batch_size``, ``dtype``) are used and shared; or a model, which means
    ``Saliency(model, **engine_kwargs)``. ``n_samples``: noisy copies
    per sample; ``noise``: the noise's standard deviation as a fraction of each sample's range;
    ``seed``: see the module docstring (same seed, identical result); ``variant``: ``"mean"``,
    ``"squared"`` or ``"variance"``. ``explain`` takes the base's call options too (e.g.
    ``steps=``) and passes ``baselines`` to it (resolved on the clean input, not noised).

    The noisy copies go through the base in blocks of whole samples of about ``internal_batch_size``
    inputs, so at most one block of copies and their attributions is alive at a time.
    ``diagnostics``: each per-sample diagnostic of the base (e.g. IG's ``delta``), averaged over
    the copies.

    ``n_seeds=k > 1`` (here or per call) measures the noise's own uncertainty: the explanation
    runs with seeds ``seed .. seed+k-1``, ``values`` are the mean of the runs and ``diagnostics``
    adds ``"seed_std"`` (shaped like ``values``: the standard deviation of a value over the runs,
    ddof=1), ``"std_error"`` (``seed_std / sqrt(k)``, the standard error of the mean shown) and
    ``"n_seeds"`` (:func:`~nbexplain.explainers._seed_spread.seed_spread`); tuple inputs give one
    such Explanation per input. ``n_seeds=1`` (default) is one run, unchanged.

    Example:
        >>> import torch
        >>> from nbexplain.explainers.gradients.saliency import GradientXInput
        >>> sg = SmoothGrad(GradientXInput(torch.nn.Linear(3, 2)), n_samples=4, variant="variance")
        >>> sg.method, bool((sg.explain(torch.ones(1, 3), target=1).values >= 0).all())
        ('vargrad(gradient_x_input)', True)
    """

    def __init__(self, base: Any, n_samples: int = 25, noise: float = 0.15, seed: int = 0,
                 variant: str = "mean", n_seeds: int = 1, **engine_kwargs: Any) -> None:
        if not isinstance(base, GradientExplainer):
            if not (hasattr(base, "parameters") and callable(base)):
                raise TypeError(f"SmoothGrad wraps a gradient explainer instance (e.g. Saliency(model)) or a "
                                f"torch.nn.Module (smoothing its saliency), got {type(base).__name__}")
            from nbexplain.explainers.gradients.saliency import Saliency

            base = Saliency(base, **engine_kwargs)
        elif engine_kwargs:
            raise TypeError(f"engine options {sorted(engine_kwargs)} belong to the wrapped explainer: pass them to "
                            f"{type(base).__name__}(...) or to explain(...)")
        self.base = base
        self.model = base.model
        self.n_samples, self.noise, self.seed, self.variant, self.n_seeds = n_samples, noise, seed, variant, n_seeds
        self._check()

    def _check(self) -> None:
        check_int(self.n_samples, "n_samples", min=1)
        check_int(self.n_seeds, "n_seeds (runs with seeds seed, seed+1, ...)", min=1)
        check_number(self.noise, "noise (a fraction of the input range)", min=0.0)
        check_int(self.seed, "seed", min=0)
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose one of {list(VARIANTS)}")

    # engine options live on the base, so both see the same chunking and dtype
    internal_batch_size = property(lambda self: self.base.internal_batch_size,
                                   lambda self, v: setattr(self.base, "internal_batch_size", v))
    dtype = property(lambda self: self.base.dtype, lambda self, v: setattr(self.base, "dtype", v))
    cpu_memory_budget = property(lambda self: self.base.cpu_memory_budget,
                                 lambda self, v: setattr(self.base, "cpu_memory_budget", v))
    preprocess = property(lambda self: self.base.preprocess, lambda self, v: setattr(self.base, "preprocess", v))
    uses_baselines = property(lambda self: self.base.uses_baselines)  # type: ignore[assignment]
    integer_inputs = property(lambda self: self.base.integer_inputs)  # type: ignore[assignment]
    tuple_inputs = property(lambda self: self.base.tuple_inputs)  # type: ignore[assignment]
    attributes_inputs = property(lambda self: self.base.attributes_inputs)  # type: ignore[assignment]
    layout = property(lambda self: self.base.layout)  # type: ignore[assignment]

    def _use_model(self, model: Any) -> None:
        self.model = model
        self.base._use_model(model)

    @property
    def method(self) -> str:  # type: ignore[override]
        """E.g. ``"smoothgrad(saliency)"``, ``"smoothgrad_sq(integrated_gradients)"``."""
        return f"{VARIANTS[self.variant]}({self.base.method})"

    def __repr__(self) -> str:
        seeds = f", n_seeds={self.n_seeds}" if self.n_seeds > 1 else ""
        return (f"SmoothGrad({self.base!r}, n_samples={self.n_samples}, noise={self.noise}, "
                f"variant={self.variant!r}{seeds})")

    def params(self) -> dict[str, Any]:
        """The base's parameters plus ``n_samples``, ``noise``, ``seed``, ``variant``, ``n_seeds`` and ``base``."""
        return {**self.base.params(), "n_samples": self.n_samples, "noise": self.noise, "seed": self.seed,
                "variant": self.variant, "n_seeds": self.n_seeds, "base": self.base.method}

    def call_options(self) -> Sequence[str]:
        """SmoothGrad's own options and the base's."""
        return (*_OWN, *self.base.call_options())

    def explain(self, inputs: Any, target: Any = None, baselines: Any = None, *,
                additional_forward_args: Any = None, **options: Any) -> Any:
        """The smoothed attribution of every sample (see the class docstring for ``options``).

        Example:
            >>> import torch
            >>> from nbexplain.explainers.gradients.saliency import Saliency
            >>> sg = SmoothGrad(Saliency(torch.nn.Linear(2, 2)), n_samples=3)
            >>> sg.explain(torch.zeros(1, 2), target=0, noise=0.0).values.tolist() == \\
            ...     Saliency(sg.model).explain(torch.zeros(1, 2), target=0).values.tolist()
            True
        """
        n_seeds = options.pop("n_seeds", self.n_seeds)
        check_int(n_seeds, "n_seeds (runs with seeds seed, seed+1, ...)", min=1)
        if n_seeds > 1:
            seed = check_int(options.pop("seed", self.seed), "seed", min=0)
            runs = [self.explain(inputs, target, baselines, additional_forward_args=additional_forward_args,
                                 n_seeds=1, seed=seed + j, **options) for j in range(n_seeds)]
            if isinstance(runs[0], tuple):  # tuple inputs: one Explanation per input
                return tuple(_mean_of([r[i] for r in runs], seed) for i in range(len(runs[0])))
            return _mean_of(runs, seed)
        base_only = {k: v for k, v in options.items() if k not in _OWN and not hasattr(type(self), k)}
        saved = {k: getattr(self.base, k) for k in base_only if hasattr(self.base, k)}
        try:
            for k, v in base_only.items():
                setattr(self.base, k, v)
            own = {k: v for k, v in options.items() if k not in base_only}
            result = super().explain(inputs, target, baselines, additional_forward_args=additional_forward_args, **own)
        finally:
            for k, v in saved.items():
                setattr(self.base, k, v)
        return result

    def unit_noise(self, x: Any) -> Any:
        """The call's unit noise ``z``: ``(n_samples, *x.shape[1:])`` on ``x``'s device and dtype.

        Copy ``j`` of sample ``i`` is ``x[i] + noise * (max(x[i]) - min(x[i])) * z[j]``.

        Example:
            >>> import torch
            >>> from nbexplain.explainers.gradients.saliency import Saliency
            >>> SmoothGrad(Saliency(torch.nn.Linear(3, 1)), n_samples=5).unit_noise(torch.zeros(2, 3)).shape
            torch.Size([5, 3])
        """
        import torch

        z = torch.randn((self.n_samples, *x.shape[1:]), generator=torch.Generator().manual_seed(int(self.seed)))
        return z.to(device=x.device, dtype=x.dtype)

    def _attribute(self, x: Any, targets: Any, baselines: Any, ctx: RunContext) -> tuple[Any, dict[str, Any]]:
        self._check()
        n, k = x.shape[0], self.n_samples
        flat = x.flatten(1)
        z = self.unit_noise(x)
        if ctx.spec.packed:  # noise on the float inputs only, scaled by each input's own range
            sigma = x.new_zeros((n, x.shape[1]))
            for p, integer in zip(ctx.spec.inputs, ctx.spec.integer, strict=True):
                if not integer:
                    part = flat[:, p.start:p.stop]
                    sigma[:, p.start:p.stop] = (self.noise * (part.max(1).values - part.min(1).values)).unsqueeze(1)
            sigma = sigma.unsqueeze(1)
        else:
            sigma = (self.noise * (flat.max(1).values - flat.min(1).values)).view(-1, *(1,) * x.ndim)
        bases = self._baselines(ctx, baselines)
        block = max(1, ctx.chunk // k)
        values: Any = None
        diagnostics: dict[str, list[np.ndarray]] = {}
        callable_target = callable(targets) and not isinstance(targets, np.ndarray)
        for a in range(0, n, block):
            b = min(n, a + block)
            noisy = (x[a:b].unsqueeze(1) + sigma[a:b] * z).reshape(-1, *x.shape[1:])
            rows = np.repeat(np.arange(a, b), k)
            tgt = targets if callable_target else np.asarray(targets)[rows]
            sub = bases
            if bases is not None and bases.shape[0] > 1:  # one (set of) baseline(s) per sample
                sub = bases[a:b].repeat_interleave(k, 0)
            vals, diag = self.base._attribute(noisy, tgt, sub, ctx)
            vals = vals.view(b - a, k, *vals.shape[1:])
            if self.variant == "mean":
                out = vals.mean(1)
            elif self.variant == "squared":
                out = (vals * vals).mean(1)
            else:
                out = vals.var(1, unbiased=False)
            if values is None:
                values = out.new_empty((n, *out.shape[1:]))
            values[a:b] = out
            for name, arr in diag.items():
                if name == "outputs":  # the noisy copies' outputs: the engine computes f(x) itself
                    continue
                arr = np.asarray(arr)
                if arr.ndim >= 1 and arr.shape[0] == (b - a) * k:
                    diagnostics.setdefault(name, []).append(arr.reshape(b - a, k, *arr.shape[1:]).mean(1))
        return values, {name: np.concatenate(parts) for name, parts in diagnostics.items()}

    def _baselines(self, ctx: RunContext, baselines: Any) -> Any:
        """The base's baselines for the clean inputs (first axis 1 or n), or None for the base's default."""
        if not self.base.uses_baselines:
            return None
        resolve = getattr(self.base, "baselines_for", None)
        if resolve is not None:
            return resolve(ctx, baselines)
        return None if baselines is None else ctx.baselines(baselines, lambda x, b: baseline_tensor(b, x))


def _mean_of(runs: list[Any], seed: int) -> Any:
    """One Explanation: the mean of ``runs`` (the same call with seeds ``seed, seed+1, ...``) and their spread."""
    from nbexplain.explainers._seed_spread import seed_spread
    from nbexplain.explanation import Explanation

    first = runs[0]
    stacked = np.stack([r.values for r in runs])
    diagnostics: dict[str, Any] = {}
    for name, value in first.diagnostics.items():  # the base's per-sample diagnostics, averaged too
        parts = [np.asarray(r.diagnostics.get(name)) for r in runs]
        same = all(p.shape == parts[0].shape and np.issubdtype(p.dtype, np.number) for p in parts)
        diagnostics[name] = np.mean(parts, axis=0) if same and isinstance(value, np.ndarray) else value
    diagnostics.update(seed_spread(stacked))
    return Explanation(stacked.mean(0), first.base_values, first.data, feature_names=first.feature_names,
                       output_names=first.output_names, target=first.target, outputs=first.outputs,
                       method=first.method, params={**first.params, "seed": seed, "n_seeds": len(runs)},
                       diagnostics=diagnostics, layout=first.layout, encoding=first.encoding)
