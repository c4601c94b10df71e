"""A larger look at a failure: the shrunk case grown to a readable size and checked once more.

Shrinking makes a failing case minimal, often a single row or element, and that hides the pattern
of wrong elements that names a convolution or pooling bug (the last column, every 2nd row, the
border). The same configuration (batch, channels, kernel, stride, padding, dilation, groups,
dtype, layout) on an input of at least GROWN_SIZE rows and columns usually shows it.
"""
from __future__ import annotations

from dataclasses import replace

from conformance.ops.conv2d import Conv2dCase
from conformance.ops.pool2d import Pool2dCase
from conformance.sizes import TINY
from conformance.checks import CheckFailure
from conformance.error_map import ErrorMap

GROWN_SIZE = 8


def grown(case):
    """The case with height and width at least GROWN_SIZE, or None (not a conv2d/pool2d case,
    or already that large)."""
    if not isinstance(case, (Conv2dCase, Pool2dCase)):
        return None
    if min(case.height, case.width) >= GROWN_SIZE:
        return None
    return replace(case, height=max(case.height, GROWN_SIZE), width=max(case.width, GROWN_SIZE))


def grown_failure(spec, impl, op, case, shrunk_shape) -> tuple[object, ErrorMap] | None:
    """(grown case, its error map) when ``spec`` fails on the grown case with a map of another
    shape than the shrunk case's; None when there is no grown case, the check compares no array
    of the op (jacobian), the grown case fails otherwise or passes, or its map has the shrunk
    map's shape (a weight or bias gradient: growing the input shows nothing new). The grown
    case lies within the implementation's declared limits, or there is none."""
    bigger = grown(case)
    if bigger is not None:
        claimed = op.features_of(case)
        bigger = op.restrict(bigger, op.declared_limits(impl.capabilities), claimed)
    if bigger is None or spec.property is None or spec.tier == TINY:
        return None
    try:
        spec.property(impl, op, bigger)
    except CheckFailure as failure:
        found = failure.error_map
        if found is not None and found.shape and tuple(found.shape) != tuple(shrunk_shape):
            return bigger, found
    except Exception:  # noqa: BLE001 - another kind of failure on the grown case: nothing to draw
        pass
    return None
