"""The one place where arguments are checked: every entry point calls these at its boundary.

Each check raises an error that names the argument, the problem (with the first bad row and
feature) and the fix. The errors are ``ValueError`` / ``TypeError`` subclasses, so a caller that
catches those keeps working:

- :class:`NonFiniteError`: NaN or inf in inputs, baselines, backgrounds, labels or model outputs;
- :class:`ParameterError`: a numeric constructor parameter out of its range (checked at
  construction, so no argument can make a solve hang or spin);
- :class:`LabelError`: labels or targets that are strings, fractions, probabilities or out of range;
- :class:`ModelInputError`: inputs the model cannot take (feature count, channels-last images).

Example:
    >>> import numpy as np
    >>> check_finite(np.array([[1.0, np.nan]]), "X", feature_names=["a", "b"])
    Traceback (most recent call last):
    ...
    nbexplain.validate.NonFiniteError: X holds NaN at row 0, feature 'b' (column 1); 1 non-finite entry in all. Impute or drop those rows first (e.g. sklearn.impute.SimpleImputer, or X[~np.isnan(X).any(1)])
    >>> check_int(0, "n_samples", min=1)
    Traceback (most recent call last):
    ...
    nbexplain.validate.ParameterError: n_samples must be an int >= 1, got 0
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "InputError",
    "LabelError",
    "ModelInputError",
    "NonFiniteError",
    "ParameterError",
    "check_class_names",
    "check_feature_names",
    "check_finite",
    "check_int",
    "check_labels",
    "check_model_output",
    "check_number",
    "check_texts",
    "checked_predict",
    "column_names",
    "explain_model_error",
    "ragged_output_error",
    "table_array",
]


class InputError(ValueError):
    """Bad input: the message names the argument, the problem and the fix."""


class NonFiniteError(InputError):
    """NaN or inf where numbers must be finite."""


class ParameterError(InputError):
    """A numeric parameter outside its valid range."""


class LabelError(InputError):
    """Labels or targets that are not class indices the model can give."""


class ModelInputError(InputError):
    """Inputs whose shape the model cannot take."""


def _torch_tensor(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _kind(values: np.ndarray) -> str:
    nan, pos = bool(np.isnan(values).any()), bool(np.isposinf(values).any())
    return "NaN" if nan else "inf" if pos else "-inf"


def _non_finite_as_numpy(arr: Any) -> np.ndarray | None:
    """None when ``arr`` (numpy or torch, any device) is all finite (or not floating); else it as numpy."""
    if _torch_tensor(arr):
        import torch

        if not torch.is_floating_point(arr) or bool(torch.isfinite(arr).all()):
            return None
        return arr.detach().float().cpu().numpy()
    a = np.asarray(arr)
    if a.dtype.kind not in "fc" or np.isfinite(a).all():
        return None
    return a


def check_finite(arr: Any, name: str, *, feature_names: Sequence[str] | None = None, fix: str | None = None) -> Any:
    """Return ``arr`` unchanged when every entry is finite; else a :class:`NonFiniteError`.

    ``arr``: a numpy array or torch tensor (any device), ``(n, ...)``. The message names the first
    bad row and feature (by name when ``feature_names`` is given; a position for images).
    Integer and boolean arrays are always finite.

    Example:
        >>> import numpy as np
        >>> check_finite(np.ones((2, 2)), "X").shape
        (2, 2)
    """
    a = _non_finite_as_numpy(arr)
    if a is None:
        return arr
    bad = ~np.isfinite(a)
    first = np.unravel_index(int(np.argmax(bad)), a.shape) if a.ndim else ()
    kind = _kind(a[bad])
    if a.ndim == 0:
        where = ""
    elif a.ndim == 1:
        where = f" at entry {first[0]}"
    elif a.ndim == 2:
        col = int(first[1])
        label = f"feature {feature_names[col]!r} (column {col})" if feature_names is not None and col < len(
            feature_names) else f"column {col}"
        where = f" at row {first[0]}, {label}"
    else:
        where = f" at row {first[0]}, position {tuple(int(i) for i in first[1:])}"
    count = int(bad.sum())
    if fix:
        hint = fix
    elif a.ndim <= 2:
        hint = f"Impute or drop those rows first (e.g. sklearn.impute.SimpleImputer, or {name}[~np.isnan({name}).any(1)])"
    else:
        hint = ("Replace them (torch.nan_to_num / np.nan_to_num) or drop those samples "
                f"({name}[~np.isnan({name}).reshape(len({name}), -1).any(1)])")
    raise NonFiniteError(f"{name} holds {kind}{where}; {count} non-finite entr{'y' if count == 1 else 'ies'} in all. "
                         f"{hint}")


def check_model_output(arr: Any, what: str) -> Any:
    """``arr`` (the model's output, ``(n, k)``) unchanged when finite; else a :class:`NonFiniteError`.

    ``what`` names the model call (``"MLP.forward"``). For the predict wrapper and the engines.

    Example:
        >>> import numpy as np
        >>> check_model_output(np.array([[1.0, np.inf]]), "f")
        Traceback (most recent call last):
        ...
        nbexplain.validate.NonFiniteError: f returned inf for 1 of 1 rows (first: row 0, output 1); the model overflows or divides by zero on these inputs: check the inputs (scaling, missing values) and the model (a log of 0, an exp of a large logit)
    """
    a = _non_finite_as_numpy(arr)
    if a is None:
        return arr
    a2 = a.reshape(len(a), -1) if a.ndim else a.reshape(1, 1)
    bad = ~np.isfinite(a2)
    rows = bad.any(axis=1)
    r = int(np.argmax(rows))
    c = int(np.argmax(bad[r]))
    raise NonFiniteError(f"{what} returned {_kind(a2[bad])} for {int(rows.sum())} of {len(a2)} rows (first: row {r}, "
                         f"output {c}); the model overflows or divides by zero on these inputs: check the inputs "
                         "(scaling, missing values) and the model (a log of 0, an exp of a large logit)")


def check_int(value: Any, name: str, *, min: int | None = None, max: int | None = None) -> int:
    """``value`` as an int in ``[min, max]``; bools, floats and strings are refused.

    Example:
        >>> check_int(5, "steps", min=1)
        5
    """
    rng = (f" >= {min}" if max is None else f" in {min}..{max}") if min is not None else (
        f" <= {max}" if max is not None else "")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name} must be an int{rng}, got {value!r} ({type(value).__name__})")
    v = int(value)
    if (min is not None and v < min) or (max is not None and v > max):
        raise ParameterError(f"{name} must be an int{rng}, got {v}")
    return v


def check_number(value: Any, name: str, *, min: float | None = None, max: float | None = None,
                 min_open: bool = False, max_open: bool = False) -> float:
    """``value`` as a finite float in the range (``min_open``: ``> min``, else ``>= min``).

    Example:
        >>> check_number(0, "kernel_width", min=0, min_open=True)
        Traceback (most recent call last):
        ...
        nbexplain.validate.ParameterError: kernel_width must be a positive finite number, got 0
    """
    parts = []
    if min is not None:
        parts.append(f"{'>' if min_open else '>='} {min:g}")
    if max is not None:
        parts.append(f"{'<' if max_open else '<='} {max:g}")
    rng = (" " + " and ".join(parts)) if parts else ""
    what = "a positive finite number" if min == 0 and min_open and max is None else f"a finite number{rng}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{name} must be {what}, got {value!r} ({type(value).__name__})")
    v = float(value)
    low = min is not None and (v <= min if min_open else v < min)
    high = max is not None and (v >= max if max_open else v > max)
    if not np.isfinite(v) or low or high:
        raise ParameterError(f"{name} must be {what}, got {value!r}")
    return v


def check_feature_names(names: Sequence[Any] | None, n_features: int, name: str = "feature_names",
                        what: str = "X") -> list[str] | None:
    """One distinct name per column as strings (``None`` stays ``None``), or a named ``ValueError``.

    Example:
        >>> check_feature_names(["a", "a"], 2)
        Traceback (most recent call last):
        ...
        nbexplain.validate.InputError: feature_names has 'a' twice (positions 0 and 1); names must be distinct, or a name would pick the first of them: rename one
    """
    if names is None:
        return None
    if isinstance(names, str):
        raise InputError(f"{name} is one string {names!r}; pass a list of names, one per column")
    out = [str(f) for f in names]
    if len(out) != n_features:
        raise InputError(f"got {len(out)} {name} but {what} has {n_features} features (columns); pass one name per column")
    seen: dict[str, int] = {}
    for i, f in enumerate(out):
        if f in seen:
            raise InputError(f"{name} has {f!r} twice (positions {seen[f]} and {i}); names must be distinct, or a "
                             "name would pick the first of them: rename one")
        seen[f] = i
    return out


def check_class_names(names: Sequence[Any] | None, name: str = "class_names") -> list[str] | None:
    """Distinct class names as strings (``None`` stays ``None``); the count is checked against the model later.

    Example:
        >>> check_class_names(("no", "yes"))
        ['no', 'yes']
    """
    if names is None:
        return None
    if isinstance(names, str):
        raise InputError(f"{name} is one string {names!r}; pass a list of names, one per class")
    out = [str(c) for c in names]
    dup = next((c for i, c in enumerate(out) if c in out[:i]), None)
    if dup is not None:
        raise InputError(f"{name} has {dup!r} twice; class names must be distinct: rename one")
    return out


# -- the model's own shape errors, translated -------------------------------------------------------------
_SHAPE_ERRORS = re.compile(r"mat1 and mat2 shapes|size mismatch|expected input\[|Expected \d+D|to have \d+ channels"
                           r"|shapes cannot be multiplied|must match the size|normalized_shape|running_mean",
                           re.IGNORECASE)


def _first_layer(model: Any) -> Any:
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(model, torch.nn.Module):
        return None
    kinds = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.Bilinear,
             torch.nn.LazyLinear)
    for m in model.modules():
        if isinstance(m, kinds) and not isinstance(m, torch.nn.LazyLinear):
            return m
    return None


def explain_model_error(exc: BaseException, x: Any, model: Any) -> Exception | None:
    """Our message for a torch shape error raised by ``model(x)``, or ``None`` when it is not one.

    Reads ``x``'s shape and the model's first ``Linear`` / ``Conv`` layer: a feature-count
    mismatch, channels-last images (NHWC) and a missing batch axis get a :class:`ModelInputError`
    that says what to pass. Call it around the first forward pass and ``raise err from exc``.

    Example:
        >>> import torch
        >>> m = torch.nn.Linear(4, 2)
        >>> try:
        ...     m(torch.zeros(3, 5))
        ... except RuntimeError as exc:
        ...     print(explain_model_error(exc, torch.zeros(3, 5), m))
        inputs have 5 features, the model takes 4 (its first layer, Linear(in_features=4, ...)); pass the same columns, in the same order, as the model was trained on
    """
    if not isinstance(exc, RuntimeError) or not _SHAPE_ERRORS.search(str(exc)):
        return None
    layer = _first_layer(model)
    if layer is None:
        return None
    shape = tuple(int(s) for s in getattr(x, "shape", ()))
    import torch

    if isinstance(layer, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)):
        c, dims = layer.in_channels, {torch.nn.Conv1d: 1, torch.nn.Conv2d: 2, torch.nn.Conv3d: 3}[type(layer)]
        want = {1: "(n, C, L)", 2: "(n, C, H, W)", 3: "(n, C, D, H, W)"}[dims]
        layer_s = f"its first convolution, {type(layer).__name__}({c}, ...)"
        if len(shape) == dims + 1:
            return ModelInputError(f"inputs have shape {shape}, without a batch axis: inputs must be {want} with "
                                   f"C = {c} ({layer_s}); add the axis with x[None] (or x.unsqueeze(0))")
        if len(shape) == dims + 2 and shape[1] != c and shape[-1] == c and dims == 2:
            return ModelInputError(f"images must be (n, C, H, W) with C = {c} ({layer_s}), got shape {shape}, "
                                   "which is channels-last (NHWC); use x.permute(0, 3, 1, 2)")
        if len(shape) == dims + 2 and shape[1] != c:
            return ModelInputError(f"inputs have {shape[1]} channels (shape {shape}), the model takes {c} ({layer_s}); "
                                   f"inputs must be {want}")
        return None
    f = layer.in_features if isinstance(layer, torch.nn.Linear) else layer.in1_features
    got = shape[-1] if shape else None
    mm = re.search(r"\((\d+)x(\d+) and (\d+)x(\d+)\)", str(exc))
    if mm:  # torch names the two sides: ours only when the left one is the input itself
        if got != int(mm[2]):
            return None  # a mismatch between two layers inside the model: its own bug, torch's message stands
        f = int(mm[3])
    if got is not None and got != f:
        return ModelInputError(f"inputs have {got} features, the model takes {f} (its first layer, "
                               f"{type(layer).__name__}(in_features={f}, ...)); pass the same columns, in the same "
                               "order, as the model was trained on")
    return None


def ragged_output_error(what: str) -> InputError:
    """The error for a model output whose rows differ in length (numpy's "inhomogeneous shape").

    Example:
        >>> print(ragged_output_error("f"))
        f returned rows of different lengths (a ragged list); it must return (n, k) numbers with the same k for every row
    """
    return InputError(f"{what} returned rows of different lengths (a ragged list); it must return (n, k) numbers with "
                      "the same k for every row")


def checked_predict(f: Any, model: Any, what: str | None = None) -> Any:
    """``f`` (a predict function of ``model``) with our shape message and the finite-output check.

    A torch shape error on the model's inputs becomes :func:`explain_model_error`'s message; NaN or
    inf in the output a :class:`NonFiniteError` (:func:`check_model_output`).

    Example:
        >>> import numpy as np
        >>> checked_predict(lambda X: X * np.inf, None, "f")(np.ones((1, 1)))
        Traceback (most recent call last):
        ...
        nbexplain.validate.NonFiniteError: f returned inf for 1 of 1 rows (first: row 0, output 0); the model overflows or divides by zero on these inputs: check the inputs (scaling, missing values) and the model (a log of 0, an exp of a large logit)
    """
    label = what or f"{type(model).__name__}"

    def predict(X: Any) -> Any:
        try:
            out = f(X)
        except RuntimeError as exc:
            hint = explain_model_error(exc, X, model)
            if hint is not None:
                raise hint from exc
            raise
        except ValueError as exc:
            if "inhomogeneous" not in str(exc):
                raise
            raise ragged_output_error(label) from exc
        return check_model_output(out, label)

    predict.__doc__ = getattr(f, "__doc__", None)
    return predict


from nbexplain._validate_data import check_labels, check_texts, column_names, table_array  # noqa: E402  (they use the errors above)
