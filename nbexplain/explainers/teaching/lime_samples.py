"""Which of LIME's samples to show, and what each looked like: masked images and kept words (pure numpy).

Helpers of the views of :class:`~nbexplain.explainers.teaching.lime_neighbourhood.Neighbourhood` (for
:class:`~nbexplain.widgets.LimeNeighbourhoodView`): :func:`strip_indices` picks a strip of samples
(by distance, so the choice does not move with the kernel width), :func:`masked_images` rebuilds
the images the model saw from the on/off patterns (as lime's ``data_labels`` does; lime keeps no
copy), :func:`kept_words` the document of a sample.

Example:
    >>> from nbexplain.explainers.teaching.lime_neighbourhood import NeighbourhoodSession
    >>> f = lambda d: np.array([[0.2, 0.8] if "good" in t else [0.9, 0.1] for t in d])
    >>> nb = NeighbourhoodSession.for_text(f, "a good day", num_samples=30, n_seeds=1).run()
    >>> i = int(strip_indices(nb, 3)[-1]); pieces, dropped = kept_words(nb, i)
    >>> "".join("" if d else p for p, d in zip(pieces, dropped)) == nb.texts[i]
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nbexplain.explainers.teaching.lime_neighbourhood import Neighbourhood

__all__ = ["kept_words", "masked_images", "strip_indices"]


def strip_indices(nb: Neighbourhood, count: int) -> np.ndarray:
    """``count`` samples to show in a strip: the instance (row 0), then samples evenly spread from the
    nearest to the farthest (by distance, so the choice does not move with the kernel width).

    Example:
        >>> nb = Neighbourhood("text", np.ones((5, 1)), np.zeros(5), np.zeros((5, 2)), np.array([0, 4, 1, 3, 2.0]),
        ...                    1.0, np.ones(5), np.zeros(1), 0.0, np.zeros(5), 1.0, 0, 5, 0, ["a"])
        >>> strip_indices(nb, 3).tolist()
        [0, 2, 1]
    """
    order = np.argsort(nb.distances[1:], kind="stable") + 1
    k = min(int(count) - 1, len(order))
    if k <= 0:
        return np.zeros(1, dtype=np.int64)
    picks = order[np.unique(np.round(np.linspace(0, len(order) - 1, k)).astype(int))]
    return np.r_[0, picks].astype(np.int64)


def masked_images(nb: Neighbourhood, indices: Sequence[int], max_side: int = 64) -> np.ndarray:
    """The images the model saw for samples ``indices`` of an image neighbourhood, ``(n, h, w, 3)``:
    each superpixel switched off in the sample shows ``hidden`` (as lime's ``data_labels``), then every
    k-th pixel is kept so the longer side is at most ``max_side``.

    Example:
        >>> seg = np.array([[0, 1], [0, 1]]); img = np.ones((2, 2, 3)); hid = np.zeros((2, 2, 3))
        >>> nb = Neighbourhood("image", np.array([[1.0, 1.0], [1.0, 0.0]]), np.zeros(2), np.zeros((2, 2)), np.zeros(2),
        ...                    1.0, np.ones(2), np.zeros(2), 0.0, np.zeros(2), 1.0, 0, 2, 0, ["a", "b"],
        ...                    extra={"segments": seg, "image": img, "hidden": hid})
        >>> masked_images(nb, [1])[0, ..., 0].tolist()
        [[1.0, 0.0], [1.0, 0.0]]
    """
    seg, img, hidden = nb.extra["segments"], nb.extra["image"], nb.extra["hidden"]
    step = max(1, int(np.ceil(max(seg.shape) / max_side)))
    seg_s, img_s, hid_s = seg[::step, ::step], img[::step, ::step], hidden[::step, ::step]
    on = nb.interpretable[np.asarray(indices, dtype=np.int64)].astype(bool)  # (n, n_segments)
    keep = np.take_along_axis(on, np.broadcast_to(seg_s.reshape(1, -1), (len(on), seg_s.size)), axis=1)
    keep = keep.reshape(len(on), *seg_s.shape)[..., None]
    return np.where(keep, img_s[None], hid_s[None])


def kept_words(nb: Neighbourhood, index: int) -> tuple[list[str], np.ndarray]:
    """The document of sample ``index`` of a text neighbourhood as pieces (words and the text between
    them) and a 0/1 ``dropped`` flag per piece (1: a word lime removed in this sample).

    Example:
        >>> nb = Neighbourhood("text", np.array([[1.0, 1.0], [0.0, 1.0]]), np.zeros(2), np.zeros((2, 2)), np.zeros(2),
        ...                    1.0, np.ones(2), np.zeros(2), 0.0, np.zeros(2), 1.0, 0, 2, 0, ["a", "b"],
        ...                    extra={"pieces": [("a", 0), (" ", -1), ("b", 1)]})
        >>> kept_words(nb, 1)
        (['a', ' ', 'b'], array([1., 0., 0.]))
    """
    pieces = nb.extra["pieces"]
    row = nb.interpretable[int(index)]
    dropped = np.array([0.0 if t < 0 else float(row[t] == 0) for _w, t in pieces])
    return [w for w, _t in pieces], dropped
