"""What every faithfulness metric starts from: the inputs, the model's output and the attributions, checked once.

:func:`prepare` turns ``(model, inputs, attributions)`` into a :class:`Problem`:

- the data kind from the inputs: images ``(n, C, H, W)``, a table ``(n, F)``, or a list of texts;
  the inputs are copied (the caller's arrays are never touched);
- the removal mechanism of that kind (:mod:`nbexplain.metrics._removal`);
- the explained output: ``output="probabilities"`` (default) goes through
  :func:`nbexplain.models.as_predict_fn` and so the one output-kind rule
  (:mod:`nbexplain.output_kind`); ``"logits"`` the model's scores (torch, Keras, callables,
  ``decision_function``); ``"raw"`` its own output (regression);
- the target per sample: ``target=``, else the Explanation's, else the class predicted on the
  unmodified input;
- the attributions as one score per unit (patch, superpixel, feature, token), NaN refused.

:meth:`Problem.evaluate` runs removal jobs through the model in chunks of ``rows_per_call``
rows: ``batch_size="auto"`` takes as many rows as ``memory_budget`` allows, from the bytes one
input costs in a forward pass (measured once on a torch model, as the gradient engine does).

Example:
    >>> import numpy as np
    >>> p = prepare(lambda X: X @ np.array([[1.0], [2.0]]), np.ones((3, 2)), np.ones((3, 2)), baseline=0.0,
    ...             output="raw")
    >>> p.modality, p.targets.tolist(), p.explained().tolist()
    ('table', [0, 0, 0], [3.0, 3.0, 3.0])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nbexplain.explainers.gradients._engine import CPU_MEMORY_BUDGET, MAX_CHUNK
from nbexplain.explanation import Explanation
from nbexplain.metrics._removal import ImageRemoval, Removal
from nbexplain.metrics._removal_rows import TableRemoval, TextRemoval, table_fill
from nbexplain.models import as_predict_fn, is_torch_module, to_numpy
from nbexplain.validate import InputError, ParameterError, check_finite, check_int

if TYPE_CHECKING:
    from nbexplain.tasks import TaskControl

__all__ = ["OUTPUTS", "Problem", "prepare"]

#: What the curves follow: class probabilities (default), logits / scores, or the model's raw output.
OUTPUTS = ("probabilities", "logits", "raw")
#: Rows per model call never exceed this for models that are not torch modules.
MAX_ROWS = 8192


@dataclass
class Problem:
    """A checked metric problem: removal, predict function, targets and unit scores."""

    removal: Removal
    predict: Callable[[Any], np.ndarray]
    targets: np.ndarray
    original: np.ndarray
    scores: list[np.ndarray]
    method: str
    output: str
    rows_per_call: int
    evaluations: int = field(default=0)
    unit_names: list[str] | None = field(default=None)  # a table's feature names, when known

    @property
    def modality(self) -> str:
        """``"image"``, ``"table"`` or ``"text"``."""
        return self.removal.modality

    @property
    def n(self) -> int:
        return self.removal.n

    def explained(self) -> np.ndarray:
        """The explained output on the unmodified inputs, ``(n,)``."""
        return self.original[np.arange(self.n), self.targets]

    def evaluate(self, samples: np.ndarray, removed_of: Callable[[int], np.ndarray],
                 control: TaskControl | None = None, message: str = "",
                 build: Callable[[range, np.ndarray], Any] | None = None) -> np.ndarray:
        """The explained output of job ``j`` (sample ``samples[j]`` with ``removed_of(j)`` removed), ``(m,)``.

        ``build(jobs, samples)``: the model inputs of a chunk of jobs, instead of the removal's
        (ROAD imputes its own).
        """
        return _run(self, samples, removed_of, self.targets, control, message, build)


def _run(p: Problem, samples: np.ndarray, removed_of: Callable[[int], np.ndarray], targets: np.ndarray | None,
         control: TaskControl | None, message: str,
         build: Callable[[range, np.ndarray], Any] | None = None) -> np.ndarray:
    """Jobs in chunks through the model: targets given, ``(m,)``; else every output, ``(m, K)``."""
    r = p.removal
    m, per = len(samples), max(1, p.rows_per_call // r.rows_per_job)
    out: np.ndarray | None = None
    for a in range(0, m, per):
        if control is not None:
            control.check()
        b = min(m, a + per)
        s = samples[a:b]
        batch = build(range(a, b), s) if build is not None else r.build(s, [removed_of(j) for j in range(a, b)])
        y = np.asarray(p.predict(batch), dtype=np.float64)
        p.evaluations += len(y)
        if targets is None:
            k = y.shape[1]
            part = y.reshape(b - a, r.rows_per_job, k).mean(axis=1)
        else:
            t = np.repeat(targets[s], r.rows_per_job)
            if t.size and t.max() >= y.shape[1]:
                raise InputError(f"target {int(t.max())} is out of range: the model gives {y.shape[1]} outputs "
                                 f"(0..{y.shape[1] - 1})")
            part = r.reduce(y[np.arange(len(t)), t])
        if out is None:
            out = np.empty((m, *part.shape[1:]))
        out[a:b] = part
        if control is not None:
            control.progress(b, m, message)
    return np.zeros(0) if out is None else out


# -- inputs -----------------------------------------------------------------------------------------
def _reads_text(model: Any) -> bool:
    return not is_torch_module(model) and (hasattr(model, "predict_proba_tokens") or hasattr(model, "tokenize"))


def _inputs(inputs: Any, model: Any) -> tuple[str, Any]:
    if isinstance(inputs, str):
        raise InputError("inputs is one string; pass a list of texts (e.g. [text])")
    if isinstance(inputs, (list, tuple)) and inputs and all(isinstance(t, str) for t in inputs):
        return "text", list(inputs)
    if _reads_text(model):
        raise InputError(f"the model reads text ({type(model).__name__}) but inputs are {type(inputs).__name__}"
                         f"{' of shape ' + str(np.shape(inputs)) if hasattr(inputs, 'shape') else ''}; pass the texts "
                         "as a list of str")
    if hasattr(inputs, "columns") and hasattr(inputs, "dtypes"):
        from nbexplain.explainers.global_methods._tabular_inputs import check_table

        return "table", np.array(check_table(inputs, "inputs"), copy=True)
    arr = np.asarray(to_numpy(inputs))
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise InputError(f"inputs must be numbers (images (n, C, H, W) or a table (n, F)) or a list of texts, got "
                         f"dtype {arr.dtype}")
    if arr.ndim == 2:
        from nbexplain.explainers.global_methods._tabular_inputs import check_table

        return "table", np.array(check_table(arr, "inputs"), copy=True)
    if arr.ndim == 4:
        if 0 in arr.shape:
            raise InputError(f"inputs are empty (shape {arr.shape}); pass at least one image")
        dtype = np.float64 if arr.dtype == np.float64 else np.float32
        return "image", check_finite(np.array(arr, dtype=dtype, copy=True), "inputs")
    fix = {3: "; images must be (n, C, H, W): add the channel axis with x[:, None]",
           1: "; one row of a table needs the sample axis: x[None]"}.get(arr.ndim, "")
    raise InputError(f"inputs have shape {arr.shape}: the faithfulness metrics take images (n, C, H, W), a table "
                     f"(n, F) or a list of texts{fix}")


@dataclass
class _Parts:
    """The attributions, per sample, and what an Explanation says about them."""

    values: list[np.ndarray]
    targets: list[Any]
    method: str = ""
    layout: str | None = None
    tokens: list[list[str]] | None = None
    feature_names: list[str] | None = None
    per_output: bool = False


def _attribution_parts(attributions: Any, n: int) -> _Parts:
    exps: list[Explanation] | None = None
    if isinstance(attributions, Explanation):
        exps = [attributions] if attributions.is_single else [attributions[i] for i in range(len(attributions))]
    elif isinstance(attributions, (list, tuple)) and attributions and all(isinstance(e, Explanation)
                                                                         for e in attributions):
        exps = []
        for e in attributions:
            exps += [e] if e.is_single else [e[i] for i in range(len(e))]
    if exps is None:
        if isinstance(attributions, (list, tuple)):
            vals = [np.asarray(to_numpy(v)) for v in attributions]
        else:
            arr = np.asarray(to_numpy(attributions))
            if arr.ndim == 0:
                raise InputError(f"attributions must hold one map / row per sample, got a scalar {arr!r}")
            vals = list(arr)
        if len(vals) != n:
            raise InputError(f"attributions hold {len(vals)} samples but inputs hold {n}; pass one attribution per "
                             "sample, in the same order")
        return _Parts(vals, [None] * n)
    if len(exps) != n:
        raise InputError(f"the explanation holds {len(exps)} samples but inputs hold {n}; explain the same samples, "
                         "in the same order")
    names = [e.feature_names for e in exps]
    tokens = [list(t) for t in names] if all(t is not None for t in names) and exps[0].layout == "tokens" else None
    features = names[0] if exps[0].layout == "features" else None
    return _Parts([np.asarray(e.values) for e in exps], [e.target for e in exps], exps[0].method, exps[0].layout,
                  tokens, features, exps[0].has_output_axis)


def _targets(target: Any, from_explanation: list[Any], original: np.ndarray) -> np.ndarray:
    from nbexplain.explainers._targets import target_indices

    n, k = original.shape
    explained = None if any(t is None for t in from_explanation) else np.asarray(from_explanation, dtype=np.int64)
    if target is not None:
        t = target_indices(target, n, k)
        if explained is not None and not np.array_equal(t, explained):
            i = int(np.flatnonzero(t != explained)[0])
            raise InputError(f"target disagrees with the explanation's target (sample {i}: {int(t[i])} vs "
                             f"{int(explained[i])}); the curves follow the explained output: drop target= or pass the "
                             "explanation's")
        return t
    if explained is not None:
        return target_indices(explained, n, k)
    return np.argmax(original, axis=1).astype(np.int64)


def _image_map(v: np.ndarray, i: int, removal: ImageRemoval, layout: str | None) -> np.ndarray:
    if layout == "HWC" and v.ndim == 3:
        v = np.moveaxis(v, -1, 0)
    hw = (removal.height, removal.width)
    if v.ndim == 1 and v.size in (removal.channels * hw[0] * hw[1], hw[0] * hw[1]):  # flattened, row-major
        v = v.reshape(-1, *hw)
    if v.ndim == 3 and v.shape[1:] == hw and v.shape[0] in (1, removal.channels):
        v = v.sum(axis=0)
    if v.shape != hw:
        raise InputError(f"attributions of sample {i} have shape {v.shape} but the images are "
                         f"{(removal.channels, *hw)}; pass maps (n, C, H, W) or (n, H, W) (or flattened) at the images' "
                         "resolution (Grad-CAM: upsample=True)")
    return v


# -- model rows per call ---------------------------------------------------------------------------
def _forward_bytes(model: Any, x1: np.ndarray) -> int:
    """Bytes autograd would keep for one input's forward pass: an upper bound on its activations."""
    import torch

    from nbexplain.explainers.gradients._engine import as_model_tensor, model_outputs, saved_bytes
    from nbexplain.guard import guard

    with guard(model, eval_mode=True, freeze=True), torch.enable_grad():
        t = as_model_tensor(x1, model)
        if not torch.is_floating_point(t):
            return 0
        t.requires_grad_(True)
        _, saved = saved_bytes(lambda: model_outputs(model, t))
    return saved


