"""Sizes: the output-size formula, and the ranges each op record draws its shapes from.

Every record keeps its ranges in one table, one ``Sizes`` per tier:

    "small"   the cases of most checks
    "tiny"    the full finite-difference Jacobian (one forward per input element)

A strategy draws each size from the range of the tier it is given, so a new tier (say, much
larger shapes) is a new entry in a record's table. Nothing here imports NumPy, Hypothesis or
torch: built-in implementations use ``output_size`` too.
"""
from __future__ import annotations

from dataclasses import dataclass

SMALL, TINY = "small", "tiny"

# Powers of two that scale x: ordinary values, huge ones (float16 would overflow) and tiny ones.
MAGNITUDES = (0, 20, -20)


@dataclass(frozen=True)
class Range:
    """The integers low..high, both included."""
    low: int
    high: int


SEEDS = Range(0, 2**32 - 1)


class Sizes:
    """Named ranges of one op at one tier:
    ``Sizes(batch=(1, 3), kernel=(1, 4)).batch.high == 3``."""

    def __init__(self, **ranges: tuple[int, int]):
        self._ranges = {name: Range(*bounds) for name, bounds in ranges.items()}

    def __getattr__(self, name: str) -> Range:
        try:
            return self.__dict__["_ranges"][name]
        except KeyError:
            raise AttributeError(f"no size range {name!r}; known: {sorted(self._ranges)}") from None

    def __repr__(self) -> str:
        ranges = ", ".join(f"{k}=({r.low}, {r.high})" for k, r in self._ranges.items())
        return f"Sizes({ranges})"


def extent(kernel: int, dilation: int = 1) -> int:
    """Rows (or columns) of the input one window spans: dilation * (kernel - 1) + 1."""
    return dilation * (kernel - 1) + 1


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0,
                dilation: int = 1) -> int:
    """Output rows (or columns) of a convolution or pooling window sliding over ``size`` inputs
    padded by ``padding`` on both sides, floor rounding, as PyTorch:
    (size + 2 padding - dilation (kernel - 1) - 1) // stride + 1 (below 1: empty output)."""
    return (size + 2 * padding - extent(kernel, dilation)) // stride + 1
