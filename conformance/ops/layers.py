"""Records of the dense-network ops: relu, sigmoid, tanh, softmax, linear, flatten,
softmax_cross_entropy and dropout (semantics: the PyTorch function of the same name).

Error scales (``abs_oracle``) follow the same analysis as conv2d: n roundings of terms whose size
is the scale. For the transcendental ones a libm function counts as a few roundings (EXP_TERMS)
relative to its result; for softmax and cross-entropy the rounding of x - max(x) enters the
exponent, hence the (1 + |x - max|) factors.

Finite differences of the smooth ops use a fixed step h and a truncation bound h^2/6 * M3 * |v|^3
with M3 a bound on the third derivative along the direction: 1/8 for sigmoid, 2 for tanh, and
26 max|v|^3 for softmax rows and cross-entropy (derived from y' = y (v - <v, y>)).
"""
from __future__ import annotations

import math

import numpy as np

from conformance.capabilities import features_used
from conformance.cases import LayerCase
from conformance.ops.base import (ErrorInput, OpRecord, expect_array, expect_pair,
                                  expect_weighted_grads)
from conformance.strategies import layer_cases
from reference import torch_oracle

EXP_TERMS = 8            # roundings charged to one exp/log/tanh and the arithmetic around it
SMOOTH_STEP = 2.0**-13   # finite-difference step of the smooth ops (exactly representable)


class LayerRecord(OpRecord):
    """Calling, coverage and error inputs shared by the dense-network ops. Finite differences
    default to OpRecord's, for ops linear in each input; SmoothRecord overrides them."""
    inputs = ("x",)
    edge_cases = ("single element", "magnitude 2^20", "magnitude 2^-20")

    def __init__(self, name: str):
        self.name = name

    # -- calling ---------------------------------------------------------------------------

    def call(self, arrays, case) -> tuple[tuple, dict]:
        """Positional arrays and keyword parameters of the forward."""
        return (arrays["x"],), {}

    def keywords(self, arrays, case) -> dict:
        """The call as keyword arguments, for capabilities.features_used."""
        return {"x": arrays["x"]}

    def strategy(self, allowed, required=frozenset(), tiny=False, special=None):
        return layer_cases(self.name, allowed, required, tiny, special)

    def out_shape(self, case):
        return tuple(case.shape)

    def forward(self, impl, arrays, case):
        args, kwargs = self.call(arrays, case)
        out, cache = expect_pair(f"{self.name}_forward",
                                 getattr(impl, f"{self.name}_forward")(*args, **kwargs))
        expect_array(f"{self.name}_forward output", out, self.out_shape(case), case.dtype)
        return out, cache

    def backward(self, impl, grad_out, cache, case):
        grad = getattr(impl, f"{self.name}_backward")(grad_out, cache)
        return {self.inputs[0]: expect_array(f"grad_{self.inputs[0]}", grad, case.shape,
                                             case.dtype)}

    # -- truth and error scales ------------------------------------------------------------

    def oracle(self, arrays, case, grad_out=None):
        return torch_oracle.elementwise(self.name, arrays["x"], grad_out)

    def linear(self, case):
        return True

    # -- coverage ----------------------------------------------------------------------------

    def features_of(self, case):
        return features_used(self.name, **self.keywords(case.arrays(), case))

    def edge_cases_of(self, case):
        return frozenset(name for name, hit in (
            ("single element", math.prod(case.shape) == 1),
            ("magnitude 2^20", case.magnitude == 20),
            ("magnitude 2^-20", case.magnitude == -20)) if hit)

    def example(self, features):
        return LayerCase(op=self.name, shape=(2, 3), dtype="float32" if "float32" in features
                         else "float64",
                         layout="reversed" if "noncontiguous" in features else "contiguous",
                         magnitude=0, seed=0, out_features=2, bias="bias" in features)

    def _x(self, claimed):
        dtype = "float64" if "float64" in claimed else "float32"
        return np.random.default_rng(0).standard_normal((2, 3)).astype(dtype)

    def error_inputs(self, claimed):
        x = self._x(claimed)

        def forward_of(value):
            return lambda impl: getattr(impl, f"{self.name}_forward")(value)

        return [ErrorInput("x given as a list", forward_of(x.tolist()), (TypeError,), ("x",),
                           arrays=(x,)),
                ErrorInput("x of dtype int64", forward_of(x.astype(np.int64)), (TypeError,),
                           ("x",), arrays=(x,))]


