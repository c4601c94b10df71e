"""Error bounds from rounding-error analysis, and the elementwise comparison that uses them.

A computed sum of n products has error at most gamma_n * sum|a_i b_i| with gamma_n ~ n u, for any
order of direct summation. So each element y_i of an output (or gradient) is allowed

    bound_i = C * n * (u + u64) * A_i  +  (u * |y_i| for float32 results)

where A_i is the same op applied to absolute values, u the unit roundoff of the result's dtype,
u64 that of the float64 oracle (which makes the same kind of error), and C = 2 a safety factor over
gamma_n. The last term is the final rounding of a result accumulated in higher precision. Each of
the n roundings may also underflow, adding up to the dtype's smallest normal number (C * n * eta).
An op that only selects values (max/min pooling forward) has n = 0 and must match exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAFETY = 2.0
U64 = float(np.finfo(np.float64).eps) / 2


def unit_roundoff(dtype) -> float:
    return float(np.finfo(np.dtype(dtype)).eps) / 2


def elementwise_bound(n_terms: int, dtype, abs_value: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """The allowed |got - expected| per element (see module docstring)."""
    if n_terms == 0:
        return np.zeros(np.shape(expected))
    u = unit_roundoff(dtype)
    # Each rounding may also underflow. Libraries that flush results below the normal range to
    # zero (PyTorch's float64 sigmoid below exp(-709.8), SIMD code in flush-to-zero mode) make an
    # absolute error of up to the smallest normal number: far below any real bug.
    underflow = float(np.finfo(np.dtype(dtype)).tiny)
    bound = SAFETY * n_terms * ((u + U64) * np.asarray(abs_value, np.float64) + underflow)
    if u > U64:
        bound = bound + u * np.abs(expected)
    return bound


def scalar_bound(n_terms: int, dtype, abs_scale: float, result_scale: float, length: int) -> float:
    """The allowed error of an inner product <y, g> of length ``length``, computed in float64,
    whose y elements are sums of n_terms products.

    abs_scale is <|g|, A> (A the op on absolute values); result_scale is <|g|, |y|>, which covers
    the final rounding of float32 results and the rounding of the inner product itself.
    """
    u = unit_roundoff(dtype)
    final = u if u > U64 else 0.0
    return (SAFETY * n_terms * (u + U64) * abs_scale
            + (final + SAFETY * length * U64) * result_scale)


@dataclass
class Mismatch:
    """The worst element of a comparison."""
    name: str
    index: tuple[int, ...]
    got: float
    expected: float
    error: float
    bound: float

    @property
    def ratio(self) -> float:
        if self.error == 0:
            return 0.0
        return np.inf if self.bound == 0 else self.error / self.bound

    def describe(self) -> str:
        where = f"{self.name}{list(self.index)}" if self.index else self.name
        return (f"{where}: got {self.got!r}, expected {self.expected!r}, "
                f"error {self.error:.3g} > bound {self.bound:.3g}"
                + (f" ({self.ratio:.3g}x)" if np.isfinite(self.ratio) else ""))


def error_ratios(got: np.ndarray, expected: np.ndarray, bound: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(|got - expected|, that error / bound) per element, in float64: NaN errors count as
    infinite, a zero error is ratio 0 even where the bound is 0."""
    error = np.abs(np.asarray(got, np.float64) - expected)
    error = np.where(np.isnan(error), np.inf, error)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(error == 0, 0.0, error / bound)
    return error, ratio


def worst_element(name: str, got: np.ndarray, expected: np.ndarray, bound: np.ndarray) -> Mismatch:
    """The element with the largest error relative to its bound (NaN counts as infinitely wrong)."""
    got64 = np.asarray(got, np.float64)
    error, ratio = error_ratios(got64, expected, bound)
    flat = int(np.argmax(ratio)) if ratio.size else 0
    if ratio.size == 0:
        return Mismatch(name, (), 0.0, 0.0, 0.0, 0.0)
    index = np.unravel_index(flat, ratio.shape)
    return Mismatch(name, tuple(int(i) for i in index), float(got64[index]),
                    float(expected[index]), float(error[index]), float(bound[index]))
