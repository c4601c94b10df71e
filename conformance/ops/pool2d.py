"""The pool2d record: max_pool2d, avg_pool2d(count_include_pad=True) and min = -max_pool2d(-x)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from conformance.layouts import lay_out
from conformance.ops.base import (CONTRACT_CHECKS, DTYPES, ErrorInput, Function, OpRecord, applies,
                                  error_dtype, example_storage, expect_array, expect_pair,
                                  pair_features, torch_oracle, well_formed_pair)
from conformance.ops.limits import batch_one, exact_division, limits, odd_kernel, square_input
from conformance.sizes import (BATCHES, KERNELS, NEAR_POWERS, SMALL, TINY, Range, Sizes, fits,
                               output_size)
from conformance.reference.finite_diff import window_top2_gap

MODES = ("max", "avg", "min")
# Max/min inputs are distinct multiples of this spacing: no ties, and any finite-difference step
# below half of it keeps every window's winner.
POOL_GRID = 1 / 8
# The max/min finite-difference step, as a fraction of the grid: a power of two, so x +- h v is
# exact, and far below half the grid, so (|v| <= 1) no window's winner changes.
GRID_STEPS = 2**7


@dataclass(frozen=True)
class Pool2dCase:
    batch: int
    channels: int
    height: int
    width: int
    mode: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dtype: str
    layout: str
    ties: bool          # max/min only: values from {-1, 0, 1} * grid, full of ties
    magnitude: int      # x is scaled by 2**magnitude
    seed: int

    @property
    def x_shape(self):
        return (self.batch, self.channels, self.height, self.width)

    @property
    def grid(self) -> float:
        """Spacing of max/min inputs: no two differ by less."""
        return POOL_GRID * 2.0**self.magnitude

    def arrays(self) -> dict[str, np.ndarray]:
        """x in the case's dtype and layout, scaled by 2**magnitude.

        max/min: a random arrangement of distinct grid values (tie-free); a third of the seeds make
        every value negative, a third every value positive, so the padding value matters.
        With ``ties``, values from {-1, 0, 1} * grid instead. avg: standard normal values.
        """
        rng = np.random.default_rng(self.seed)
        size = int(np.prod(self.x_shape))
        if self.mode == "avg":
            x = rng.standard_normal(self.x_shape) * 2.0**self.magnitude
        elif self.ties:
            x = rng.integers(-1, 2, self.x_shape) * self.grid
        else:
            offset = (-size, 1, rng.integers(-size, 1))[self.seed % 3]
            x = ((rng.permutation(size) + offset) * self.grid).reshape(self.x_shape)
        return {"x": lay_out(x.astype(self.dtype), self.layout)}


def _params(case):
    return dict(mode=case.mode, kernel_size=case.kernel, stride=case.stride, padding=case.padding)


FORWARD_DOC = """2-D pooling: mode "max" (torch max_pool2d, padding acts as -inf), "avg" (avg_pool2d
with count_include_pad=True: always divide by KH * KW) or "min" (-max_pool2d(-x)).

