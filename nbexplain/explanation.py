"""The one result object that passes from every explainer to every widget.

An :class:`Explanation` holds attributions for ``n`` samples, numpy only, sliceable like
``shap.Explanation`` and convertible to and from it.

Example:
    >>> import numpy as np
    >>> e = Explanation(np.ones((3, 4)), base_values=np.zeros(3), feature_names=list("abcd"))
    >>> e
    Explanation(method='', n=3, feature_shape=(4,), base_values=yes)
    >>> e[1].values
    array([1., 1., 1., 1.])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain import _pandas_io, _shap_io


def _numeric(name: str, a: Any) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}; convert it with np.asarray(..., dtype=float)")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}; pass the real part or the magnitude")
    return arr


#: How one sample's attribution axes are laid out (``Explanation.layout``).
LAYOUTS = ("features", "tokens", "HW", "CHW", "HWC", "layer")
_LAYOUT_RANK = {"features": 1, "tokens": 1, "HW": 2, "CHW": 3, "HWC": 3}


def default_layout(feature_shape: tuple[int, ...]) -> str:
    """The layout an Explanation takes when its producer states none: by the feature rank.

    1-D ``"features"``, 2-D ``"HW"``, 3-D ``"CHW"`` (torch's channels-first), otherwise
    ``"layer"`` (an activation-shaped map). A producer with another layout (shap's channels-last
    images, tokens, a layer's activations) says so with ``layout=``.

    Example:
        >>> default_layout((4,)), default_layout((3, 8, 8)), default_layout((2, 3, 4, 5))
        ('features', 'CHW', 'layer')
    """
    return {1: "features", 2: "HW", 3: "CHW"}.get(len(feature_shape), "layer")


class Explanation:
    """Attributions for ``n`` samples, plus what is needed to draw and check them.

    ``values`` is ``(n, *feature_shape)``, or ``(n, *feature_shape, k)`` when there is one map
    per model output; ``base_values`` is ``None``, ``(n,)`` or ``(n, k)`` (2-D means per-output,
    as in shap). ``target`` holds the explained output index per sample and ``outputs`` the model
    output there, so a waterfall can run from the base value to the prediction. ``diagnostics``
    arrays whose first axis has length ``n`` are per-sample and are sliced with the samples.
    ``layout`` says how one sample's axes are laid out, one of :data:`LAYOUTS` (default by rank,
    see :func:`default_layout`); every view reads it (:meth:`image_values`) instead of guessing.
    ``encoding``: a :class:`~nbexplain.frames.FrameEncoding` when ``data`` came from a DataFrame
    (``data`` holds its codes; :meth:`data_frame` and :meth:`to_shap` give the user's columns back).

    Example:
        >>> import numpy as np
        >>> e = Explanation(np.arange(6.0).reshape(2, 3), base_values=[0.5, 0.5],
        ...                 target=[1, 0], outputs=[3.5, 12.5], method="demo")
        >>> len(e), e.feature_shape, e[-1].target
        (2, (3,), 0)
    """

    def __init__(
        self,
        values: Any,
        base_values: Any = None,
        data: Any = None,
        *,
        feature_names: Sequence[str] | None = None,
        output_names: Sequence[str] | None = None,
        target: Any = None,
        outputs: Any = None,
        method: str = "",
        params: dict[str, Any] | None = None,
        diagnostics: dict[str, Any] | None = None,
        layout: str | None = None,
        encoding: Any = None,
        _single: bool = False,
    ) -> None:
        values = _numeric("values", values)
        if _single:  # internal: the sample axis is stored with length 1
            values = values[None]
            base_values = None if base_values is None else np.asarray(base_values)[None]
            data = None if data is None else np.asarray(data)[None]
            target = None if target is None else np.asarray(target)[None]
            outputs = None if outputs is None else np.asarray(outputs)[None]
        if values.ndim < 2:
            raise ValueError(f"values must be (n, *feature_shape), got shape {values.shape}; "
                             "for one sample use values[None] or Explanation.from_shap")
        n = values.shape[0]
        if n == 0:
            raise ValueError("empty explanation: no samples (values.shape[0] == 0); pass at least one sample")
        self._n = n
        self._single = _single
        self._values = values
        self._base = None if base_values is None else _numeric("base_values", base_values).astype(float, copy=False)
        if self._base is not None:
            if self._base.ndim == 0:
                self._base = np.full(n, float(self._base))
            self._check_n("base_values", self._base)
            if self._base.ndim > 2:
                raise ValueError(f"base_values must be (n,) or (n, k), got shape {self._base.shape}")
        if self.has_output_axis:
            k = self._base.shape[1]  # type: ignore[union-attr]
            if values.ndim < 3 or values.shape[-1] != k:
                raise ValueError(f"base_values {self._base.shape} is per-output (k={k}) so values must be "  # type: ignore[union-attr]
                                 f"(n, *feature_shape, {k}); got values shape {values.shape}")
        self._data = None if data is None else np.asarray(data)
        if self._data is not None:
            self._check_n("data", self._data)
        self._target = None if target is None else self._int_array("target", target)
        self._outputs = None if outputs is None else _numeric("outputs", outputs).astype(float, copy=False)
        if self._outputs is not None:
            self._check_n("outputs", self._outputs)
        self.feature_names = None if feature_names is None else [str(f) for f in feature_names]
        if self.feature_names is not None:
            fs = self.feature_shape
            want = fs[0] if len(fs) == 1 else int(np.prod(fs))
            if len(self.feature_names) != want:
                raise ValueError(f"got {len(self.feature_names)} feature_names but values have {want} features "
                                 f"(feature shape {fs}); pass one name per feature or None")
            # Repeated names are kept (a text repeats words; views label them "dup (2)"); the
            # explainers refuse duplicate column names, where a name would pick the first column.
        self.output_names = None if output_names is None else [str(o) for o in output_names]
        if self.output_names is not None and self.has_output_axis and len(self.output_names) != values.shape[-1]:
            raise ValueError(f"got {len(self.output_names)} output_names but values have {values.shape[-1]} outputs "
                             "(last axis); pass one name per output or None")
        if self._target is not None and self.output_names is not None and not self.has_output_axis:
            bad = (self._target < 0) | (self._target >= len(self.output_names))
            if bad.any():
                raise ValueError(f"target {self._target[bad][0]} is outside output_names (0..{len(self.output_names) - 1})")
        self.layout = default_layout(self.feature_shape) if layout is None else str(layout)
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        want_rank = _LAYOUT_RANK.get(self.layout)
        if want_rank is not None and len(self.feature_shape) != want_rank:
            raise ValueError(f"layout {self.layout!r} needs {want_rank}-D attributions per sample, but the "
                             f"feature shape is {self.feature_shape}; pass the layout that matches the values")
        self.method = str(method)
        self.params = dict(params or {})
        self.diagnostics = dict(diagnostics or {})
        #: The :class:`~nbexplain.frames.FrameEncoding` of ``data`` when it came from a DataFrame
        #: (``data`` then holds codes: numbers, category codes), else None. :meth:`data_frame`
        #: decodes it; :meth:`to_shap` puts the decoded frame in shap's ``display_data``.
        self.encoding = encoding

    # -- validation helpers -------------------------------------------------------------
    def _check_n(self, name: str, a: np.ndarray) -> None:
        if a.ndim == 0 or a.shape[0] != self._n:
            raise ValueError(f"{name} has shape {a.shape} but values hold n={self._n} samples; "
                             f"{name} needs the sample axis first with length {self._n}")

    def _int_array(self, name: str, a: Any) -> np.ndarray:
        arr = np.asarray(a)
        if arr.ndim == 0:
            arr = np.full(self._n, arr)
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name} must hold integer output indices, got dtype {arr.dtype}")
        self._check_n(name, arr)
        return arr.astype(np.int64)

    # -- shape facts --------------------------------------------------------------------
    @property
    def has_output_axis(self) -> bool:
        """True when values carry a last axis with one map per model output (base_values 2-D)."""
        return self._base is not None and self._base.ndim == 2

    @property
    def feature_shape(self) -> tuple[int, ...]:
        """Shape of one sample's attributions, without the sample and output axes."""
        shape = self._values.shape[1:]
        return tuple(shape[:-1]) if self.has_output_axis else tuple(shape)

    def image_values(self, values: Any = None) -> np.ndarray:
        """One sample's map as ``(C, H, W)`` or ``(H, W)``, whatever the producer's layout.

        ``values``: the map to lay out (default this single sample's values); ``"HWC"`` maps are
        moved to channels-first. Raises ``ValueError`` for a layout that is no image.

        Example:
            >>> import numpy as np
            >>> e = Explanation(np.zeros((1, 4, 5, 3)), layout="HWC")
            >>> e[0].image_values().shape
            (3, 4, 5)
        """
        v = np.asarray(self.values if values is None else values)
        if self.layout == "HWC":
            return np.moveaxis(v, -1, 0)
        if self.layout in ("HW", "CHW"):
            return v
        raise ValueError(f"this explanation's layout is {self.layout!r} ({self.method or 'unknown method'}), not an "
                         "image; draw it with FeatureBars or TextTokens, or pass the map of an image method")

    @property
    def n_samples(self) -> int:
        """Number of samples (1 for a single-sample explanation)."""
        return self._n

    @property
    def is_single(self) -> bool:
        """True for the result of ``e[i]``: arrays have no sample axis."""
        return self._single

    def _get(self, a: np.ndarray | None) -> Any:
        if a is None or not self._single:
            return a
        return a[0].item() if a[0].ndim == 0 else a[0]

    values = property(lambda self: self._get(self._values), doc="Attributions (sample axis dropped when single).")
    base_values = property(lambda self: self._get(self._base), doc="Expected output(s), or None.")
    data = property(lambda self: self._get(self._data), doc="The explained inputs, or None.")
    target = property(lambda self: self._get(self._target), doc="Explained output index per sample, or None.")
    outputs = property(lambda self: self._get(self._outputs), doc="Model output at the target, or None.")

    def __len__(self) -> int:
        if self._single:
            raise TypeError("a single-sample Explanation (from e[i]) has no len(); use e.n_samples or slice e[i:i+1]")
        return self._n

    def __getitem__(self, index: Any) -> Explanation:
        """Select samples: an int drops the sample axis; slices, index lists and masks keep it."""
        if self._single:
            raise TypeError("a single-sample Explanation cannot be indexed again; index the batch instead")
        if isinstance(index, tuple):
            raise TypeError("only the sample axis can be indexed (e[i], e[a:b], e[[i, j]], e[mask]); "
                            f"got a tuple of {len(index)} indices")
        single = isinstance(index, (int, np.integer)) and not isinstance(index, bool)
        if single:
            i = int(index)
            if not -self._n <= i < self._n:
                raise IndexError(f"sample index {i} is out of range for an Explanation of n={self._n} samples")
            sel: Any = [i % self._n]
        elif isinstance(index, slice):
            sel = index
        else:
            sel = np.asarray(index)
            if sel.dtype == bool:
                if sel.shape != (self._n,):
                    raise IndexError(f"boolean mask has shape {sel.shape} but the Explanation has n={self._n} samples")
            elif sel.ndim != 1 or not np.issubdtype(sel.dtype, np.integer):
                raise IndexError(f"index must be an int, slice, 1-D int array or boolean mask; got {index!r}")
            elif sel.size and (sel.max() >= self._n or sel.min() < -self._n):
                raise IndexError(f"sample indices {sel.tolist()} out of range for n={self._n} samples")
        picked = np.arange(self._n)[sel]
        if picked.size == 0:
            raise IndexError(f"selection {index!r} picks no samples out of n={self._n}; an Explanation cannot be empty")
        return self._take(picked, single)

    def _take(self, idx: np.ndarray, single: bool) -> Explanation:
        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[idx]

        out = Explanation(self._values[idx], cut(self._base), cut(self._data), feature_names=self.feature_names,
                          output_names=self.output_names, target=cut(self._target), outputs=cut(self._outputs),
                          method=self.method, params=self.params, layout=self.layout, encoding=self.encoding,
                          diagnostics=_slice_diagnostics(self.diagnostics, idx[0] if single else idx, self._n))
        if single:
            out._single = True
        return out

    def __repr__(self) -> str:
        n = "single" if self._single else str(self._n)
        outs = f", outputs_axis={self._values.shape[-1]}" if self.has_output_axis else ""
        return (f"Explanation(method={self.method!r}, n={n}, feature_shape={self.feature_shape}{outs}, "
                f"base_values={'yes' if self._base is not None else 'no'})")

    # -- shap interop -------------------------------------------------------------------
    def to_shap(self) -> Any:
        """Convert to ``shap.Explanation`` (values, base_values, data, names and shap's extras).

        Example:
            >>> import numpy as np
            >>> Explanation(np.ones((2, 3)), base_values=[0.0, 1.0]).to_shap().values.shape
            (2, 3)
        """
        return _shap_io.to_shap(self)

    @staticmethod
    def open(store: Any) -> Any:
        """A dataset-wide explanation written by :func:`nbexplain.explain_dataset`, read lazily:
        a :class:`nbexplain.scale.LazyExplanation` (rows load when asked for; ``mean_abs()`` and a
        stratified ``sample()`` for the views).

        Example:
            >>> import numpy as np, tempfile, torch
            >>> from nbexplain.explainers import Saliency
            >>> from nbexplain.scale import explain_dataset
            >>> run = explain_dataset(Saliency(torch.nn.Linear(2, 2)), np.ones((5, 2), np.float32),
            ...                       store=tempfile.mkdtemp() + "/s.zarr", chunk_size=2, sync=True)
            >>> Explanation.open(run.store.path)[4].values.shape
            (2,)
        """
        from nbexplain.scale.lazy import LazyExplanation

        return LazyExplanation(store)

    @classmethod
    def from_shap(cls, se: Any, method: str = "shap", target: Any = None, single: bool | None = None) -> Explanation:
        """Build from a ``shap.Explanation``; its extras go to ``diagnostics["shap_extras"]``.

        A shap single-sample Explanation (1-D values, scalar base value) gives ``is_single``;
        pass ``single=`` to settle the rare ambiguous multi-output case.

        Example:
            >>> import numpy as np, shap
            >>> se = shap.Explanation(np.ones((2, 3)), base_values=np.zeros(2))
            >>> Explanation.from_shap(se).n_samples
            2
        """
        return _shap_io.from_shap(cls, se, method=method, target=target, single=single)


    # -- pandas interop -----------------------------------------------------------------------
    def to_pandas(self) -> Any:
        """The values as a ``pandas.DataFrame``: one row per sample, one column per feature (its name).

        Example:
            >>> import numpy as np
            >>> Explanation(np.ones((2, 2)), feature_names=["age", "city"]).to_pandas().columns.tolist()
            ['age', 'city']
        """
        return _pandas_io.values_frame(self)

    def data_frame(self) -> Any:
        """The explained inputs as a ``pandas.DataFrame`` with the user's column names and dtypes
        (categories as their strings) when they came from a DataFrame; else numbers under the names.

        Example:
            >>> import numpy as np
            >>> Explanation(np.ones((1, 2)), data=[[3.0, 4.0]], feature_names=["a", "b"]).data_frame().a.tolist()
            [3.0]
        """
        return _pandas_io.data_frame(self)

    @classmethod
    def from_pandas(cls, values: Any, base_values: Any = None, data: Any = None, **kwargs: Any) -> Explanation:
        """Build from a values DataFrame (columns = features) and optionally the inputs' DataFrame.

        ``data`` as a DataFrame (any dtypes) keeps its column names and dtypes (:meth:`data_frame`
        gives it back); other keyword arguments go to :class:`Explanation`.

        Example:
            >>> import pandas as pd
            >>> v = pd.DataFrame({"age": [0.5], "city": [-0.2]})
            >>> Explanation.from_pandas(v, base_values=[0.1]).feature_names
            ['age', 'city']
        """
        return _pandas_io.from_pandas(cls, values, base_values, data, **kwargs)


def _slice_diagnostics(diag: dict[str, Any], idx: Any, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, val in diag.items():
        if isinstance(val, dict):
            out[key] = _slice_diagnostics(val, idx, n)
        elif isinstance(val, np.ndarray) and val.ndim >= 1 and val.shape[0] == n:
            out[key] = val[idx]
        elif isinstance(val, list) and len(val) == n:
            out[key] = val[idx] if np.ndim(idx) == 0 else [val[i] for i in idx]
        else:
            out[key] = val
    return out
