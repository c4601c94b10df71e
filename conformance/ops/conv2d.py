"""The conv2d record: torch.nn.functional.conv2d semantics (cross-correlation, zero padding)."""
from __future__ import annotations

import numpy as np

from conformance.capabilities import features_used
from conformance.cases import Conv2dCase
from conformance.ops.base import (ErrorInput, OpRecord, expect_array, expect_pair,
                                  expect_weighted_grads)
from conformance.strategies import conv2d_cases
from reference import torch_oracle


def _extent(case):
    return [d * (k - 1) + 1 for d, k in zip(case.dilation, case.kernel)]


def _out_size(size, extent, stride, padding):
    return (size + 2 * padding - extent) // stride + 1


def _params(case):
    return dict(stride=case.stride, padding=case.padding, dilation=case.dilation,
                groups=case.groups)


class Conv2d(OpRecord):
    name = "conv2d"
    inputs = ("x", "weight", "bias")
    edge_cases = ("batch 1", "one channel", "1x1 kernel", "kernel equals padded input",
                  "stride above kernel", "stride does not divide", "output size 1",
                  "depthwise (groups = channels)", "window entirely in padding",
                  "last window reaches into padding", "no bias", "magnitude 2^20",
                  "magnitude 2^-20")

    def strategy(self, allowed, required=frozenset(), tiny=False, special=None):
        return conv2d_cases(allowed, required, tiny)

    def out_shape(self, case):
        (eh, ew) = _extent(case)
        return (case.batch, case.filters,
                _out_size(case.height, eh, case.stride[0], case.padding[0]),
                _out_size(case.width, ew, case.stride[1], case.padding[1]))

    def forward(self, impl, arrays, case):
        out, cache = expect_pair("conv2d_forward", impl.conv2d_forward(
            arrays["x"], arrays["weight"], arrays.get("bias"), **_params(case)))
        expect_array("conv2d_forward output", out, self.out_shape(case), case.dtype)
        return out, cache

    def backward(self, impl, grad_out, cache, case):
        return expect_weighted_grads("conv2d", impl.conv2d_backward(grad_out, cache), case.x_shape,
                                     case.weight_shape, (case.filters,) if case.bias else None,
                                     case.dtype)

    def oracle(self, arrays, case, grad_out=None):
        out, gx, gw, gb = torch_oracle.conv2d(arrays["x"], arrays["weight"], arrays.get("bias"),
                                              grad_out, **_params(case))
        grads = {"x": gx, "weight": gw, "bias": gb} if grad_out is not None else {}
        return out, {k: v for k, v in grads.items() if v is not None}

    def abs_oracle(self, arrays, case, grad_out):
        absolute = {k: np.abs(v) for k, v in arrays.items()}
        return self.oracle(absolute, case, None if grad_out is None else np.abs(grad_out))

    def terms(self, case):
        _, _, ho, wo = self.out_shape(case)
        kh, kw = case.kernel
        return {"out": case.channels // case.groups * kh * kw + case.bias,
                "x": case.filters // case.groups * kh * kw,
                "weight": case.batch * ho * wo,
                "bias": case.batch * ho * wo}

    def linear(self, case):
        return True

    def features_of(self, case):
        arrays = case.arrays()
        return features_used("conv2d", x=arrays["x"], weight=arrays["weight"],
                             bias=arrays.get("bias"), **_params(case))

    def edge_cases_of(self, case):
        _, _, ho, wo = self.out_shape(case)
        hit = set()
        for size, extent, s, p, out in zip((case.height, case.width), _extent(case), case.stride,
                                           case.padding, (ho, wo)):
            if extent == size + 2 * p:
                hit.add("kernel equals padded input")
            if s > extent:
                hit.add("stride above kernel")
            if (size + 2 * p - extent) % s:
                hit.add("stride does not divide")
            if out == 1:
                hit.add("output size 1")
            if extent <= p or (out - 1) * s >= p + size:
                hit.add("window entirely in padding")
            if (out - 1) * s + extent > p + size:
                hit.add("last window reaches into padding")
        hit.update(name for name, cond in (
            ("batch 1", case.batch == 1), ("one channel", case.channels == 1),
            ("1x1 kernel", case.kernel == (1, 1)), ("no bias", not case.bias),
            ("depthwise (groups = channels)", case.groups == case.channels > 1),
            ("magnitude 2^20", case.magnitude == 20),
            ("magnitude 2^-20", case.magnitude == -20)) if cond)
        return frozenset(hit)

    def example(self, features):
        rect = "rectangular" in features
        return Conv2dCase(
            batch=2, channels=4, height=7, width=6, filters=4,
            kernel=(3, 2) if rect else (3, 3),
            stride=(2, 2) if "stride" in features else (1, 1),
            padding=(1, 1) if "padding" in features else (0, 0),
            dilation=(2, 2) if "dilation" in features else (1, 1),
            groups=2 if "groups" in features else 1, bias="bias" in features,
            dtype="float32" if "float32" in features else "float64",
            layout="reversed" if "noncontiguous" in features else "contiguous", magnitude=0,
            seed=0)

    def error_inputs(self, claimed):
        dtype = "float64" if "float64" in claimed else "float32"
        rng = np.random.default_rng(0)
        x = rng.standard_normal((2, 4, 6, 6)).astype(dtype)
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


CONV2D = Conv2d()
