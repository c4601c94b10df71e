"""Oracles that need no PyTorch: inner products, central differences, full Jacobians.

They only evaluate the function they are given (an implementation's own forward), so they
check an implementation's backward against its forward.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

Arrays = Mapping[str, np.ndarray]


def inner(a: np.ndarray, b: np.ndarray) -> float:
    """<a, b> summed in float64."""
    return float(np.dot(np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)))


def inner_abs(a: np.ndarray, b: np.ndarray) -> float:
    """<|a|, |b|>, the scale of the rounding error of ``inner(a, b)``."""
    return inner(np.abs(a), np.abs(b))


def central_difference(f: Callable[[Arrays], np.ndarray], inputs: Arrays, name: str,
                       direction: np.ndarray, step: float) -> np.ndarray:
    """(f(a + h v) - f(a - h v)) / 2h for the input ``name``, the others held fixed.

    For a function that is linear in that input the result is exact up to the rounding of the
    two evaluations, whatever the step; for a piecewise-linear one it is exact while no
    selection changes between a - h v and a + h v.
    """
    plus = dict(inputs, **{name: inputs[name] + step * direction})
    minus = dict(inputs, **{name: inputs[name] - step * direction})
    return (np.asarray(f(plus), np.float64) - np.asarray(f(minus), np.float64)) / (2 * step)


def jacobian_by_differences(f: Callable[[Arrays], np.ndarray], inputs: Arrays, name: str,
                            step: float) -> np.ndarray:
    """The full Jacobian d f / d inputs[name], shape (f.size, inputs[name].size), column by column."""
    base = inputs[name]
    columns = []
    for j in range(base.size):
        unit = np.zeros(base.size, dtype=base.dtype)
        unit[j] = 1
        columns.append(central_difference(f, inputs, name, unit.reshape(base.shape), step).ravel())
    return np.stack(columns, axis=1)


def jacobian_by_vjp(vjp: Callable[[np.ndarray], Mapping[str, np.ndarray]], out_shape, dtype,
                    names) -> dict[str, np.ndarray]:
    """The Jacobian of each named input, row by row, from vector-Jacobian products with unit rows."""
    size = int(np.prod(out_shape))
    rows: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for i in range(size):
        unit = np.zeros(size, dtype=dtype)
        unit[i] = 1
        grads = vjp(unit.reshape(out_shape))
        for n in names:
            rows[n].append(np.asarray(grads[n], np.float64).ravel())
    return {n: np.stack(r, axis=0) for n, r in rows.items()}


def window_top2_gap(x: np.ndarray, kernel_size, stride, padding, mode: str) -> float:
    """Smallest gap between the best and second-best value over all pooling windows.

    A finite-difference step h with direction |v| <= 1 keeps every window's winner when
    2 h < gap. Windows of one element have an infinite gap.
    """
    sign = 1.0 if mode == "max" else -1.0
    (ph, pw), (sh, sw) = padding, stride
    xp = np.pad(sign * np.asarray(x, np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)),
                constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(xp, tuple(kernel_size), axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw].reshape(*windows.shape[:2], -1, int(np.prod(kernel_size)))
    if windows.shape[-1] < 2:
        return np.inf
    top2 = -np.sort(-windows, axis=-1)[..., :2]
    with np.errstate(invalid="ignore"):
        gaps = top2[..., 0] - top2[..., 1]
    return float(np.nanmin(gaps))
