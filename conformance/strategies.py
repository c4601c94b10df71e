"""Hypothesis strategies for legal op configurations.

Each strategy takes the features the case may use (``allowed``, normally the implementation's
claims intersected with what the check needs) and the ones it must use (``required``), so a case
never relies on a feature the implementation did not claim. ``tiny`` keeps the arrays small enough
for a full finite-difference Jacobian.

Shrinking goes towards the simplest case: batch 1, one channel, 1x1 kernel, stride 1, no padding,
float64, contiguous, seed 0.
"""
from __future__ import annotations

import math

from hypothesis import strategies as st

from conformance import sizes
from conformance.cases import Conv2dCase, LayerCase, Pool2dCase
from conformance.layouts import LAYOUTS
from conformance.sizes import BATCHES, KERNELS, NEAR_POWERS, WIDTHS, draw_size

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


def _bias(draw, allowed, required):
    if "bias" in required:
        return True
    return draw(st.booleans()) if "bias" in allowed else False


def _magnitude(draw):
    """Power-of-two scale of x: ordinary, huge (float16 overflows) or tiny."""
    return draw(st.sampled_from((0, 20, -20)))


def _input_size(draw, extent, padding, extra):
    """A size for which the padded input holds at least one window: size + 2p >= extent."""
    smallest = max(1, extent - 2 * padding)
    return draw(st.integers(smallest, smallest + extra))


def _large_pair(draw, allowed, feature, candidates, at_least=1):
    """A (rows, cols) pair for the large tier, like ``_pair``."""
    if feature is not None and feature not in allowed:
        return (candidates[0], candidates[0])
    rows = draw_size(draw, candidates, at_least=at_least)
    cols = draw_size(draw, candidates, at_least=at_least) if "rectangular" in allowed else rows
    return (rows, cols)


def _fits(*arrays, products=0):
    """True when every array (given as its element count) and the multiply-adds fit the caps."""
    return max(arrays) <= sizes.MAX_ELEMENTS and products <= sizes.MAX_PRODUCTS


