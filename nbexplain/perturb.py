"""Masks for what-if edits of images (square patches) and token sequences (dropped tokens).

Pure numpy: the dashboard toggles a patch where the user clicked on a heatmap, applies the mask
to the input, re-predicts and re-explains; for text it drops tokens.

Example:
    >>> import numpy as np
    >>> m = PatchMask((4, 4), patch=2)
    >>> m.toggle_at(3, 0)
    True
    >>> m.mask.tolist()
    [[False, False], [True, False]]
    >>> m.apply(np.ones((4, 4)), fill=0.0).astype(int).tolist()
    [[1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]]
    >>> t = TokenMask(3)
    >>> t.toggle(1)
    True
    >>> t.apply(["a", "very", "good"])
    'a good'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nbexplain.models import to_numpy

__all__ = ["PatchMask", "TokenMask", "default_patch_size"]


def default_patch_size(height: int, width: int) -> int:
    """The default patch edge: ``max(1, min(H, W) // 8)`` (an 8 x 8 grid on a square image).

    Example:
        >>> default_patch_size(28, 28), default_patch_size(8, 8), default_patch_size(3, 100)
        (3, 1, 1)
    """
    return max(1, min(int(height), int(width)) // 8)


class PatchMask:
    """A grid of square patches over an H x W image; each patch is occluded or not.

    ``image_shape`` is (H, W), (C, H, W) or (1, C, H, W) (the last two axes are the spatial
    ones). ``patch`` is the patch edge in pixels (default :func:`default_patch_size`); the last
    row and column of patches are smaller when H or W is not a multiple of it.

    Example:
        >>> m = PatchMask((1, 5, 5), patch=2)
        >>> m.grid_shape
        (3, 3)
        >>> m.patch_bounds(2, 2)
        (4, 5, 4, 5)
    """

    def __init__(self, image_shape: Sequence[int], patch: int | None = None) -> None:
        shape = tuple(int(s) for s in image_shape)
        if len(shape) < 2 or any(s < 1 for s in shape[-2:]):
            raise ValueError(
                f"image_shape must end with (H, W), both >= 1, e.g. (28, 28) or (3, 32, 32); got {shape}"
            )
        self.height, self.width = shape[-2], shape[-1]
        size = default_patch_size(self.height, self.width) if patch is None else int(patch)
        if size < 1:
            raise ValueError(f"patch must be at least 1 pixel, got {patch}")
        self.patch = size
        self.grid_shape = (-(-self.height // size), -(-self.width // size))
        self.mask = np.zeros(self.grid_shape, dtype=bool)

    def __repr__(self) -> str:
        return f"PatchMask(({self.height}, {self.width}), patch={self.patch}, occluded={int(self.mask.sum())})"

    def cell_of(self, row: int, col: int) -> tuple[int, int]:
        """The (grid row, grid col) of the patch holding pixel (``row``, ``col``).

        Example:
            >>> PatchMask((8, 8), patch=3).cell_of(7, 2)
            (2, 0)
        """
        r, c = int(row), int(col)
        if not (0 <= r < self.height and 0 <= c < self.width):
            raise IndexError(f"pixel ({r}, {c}) is outside the {self.height} x {self.width} image")
        return r // self.patch, c // self.patch

    def patch_bounds(self, grid_row: int, grid_col: int) -> tuple[int, int, int, int]:
        """Pixel bounds ``(row0, row1, col0, col1)`` (end exclusive) of one patch.

        Example:
            >>> PatchMask((8, 8), patch=3).patch_bounds(2, 1)
            (6, 8, 3, 6)
        """
        r0, c0 = int(grid_row) * self.patch, int(grid_col) * self.patch
        return r0, min(r0 + self.patch, self.height), c0, min(c0 + self.patch, self.width)

    def toggle_at(self, row: int, col: int) -> bool:
        """Toggle the patch containing pixel (``row``, ``col``); returns its new state (True = occluded).

        Example:
            >>> m = PatchMask((4, 4), patch=2)
            >>> m.toggle_at(0, 1), m.toggle_at(1, 0)
            (True, False)
        """
        gr, gc = self.cell_of(row, col)
        self.mask[gr, gc] = not self.mask[gr, gc]
        return bool(self.mask[gr, gc])

    def reset(self) -> None:
        """Clear every patch.

        Example:
            >>> m = PatchMask((4, 4)); _ = m.toggle_at(0, 0); m.reset(); int(m.mask.sum())
            0
        """
        self.mask[:] = False

    def pixel_mask(self) -> np.ndarray:
        """The mask at pixel resolution: bool (H, W), True where occluded.

        Example:
            >>> m = PatchMask((3, 3), patch=2); _ = m.toggle_at(2, 2)
            >>> m.pixel_mask().astype(int).tolist()
            [[0, 0, 0], [0, 0, 0], [0, 0, 1]]
        """
        full = np.repeat(np.repeat(self.mask, self.patch, axis=0), self.patch, axis=1)
        return full[: self.height, : self.width]

    def apply(self, x: Any, fill: Any = 0.0) -> np.ndarray:
        """A copy of image ``x`` with the occluded patches replaced by ``fill``.

        ``x`` is H x W, C x H x W or 1 x C x H x W (numpy or torch; the result is numpy, same
        shape and float dtype). ``fill`` is a number, ``"mean"`` (each channel's mean over the
        image) or an array of ``x``'s shape (a baseline image; its pixels are copied in).

        Example:
            >>> m = PatchMask((2, 2), patch=1); _ = m.toggle_at(0, 0)
            >>> x = np.array([[[1.0, 2.0], [3.0, 6.0]], [[0.0, 0.0], [0.0, 4.0]]])
            >>> m.apply(x, fill="mean")[:, 0, 0].tolist()
            [3.0, 1.0]
            >>> m.apply(x, fill=np.full_like(x, -1.0))[:, 0, 0].tolist()
            [-1.0, -1.0]
        """
        a = to_numpy(x)
        if a.ndim < 2 or tuple(a.shape[-2:]) != (self.height, self.width):
            raise ValueError(
                f"x has shape {list(a.shape)} but the mask is for {self.height} x {self.width} images "
                "(H x W, C x H x W or 1 x C x H x W)"
            )
        out = np.array(a, dtype=a.dtype if np.issubdtype(a.dtype, np.floating) else np.float64)
        where = np.broadcast_to(self.pixel_mask(), out.shape)
        if isinstance(fill, str):
            if fill != "mean":
                raise ValueError(f'fill must be a number, "mean" or a baseline array; got {fill!r}')
            means = out.mean(axis=(-2, -1), keepdims=True)
            source = np.broadcast_to(means, out.shape)
        elif np.ndim(fill) == 0:
            source = np.broadcast_to(np.asarray(float(fill), dtype=out.dtype), out.shape)
        else:
            base = to_numpy(fill)
            if base.shape != a.shape:
                raise ValueError(
                    f"a baseline fill must have the image's shape {list(a.shape)}; got {list(base.shape)}"
                )
            source = base.astype(out.dtype)
        out[where] = source[where]
        return out


class TokenMask:
    """Which of ``n`` tokens are dropped (removed from the text) for a what-if.

    Example:
        >>> t = TokenMask(4); _ = t.toggle(0); _ = t.toggle(2)
        >>> t.dropped.tolist(), t.apply(["not", "a", "bad", "film"])
        ([True, False, True, False], 'a film')
    """

    def __init__(self, n: int) -> None:
        if int(n) < 0:
            raise ValueError(f"the number of tokens must be >= 0, got {n}")
        self.n = int(n)
        self.dropped = np.zeros(self.n, dtype=bool)

    def __repr__(self) -> str:
        return f"TokenMask({self.n}, dropped={int(self.dropped.sum())})"

    @property
    def mask(self) -> np.ndarray:
        """The same as ``dropped`` (bool (n,), True = dropped), named like :attr:`PatchMask.mask`."""
        return self.dropped

    def toggle(self, i: int) -> bool:
        """Toggle token ``i``; returns its new state (True = dropped).

        Example:
            >>> TokenMask(2).toggle(1)
            True
        """
        j = int(i)
        if not 0 <= j < self.n:
            raise IndexError(f"token {j} is out of range: there are {self.n} tokens (0..{self.n - 1})")
        self.dropped[j] = not self.dropped[j]
        return bool(self.dropped[j])

    def reset(self) -> None:
        """Keep every token again.

        Example:
            >>> t = TokenMask(2); _ = t.toggle(0); t.reset(); t.dropped.any()
            np.False_
        """
        self.dropped[:] = False

    def kept(self, tokens: Sequence[str]) -> list[str]:
        """The tokens that are not dropped, in order.

        Example:
            >>> t = TokenMask(2); _ = t.toggle(0); t.kept(["x", "y"])
            ['y']
        """
        toks = list(tokens)
        if len(toks) != self.n:
            raise ValueError(f"got {len(toks)} tokens but the mask is for {self.n}")
        return [tok for tok, d in zip(toks, self.dropped, strict=True) if not d]

    def apply(self, tokens: Sequence[str], sep: str = " ") -> str:
        """The text without the dropped tokens, joined by ``sep``.

        Example:
            >>> TokenMask(2).apply(["good", "movie"])
            'good movie'
        """
        return sep.join(str(t) for t in self.kept(tokens))