x: (N, C, H, W); kernel_size, stride, padding: pairs of ints, padding <= kernel // 2.
Returns (out (N, C, Ho, Wo) in x's dtype, cache), Ho = (H + 2p - KH) // stride + 1.
Raises ValueError/TypeError naming the parameter for invalid arguments (unknown mode,
padding above half the kernel, ...), NotImplementedError for unclaimed features."""

BACKWARD_DOC = """Gradient of sum(out * grad_out) w.r.t. x: grad_out (N, C, Ho, Wo) -> grad_x (N, C, H, W).

max/min: each window's gradient goes to its first extreme element (row-major), as in
PyTorch; avg: grad_out / (KH * KW) to every element of the window."""


def _draw_padding(draw, kernel) -> tuple[int, int]:
    """Padding up to the largest legal, half the kernel, on each axis: (0, 0) unless padding is
    allowed, equal entries unless rectangular padding is."""
    if "padding" not in draw.allowed:
        return (0, 0)
    if "rectangular_padding" in draw.allowed:
        return (draw.integer(Range(0, kernel[0] // 2)), draw.integer(Range(0, kernel[1] // 2)))
    rows = draw.integer(Range(0, min(kernel) // 2))
    return (rows, rows)


class Pool2d(OpRecord):
    name = "pool2d"
    features = ("float32", "float64", "max", "avg", "min", "stride", "padding",
                "rectangular_kernel", "rectangular_stride", "rectangular_padding",
                "noncontiguous", "backward", "ties", "validation")
    data_features = frozenset({"ties"})
    choices = (DTYPES, MODES)
    limits = limits(square_input, exact_division, odd_kernel, batch_one)
    functions = (
        Function("pool2d_forward", "x, *, mode, kernel_size, stride, padding", FORWARD_DOC,
                 ("x", "mode", "kernel_size", "stride", "padding")),
        Function("pool2d_backward", "grad_out, cache", BACKWARD_DOC),
    )
    checks = ("forward", "grad_x", applies("adjoint", exclude={"max", "min"}),
              applies("finite_difference", exclude={"avg"}),
              applies("ties", "convention", exclude={"avg"}, required={"ties"}, special="ties"),
              "jacobian", *CONTRACT_CHECKS)
    case_type = Pool2dCase
    sizes = {
        SMALL: Sizes(batch=(1, 3), channels=(1, 3), kernel=(1, 4), stride=(1, 4), extra=(0, 7)),
        TINY: Sizes(batch=(1, 1), channels=(1, 1), kernel=(1, 3), stride=(1, 3), extra=(0, 2)),
    }
    edge_cases = ("batch 1", "one channel", "1x1 kernel", "kernel equals padded input",
                  "stride above kernel", "stride does not divide", "output size 1",
                  "largest legal padding", "overlapping windows",
                  "last window reaches into padding", "magnitude 2^20", "magnitude 2^-20")
    edge_case_needs = {"stride above kernel": frozenset({"stride"}),
                       "stride does not divide": frozenset({"stride"}),
                       "largest legal padding": frozenset({"padding"}),
                       "last window reaches into padding": frozenset({"padding"})}
    edge_cases_ruled_out = {"stride does not divide": frozenset({"exact_division"})}

    # -- the contract ------------------------------------------------------------------------

    def features_used(self, **call):
        used = set(super().features_used(**call))
        used |= pair_features("stride", call["stride"], 1, 1)
        used |= pair_features("padding", call["padding"], 0, 0)
        kernel = well_formed_pair(call["kernel_size"], 1)
        if kernel is not None and kernel[0] != kernel[1]:
            used.add("rectangular_kernel")
        if call["mode"] in MODES:
            used.add(call["mode"])
        return frozenset(used)

    # -- cases ---------------------------------------------------------------------------------

    def draw_case(self, draw, sizes, special):
        mode = draw.choice([m for m in MODES if m in draw.allowed])
        kernel = draw.pair(None, sizes.kernel, "rectangular_kernel")
        stride = draw.pair("stride", sizes.stride, "rectangular_stride")
        padding = _draw_padding(draw, kernel)
        return Pool2dCase(
            batch=draw.integer(sizes.batch), channels=draw.integer(sizes.channels),
            height=draw.input_size(kernel[0], padding[0], sizes.extra),
            width=draw.input_size(kernel[1], padding[1], sizes.extra),
            mode=mode, kernel=kernel, stride=stride, padding=padding, dtype=draw.dtype(),
            layout=draw.layout(), ties="ties" in draw.required, magnitude=draw.magnitude(),
            seed=draw.seed())

    def draw_large_case(self, draw, special):
        """Batch, channels and spatial size around the powers of two, kernels up to 7."""
        mode = draw.choice([m for m in MODES if m in draw.allowed])
        kernel = draw.sized_pair(None, KERNELS, "rectangular_kernel")
        stride = draw.sized_pair("stride", (1, 2, 3, 4), "rectangular_stride")
        padding = _draw_padding(draw, kernel)
        channels = draw.size(NEAR_POWERS)

        def fitting(height, width, batch=1):
            out = (output_size(height, kernel[0], stride[0], padding[0])
                   * output_size(width, kernel[1], stride[1], padding[1]))
            return fits(batch * channels * height * width,
                        products=batch * channels * out * kernel[0] * kernel[1])

        lowest = [max(1, k - 2 * p) for k, p in zip(kernel, padding)]
        height = draw.size(NEAR_POWERS, lambda h: fitting(h, lowest[1]), at_least=lowest[0])
        width = draw.size(NEAR_POWERS, lambda w: fitting(height, w), at_least=lowest[1])
        batch = draw.size(BATCHES, lambda b: fitting(height, width, b))
        return Pool2dCase(
            batch=batch, channels=channels, height=height, width=width, mode=mode,
            kernel=kernel, stride=stride, padding=padding, dtype=draw.dtype(),
            layout=draw.layout(), ties="ties" in draw.required, magnitude=draw.magnitude(),
            seed=draw.seed())

    def corner_cases(self, allowed, required=frozenset()):
        """A 1x1 input of magnitude 2^20 in a padded 2x2 window, its sign chosen so that only
        the padding could beat it: catches padding by a large finite value instead of -inf/+inf."""
        if "padding" not in allowed:
            return []
        dtype = "float64" if "float64" in allowed else "float32"
        # Seed 0 makes every value negative (max's adversary), seed 1 every value positive.
        return [Pool2dCase(batch=1, channels=1, height=1, width=1, mode=mode, kernel=(2, 2),
                           stride=(1, 1), padding=(1, 1), dtype=dtype, layout="contiguous",
                           ties="ties" in required, magnitude=20, seed=seed)
                for mode, seed in (("max", 0), ("min", 1)) if mode in allowed]

    def call_arguments(self, arrays, case):
        return dict(x=arrays["x"], **_params(case))

    def features_of(self, case):
        used = super().features_of(case)
        return used | {"ties"} if case.ties else used

    def edge_cases_of(self, case):
        _, _, ho, wo = self.out_shape(case)
        hit = set()
        for size, k, s, p, out in zip((case.height, case.width), case.kernel, case.stride,
                                      case.padding, (ho, wo)):
            if k == size + 2 * p:
                hit.add("kernel equals padded input")
            if s > k:
                hit.add("stride above kernel")
            if s < k:
                hit.add("overlapping windows")
            if (size + 2 * p - k) % s:
                hit.add("stride does not divide")
            if out == 1:
                hit.add("output size 1")
            if p > 0 and p == k // 2:
                hit.add("largest legal padding")
            if (out - 1) * s + k > p + size:
                hit.add("last window reaches into padding")
        hit.update(name for name, cond in (
            ("batch 1", case.batch == 1), ("one channel", case.channels == 1),
            ("1x1 kernel", case.kernel == (1, 1)), ("magnitude 2^20", case.magnitude == 20),
            ("magnitude 2^-20", case.magnitude == -20)) if cond)
        return frozenset(hit)

    def example(self, features):
        modes = [m for m in MODES if m in features] or ["max"]
        return Pool2dCase(
            batch=2, channels=3, height=7, width=6, mode=modes[0],
            kernel=(3, 2) if "rectangular_kernel" in features else (3, 3),
            stride=((2, 1) if "rectangular_stride" in features else
                    (2, 2) if "stride" in features else (1, 1)),
            padding=((1, 0) if "rectangular_padding" in features else
                     (1, 1) if "padding" in features else (0, 0)), ties=False, magnitude=0,
            seed=0, **example_storage(features))

    def error_inputs(self, claimed):
        dtype = error_dtype(claimed)
        mode = next((m for m in MODES if m in claimed), "max")
        # One square image, windows dividing it exactly: within every limit but odd_kernel.
        x = np.random.default_rng(0).standard_normal((1, 3, 6, 6)).astype(dtype)
        good = dict(mode=mode, kernel_size=(2, 2), stride=(1, 1), padding=(0, 0))

        def pool(x=x, **changes):
            return lambda impl: impl.pool2d_forward(x, **{**good, **changes})

        def case(description, call, raises, names, needs=()):
            return ErrorInput(description, call, raises, names, frozenset(needs), (x,))

        value = (ValueError,)
        return [
            case("x of ndim 3", pool(x=x[0]), value + (TypeError,), ("x",)),
            case("mode 'sum'", pool(mode="sum"), value, ("mode",)),
            case("kernel_size (0, 2)", pool(kernel_size=(0, 2)), value, ("kernel_size",)),
            case("stride (0, 2)", pool(stride=(0, 2)), value, ("stride",), ("stride",)),
            case("padding (-1, 0)", pool(padding=(-1, 0)), value, ("padding",), ("padding",)),
            case("padding (2, 2) above half of kernel (3, 3)",
                 pool(kernel_size=(3, 3), padding=(2, 2)), value, ("padding",), ("padding",)),
            case("empty output: 7x7 kernel on 6x6 input", pool(kernel_size=(7, 7)), value,
                 ("x", "kernel_size", "output")),
        ]

    # -- calling -------------------------------------------------------------------------------

    def out_shape(self, case):
        return (case.batch, case.channels,
                output_size(case.height, case.kernel[0], case.stride[0], case.padding[0]),
                output_size(case.width, case.kernel[1], case.stride[1], case.padding[1]))

    def forward(self, impl, arrays, case):
        out, cache = expect_pair("pool2d_forward", impl.pool2d_forward(arrays["x"], **_params(case)))
        expect_array("pool2d_forward output", out, self.out_shape(case), case.dtype)
        return out, cache

    def backward(self, impl, grad_out, cache, case):
        return {"x": expect_array("grad_x", impl.pool2d_backward(grad_out, cache), case.x_shape,
                                  case.dtype)}

    # -- truth and error scales ----------------------------------------------------------------

    def oracle(self, arrays, case, grad_out=None):
        out, grad_x = torch_oracle().pool2d(arrays["x"], grad_out, **_params(case))
        return out, ({} if grad_out is None else {"x": grad_x})

    def error_scale(self, arrays, case, grad_out):
        """avg: the op on absolute values. max/min: the winners must stay those of x itself; only
        the upstream gradient is made absolute (max/min forward is exact, so its scale does not
        matter)."""
        abs_grad = None if grad_out is None else np.abs(grad_out)
        if case.mode == "avg":
            return self.oracle({"x": np.abs(arrays["x"])}, case, abs_grad)
        return self.oracle(arrays, case, abs_grad)

    def terms(self, case):
        overlaps = math.prod(math.ceil(k / s) for k, s in zip(case.kernel, case.stride))
        if case.mode == "avg":
            # Sum of the window, then one division (or a multiplication by a rounded 1/k).
            return {"out": math.prod(case.kernel) + 2, "x": overlaps + 2}
        return {"out": 0, "x": overlaps}

    def fd_step(self, case):
        return 1.0 if case.mode == "avg" else case.grid / GRID_STEPS

    def fd_valid(self, case, arrays, name, direction, step):
        if case.mode == "avg":
            return True
        gap = window_top2_gap(arrays["x"], case.kernel, case.stride, case.padding, case.mode)
        return gap > 2 * step * np.abs(direction).max()


POOL2D = Pool2d()
RECORDS = (POOL2D,)