def _out(size, extent, stride, padding):
    return max(0, (size + 2 * padding - extent) // stride + 1)


def _large_conv2d(draw, allowed, required):
    """Channels and filters per group, spatial size and batch around the powers of two."""
    grouping = (draw(st.sampled_from(["single", "depthwise", "grouped"])) if "groups" in allowed
                else "single")
    if grouping == "depthwise":
        groups = draw_size(draw, NEAR_POWERS, at_least=2)
        per_group = 1
    else:
        groups = draw_size(draw, (2, 3, 4, 8, 16)) if grouping == "grouped" else 1
        per_group = draw_size(draw, NEAR_POWERS, fits=lambda c: groups * c <= 4 * 65)
    channels = groups * per_group
    kernel = _large_pair(draw, allowed, None, KERNELS)
    filters = groups * draw_size(draw, NEAR_POWERS, fits=lambda f: _fits(
        groups * f * per_group * kernel[0] * kernel[1]))
    dilation = _large_pair(draw, allowed, "dilation", (1, 2, 3))
    stride = _large_pair(draw, allowed, "stride", (1, 2, 3, 4))
    padding = _large_pair(draw, allowed, "padding", (0, 1, 2, 3))
    extent = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    batch = draw_size(draw, BATCHES)

    def fits(height, width):
        ho = _out(height, extent[0], stride[0], padding[0])
        wo = _out(width, extent[1], stride[1], padding[1])
        out = batch * filters * ho * wo
        return _fits(batch * channels * height * width, out,
                     products=out * per_group * kernel[0] * kernel[1])

    lowest = [max(1, e - 2 * p) for e, p in zip(extent, padding)]
    height = draw_size(draw, NEAR_POWERS, lambda h: fits(h, lowest[1]), at_least=lowest[0])
    width = draw_size(draw, NEAR_POWERS, lambda w: fits(height, w), at_least=lowest[1])
    return dict(batch=batch, channels=channels, height=height, width=width, filters=filters,
                kernel=kernel, stride=stride, padding=padding, dilation=dilation, groups=groups)


@st.composite
def conv2d_cases(draw, allowed: frozenset, required: frozenset = frozenset(), tiny: bool = False):
    if sizes.large_tier(draw, tiny):
        shape = _large_conv2d(draw, allowed, required)
        return Conv2dCase(**shape, bias=_bias(draw, allowed, required),
                          dtype=_dtype(draw, allowed), layout=_layout(draw, allowed, required),
                          magnitude=_magnitude(draw), seed=draw(st.integers(0, 2**32 - 1)))
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
    return Conv2dCase(
        batch=draw(st.integers(1, 1 if tiny else 3)), channels=channels, height=height,
        width=width, filters=filters, kernel=kernel, stride=stride, padding=padding,
        dilation=dilation, groups=groups, bias=_bias(draw, allowed, required),
        dtype=_dtype(draw, allowed),
        layout=_layout(draw, allowed, required), magnitude=_magnitude(draw),
        seed=draw(st.integers(0, 2**32 - 1)))


def _pool_padding(draw, allowed, kernel):
    """Padding of at most half the kernel (PyTorch's limit)."""
    if "padding" not in allowed:
        return (0, 0)
    rows = draw(st.integers(0, kernel[0] // 2))
    cols = draw(st.integers(0, kernel[1] // 2)) if "rectangular" in allowed else min(
        rows, kernel[1] // 2)
    return (rows, cols)


def _large_pool2d(draw, allowed):
    """Batch, channels and spatial size around the powers of two, kernels up to 7."""
    kernel = _large_pair(draw, allowed, None, KERNELS)
    stride = _large_pair(draw, allowed, "stride", (1, 2, 3, 4))
    padding = _pool_padding(draw, allowed, kernel)
    batch = draw_size(draw, BATCHES)
    channels = draw_size(draw, NEAR_POWERS)
    lowest = [max(1, k - 2 * p) for k, p in zip(kernel, padding)]

    def fits(height, width):
        out = (_out(height, kernel[0], stride[0], padding[0])
               * _out(width, kernel[1], stride[1], padding[1]))
        return _fits(batch * channels * height * width,
                     products=batch * channels * out * kernel[0] * kernel[1])

    height = draw_size(draw, NEAR_POWERS, lambda h: fits(h, lowest[1]), at_least=lowest[0])
    width = draw_size(draw, NEAR_POWERS, lambda w: fits(height, w), at_least=lowest[1])
    return dict(batch=batch, channels=channels, height=height, width=width, kernel=kernel,
                stride=stride, padding=padding)


@st.composite
def pool2d_cases(draw, allowed: frozenset, required: frozenset = frozenset(), tiny: bool = False):
    mode = draw(st.sampled_from([m for m in POOL_MODES if m in allowed]))
    if sizes.large_tier(draw, tiny):
        shape = _large_pool2d(draw, allowed)
    else:
        kernel = _pair(draw, allowed, None, 1, 3 if tiny else 4)
        stride = _pair(draw, allowed, "stride", 1, 3 if tiny else 4)
        padding = _pool_padding(draw, allowed, kernel)
        extra = 2 if tiny else 7
        shape = dict(batch=draw(st.integers(1, 1 if tiny else 3)),
                     channels=draw(st.integers(1, 1 if tiny else 3)),
                     height=_input_size(draw, kernel[0], padding[0], extra),
                     width=_input_size(draw, kernel[1], padding[1], extra),
                     kernel=kernel, stride=stride, padding=padding)
    return Pool2dCase(
        **shape, mode=mode,
        dtype=_dtype(draw, allowed), layout=_layout(draw, allowed, required),
        ties="ties" in required, magnitude=_magnitude(draw),
        seed=draw(st.integers(0, 2**32 - 1)))


def _large_layer_shape(draw, op):
    """(shape, out_features): batch and sizes around the powers of two, the last axis (features,
    classes) up to 2049; for linear also the number of outputs."""
    rows = draw_size(draw, NEAR_POWERS)
    if op == "linear":
        features = draw_size(draw, WIDTHS, lambda k: _fits(rows * k))
        outputs = draw_size(draw, WIDTHS, lambda o: _fits(rows * o, features * o,
                                                          products=rows * features * o))
        return (rows, features), outputs
    if op == "softmax_cross_entropy":
        return (rows, draw_size(draw, WIDTHS, lambda k: _fits(rows * k))), 0
    middle = draw(st.lists(st.sampled_from(NEAR_POWERS), min_size=1 if op == "flatten" else 0,
                           max_size=2))
    leading = rows * math.prod(middle)
    if leading > sizes.MAX_ELEMENTS:
        middle = []
    last = draw_size(draw, WIDTHS, lambda k: _fits(rows * math.prod(middle) * k))
    return (rows, *middle, last), 0


@st.composite
def layer_cases(draw, op: str, allowed: frozenset, required: frozenset = frozenset(),
                tiny: bool = False, special: str | None = None):
    """Cases of the dense-network ops; ``special="zeros"`` puts exact zeros into relu's input."""
    large = sizes.large_tier(draw, tiny)
    dim = st.integers(1, 2 if tiny else 4)
    if large:
        shape, out_features = _large_layer_shape(draw, op)
    elif op in ("linear", "softmax_cross_entropy"):
        shape = (draw(dim), draw(st.integers(1, 3 if tiny else 6)))
    else:
        smallest = 2 if op == "flatten" else 1
        shape = tuple(draw(st.lists(dim, min_size=smallest, max_size=3 if tiny else 4)))
    extra = {}
    if op == "softmax":
        extra["axis"] = draw(st.integers(-len(shape), len(shape) - 1))
    elif op == "linear":
        extra["out_features"] = out_features if large else draw(st.integers(1, 2 if tiny else 5))
        extra["bias"] = "bias" in required or ("bias" in allowed and draw(st.booleans()))
    elif op == "dropout":
        extra["p"] = draw(st.sampled_from((0.5, 0.0, 0.3, 0.9)))
    elif op == "relu":
        extra["zeros"] = special == "zeros"
    return LayerCase(op=op, shape=shape, dtype=_dtype(draw, allowed),
                     layout=_layout(draw, allowed, required), magnitude=_magnitude(draw),
                     seed=draw(st.integers(0, 2**32 - 1)), **extra)
