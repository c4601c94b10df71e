"""The conv2d record: torch.nn.functional.conv2d semantics (cross-correlation, zero padding)."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from conformance.layouts import lay_out
from conformance.ops.base import (CONTRACT_CHECKS, ErrorInput, Function, OpRecord,
                                  applies, error_dtype, example_storage, expect_array, expect_pair,
                                  expect_weighted_grads, pair_features, torch_oracle,
                                  well_formed_pair)
from conformance.ops.limits import (batch_one, exact_division, limits, odd_kernel,
                                    same_padding, square_input)
from conformance.sizes import (BATCHES, KERNELS, NEAR_POWERS, SMALL, TINY, Sizes, extent, fits,
                               output_size)


@dataclass(frozen=True)
class Conv2dCase:
    batch: int
    channels: int
    height: int
    width: int
    filters: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    bias: bool
    dtype: str
    layout: str
    magnitude: int      # x is scaled by 2**magnitude
    seed: int

    @property
    def x_shape(self):
        return (self.batch, self.channels, self.height, self.width)

    @property
    def weight_shape(self):
        return (self.filters, self.channels // self.groups, *self.kernel)

    @property
    def extents(self) -> list[int]:
        """Rows and columns one (dilated) window spans."""
        return [extent(k, d) for k, d in zip(self.kernel, self.dilation)]

    def arrays(self) -> dict[str, np.ndarray]:
        """x, weight and (if bias) bias: standard normal values in the case's dtype and layout."""
        rng = np.random.default_rng(self.seed)
        values = {"x": rng.standard_normal(self.x_shape) * 2.0**self.magnitude,
                  "weight": rng.standard_normal(self.weight_shape)}
        if self.bias:
            values["bias"] = rng.standard_normal(self.filters)
        return {k: lay_out(v.astype(self.dtype), self.layout) for k, v in values.items()}


def _params(case):
    return dict(stride=case.stride, padding=case.padding, dilation=case.dilation,
                groups=case.groups)


FORWARD_DOC = """2-D cross-correlation, as torch.nn.functional.conv2d.

x: (N, C, H, W); weight: (F, C // groups, KH, KW); bias: (F,) or None.
stride, padding, dilation: pairs of ints (rows, cols); groups: int dividing C and F.
Returns (out, cache): out (N, F, Ho, Wo) in x's dtype, with
Ho = (H + 2 * padding[0] - dilation[0] * (KH - 1) - 1) // stride[0] + 1 (likewise Wo),
zero padding; cache is anything conv2d_backward needs.
Raises ValueError/TypeError naming the parameter for invalid arguments (wrong ndim,
channel mismatch, groups not dividing C, stride or dilation < 1, padding < 0, empty
output), NotImplementedError for unclaimed features."""

BACKWARD_DOC = """Gradients of sum(out * grad_out): grad_out (N, F, Ho, Wo) in the forward's dtype.

Returns (grad_x (N, C, H, W), grad_weight (F, C // groups, KH, KW), grad_bias (F,) or
None when bias was None)."""