class SmoothRecord(LayerRecord):
    """Transcendental ops: errors of a few ulps relative to their results, and finite
    differences with a fixed step and a third-derivative truncation bound."""
    third_derivative = 0.0   # M3 for elementwise ops

    def terms(self, case):
        return {"out": EXP_TERMS, "x": EXP_TERMS}

    def linear(self, case):
        return False

    def fd_step(self, case):
        return SMOOTH_STEP

    def fd_truncation(self, case, arrays, name, direction, step):
        return step**2 / 6 * self.third_derivative * np.abs(direction) ** 3

    def fd_scale(self, impl, case, arrays, step):
        scale, _ = self.abs_oracle(arrays, case, None)
        return 2 * np.asarray(scale, np.float64)


class Relu(LayerRecord):
    edge_cases = LayerRecord.edge_cases + ("exact zeros",)

    def terms(self, case):
        return {"out": 0, "x": 0}   # selection: exact

    def abs_oracle(self, arrays, case, grad_out):
        return np.zeros(case.shape), {"x": np.zeros(case.shape)}

    def linear(self, case):
        return False

    def fd_step(self, case):
        # Inputs keep |x| >= scale / 4, and |v| <= 1: no step crosses the kink.
        return 2.0**case.magnitude / 2**10

    def fd_scale(self, impl, case, arrays, step):
        return np.zeros(case.shape)   # selection on an exact grid: x +- hv is exact

    def edge_cases_of(self, case):
        return super().edge_cases_of(case) | ({"exact zeros"} if case.zeros else set())


class Sigmoid(SmoothRecord):
    third_derivative = 1 / 8

    def abs_oracle(self, arrays, case, grad_out):
        s, _ = self.oracle(arrays, case)
        return np.abs(s), ({} if grad_out is None else {"x": np.abs(grad_out) * s * (1 + s)})


class Tanh(SmoothRecord):
    third_derivative = 2.0

    def abs_oracle(self, arrays, case, grad_out):
        t, _ = self.oracle(arrays, case)
        return np.abs(t), ({} if grad_out is None else {"x": np.abs(grad_out) * (1 + t * t)})


def _exponent_error(x, axis):
    """1 + |x - max(x)| along ``axis``: the rounding of the shift feeds the exponential."""
    x = np.asarray(x, np.float64)
    return 1 + np.abs(x - x.max(axis=axis, keepdims=True))


class Softmax(SmoothRecord):
    def call(self, arrays, case):
        return (arrays["x"],), {"axis": case.axis}

    def keywords(self, arrays, case):
        return {"x": arrays["x"], "axis": case.axis}

    def oracle(self, arrays, case, grad_out=None):
        return torch_oracle.softmax(arrays["x"], grad_out, axis=case.axis)

    def terms(self, case):
        n = case.shape[case.axis] + EXP_TERMS
        return {"out": n, "x": n}

    def abs_oracle(self, arrays, case, grad_out):
        y, _ = self.oracle(arrays, case)
        shift = _exponent_error(arrays["x"], case.axis)
        if grad_out is None:
            return y * shift, {}
        g = np.abs(np.asarray(grad_out, np.float64))
        return y * shift, {"x": y * shift * (g + (g * y).sum(axis=case.axis, keepdims=True))}

    def fd_truncation(self, case, arrays, name, direction, step):
        row_max = np.abs(direction).max(axis=case.axis, keepdims=True)
        return np.broadcast_to(step**2 / 6 * 26 * row_max**3, case.shape)

    def error_inputs(self, claimed):
        x = self._x(claimed)
        return [ErrorInput("axis 2 of a 2-D x", lambda impl: impl.softmax_forward(x, axis=2),
                           (ValueError,), ("axis",), arrays=(x,)),
                ErrorInput("axis 1.0", lambda impl: impl.softmax_forward(x, axis=1.0),
                           (TypeError,), ("axis",), arrays=(x,))]


