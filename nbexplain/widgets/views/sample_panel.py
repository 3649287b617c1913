"""SamplePanel: one input (an image or a table row) with the model's top classes and its label.

Example:
    >>> from nbexplain.widgets import SamplePanel
    >>> p = SamplePanel(kind="table", row_names=["a", "b"], row_values=[1.0, 2.0],
    ...                 class_names=["no", "yes"], probabilities=[0.2, 0.8], true_label="yes")
    >>> p.kind, p.row_names, p.probabilities, p.true_label
    ('table', ['a', 'b'], array([0.2, 0.8]), 'yes')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from .._base import NbxWidget
from .._traits import ArrayTrait
from .feature_bars import _check_categories

__all__ = ["SamplePanel"]


class SamplePanel(NbxWidget):
    """Shows one sample ("sample i of n"), the top-k predicted classes and the true label.

    ``kind="text"`` shows ``text``; ``note`` is a notice line (e.g. "NaN in: age").
    ``kind="image"`` draws ``image`` (uint8 H x W or H x W x 3; floats in [0, 1] or [0, 255] and
    C x H x W are coerced); ``kind="table"`` lists ``row_names`` with ``row_values`` (a feature
    listed in ``categories`` shows its value's label: a DataFrame's strings).
    ``class_names`` defaults to ``"class 0" ...`` when probabilities are given without names.

    Example:
        >>> p = SamplePanel(kind="image", image=np.zeros((8, 8)), probabilities=[0.1, 0.9])
        >>> p.class_names
        ['class 0', 'class 1']
    """

    _view = traitlets.Unicode("sample_panel").tag(sync=True)

    kind = traitlets.Enum(
        ("image", "table", "text"), "table", help='str, default "table": "image", "table" or "text".'
    ).tag(sync=True)
    text = traitlets.Unicode("", help='str, default "": the input text (kind "text"), shown as literal text.').tag(
        sync=True
    )
    note = traitlets.Unicode(
        "", help='str, default "": a notice above the sample (NaN values, edits); "" = none.'
    ).tag(sync=True)
    image = ArrayTrait(
        kind="image", allow_none=True, help="uint8 array H x W or H x W x 3 or None, default None: the input image."
    ).tag(sync=True)
    row_names = traitlets.List(traitlets.Unicode(), help="list of F str, default []: table feature names.").tag(
        sync=True
    )
    row_values = ArrayTrait(
        ndims=(1,), allow_none=True, help="float array (F,) or None, default None: the table row."
    ).tag(sync=True)
    class_names = traitlets.List(traitlets.Unicode(), help="list of K str, default []: class names.").tag(sync=True)
    categories = traitlets.Any(
        None,
        allow_none=True,
        help=(
            "list of F entries or None, default None: per feature None (a number) or a non-empty list of "
            '{"value": float, "label": str}; a categorical feature\'s value is shown as its label.'
        ),
    ).tag(sync=True)
    probabilities = ArrayTrait(
        ndims=(1,), allow_none=True, help="float array (K,) or None, default None: predicted probabilities."
    ).tag(sync=True)
    true_label = traitlets.Unicode("", help='str, default "": the true label; "" when unknown.').tag(sync=True)
    top_k = traitlets.Int(3, min=1, help="int >= 1, default 3: classes listed.").tag(sync=True)
    index = traitlets.Int(0, min=0, help="int >= 0, default 0: the sample shown (0-based).").tag(sync=True)
    n_samples = traitlets.Int(1, min=0, help="int >= 0, default 1: samples in the data set.").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        probs = kwargs.get("probabilities")
        if probs is not None and not kwargs.get("class_names"):
            kwargs["class_names"] = [f"class {i}" for i in range(int(np.size(probs)))]
        if kwargs.get("row_values") is not None and not kwargs.get("row_names"):
            kwargs["row_names"] = [f"feature {i}" for i in range(int(np.size(kwargs["row_values"])))]
        super().__init__(**kwargs)

    @traitlets.validate("row_names", "class_names")
    def _valid_names(self, proposal: Any) -> list[str]:
        names = [str(n) for n in proposal["value"]]
        other = {"row_names": "row_values", "class_names": "probabilities"}[proposal["trait"].name]
        self._check(proposal["trait"].name, len(names), other, getattr(self, other))
        return names

    @traitlets.validate("categories")
    def _valid_categories(self, proposal: Any) -> list[Any] | None:
        cats = _check_categories(proposal["value"])
        if cats is not None and self.row_values is not None and len(cats) != self.row_values.size:
            raise traitlets.TraitError(f"categories has {len(cats)} entries but row_values has {self.row_values.size}")
        return cats

    @traitlets.validate("row_values", "probabilities")
    def _valid_arrays(self, proposal: Any) -> Any:
        value = proposal["value"]
        names = {"row_values": "row_names", "probabilities": "class_names"}[proposal["trait"].name]
        if value is not None:
            self._check(names, len(getattr(self, names)), proposal["trait"].name, value)
        return value

    @staticmethod
    def _check(names_trait: str, count: int, array_trait: str, array: Any) -> None:
        if array is not None and count != array.size:
            raise traitlets.TraitError(f"{names_trait} has {count} names but {array_trait} has {array.size} entries")

    @traitlets.validate("index")
    def _valid_index(self, proposal: Any) -> int:
        if self.n_samples and proposal["value"] >= self.n_samples:
            raise traitlets.TraitError(f"index {proposal['value']} is out of range for {self.n_samples} samples")
        return proposal["value"]

    def update(self, **traits: Any) -> None:
        """Set several traits at once (one message; names and arrays checked together).

        Example:
            >>> panel = SamplePanel(kind="image", image=np.zeros((8, 8)), n_samples=10)
            >>> panel.update(index=4, image=np.ones((8, 8)), probabilities=[0.7, 0.3], true_label="7")
            >>> panel.index, panel.true_label, panel.class_names
            (4, '7', ['class 0', 'class 1'])
            >>> panel.update(index=12)
            Traceback (most recent call last):
            ...
            traitlets.traitlets.TraitError: index 12 is out of range for 10 samples
        """
        self._check_kwargs(traits)
        probs = traits.get("probabilities")
        if probs is not None and "class_names" not in traits and not self.class_names:  # as the constructor does
            traits["class_names"] = [f"class {i}" for i in range(int(np.size(probs)))]
        with self.hold_sync(), self.hold_trait_notifications():
            for name, value in traits.items():
                setattr(self, name, value)