class Conv2d(OpRecord):
    name = "conv2d"
    features = ("float32", "float64", "stride", "padding", "dilation", "groups", "bias",
                "rectangular_kernel", "rectangular_stride", "rectangular_padding",
                "rectangular_dilation", "noncontiguous", "backward", "validation")
    inputs = ("x", "weight", "bias")
    limits = limits(square_input, exact_division, same_padding, odd_kernel, batch_one)
    functions = (
        Function("conv2d_forward", "x, weight, bias, *, stride, padding, dilation, groups",
                 FORWARD_DOC, ("x", "weight", "bias", "stride", "padding", "dilation", "groups")),
        Function("conv2d_backward", "grad_out, cache", BACKWARD_DOC),
    )
    checks = ("forward", "grad_x", "grad_weight", applies("grad_bias", required={"bias"}),
              "adjoint", "jacobian", *CONTRACT_CHECKS)
    case_type = Conv2dCase
    sizes = {
        SMALL: Sizes(batch=(1, 3), channels=(1, 3), depthwise_channels=(2, 4), groups=(2, 3),
                     channels_per_group=(1, 2), filters_per_group=(1, 3), kernel=(1, 4),
                     dilation=(1, 3), stride=(1, 4), padding=(0, 3), extra=(0, 7)),
        TINY: Sizes(batch=(1, 1), channels=(1, 2), depthwise_channels=(2, 3), groups=(2, 3),
                    channels_per_group=(1, 2), filters_per_group=(1, 1), kernel=(1, 3),
                    dilation=(1, 2), stride=(1, 3), padding=(0, 2), extra=(0, 2)),
    }
    edge_cases = ("batch 1", "one channel", "1x1 kernel", "kernel equals padded input",
                  "stride above kernel", "stride does not divide", "output size 1",
                  "depthwise (groups = channels)", "window entirely in padding",
                  "last window reaches into padding", "no bias", "magnitude 2^20",
                  "magnitude 2^-20")
    edge_case_needs = {"stride above kernel": frozenset({"stride"}),
                       "stride does not divide": frozenset({"stride"}),
                       "depthwise (groups = channels)": frozenset({"groups"}),
                       "window entirely in padding": frozenset({"padding"}),
                       "last window reaches into padding": frozenset({"padding"})}
    edge_cases_ruled_out = {"stride above kernel": frozenset({"same_padding"}),
                            "stride does not divide": frozenset({"exact_division",
                                                                 "same_padding"}),
                            "window entirely in padding": frozenset({"same_padding"})}

    # -- the contract ------------------------------------------------------------------------

    def features_used(self, **call):
        used = set(super().features_used(**call))
        used |= pair_features("stride", call["stride"], 1, 1)
        used |= pair_features("padding", call["padding"], 0, 0)
        used |= pair_features("dilation", call["dilation"], 1, 1)
        groups = call["groups"]
        if isinstance(groups, (int, np.integer)) and not isinstance(groups, bool) and groups > 1:
            used.add("groups")
        if call["bias"] is not None:
            used.add("bias")
        kernel = well_formed_pair(getattr(call["weight"], "shape", ())[2:], 1)
        if kernel is not None and kernel[0] != kernel[1]:
            used.add("rectangular_kernel")
        return frozenset(used)

    # -- cases ---------------------------------------------------------------------------------

    def draw_case(self, draw, sizes, special):
        if "groups" in draw.allowed:
            # "depthwise" (groups == channels) is drawn about a third of the time.
            grouping = draw.choice(["single", "depthwise", "grouped"])
        else:
            grouping = "single"
        if grouping == "single":
            groups = 1
            channels = draw.integer(sizes.channels)
        elif grouping == "depthwise":
            groups = channels = draw.integer(sizes.depthwise_channels)
        else:
            groups = draw.integer(sizes.groups)
            channels = groups * draw.integer(sizes.channels_per_group)
        filters = groups * draw.integer(sizes.filters_per_group)
        kernel = draw.pair(None, sizes.kernel, "rectangular_kernel")
        dilation = draw.pair("dilation", sizes.dilation, "rectangular_dilation")
        stride = draw.pair("stride", sizes.stride, "rectangular_stride")
        padding = draw.pair("padding", sizes.padding, "rectangular_padding")
        spans = [extent(k, d) for k, d in zip(kernel, dilation)]
        height = draw.input_size(spans[0], padding[0], sizes.extra)
        width = draw.input_size(spans[1], padding[1], sizes.extra)
        bias = draw.uses("bias")
        return Conv2dCase(
            batch=draw.integer(sizes.batch), channels=channels, height=height, width=width,
            filters=filters, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
            groups=groups, bias=bias, dtype=draw.dtype(), layout=draw.layout(),
            magnitude=draw.magnitude(), seed=draw.seed())

    def draw_large_case(self, draw, special):
        """Channels and filters per group, spatial size and batch around the powers of two.

        Each size is drawn among the values that keep the case within the tier's caps when the
        sizes drawn after it take their smallest values, so every case fits."""
        grouping = (draw.choice(["single", "depthwise", "grouped"]) if "groups" in draw.allowed
                    else "single")
        if grouping == "depthwise":
            groups = draw.size(NEAR_POWERS, at_least=2)
        else:
            groups = draw.size((2, 3, 4, 8, 16)) if grouping == "grouped" else 1
        kernel = draw.sized_pair(None, KERNELS, "rectangular_kernel")
        window = kernel[0] * kernel[1]
        dilation = draw.sized_pair("dilation", (1, 2, 3), "rectangular_dilation")
        stride = draw.sized_pair("stride", (1, 2, 3, 4), "rectangular_stride")
        padding = draw.sized_pair("padding", (0, 1, 2, 3), "rectangular_padding")
        lowest = [max(1, extent(k, d) - 2 * p) for k, d, p in zip(kernel, dilation, padding)]

        def fitting(per_group, filters, height=lowest[0], width=lowest[1], batch=1):
            out = batch * groups * filters * max(0, output_size(
                height, kernel[0], stride[0], padding[0], dilation[0])) * max(0, output_size(
                    width, kernel[1], stride[1], padding[1], dilation[1]))
            return fits(batch * groups * per_group * height * width, out,
                        groups * filters * per_group * window, products=out * per_group * window)

        per_group = 1 if grouping == "depthwise" else draw.size(
            NEAR_POWERS, lambda c: groups * c <= 4 * 65 and fitting(c, 1))
        filters = draw.size(NEAR_POWERS, lambda f: fitting(per_group, f))
        height = draw.size(NEAR_POWERS, lambda h: fitting(per_group, filters, h),
                           at_least=lowest[0])
        width = draw.size(NEAR_POWERS, lambda w: fitting(per_group, filters, height, w),
                          at_least=lowest[1])
        batch = draw.size(BATCHES, lambda b: fitting(per_group, filters, height, width, b))
        filters *= groups
        return Conv2dCase(
            batch=batch, channels=groups * per_group, height=height, width=width,
            filters=filters, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
            groups=groups, bias=draw.uses("bias"), dtype=draw.dtype(), layout=draw.layout(),
            magnitude=draw.magnitude(), seed=draw.seed())

    def call_arguments(self, arrays, case):
        return dict(x=arrays["x"], weight=arrays["weight"], bias=arrays.get("bias"),
                    **_params(case))

    def edge_cases_of(self, case):
        _, _, ho, wo = self.out_shape(case)
        hit = set()
        for size, span, s, p, out in zip((case.height, case.width), case.extents, case.stride,
                                         case.padding, (ho, wo)):
            if span == size + 2 * p:
                hit.add("kernel equals padded input")
            if s > span:
                hit.add("stride above kernel")
            if (size + 2 * p - span) % s:
                hit.add("stride does not divide")
            if out == 1:
                hit.add("output size 1")
            if span <= p or (out - 1) * s >= p + size:
                hit.add("window entirely in padding")
            if (out - 1) * s + span > p + size:
                hit.add("last window reaches into padding")
        hit.update(name for name, cond in (
            ("batch 1", case.batch == 1), ("one channel", case.channels == 1),
            ("1x1 kernel", case.kernel == (1, 1)), ("no bias", not case.bias),
            ("depthwise (groups = channels)", case.groups == case.channels > 1),
            ("magnitude 2^20", case.magnitude == 20),
            ("magnitude 2^-20", case.magnitude == -20)) if cond)
        return frozenset(hit)

    def example(self, features):
        def pair(name, plain, used, rectangular):
            if f"rectangular_{name}" in features:
                return rectangular
            return used if name in features else plain

        return Conv2dCase(
            batch=2, channels=4, height=7, width=6, filters=4,
            kernel=pair("kernel", (3, 3), (3, 3), (3, 2)),
            stride=pair("stride", (1, 1), (2, 2), (2, 1)),
            padding=pair("padding", (0, 0), (1, 1), (1, 0)),
            dilation=pair("dilation", (1, 1), (2, 2), (2, 1)),
            groups=2 if "groups" in features else 1, bias="bias" in features, magnitude=0,
            seed=0, **example_storage(features))

    def error_inputs(self, claimed):
        dtype = error_dtype(claimed)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((1, 4, 6, 6)).astype(dtype)   # batch 1: within batch_one
        w = rng.standard_normal((4, 4, 3, 3)).astype(dtype)
        w3 = np.ascontiguousarray(w[:, :3])   # contiguous: the case must not need "noncontiguous"
        w1 = np.ascontiguousarray(w[:, :1])
        good = dict(stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1)

        def conv(x=x, w=w, b=None, **changes):
            return lambda impl: impl.conv2d_forward(x, w, b, **{**good, **changes})

        def case(description, call, raises, names, needs=()):
            return ErrorInput(description, call, raises, names, frozenset(needs), (x, w))

        value = (ValueError,)
        return [
            case("x of ndim 3", conv(x=x[0]), value + (TypeError,), ("x",)),
            case("weight of ndim 3", conv(w=w[0]), value + (TypeError,), ("weight",)),
            case("weight channels 3 for x channels 4", conv(w=w3), value, ("weight",)),
            case("groups=3 does not divide 4 channels", conv(w=w1, groups=3), value,
                 ("groups",), ("groups",)),
            case("stride (0, 1)", conv(stride=(0, 1)), value, ("stride",), ("stride",)),
            case("stride (1, -2)", conv(stride=(1, -2)), value, ("stride",), ("stride",)),
            case("dilation (0, 0)", conv(dilation=(0, 0)), value, ("dilation",), ("dilation",)),
            case("padding (-1, 0)", conv(padding=(-1, 0)), value, ("padding",), ("padding",)),
            case("empty output: 7x7 kernel on 6x6 input", conv(
                w=rng.standard_normal((4, 4, 7, 7)).astype(dtype)), value,
                ("x", "weight", "kernel", "output")),
            case("bias of shape (3,) for 4 filters", conv(b=np.zeros(3, dtype)), value, ("bias",),
                 ("bias",)),
        ]

    # -- calling -------------------------------------------------------------------------------

    def out_shape(self, case):
        (eh, ew) = case.extents
        return (case.batch, case.filters,
                output_size(case.height, eh, case.stride[0], case.padding[0]),
                output_size(case.width, ew, case.stride[1], case.padding[1]))

    def forward(self, impl, arrays, case):
        out, cache = expect_pair("conv2d_forward", impl.conv2d_forward(
            arrays["x"], arrays["weight"], arrays.get("bias"), **_params(case)))
        expect_array("conv2d_forward output", out, self.out_shape(case), case.dtype)
        return out, cache

    def backward(self, impl, grad_out, cache, case):
        return expect_weighted_grads("conv2d", impl.conv2d_backward(grad_out, cache), case.x_shape,
                                     case.weight_shape, (case.filters,) if case.bias else None,
                                     case.dtype)

    # -- truth and error scales ----------------------------------------------------------------

    def oracle(self, arrays, case, grad_out=None):
        out, gx, gw, gb = torch_oracle().conv2d(arrays["x"], arrays["weight"], arrays.get("bias"),
                                                grad_out, **_params(case))
        grads = {"x": gx, "weight": gw, "bias": gb} if grad_out is not None else {}
        return out, {k: v for k, v in grads.items() if v is not None}

    def error_scale(self, arrays, case, grad_out):
        """The op on absolute values: every product each element sums, in absolute value."""
        absolute = {k: np.abs(v) for k, v in arrays.items()}
        return self.oracle(absolute, case, None if grad_out is None else np.abs(grad_out))

    def terms(self, case):
        _, _, ho, wo = self.out_shape(case)
        kh, kw = case.kernel
        return {"out": case.channels // case.groups * kh * kw + case.bias,
                "x": case.filters // case.groups * kh * kw,
                "weight": case.batch * ho * wo,
                "bias": case.batch * ho * wo}


CONV2D = Conv2d()
RECORDS = (CONV2D,)