class Linear(LayerRecord):
    inputs = ("x", "weight", "bias")

    def call(self, arrays, case):
        return (arrays["x"], arrays["weight"], arrays.get("bias")), {}

    def keywords(self, arrays, case):
        return {"x": arrays["x"], "weight": arrays["weight"], "bias": arrays.get("bias")}

    def out_shape(self, case):
        return (case.shape[0], case.out_features)

    def backward(self, impl, grad_out, cache, case):
        return expect_weighted_grads("linear", impl.linear_backward(grad_out, cache), case.shape,
                                     (case.out_features, case.shape[1]),
                                     (case.out_features,) if case.bias else None, case.dtype)

    def oracle(self, arrays, case, grad_out=None):
        out, grads = torch_oracle.linear(arrays["x"], arrays["weight"], arrays.get("bias"),
                                         grad_out)
        return out, {("x" if k == "input" else k): v for k, v in grads.items()}

    def abs_oracle(self, arrays, case, grad_out):
        absolute = {k: np.abs(v) for k, v in arrays.items()}
        return self.oracle(absolute, case, None if grad_out is None else np.abs(grad_out))

    def terms(self, case):
        return {"out": case.shape[1] + case.bias, "x": case.out_features,
                "weight": case.shape[0], "bias": case.shape[0]}

    def error_inputs(self, claimed):
        x = self._x(claimed)
        w = np.ones((4, 3), x.dtype)
        w2 = np.ones((4, 2), x.dtype)
        return [
            ErrorInput("x of ndim 1", lambda impl: impl.linear_forward(x[0], w, None),
                       (ValueError,), ("x",), arrays=(x, w)),
            ErrorInput("weight (4, 2) for 3 input features",
                       lambda impl: impl.linear_forward(x, w2, None), (ValueError,),
                       ("weight",), arrays=(x, w2)),
            ErrorInput("bias of shape (3,) for 4 outputs",
                       lambda impl: impl.linear_forward(x, w, np.ones(3, x.dtype)),
                       (ValueError,), ("bias",), frozenset({"bias"}), (x, w)),
        ]


class Flatten(LayerRecord):
    def out_shape(self, case):
        return (case.shape[0], math.prod(case.shape[1:]))

    def oracle(self, arrays, case, grad_out=None):
        return torch_oracle.flatten(arrays["x"], grad_out)

    def terms(self, case):
        return {"out": 0, "x": 0}   # a copy: exact

    def abs_oracle(self, arrays, case, grad_out):
        return np.zeros(self.out_shape(case)), {"x": np.zeros(case.shape)}

    def fd_scale(self, impl, case, arrays, step):
        return np.zeros(self.out_shape(case))   # a copy: x +- 1 and the difference are exact

    def example(self, features):
        case = super().example(features)
        return LayerCase(**{**case.__dict__, "shape": (2, 3, 2)})

    def error_inputs(self, claimed):
        x = self._x(claimed)
        return [ErrorInput("x of ndim 1", lambda impl: impl.flatten_forward(x[0]),
                           (ValueError,), ("x",), arrays=(x,))]


class Dropout(LayerRecord):
    def call(self, arrays, case):
        return (arrays["x"], arrays["mask"]), {"p": case.p}

    def keywords(self, arrays, case):
        return {"x": arrays["x"], "mask": arrays["mask"], "p": case.p}

    def oracle(self, arrays, case, grad_out=None):
        return torch_oracle.dropout(arrays["x"], arrays["mask"], grad_out, p=case.p)

    def terms(self, case):
        return {"out": 3, "x": 3}   # a multiplication by the mask and a scaling by 1/(1-p)

    def abs_oracle(self, arrays, case, grad_out):
        keep = np.asarray(arrays["mask"], np.float64) / (1 - case.p)
        out = np.abs(np.asarray(arrays["x"], np.float64)) * keep
        return out, ({} if grad_out is None else {"x": np.abs(grad_out) * keep})

    def example(self, features):
        return LayerCase(**{**super().example(features).__dict__, "p": 0.5})

    def error_inputs(self, claimed):
        x = self._x(claimed)
        mask = np.ones(x.shape, bool)
        return [
            ErrorInput("p = 1.0", lambda impl: impl.dropout_forward(x, mask, p=1.0),
                       (ValueError,), ("p",), arrays=(x, mask)),
            ErrorInput("p = -0.1", lambda impl: impl.dropout_forward(x, mask, p=-0.1),
                       (ValueError,), ("p",), arrays=(x, mask)),
            ErrorInput("mask of shape (3, 2) for x (2, 3)", lambda impl: impl.dropout_forward(
                x, mask.reshape(3, 2), p=0.5), (ValueError,), ("mask",), arrays=(x, mask)),
            ErrorInput("mask of dtype float64", lambda impl: impl.dropout_forward(
                x, mask.astype(np.float64), p=0.5), (TypeError,), ("mask",), arrays=(x, mask)),
        ]


