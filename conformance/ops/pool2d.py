"""The pool2d record: max_pool2d, avg_pool2d(count_include_pad=True) and min = -max_pool2d(-x)."""
from __future__ import annotations

import math

import numpy as np

from conformance.capabilities import features_used
from conformance.cases import Pool2dCase
from conformance.ops.base import ErrorInput, OpRecord, expect_array, expect_pair
from conformance.strategies import pool2d_cases
from reference import torch_oracle
from reference.finite_diff import window_top2_gap


def _params(case):
    return dict(mode=case.mode, kernel_size=case.kernel, stride=case.stride, padding=case.padding)


def _out_size(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


class Pool2d(OpRecord):
    name = "pool2d"
    inputs = ("x",)
    edge_cases = ("batch 1", "one channel", "1x1 kernel", "kernel equals padded input",
                  "stride above kernel", "stride does not divide", "output size 1",
                  "largest legal padding", "overlapping windows",
                  "last window reaches into padding", "magnitude 2^20", "magnitude 2^-20")

    def strategy(self, allowed, required=frozenset(), tiny=False, special=None):
        return pool2d_cases(allowed, required, tiny)

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

    def out_shape(self, case):
        return (case.batch, case.channels,
                _out_size(case.height, case.kernel[0], case.stride[0], case.padding[0]),
                _out_size(case.width, case.kernel[1], case.stride[1], case.padding[1]))

    def forward(self, impl, arrays, case):
        out, cache = expect_pair("pool2d_forward", impl.pool2d_forward(arrays["x"], **_params(case)))
        expect_array("pool2d_forward output", out, self.out_shape(case), case.dtype)
        return out, cache

    def backward(self, impl, grad_out, cache, case):
        return {"x": expect_array("grad_x", impl.pool2d_backward(grad_out, cache), case.x_shape,
                                  case.dtype)}

    def oracle(self, arrays, case, grad_out=None):
        out, grad_x = torch_oracle.pool2d(arrays["x"], grad_out, **_params(case))
        return out, ({} if grad_out is None else {"x": grad_x})

    def abs_oracle(self, arrays, case, grad_out):
        abs_grad = None if grad_out is None else np.abs(grad_out)
        if case.mode == "avg":
            return self.oracle({"x": np.abs(arrays["x"])}, case, abs_grad)
        # Selection: the winners must stay those of x itself; only the upstream gradient is made
        # absolute (max/min forward is exact, so its scale does not matter).
        return self.oracle(arrays, case, abs_grad)

    def fd_step(self, case):
        # Max/min: a power of two far below the input grid, so x +- h v is exact and (|v| <= 1)
        # no window's winner changes.
        return 1.0 if case.mode == "avg" else case.grid / 2**7

    def fd_valid(self, case, arrays, name, direction, step):
        if case.mode == "avg":
            return True
        gap = window_top2_gap(arrays["x"], case.kernel, case.stride, case.padding, case.mode)
        return gap > 2 * step * np.abs(direction).max()

    def terms(self, case):
        overlaps = math.prod(math.ceil(k / s) for k, s in zip(case.kernel, case.stride))
        if case.mode == "avg":
            # Sum of the window, then one division (or a multiplication by a rounded 1/k).
            return {"out": math.prod(case.kernel) + 2, "x": overlaps + 2}
        return {"out": 0, "x": overlaps}

    def linear(self, case):
        return case.mode == "avg"

    def features_of(self, case):
        used = features_used("pool2d", x=case.arrays()["x"], **_params(case))
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
        modes = [m for m in ("max", "avg", "min") if m in features] or ["max"]
        return Pool2dCase(
            batch=2, channels=3, height=7, width=6, mode=modes[0],
            kernel=(3, 2) if "rectangular" in features else (3, 3),
            stride=(2, 2) if "stride" in features else (1, 1),
            padding=(1, 1) if "padding" in features else (0, 0),
            dtype="float32" if "float32" in features else "float64",
            layout="reversed" if "noncontiguous" in features else "contiguous",
            ties=False, magnitude=0, seed=0)

    def error_inputs(self, claimed):
        dtype = "float64" if "float64" in claimed else "float32"
        mode = next((m for m in ("max", "avg", "min") if m in claimed), "max")
        x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(dtype)
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


POOL2D = Pool2d()
