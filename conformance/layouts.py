"""Memory layouts: the same values stored differently, to catch code that assumes C order.

contiguous      C-contiguous copy
channels_last   4-D arrays stored as (N, H, W, C) and viewed back as (N, C, H, W)
strided         every axis has stride 2 elements; the gaps hold NaN (integers: -1), so reading
                through wrong strides shows up as NaN (or an invalid class) instead of
                plausible numbers
reversed        negative strides on every axis
"""
from __future__ import annotations

import numpy as np

LAYOUTS = ("contiguous", "channels_last", "strided", "reversed")


def lay_out(a: np.ndarray, layout: str) -> np.ndarray:
    """Return an array equal to ``a`` (values, shape, dtype) stored with the given layout."""
    if a.ndim == 0:
        return np.array(a, copy=True)
    if layout == "contiguous" or (layout == "channels_last" and a.ndim != 4):
        return np.array(a, order="C", copy=True)
    if layout == "channels_last":
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    every_other = (slice(None, None, 2),) * a.ndim
    if layout == "strided":
        gap = {"f": np.nan, "b": False}.get(a.dtype.kind, -1)
        storage = np.full(tuple(2 * s for s in a.shape), gap, dtype=a.dtype)
        storage[every_other] = a
        return storage[every_other]
    if layout == "reversed":
        flipped = (slice(None, None, -1),) * a.ndim
        return np.ascontiguousarray(a[flipped])[flipped]
    raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")


def read_only(a: np.ndarray | None) -> np.ndarray | None:
    """A view of ``a`` (same layout) that raises on any write: in-place updates become errors."""
    if a is None:
        return None
    view = a.view()
    view.flags.writeable = False
    return view