def _rows_per_call(model: Any, removal: Removal, first: Any, batch_size: Any, memory_budget: Any) -> int:
    if batch_size != "auto":
        return check_int(batch_size, "batch_size", min=1)
    budget = check_int(memory_budget, "memory_budget", min=1)
    row = max(1, removal.row_bytes())
    if removal.modality != "text" and is_torch_module(model):
        cost, cap = max(_forward_bytes(model, first), 8 * row) + 3 * row, MAX_CHUNK
    else:
        cost, cap = 16 * row, MAX_ROWS
    return int(max(1, min(cap, budget // cost)))


# -- text -------------------------------------------------------------------------------------------
def _text_predict(model: Any, tokenizer: Any, detokenizer: Any, rows: int, output: str) -> tuple[Any, Any]:
    from nbexplain.explainers.perturbation.token_shap import _TokenModel
    from nbexplain.output_kind import remembered_kind, to_probabilities

    if output == "logits":
        raise ParameterError("output='logits' needs a model that returns scores (a torch module); a text model "
                             "gives what its predict returns: use output='raw' for that, or 'probabilities'")
    tm = _TokenModel(model, tokenizer, detokenizer, rows)

    def predict(token_lists: list[list[str]]) -> np.ndarray:
        out = tm.predict(token_lists)
        if output == "raw":
            return out
        return to_probabilities(out, remembered_kind(model, out), what="the model")

    return tm, predict


def _tokens(tm: Any, texts: list[str], from_explanation: list[list[str]] | None) -> list[list[str]]:
    tokens = [tm.tokenize(t) for t in texts]
    if from_explanation is not None:
        for i, (mine, theirs) in enumerate(zip(tokens, from_explanation, strict=True)):
            if mine != theirs:
                raise InputError(f"explanation {i} explains the tokens {theirs[:8]}... but text {i} tokenizes to "
                                 f"{mine[:8]}...; pass the explanations of these texts, in the same order (and the "
                                 "tokenizer they used)")
    return tokens


# -- the entry point --------------------------------------------------------------------------------
def prepare(model: Any, inputs: Any, attributions: Any = None, *, target: Any = None, output: str = "probabilities",
            baseline: Any = None, patch_size: int | None = None, segments: Any = None, blur_sigma: float | None = None,
            background: Any = None, background_mode: str = "rows", n_background: int = 32,
            tokenizer: Callable[[str], Sequence[str]] | None = None,
            detokenizer: Callable[[Sequence[str]], str] | None = None, batch_size: int | str = "auto",
            memory_budget: int = CPU_MEMORY_BUDGET, seed: int = 0, control: TaskControl | None = None,
            image_baseline: Any = "zeros", image_only: bool = False, no_text: bool = False) -> Problem:
    """Check everything once and build the :class:`Problem` (see the module docstring).

    ``baseline`` for images: a number, ``"zeros"``, ``"mean"``, ``"blur"`` or an image array
    (default ``image_baseline``, the metric's); for tables: a number or a row (used only
    without ``background``). ``attributions=None`` builds a problem without unit scores.
    """
    if output not in OUTPUTS:
        raise ParameterError(f"output must be one of {OUTPUTS} ('probabilities': class probabilities through the "
                             f"output-kind rule; 'logits': the model's scores; 'raw': its own output), got {output!r}")
    check_int(seed, "seed", min=0)
    check_int(n_background, "n_background", min=1)
    modality, data = _inputs(inputs, model)
    if image_only and modality != "image":
        raise InputError(f"this metric is for images (n, C, H, W); got {modality} inputs")
    if no_text and modality == "text":
        raise InputError("this metric takes images (n, C, H, W) or a table (n, F), not texts")
    n = len(data)
    parts = _attribution_parts(attributions, n) if attributions is not None else _Parts([], [None] * n)
    removal: Removal
    if modality == "text":
        if baseline is not None or background is not None:
            raise InputError("texts take no baseline or background: a removed token is dropped from the text")
        tm, _ = _text_predict(model, tokenizer, detokenizer, 1, output)
        removal = TextRemoval(_tokens(tm, data, parts.tokens), tm.detokenizer)
    elif modality == "image":
        if background is not None:
            raise InputError("background is for tables; for images pass baseline= (a number, 'zeros', 'mean', "
                             "'blur' or an image)")
        removal = ImageRemoval(data, baseline=image_baseline if baseline is None else baseline, patch_size=patch_size, segments=segments, blur_sigma=blur_sigma)
    else:
        if patch_size is not None or segments is not None:
            raise InputError("patch_size and segments are for images; a table's units are its features")
        fill = table_fill(data.shape[1], background=background, baseline=baseline, background_mode=background_mode,
                          n_background=n_background, seed=seed)
        removal = TableRemoval(data, fill)
    rows = _rows_per_call(model, removal, data[:1] if modality != "text" else None, batch_size, memory_budget)
    if modality == "text":
        _, predict = _text_predict(model, tokenizer, detokenizer, rows, output)
    else:
        predict = as_predict_fn(model, output=output, batch_size=rows)
    p = Problem(removal, predict, np.zeros(n, np.int64), np.zeros((n, 1)), [], parts.method, output, rows)
    if modality == "table":
        names = parts.feature_names or (list(map(str, inputs.columns)) if hasattr(inputs, "columns") else None)
        p.unit_names = None if names is None or len(names) != data.shape[1] else list(names)
    none = [np.zeros(removal.n_units(i), bool) for i in range(n)]
    p.original = _run(p, np.arange(n), lambda j: none[j], None, control, "original outputs")
    p.targets = _targets(target, parts.targets, p.original)
    p.scores = [_unit_scores(removal, parts.values[i], i, p.targets[i], parts.layout, parts.per_output)
                for i in range(len(parts.values))]
    return p


def _unit_scores(removal: Removal, v: np.ndarray, i: int, t: int, layout: str | None, per_output: bool) -> np.ndarray:
    v = np.asarray(v)
    if v.dtype == object or v.dtype.kind not in "biuf":
        raise InputError(f"attributions of sample {i} must be numbers, got dtype {v.dtype}")
    if per_output:
        v = v[..., t]
    check_finite(v[None], "attributions", fix="Recompute the attributions (a NaN map ranks nothing); check the "
                 "explainer's inputs and the model's outputs for NaN")
    if isinstance(removal, ImageRemoval):
        v = _image_map(v, i, removal, layout)
    elif v.size != removal.n_units(i):
        what = "tokens" if removal.modality == "text" else "features"
        raise InputError(f"attributions of sample {i} have {v.size} values (shape {v.shape}) but the sample has "
                         f"{removal.n_units(i)} {what}; pass one value per {what[:-1]}")
    return removal.unit_scores(i, v)