class SoftmaxCrossEntropy(SmoothRecord):
    inputs = ("logits",)

    def call(self, arrays, case):
        return (arrays["logits"], arrays["target"]), {}

    def keywords(self, arrays, case):
        return {"logits": arrays["logits"], "target": arrays["target"]}

    def out_shape(self, case):
        return ()

    def oracle(self, arrays, case, grad_out=None):
        return torch_oracle.softmax_cross_entropy(arrays["logits"], arrays["target"], grad_out)

    def terms(self, case):
        batch, classes = case.shape
        return {"out": classes + EXP_TERMS + batch, "logits": classes + EXP_TERMS}

    def abs_oracle(self, arrays, case, grad_out):
        z = np.asarray(arrays["logits"], np.float64)
        batch = z.shape[0]
        rows = np.arange(batch)
        target = np.asarray(arrays["target"])
        top = z.max(axis=1, keepdims=True)
        y = np.exp(z - top)
        y /= y.sum(axis=1, keepdims=True)
        lse_shift = np.log(np.exp(z - top).sum(axis=1))
        shift = _exponent_error(z, 1)
        per_sample = (np.abs(top[:, 0]) + np.abs(lse_shift) + np.abs(z[rows, target])
                      + (y * shift).sum(axis=1))
        out = np.asarray(per_sample.mean())
        if grad_out is None:
            return out, {}
        onehot = np.zeros_like(z)
        onehot[rows, target] = 1
        return out, {"logits": abs(float(grad_out)) * (y + onehot) * shift / batch}

    def fd_truncation(self, case, arrays, name, direction, step):
        return np.asarray(step**2 / 6 * 26 * np.abs(direction).max() ** 3)

    def example(self, features):
        return LayerCase(**{**super().example(features).__dict__, "shape": (2, 3)})

    def error_inputs(self, claimed):
        logits = self._x(claimed)
        target = np.array([0, 2])

        def ce(logits=logits, target=target):
            return lambda impl: impl.softmax_cross_entropy_forward(logits, target)

        def case(description, call, raises, names):
            return ErrorInput(description, call, raises, names, arrays=(logits, target))

        return [
            case("logits of ndim 1", ce(logits=logits[0]), (ValueError,), ("logits",)),
            case("target 3 out of range for 3 classes", ce(target=np.array([0, 3])),
                 (ValueError,), ("target",)),
            case("target -1", ce(target=np.array([-1, 0])), (ValueError,), ("target",)),
            case("target of dtype float64", ce(target=np.array([0.0, 1.0])), (TypeError,),
                 ("target",)),
            case("target of length 3 for a batch of 2", ce(target=np.array([0, 1, 2])),
                 (ValueError,), ("target",)),
        ]


RELU, SIGMOID, TANH = Relu("relu"), Sigmoid("sigmoid"), Tanh("tanh")
SOFTMAX, LINEAR, FLATTEN = Softmax("softmax"), Linear("linear"), Flatten("flatten")
DROPOUT = Dropout("dropout")
SOFTMAX_CROSS_ENTROPY = SoftmaxCrossEntropy("softmax_cross_entropy")
LAYER_RECORDS = (RELU, SIGMOID, TANH, SOFTMAX, LINEAR, FLATTEN, SOFTMAX_CROSS_ENTROPY, DROPOUT)
