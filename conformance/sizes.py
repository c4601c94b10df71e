"""Sizes: the output-size formula, and the ranges each op record draws its shapes from.

Every record keeps its ranges in one table, one ``Sizes`` per tier:

    "small"   the cases of most checks
    "tiny"    the full finite-difference Jacobian (one forward per input element)

and draws a third tier, "large", from the values below (``draw_large_case``).

Real implementations change code path with size: they chunk the batch, tile rows, switch to a
vector or GEMM kernel once channels or filters pass 8, 16 or 32, start threads above some number
of elements, and BLAS picks other kernels for large matrices. So a quarter of every property
check's cases (``LARGE_SHARE``, a Hypothesis run of its own so the number is exact) come from the
large tier: dimensions around the powers of two where code changes path (2^k - 1, 2^k, 2^k + 1),
up to 65 channels or filters per group and 65 rows or columns, a batch of up to 17, up to 2049
features or classes; each dimension is drawn only from the values that keep the case within
``MAX_ELEMENTS`` elements per array and ``MAX_PRODUCTS`` multiply-adds, so one large case costs
milliseconds to a few tenths of a second. Small cases reach every corner in microseconds, and a
failure shrinks to one of them whenever it can.

On top of both, ``real_layers`` holds hand-picked shapes of layers people run (CIFAR-style first
convolutions, ResNet downsampling, MobileNet depthwise, VGG 256->256, ...); every property check
but the tiny ones runs those that fit its claims after its generated cases (so a bug that any
generated case shows is reported with a shrunk case).

An implementation that cannot run cases this large in reasonable time (pure-Python loops) declares
``Capabilities(..., max_elements=N)``: cases with a larger array are skipped, and the report
states the limit as part of the certificate.

Nothing here imports NumPy, Hypothesis or torch: built-in implementations use ``output_size`` too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

SMALL, TINY, LARGE = "small", "tiny", "large"

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


# Sizes around the powers of two from 8 to 64, plus small ones: where code changes path.
NEAR_POWERS = (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65)
BATCHES = (1, 2, 3, 7, 8, 9, 15, 16, 17)
# Features of a linear layer and classes of a softmax: on to 2^11 + 1.
WIDTHS = NEAR_POWERS + (127, 128, 129, 255, 256, 257, 511, 512, 513, 1023, 1024, 1025, 2047,
                        2048, 2049)
KERNELS = (1, 2, 3, 5, 7)

LARGE_SHARE = 0.25            # of each check's generated cases, from the large tier
MAX_ELEMENTS = 2**18          # elements of the largest array of a large-tier case
MAX_PRODUCTS = 2**24          # multiply-adds of one forward of a large-tier case

# A case is reported in the large tier when an array has more elements than this or an output
# element sums more products: past every small-tier size.
LARGE_ELEMENTS = 2**12
LARGE_TERMS = 1024


def tier_runs(max_examples: int, tier: str, record) -> list[tuple[str, int]]:
    """(tier, examples) for the Hypothesis runs of one check: for a small-tier check of a record
    with a large tier, a share LARGE_SHARE of the examples from the large tier and the rest from
    the small one; otherwise every example from the check's own tier."""
    if tier != SMALL or not record.has_large_tier:
        return [(tier, max_examples)]
    large = max(1, round(max_examples * LARGE_SHARE))
    return [(SMALL, max(1, max_examples - large)), (LARGE, large)]


def fits(*arrays: int, products: int = 0) -> bool:
    """True when every array (given as its element count) and the multiply-adds of a case fit
    the large tier's caps."""
    return max(arrays) <= MAX_ELEMENTS and products <= MAX_PRODUCTS


def elements(shape) -> int:
    return math.prod(shape)


def array_shapes(op, case) -> list[tuple[int, ...]]:
    """Shapes of the arrays of one case: inputs and output."""
    shapes = [tuple(op.out_shape(case))]
    for name in ("x_shape", "weight_shape", "shape"):
        shape = getattr(case, name, None)
        if shape is not None:
            shapes.append(tuple(shape))
    return shapes


def largest_array(op, case) -> int:
    """Elements of the largest input or output array of a case."""
    return max(elements(s) for s in array_shapes(op, case))


def longest_reduction(op, case) -> int:
    """The most products summed into one element of any output or gradient of a case."""
    return max(op.terms(case).values(), default=0)


def tier_of(op, case) -> str:
    """The size tier a case belongs to, by what it is rather than how it was drawn."""
    longest = longest_reduction(op, case)
    return LARGE if largest_array(op, case) > LARGE_ELEMENTS or longest > LARGE_TERMS else SMALL


def size_marks(op, case) -> frozenset[str]:
    """Edge cases of size: the thresholds real code switches path at, as counted in reports."""
    biggest = largest_array(op, case)
    longest = longest_reduction(op, case)
    return frozenset(name for name, hit in (
        ("array past 2^17 elements", biggest > 2**17),
        ("reduction past 2000 products", longest > 2000)) if hit)


def within(limit: int | None, op, case) -> bool:
    """True when every array of the case fits the implementation's declared max_elements."""
    return limit is None or largest_array(op, case) <= limit


# --- real layers ------------------------------------------------------------------------------

