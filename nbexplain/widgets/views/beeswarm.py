"""Beeswarm: attributions of many samples, one row per feature, dots coloured by the feature's value.

The SHAP-summary view: features sorted by mean |attribution| (most important on top), one dot
per sample at its attribution on a shared symmetric axis, stacked where many samples agree, and
coloured from blue (low feature value) to red (high). Drawn on a canvas in the browser; a click
on a dot selects its sample.

Example:
    >>> import numpy as np
    >>> from nbexplain.widgets.views.beeswarm import Beeswarm
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 4))
    >>> w = Beeswarm(X * [3, 1, 0.5, 2], feature_values=X, feature_names=list("abcd"))
    >>> w.on_event("select", lambda msg: print(msg["index"]))
    >>> w._handle_custom_msg({"event": "select", "index": 42}, [])    # a click on a dot of sample 42
    42
    >>> w.values.shape, w.feature_names
    ((500, 4), ['a', 'b', 'c', 'd'])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from ...codec import encode_array
from .._base import NbxWidget
from .._traits import ArrayTrait, to_numpy

__all__ = ["Beeswarm"]


def _float16(value: np.ndarray | None, _widget: Any) -> dict[str, Any] | None:
    return None if value is None else encode_array(value, precision="float16")


def _float32(value: np.ndarray | None, _widget: Any) -> dict[str, Any] | None:
    return None if value is None else encode_array(value, precision="float32")


_SPLIT = 2**24  # float32 holds every integer below this exactly


def _indices(value: np.ndarray | None, _widget: Any) -> dict[str, Any] | None:
    """Data-set indices, exact at any size: ``(N,)`` float32 below 2**24, else ``(N, 2)`` = (index // 2**24, rest).

    Example:
        >>> from nbexplain.codec import decode_array
        >>> decode_array(_indices(np.array([3, 10**8]), None)).tolist()
        [[0.0, 3.0], [5.0, 16113920.0]]
    """
    if value is None:
        return None
    v = np.asarray(value, dtype=np.int64)
    if v.size == 0 or v.max() < _SPLIT:
        return encode_array(v, precision="float32")
    return encode_array(np.stack([v // _SPLIT, v % _SPLIT], axis=1), precision="float32")


class Beeswarm(NbxWidget):
    """A beeswarm of N samples' attributions over F features (one row per shown feature).

    ``values`` is ``(N, F)``; ``feature_values`` (same shape, or None) colours the dots per
    feature from its 5th to 95th percentile (NaN grey; without them every dot has one colour);
    ``sample_indices`` maps each row of
    ``values`` to its index in the data set (default ``0..N-1``), which is what ``selected``,
    ``highlight`` and the ``select`` event use. Attributions travel as float16 (about 1e-3 of the
    largest magnitude), feature values as float32.

    Example:
        >>> w = Beeswarm(np.array([[0.5, -1.0], [0.2, 0.3]]), feature_names=["x", "y"])
        >>> w.highlight = 1     # ring sample 1's dots; the layout is not recomputed
        >>> w.highlight, w.sample_indices
        (1, None)
    """

    _view = traitlets.Unicode("beeswarm").tag(sync=True)
    _extra_kwargs = ("feature_names",)

    values = ArrayTrait(ndims=(2,), help="float array (N, F), required: attributions, one row per sample.").tag(
        sync=True, to_json=_float16
    )
    feature_values = ArrayTrait(
        ndims=(2,), allow_none=True, help="float array (N, F) or None, default None: the feature values (colour)."
    ).tag(sync=True, to_json=_float32)
    feature_names = traitlets.List(
        traitlets.Unicode(), help='list of F str, default ["feature 0", ...]: row labels, shown as text.'
    ).tag(sync=True)
    sample_indices = ArrayTrait(
        ndims=(1,), allow_none=True, help="int array (N,) or None, default None (= 0..N-1): data-set index per row."
    ).tag(sync=True, to_json=_indices)
    max_features = traitlets.Int(20, min=1, help="int >= 1, default 20: rows shown (top by mean |attribution|).").tag(
        sync=True
    )
    highlight = traitlets.Int(-1, min=-1, help="int, default -1 (none): sample index whose dots are ringed.").tag(
        sync=True
    )
    selected = traitlets.Int(-1, min=-1, help="int, default -1 (none): sample index last clicked in the browser.").tag(
        sync=True
    )
    width = traitlets.Int(560, min=120, max=4096, help="int 120..4096, default 560: CSS pixels of the plot.").tag(
        sync=True
    )
    value_label = traitlets.Unicode(
        "attribution", help='str, default "attribution": the x-axis title.'
    ).tag(sync=True)

    def __init__(
        self,
        values: Any,
        feature_values: Any = None,
        feature_names: Any = None,
        *,
        sample_indices: Any = None,
        **kwargs: Any,
    ) -> None:
        shape = np.shape(to_numpy(values))
        f = shape[1] if len(shape) == 2 else 0
        names = [f"feature {j}" for j in range(f)] if feature_names is None else [str(x) for x in feature_names]
        self._deferred = True
        super().__init__(
            values=values,
            feature_values=feature_values,
            feature_names=names,
            sample_indices=sample_indices,
            **kwargs,
        )
        self._deferred = False
        self._check_all()

    @classmethod
    def from_explanation(cls, explanation: Any, output: int | None = None, **kwargs: Any) -> Beeswarm:
        """A beeswarm of a batch :class:`~nbexplain.explanation.Explanation` over tabular features.

        ``explanation.values`` must be ``(N, F)``, or ``(N, F, K)`` with one column per output
        (2-D ``base_values``; ``output`` picks one, default: each sample's ``target``). ``explanation.data`` colours the dots.
        A lazy store explanation (``nbx.Explanation.open(store)``) is drawn from a seeded sample of
        ``max_points`` rows (default 2000) stratified by chunk, read without loading the rest.

        Example:
            >>> from nbexplain import Explanation
            >>> X = np.random.default_rng(0).normal(size=(50, 4))
            >>> e = Explanation(X * [3, 1, 0.5, 2], data=X, feature_names=list("abcd"))
            >>> w = Beeswarm.from_explanation(e, max_features=2)    # the 2 features of largest mean |value|
            >>> w.values.shape, w.max_features, w.feature_values.shape
            ((50, 4), 2, (50, 4))
        """
        if hasattr(explanation, "sample") and hasattr(explanation, "store"):  # a dataset-wide store
            explanation = explanation.sample(int(kwargs.pop("max_points", 2000)))  # stratified by chunk, seeded
            kwargs.setdefault("sample_indices", explanation.params["rows"])  # a dot's click names its row
        values = np.asarray(explanation.values, dtype=np.float64)
        if getattr(explanation, "has_output_axis", False) and values.ndim == 3:
            n = values.shape[0]
            if output is not None:
                values = values[:, :, int(output)]
            elif getattr(explanation, "target", None) is not None:
                target = np.asarray(explanation.target).reshape(-1).astype(int)
                values = values[np.arange(n), :, target]
            else:
                raise ValueError(f"the explanation holds {values.shape[2]} outputs and no target: pass output=<index>")
        if values.ndim != 2:
            raise ValueError(
                f"Beeswarm needs (N, F) attributions of tabular data; got values of shape {list(values.shape)} "
                "(images and text have their own views)"
            )
        data = getattr(explanation, "data", None)
        data = None if data is None or np.shape(data) != values.shape else data
        return cls(values, feature_values=data, feature_names=getattr(explanation, "feature_names", None), **kwargs)

    # -- validation ------------------------------------------------------------------------------
    def _check_all(self, values: Any = None, feature_values: Any = None, names: Any = None, indices: Any = None) -> None:
        v = self.values if values is None else values
        fv = self.feature_values if feature_values is None else feature_values
        nm = self.feature_names if names is None else names
        si = self.sample_indices if indices is None else indices
        n, f = v.shape
        if len(nm) != f:
            raise traitlets.TraitError(
                f"feature_names has {len(nm)} names but values has {f} columns (one name per feature)"
            )
        if fv is not None and fv.shape != v.shape:
            raise traitlets.TraitError(
                f"feature_values has shape {list(fv.shape)} but values has {list(v.shape)}: pass the (N, F) "
                "feature matrix the attributions explain, or None"
            )
        if si is not None:
            if si.shape != (n,):
                raise traitlets.TraitError(f"sample_indices has shape {list(si.shape)}; it needs one index per row ({n},)")
            if si.size and (not np.all(np.isfinite(si)) or np.any(si < 0) or np.any(si != np.round(si))):
                raise traitlets.TraitError("sample_indices must be non-negative integers (the data-set index of each row)")

    @traitlets.validate("values")
    def _valid_values(self, proposal: Any) -> np.ndarray:
        v = proposal["value"]
        if v.shape[0] == 0 or v.shape[1] == 0:
            raise traitlets.TraitError(f"values has shape {list(v.shape)}; it needs at least one sample and one feature")
        if not getattr(self, "_deferred", True):
            self._check_all(values=v)
        return v

    @traitlets.validate("feature_values", "feature_names", "sample_indices")
    def _valid_per_feature(self, proposal: Any) -> Any:
        if not getattr(self, "_deferred", True):
            key = {"feature_values": "feature_values", "feature_names": "names", "sample_indices": "indices"}
            self._check_all(**{key[proposal["trait"].name]: proposal["value"]})
        return proposal["value"]

    def update(self, values: Any = None, feature_values: Any = None, feature_names: Any = None,
               sample_indices: Any = None, **traits: Any) -> None:
        """Replace the data (shapes may change together): one message to the browser, checked together.

        Arguments left ``None`` keep their value unless ``values`` changes shape, in which case
        the per-sample arrays not given are dropped and the names reset. Unknown names raise
        ``TypeError``.

        Example:
            >>> w = Beeswarm(np.zeros((5, 2)), feature_names=["x", "y"])
            >>> w.update(np.ones((3, 2)), feature_values=np.zeros((3, 2)), sample_indices=[10, 20, 30])
            >>> w.values.shape, w.sample_indices, w.feature_names
            ((3, 2), array([10., 20., 30.]), ['x', 'y'])
        """
        self._check_kwargs(traits)
        new: dict[str, Any] = dict(traits)
        if values is not None:
            v = to_numpy(values)
            new["values"] = v
            if np.shape(v) != self.values.shape:
                f = v.shape[1] if v.ndim == 2 else 0
                new.setdefault("feature_values", None)
                new.setdefault("sample_indices", None)
                if feature_names is None and (v.ndim != 2 or f != self.values.shape[1]):
                    feature_names = [f"feature {j}" for j in range(f)]
        if feature_values is not None:
            new["feature_values"] = feature_values
        if feature_names is not None:
            new["feature_names"] = [str(x) for x in feature_names]
        if sample_indices is not None:
            new["sample_indices"] = sample_indices
        old = {k: getattr(self, k) for k in new}
        self._deferred = True
        try:
            with self.hold_sync():
                try:
                    for k, val in new.items():
                        self.set_trait(k, val)
                    self._check_all()
                except Exception:
                    for k, val in old.items():
                        self.set_trait(k, val)
                    raise
        finally:
            self._deferred = False
