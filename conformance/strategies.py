"""Hypothesis strategies for legal op configurations.

Each strategy takes the features the case may use (``allowed``, normally the implementation's
claims intersected with what the check needs) and the ones it must use (``required``), so a case
never relies on a feature the implementation did not claim. ``tiny`` keeps the arrays small enough
for a full finite-difference Jacobian.

Shrinking goes towards the simplest case: batch 1, one channel, 1x1 kernel, stride 1, no padding,
float64, contiguous, seed 0.
"""
from __future__ import annotations

from hypothesis import strategies as st

from conformance.cases import Conv2dCase, LayerCase, Pool2dCase
from conformance.layouts import LAYOUTS

DTYPES = ("float64", "float32")
POOL_MODES = ("max", "avg", "min")


def _dtype(draw, allowed):
    return draw(st.sampled_from([d for d in DTYPES if d in allowed]))


def _layout(draw, allowed, required):
    if "noncontiguous" in required:
        return draw(st.sampled_from(LAYOUTS[1:]))
    return draw(st.sampled_from(LAYOUTS)) if "noncontiguous" in allowed else "contiguous"


def _pair(draw, allowed, feature, low, high):
    """A (rows, cols) pair: (low, low) unless ``feature`` is allowed; square unless rectangular is."""
    if feature is not None and feature not in allowed:
        return (low, low)
    rows = draw(st.integers(low, high))
    cols = draw(st.integers(low, high)) if "rectangular" in allowed else rows
    return (rows, cols)


def _magnitude(draw):
    """Power-of-two scale of x: ordinary, huge (float16 overflows) or tiny."""
    return draw(st.sampled_from((0, 20, -20)))


def _input_size(draw, extent, padding, extra):
    """A size for which the padded input holds at least one window: size + 2p >= extent."""
    smallest = max(1, extent - 2 * padding)
    return draw(st.integers(smallest, smallest + extra))


@st.composite
def conv2d_cases(draw, allowed: frozenset, required: frozenset = frozenset(), tiny: bool = False):
    small = 2 if tiny else 3
    if "groups" in allowed:
        # "depthwise" (groups == channels) is drawn about a third of the time.
        grouping = draw(st.sampled_from(["single", "depthwise", "grouped"]))
    else:
        grouping = "single"
    if grouping == "single":
        groups = 1
        channels = draw(st.integers(1, small))
    elif grouping == "depthwise":
        groups = channels = draw(st.integers(2, small + 1))
    else:
        groups = draw(st.integers(2, 3))
        channels = groups * draw(st.integers(1, 2))
    filters = groups * draw(st.integers(1, 1 if tiny else 3))
    kernel = _pair(draw, allowed, None, 1, 3 if tiny else 4)
    dilation = _pair(draw, allowed, "dilation", 1, 2 if tiny else 3)
    stride = _pair(draw, allowed, "stride", 1, 3 if tiny else 4)
    padding = _pair(draw, allowed, "padding", 0, 2 if tiny else 3)
    extent = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    extra = 2 if tiny else 7
    height = _input_size(draw, extent[0], padding[0], extra)
    width = _input_size(draw, extent[1], padding[1], extra)
    if "bias" in required:
        bias = True
    else:
        bias = draw(st.booleans()) if "bias" in allowed else False
    return Conv2dCase(
        batch=draw(st.integers(1, 1 if tiny else 3)), channels=channels, height=height,
        width=width, filters=filters, kernel=kernel, stride=stride, padding=padding,
        dilation=dilation, groups=groups, bias=bias, dtype=_dtype(draw, allowed),
        layout=_layout(draw, allowed, required), magnitude=_magnitude(draw),
        seed=draw(st.integers(0, 2**32 - 1)))


@st.composite
def pool2d_cases(draw, allowed: frozenset, required: frozenset = frozenset(), tiny: bool = False):
    mode = draw(st.sampled_from([m for m in POOL_MODES if m in allowed]))
    kernel = _pair(draw, allowed, None, 1, 3 if tiny else 4)
    stride = _pair(draw, allowed, "stride", 1, 3 if tiny else 4)
    if "padding" in allowed:
        rows = draw(st.integers(0, kernel[0] // 2))
        cols = draw(st.integers(0, kernel[1] // 2)) if "rectangular" in allowed else min(
            rows, kernel[1] // 2)
        padding = (rows, cols)
    else:
        padding = (0, 0)
    extra = 2 if tiny else 7
    return Pool2dCase(
        batch=draw(st.integers(1, 1 if tiny else 3)),
        channels=draw(st.integers(1, 1 if tiny else 3)),
        height=_input_size(draw, kernel[0], padding[0], extra),
        width=_input_size(draw, kernel[1], padding[1], extra),
        mode=mode, kernel=kernel, stride=stride, padding=padding,
        dtype=_dtype(draw, allowed), layout=_layout(draw, allowed, required),
        ties="ties" in required, magnitude=_magnitude(draw),
        seed=draw(st.integers(0, 2**32 - 1)))


@st.composite
def layer_cases(draw, op: str, allowed: frozenset, required: frozenset = frozenset(),
                tiny: bool = False, special: str | None = None):
    """Cases of the dense-network ops; ``special="zeros"`` puts exact zeros into relu's input."""
    dim = st.integers(1, 2 if tiny else 4)
    if op in ("linear", "softmax_cross_entropy"):
        shape = (draw(dim), draw(st.integers(1, 3 if tiny else 6)))
    else:
        smallest = 2 if op == "flatten" else 1
        shape = tuple(draw(st.lists(dim, min_size=smallest, max_size=3 if tiny else 4)))
    extra = {}
    if op == "softmax":
        extra["axis"] = draw(st.integers(-len(shape), len(shape) - 1))
    elif op == "linear":
        extra["out_features"] = draw(st.integers(1, 2 if tiny else 5))
        extra["bias"] = "bias" in required or ("bias" in allowed and draw(st.booleans()))
    elif op == "dropout":
        extra["p"] = draw(st.sampled_from((0.5, 0.0, 0.3, 0.9)))
    elif op == "relu":
        extra["zeros"] = special == "zeros"
    return LayerCase(op=op, shape=shape, dtype=_dtype(draw, allowed),
                     layout=_layout(draw, allowed, required), magnitude=_magnitude(draw),
                     seed=draw(st.integers(0, 2**32 - 1)), **extra)