# (name, parameters): conv2d as (batch, channels, size, filters, kernel, stride, padding, groups);
# features each one needs are derived from its parameters.
REAL_CONV2D = (
    ("CIFAR first conv 3->16 5x5 pad 2", (8, 3, 32, 16, 5, 1, 2, 1)),
    ("ResNet downsampling 64->64 3x3 stride 2, a last batch of 10", (10, 64, 16, 64, 3, 2, 1, 1)),
    ("MobileNet depthwise 32 channels 3x3", (8, 32, 32, 32, 3, 1, 1, 32)),
    ("VGG 256->256 3x3 (2304 products)", (2, 256, 8, 256, 3, 1, 1, 1)),
    ("pointwise 1x1 64->128", (4, 64, 16, 128, 1, 1, 0, 1)),
)
# pool2d as (batch, channels, size, mode, kernel, stride, padding)
REAL_POOL2D = (
    ("2x2/2 max pool on 64x64x32x32", (64, 64, 32, "max", 2, 2, 0)),
    ("ResNet stem 3x3/2 pad 1 max pool on 2x64x112x112", (2, 64, 112, "max", 3, 2, 1)),
    ("3x3/2 avg pool pad 1 on 8x32x56x56", (8, 32, 56, "avg", 3, 2, 1)),
    ("3x3/2 min pool on 8x32x33x33", (8, 32, 33, "min", 3, 2, 0)),
)
# batchnorm2d as (batch, channels, size): a training step with running statistics
REAL_BATCHNORM2D = (
    ("ResNet batch norm 32x64x16x16", (32, 64, 16)),
    ("after a CIFAR first conv 8x16x32x32", (8, 16, 32)),
)
# dense ops: op -> (name, shape, extra case fields)
REAL_LAYERS = {
    "linear": (("classifier 1280->100, batch 128", (128, 1280), {"out_features": 100}),
               ("hidden 4096->1024", (8, 4096), {"out_features": 1024})),
    "softmax": (("1000 classes", (64, 1000), {"axis": -1}),),
    "softmax_cross_entropy": (("1000 classes", (64, 1000), {}),),
    "relu": (("activation 32x64x16x16", (32, 64, 16, 16), {}),),
    "sigmoid": (("activation 32x64x16x16", (32, 64, 16, 16), {}),),
    "tanh": (("activation 32x64x16x16", (32, 64, 16, 16), {}),),
    "flatten": (("feature map 64x64x8x8", (64, 64, 8, 8), {}),),
    "dropout": (("hidden 64x4096, p=0.5", (64, 4096), {"p": 0.5}),),
}


def _dtype(allowed, index):
    """Real layers alternate float64 (tight bounds: subtle errors show) and float32 (what people
    run), where both are claimed."""
    both = ("float64", "float32") if index % 2 == 0 else ("float32", "float64")
    return next(d for d in both if d in allowed)


def _layout(required):
    # Negative strides: non-contiguous without the extra memory of the "strided" layout.
    return "reversed" if "noncontiguous" in required else "contiguous"


def real_layers(op_name: str, allowed: frozenset, required: frozenset = frozenset(),
                tier: str = SMALL, special: str | None = None) -> list:
    """Cases of real layer shapes that use only ``allowed`` features and all ``required`` ones
    (none for tiny checks and convention checks, whose data is special)."""
    from conformance.ops import OPS
    if tier == TINY or special or not allowed & {"float32", "float64"}:
        return []
    make = OPS[op_name].case_type
    optional = required - {"backward", "noncontiguous"}
    cases = []
    if op_name == "conv2d":
        for index, (_, (batch, channels, size, filters, kernel, stride, padding, groups)) in \
                enumerate(REAL_CONV2D):
            bias = "bias" in allowed
            needs = {name for name, used in (("stride", stride > 1), ("padding", padding > 0),
                                             ("groups", groups > 1), ("bias", bias)) if used}
            if needs <= allowed and optional <= needs:
                cases.append(make(batch, channels, size, size, filters, (kernel, kernel),
                                  (stride, stride), (padding, padding), (1, 1), groups, bias,
                                  _dtype(allowed, index), _layout(required), 0, 0))
    elif op_name == "pool2d":
        for index, (_, (batch, channels, size, mode, kernel, stride, padding)) in \
                enumerate(REAL_POOL2D):
            needs = {mode} | {name for name, used in (("stride", stride > 1),
                                                      ("padding", padding > 0)) if used}
            if needs <= allowed and optional <= needs:
                cases.append(make(batch, channels, size, size, mode, (kernel, kernel),
                                  (stride, stride), (padding, padding), _dtype(allowed, index),
                                  _layout(required), False, 0, 0))
    elif op_name == "batchnorm2d":
        for index, (_, (batch, channels, size)) in enumerate(REAL_BATCHNORM2D):
            needs = {"running_stats"} & allowed
            if optional <= needs:
                cases.append(make(batch=batch, channels=channels, height=size, width=size,
                                  training=True, running=bool(needs), eps=1e-5, momentum=0.1,
                                  offset=1.0, spread=1.0, dtype=_dtype(allowed, index),
                                  layout=_layout(required), magnitude=0, seed=0))
    else:
        for index, (_, shape, extra) in enumerate(REAL_LAYERS.get(op_name, ())):
            if op_name == "linear":
                extra = dict(extra, bias="bias" in allowed)
            needs = {"bias"} if extra.get("bias") else set()
            if optional <= needs:
                cases.append(make(shape=shape, dtype=_dtype(allowed, index),
                                  layout=_layout(required), magnitude=0, seed=0, **extra))
    return cases
