"""Records of the dense-network ops: relu, sigmoid, tanh, softmax, linear, flatten,
softmax_cross_entropy and dropout (semantics: the PyTorch function of the same name).

Error scales follow the same analysis as conv2d: n roundings of terms whose size is the scale.
For the transcendental ones a libm function counts as a few roundings (EXP_TERMS) relative to its
result; for softmax and cross-entropy the rounding of x - max(x) enters the exponent, hence the
(1 + |x - max|) factors.

Finite differences of the smooth ops use a fixed step h (SMOOTH_STEP) and a truncation bound
h^2/6 * M3 * |v|^3 with M3 a bound on the third derivative along the direction: 1/8 for sigmoid,
2 for tanh, and SOFTMAX_M3 * max|v|^3 for softmax rows and cross-entropy (derived from
y' = y (v - <v, y>)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from conformance.layouts import lay_out
from conformance.ops.base import (CONTRACT_CHECKS, ErrorInput, Function, OpRecord, applies,
                                  error_dtype, example_storage, expect_array, expect_pair,
                                  expect_weighted_grads, torch_oracle)
from conformance.sizes import NEAR_POWERS, SMALL, TINY, WIDTHS, Range, Sizes, fits

EXP_TERMS = 8            # roundings charged to one exp/log/tanh and the arithmetic around it
SMOOTH_STEP = 2.0**-13   # finite-difference step of the smooth ops (exactly representable)
SOFTMAX_M3 = 26          # |d^3/dt^3 softmax(x + t v)| <= SOFTMAX_M3 * max|v|^3 (and cross-entropy)
RELU_MARGIN = 0.25       # relu inputs keep |x| >= RELU_MARGIN * scale: no step crosses the kink
RELU_STEPS = 2**10       # relu's finite-difference step: the scale over this power of two
DROPOUT_P = (0.5, 0.0, 0.3, 0.9)


# -- cases -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerCase:
    """x of ``shape`` (standard normal values scaled by 2**magnitude) in the case's dtype and
    layout; subclasses add the op's other arrays and parameters."""
    shape: tuple[int, ...]
    dtype: str
    layout: str
    magnitude: int
    seed: int

    def arrays(self) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        values = {"x": self.standard_x(rng) * 2.0**self.magnitude, **self.parameters(rng)}
        return self.labels({k: lay_out(v.astype(self.dtype), self.layout)
                            for k, v in values.items()}, rng)

    def standard_x(self, rng) -> np.ndarray:
        return rng.standard_normal(self.shape)

    def parameters(self, rng) -> dict[str, np.ndarray]:
        """Float arrays besides x (standard normal)."""
        return {}

    def labels(self, arrays: dict, rng) -> dict[str, np.ndarray]:
        """The arrays with the op's non-float inputs added."""
        return arrays


@dataclass(frozen=True)
class ReluCase(LayerCase):
    zeros: bool = False   # a third of x exactly 0 (the gradient-at-zero convention)

    def standard_x(self, rng):
        z = rng.standard_normal(self.shape)
        # Away from 0 by a margin, so a finite-difference step never crosses it.
        z = np.sign(z) * (np.abs(z) + RELU_MARGIN)
        if self.zeros:
            z[rng.random(self.shape) < 1 / 3] = 0.0
        return z


@dataclass(frozen=True)
class SoftmaxCase(LayerCase):
    axis: int = -1
    peak_last: bool = False   # each row's largest value moved to its last position

    def standard_x(self, rng):
        z = rng.standard_normal(self.shape)
        return _peak_last(z, self.axis) if self.peak_last else z


def _huge_peak_last(case_type, allowed, **fields) -> list:
    """Rows of 65 values of magnitude 2^20 whose largest value is last: an exponential
    overflows unless the maximum subtracted is the row's true maximum (random cases combine
    many classes, huge values and the maximum in the last block too rarely)."""
    dtype = "float64" if "float64" in allowed else "float32"
    return [case_type(shape=(2, 65), dtype=dtype, layout="contiguous", magnitude=20, seed=0,
                      peak_last=True, **fields)]


def _peak_last(z: np.ndarray, axis: int) -> np.ndarray:
    """z with the largest value of every row along ``axis`` swapped into the row's last place:
    code that looks for the maximum block by block and misses the last block shows it."""
    z = np.moveaxis(z.copy(), axis, -1)
    rows = z.reshape(-1, z.shape[-1])
    top = rows.argmax(axis=1)
    everything = np.arange(len(rows))
    rows[everything, top], rows[everything, -1] = rows[everything, -1], rows[everything, top]
    return np.moveaxis(rows.reshape(z.shape), -1, axis)


@dataclass(frozen=True)
class LinearCase(LayerCase):
    """shape is x's (N, in_features)."""
    out_features: int
    bias: bool

    @property
    def weight_shape(self):
        return (self.out_features, self.shape[1])

    def parameters(self, rng):
        values = {"weight": rng.standard_normal((self.out_features, self.shape[1]))}
        if self.bias:
            values["bias"] = rng.standard_normal(self.out_features)
        return values


@dataclass(frozen=True)
class CrossEntropyCase(LayerCase):
    """shape is the logits' (N, K); targets are uniform over the K classes."""
    peak_last: bool = False   # each row's largest logit moved to its last class

    def standard_x(self, rng):
        z = rng.standard_normal(self.shape)
        return _peak_last(z, 1) if self.peak_last else z

    def labels(self, arrays, rng):
        target = rng.integers(0, self.shape[1], self.shape[0]).astype(np.int64)
        return {"logits": arrays["x"], "target": lay_out(target, self.layout)}


@dataclass(frozen=True)
class DropoutCase(LayerCase):
    p: float

    def labels(self, arrays, rng):
        return {**arrays, "mask": lay_out(rng.random(self.shape) >= self.p, self.layout)}


# -- records -----------------------------------------------------------------------------------

def _functions(name: str, signature: str, forward: str, backward: str,
               require: tuple[str, ...], grad: str = "grad_out") -> tuple[Function, ...]:
    return (Function(f"{name}_forward", signature, forward, require),
            Function(f"{name}_backward", f"{grad}, cache", backward))


ELEMENTWISE_BACKWARD = "grad_out of x's shape and dtype -> grad_x = grad_out * {derivative}."


class LayerRecord(OpRecord):
    """Calling, coverage and error inputs shared by the dense-network ops. Finite differences
    default to OpRecord's, for ops linear in each input; SmoothRecord overrides them."""
    features = ("float32", "float64", "noncontiguous", "backward", "validation")
    case_type = LayerCase
    sizes = {SMALL: Sizes(extent=(1, 4), rank=(1, 4)), TINY: Sizes(extent=(1, 2), rank=(1, 3))}
    edge_cases = ("single element", "magnitude 2^20", "magnitude 2^-20")

    def __init__(self, name: str, functions: tuple[Function, ...], checks: tuple):
        self.name = name
        self.functions = functions
        self.checks = (*checks, *CONTRACT_CHECKS)

    # -- cases ---------------------------------------------------------------------------------

    def draw_case(self, draw, sizes, special):
        shape = self.draw_shape(draw, sizes)
        extra = self.draw_parameters(draw, sizes, shape, special)
        return self.case_type(shape=shape, dtype=draw.dtype(), layout=draw.layout(),
                              magnitude=draw.magnitude(), seed=draw.seed(), **extra)

    def draw_shape(self, draw, sizes) -> tuple[int, ...]:
        return draw.shape(sizes.extent, sizes.rank)

    def draw_parameters(self, draw, sizes, shape, special) -> dict:
        """The case's fields beyond shape, dtype, layout, magnitude and seed."""
        return {}

    def draw_large_case(self, draw, special):
        shape, extra = self.draw_large_shape(draw)
        if extra is None:
            extra = self.draw_parameters(draw, self.sizes[SMALL], shape, special)
        return self.case_type(shape=shape, dtype=draw.dtype(), layout=draw.layout(),
                              magnitude=draw.magnitude(), seed=draw.seed(), **extra)

    def draw_large_shape(self, draw) -> tuple[tuple[int, ...], dict | None]:
        """(shape, fields) of a large-tier case: rows and middle axes around the powers of two,
        the last axis up to 2049 (fields None: drawn by draw_parameters)."""
        rows = draw.size(NEAR_POWERS)
        middle = []
        for _ in range(draw.integer(Range(0, 2))):
            middle.append(draw.size(NEAR_POWERS, lambda m: fits(rows * math.prod(middle) * m)))
        leading = rows * math.prod(middle)
        return (rows, *middle, draw.size(WIDTHS, lambda k: fits(leading * k))), None

    def call(self, arrays, case) -> tuple[tuple, dict]:
        """Positional arrays and keyword parameters of the forward."""
        return (arrays["x"],), {}

    def call_arguments(self, arrays, case):
        return {"x": arrays["x"]}

    def edge_cases_of(self, case):
        return frozenset(name for name, hit in (
            ("single element", math.prod(case.shape) == 1),
            ("magnitude 2^20", case.magnitude == 20),
            ("magnitude 2^-20", case.magnitude == -20)) if hit)

    def example(self, features):
        return self.example_with(features)

    def example_with(self, features, shape=(2, 3), **fields):
        return self.case_type(shape=shape, magnitude=0, seed=0, **example_storage(features),
                              **fields)

    def _x(self, claimed):
        dtype = error_dtype(claimed)
        return np.random.default_rng(0).standard_normal((2, 3)).astype(dtype)

    def error_inputs(self, claimed):
        x = self._x(claimed)

        def forward_of(value):
            return lambda impl: getattr(impl, f"{self.name}_forward")(value)

        return [ErrorInput("x given as a list", forward_of(x.tolist()), (TypeError,), ("x",),
                           arrays=(x,)),
                ErrorInput("x of dtype int64", forward_of(x.astype(np.int64)), (TypeError,),
                           ("x",), arrays=(x,))]

    # -- calling -------------------------------------------------------------------------------

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

    # -- truth ---------------------------------------------------------------------------------

    def oracle(self, arrays, case, grad_out=None):
        return torch_oracle().elementwise(self.name, arrays["x"], grad_out)


class SmoothRecord(LayerRecord):
    """Transcendental ops: errors of a few ulps relative to their results, and finite
    differences with a fixed step and a third-derivative truncation bound."""
    third_derivative = 0.0   # M3 for elementwise ops

    def terms(self, case):
        return {"out": EXP_TERMS, "x": EXP_TERMS}

    def fd_step(self, case):
        return SMOOTH_STEP

    def fd_truncation(self, case, arrays, name, direction, step):
        return step**2 / 6 * self.third_derivative * np.abs(direction) ** 3

    def fd_scale(self, impl, case, arrays, step):
        scale, _ = self.error_scale(arrays, case, None)
        return 2 * np.asarray(scale, np.float64)


class Relu(LayerRecord):
    case_type = ReluCase
    edge_cases = LayerRecord.edge_cases + ("exact zeros",)

    def draw_parameters(self, draw, sizes, shape, special):
        return {"zeros": special == "zeros"}

    def example(self, features):
        return self.example_with(features, zeros=False)

    def terms(self, case):
        return {"out": 0, "x": 0}   # selection: exact

    def error_scale(self, arrays, case, grad_out):
        return np.zeros(case.shape), {"x": np.zeros(case.shape)}

    def fd_step(self, case):
        # Inputs keep |x| >= RELU_MARGIN * scale, and |v| <= 1: no step crosses the kink.
        return 2.0**case.magnitude / RELU_STEPS

    def edge_cases_of(self, case):
        return super().edge_cases_of(case) | ({"exact zeros"} if case.zeros else set())


class Sigmoid(SmoothRecord):
    third_derivative = 1 / 8

    def error_scale(self, arrays, case, grad_out):
        s, _ = self.oracle(arrays, case)
        return np.abs(s), ({} if grad_out is None else {"x": np.abs(grad_out) * s * (1 + s)})


class Tanh(SmoothRecord):
    third_derivative = 2.0

    def error_scale(self, arrays, case, grad_out):
        t, _ = self.oracle(arrays, case)
        return np.abs(t), ({} if grad_out is None else {"x": np.abs(grad_out) * (1 + t * t)})


def _exponent_error(x, axis):
    """1 + |x - max(x)| along ``axis``: the rounding of the shift feeds the exponential."""
    x = np.asarray(x, np.float64)
    return 1 + np.abs(x - x.max(axis=axis, keepdims=True))


class Softmax(SmoothRecord):
    case_type = SoftmaxCase

    def draw_parameters(self, draw, sizes, shape, special):
        return {"axis": draw.integer(Range(-len(shape), len(shape) - 1)),
                "peak_last": draw.flag()}

    def corner_cases(self, allowed, required=frozenset()):
        return _huge_peak_last(self.case_type, allowed, axis=-1)

    def example(self, features):
        return self.example_with(features, axis=-1)

    def call(self, arrays, case):
        return (arrays["x"],), {"axis": case.axis}

    def call_arguments(self, arrays, case):
        return {"x": arrays["x"], "axis": case.axis}

    def oracle(self, arrays, case, grad_out=None):
        return torch_oracle().softmax(arrays["x"], grad_out, axis=case.axis)

    def terms(self, case):
        n = case.shape[case.axis] + EXP_TERMS
        return {"out": n, "x": n}

    def error_scale(self, arrays, case, grad_out):
        y, _ = self.oracle(arrays, case)
        shift = _exponent_error(arrays["x"], case.axis)
        if grad_out is None:
            return y * shift, {}
        g = np.abs(np.asarray(grad_out, np.float64))
        return y * shift, {"x": y * shift * (g + (g * y).sum(axis=case.axis, keepdims=True))}

    def fd_truncation(self, case, arrays, name, direction, step):
        row_max = np.abs(direction).max(axis=case.axis, keepdims=True)
        return np.broadcast_to(step**2 / 6 * SOFTMAX_M3 * row_max**3, case.shape)

    def error_inputs(self, claimed):
        x = self._x(claimed)
        return [ErrorInput("axis 2 of a 2-D x", lambda impl: impl.softmax_forward(x, axis=2),
                           (ValueError,), ("axis",), arrays=(x,)),
                ErrorInput("axis 1.0", lambda impl: impl.softmax_forward(x, axis=1.0),
                           (TypeError,), ("axis",), arrays=(x,))]


class Linear(LayerRecord):
    features = LayerRecord.features + ("bias",)
    inputs = ("x", "weight", "bias")
    case_type = LinearCase
    sizes = {SMALL: Sizes(batch=(1, 4), in_features=(1, 6), out_features=(1, 5)),
             TINY: Sizes(batch=(1, 2), in_features=(1, 3), out_features=(1, 2))}

    def features_used(self, **call):
        used = super().features_used(**call)
        return used | {"bias"} if call.get("bias") is not None else used

    def draw_shape(self, draw, sizes):
        return (draw.integer(sizes.batch), draw.integer(sizes.in_features))

    def draw_parameters(self, draw, sizes, shape, special):
        return {"out_features": draw.integer(sizes.out_features), "bias": draw.uses("bias")}

    def draw_large_shape(self, draw):
        rows = draw.size(NEAR_POWERS)
        features = draw.size(WIDTHS, lambda k: fits(rows * k))
        outputs = draw.size(WIDTHS, lambda o: fits(rows * o, features * o,
                                                   products=rows * features * o))
        return (rows, features), {"out_features": outputs, "bias": draw.uses("bias")}

    def example(self, features):
        return self.example_with(features, out_features=2, bias="bias" in features)

    def call(self, arrays, case):
        return (arrays["x"], arrays["weight"], arrays.get("bias")), {}

    def call_arguments(self, arrays, case):
        return {"x": arrays["x"], "weight": arrays["weight"], "bias": arrays.get("bias")}

    def out_shape(self, case):
        return (case.shape[0], case.out_features)

    def backward(self, impl, grad_out, cache, case):
        return expect_weighted_grads("linear", impl.linear_backward(grad_out, cache), case.shape,
                                     (case.out_features, case.shape[1]),
                                     (case.out_features,) if case.bias else None, case.dtype)

    def oracle(self, arrays, case, grad_out=None):
        out, grads = torch_oracle().linear(arrays["x"], arrays["weight"], arrays.get("bias"),
                                           grad_out)
        return out, {("x" if k == "input" else k): v for k, v in grads.items()}

    def error_scale(self, arrays, case, grad_out):
        """The op on absolute values."""
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
    sizes = {SMALL: Sizes(extent=(1, 4), rank=(2, 4)), TINY: Sizes(extent=(1, 2), rank=(2, 3))}

    def out_shape(self, case):
        return (case.shape[0], math.prod(case.shape[1:]))

    def oracle(self, arrays, case, grad_out=None):
        return torch_oracle().flatten(arrays["x"], grad_out)

    def terms(self, case):
        return {"out": 0, "x": 0}   # a copy: exact

    def error_scale(self, arrays, case, grad_out):
        return np.zeros(self.out_shape(case)), {"x": np.zeros(case.shape)}

    def example(self, features):
        return self.example_with(features, shape=(2, 3, 2))

    def error_inputs(self, claimed):
        x = self._x(claimed)
        return [ErrorInput("x of ndim 1", lambda impl: impl.flatten_forward(x[0]),
                           (ValueError,), ("x",), arrays=(x,))]


class Dropout(LayerRecord):
    case_type = DropoutCase

    def draw_parameters(self, draw, sizes, shape, special):
        return {"p": draw.choice(DROPOUT_P)}

    def example(self, features):
        return self.example_with(features, p=0.5)

    def call(self, arrays, case):
        return (arrays["x"], arrays["mask"]), {"p": case.p}

    def call_arguments(self, arrays, case):
        return {"x": arrays["x"], "mask": arrays["mask"], "p": case.p}

    def oracle(self, arrays, case, grad_out=None):
        return torch_oracle().dropout(arrays["x"], arrays["mask"], grad_out, p=case.p)

    def terms(self, case):
        return {"out": 3, "x": 3}   # a multiplication by the mask and a scaling by 1/(1-p)

    def error_scale(self, arrays, case, grad_out):
        keep = np.asarray(arrays["mask"], np.float64) / (1 - case.p)
        out = np.abs(np.asarray(arrays["x"], np.float64)) * keep
        return out, ({} if grad_out is None else {"x": np.abs(grad_out) * keep})

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
    primary = "logits"
    case_type = CrossEntropyCase
    sizes = {SMALL: Sizes(batch=(1, 4), classes=(1, 6)), TINY: Sizes(batch=(1, 2), classes=(1, 3))}

    def draw_shape(self, draw, sizes):
        return (draw.integer(sizes.batch), draw.integer(sizes.classes))

    def draw_large_shape(self, draw):
        rows = draw.size(NEAR_POWERS)
        return (rows, draw.size(WIDTHS, lambda k: fits(rows * k))), None

    def draw_parameters(self, draw, sizes, shape, special):
        return {"peak_last": draw.flag()}

    def corner_cases(self, allowed, required=frozenset()):
        return _huge_peak_last(self.case_type, allowed)

    def call(self, arrays, case):
        return (arrays["logits"], arrays["target"]), {}

    def call_arguments(self, arrays, case):
        return {"logits": arrays["logits"], "target": arrays["target"]}

    def out_shape(self, case):
        return ()

    def oracle(self, arrays, case, grad_out=None):
        return torch_oracle().softmax_cross_entropy(arrays["logits"], arrays["target"], grad_out)

    def terms(self, case):
        batch, classes = case.shape
        return {"out": classes + EXP_TERMS + batch, "logits": classes + EXP_TERMS}

    def error_scale(self, arrays, case, grad_out):
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
        return np.asarray(step**2 / 6 * SOFTMAX_M3 * np.abs(direction).max() ** 3)

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


# -- the records, with their interface and checks ----------------------------------------------

_GRADIENT_CHECKED = ("forward", "grad_x", "finite_difference", "jacobian")
_LINEAR_CHECKED = ("forward", "grad_x", "adjoint", "jacobian")

RELU = Relu("relu", _functions(
    "relu", "x", "max(x, 0) elementwise, as torch.relu. x: float array of any shape.\n"
    "Returns (out of x's shape and dtype, cache).",
    "grad_out of x's shape and dtype -> grad_x = grad_out where x > 0, else 0 (also at x == 0, "
    "as PyTorch).", ("x",)),
    ("forward", "grad_x", "finite_difference", applies("at_zero", "convention", special="zeros"),
     "jacobian"))
SIGMOID = Sigmoid("sigmoid", _functions(
    "sigmoid", "x", "1 / (1 + exp(-x)) elementwise, as torch.sigmoid; finite for inputs of any "
    "magnitude.\nReturns (out of x's shape and dtype, cache).",
    ELEMENTWISE_BACKWARD.format(derivative="s * (1 - s)"), ("x",)), _GRADIENT_CHECKED)
TANH = Tanh("tanh", _functions(
    "tanh", "x", "tanh(x) elementwise, as torch.tanh.\nReturns (out of x's shape and dtype, "
    "cache).", ELEMENTWISE_BACKWARD.format(derivative="(1 - tanh(x)^2)"), ("x",)),
    _GRADIENT_CHECKED)
SOFTMAX = Softmax("softmax", _functions(
    "softmax", "x, *, axis", "softmax along ``axis``, as torch.softmax(x, dim=axis): each slice "
    "along it sums to 1;\nfinite for inputs of any magnitude. x: float array, ndim >= 1.\n"
    "Returns (out of x's shape and dtype, cache). Raises ValueError for an axis out of range,\n"
    "TypeError for a non-int axis.",
    "grad_out of x's shape -> grad_x = y * (grad_out - sum(grad_out * y, axis)).",
    ("x", "axis")), _GRADIENT_CHECKED)
LINEAR = Linear("linear", _functions(
    "linear", "x, weight, bias", "x (N, in) @ weight.T + bias, as F.linear: weight (out, in), "
    "bias (out,) or None.\nReturns (out (N, out) in x's dtype, cache). Raises ValueError naming "
    "the parameter for\nwrong ndim or mismatched shapes.",
    "grad_out (N, out) -> (grad_x (N, in), grad_weight (out, in), grad_bias (out,) or None\n"
    "when bias was None).", ("x", "weight", "bias")),
    ("forward", "grad_x", "grad_weight", applies("grad_bias", required={"bias"}), "adjoint",
     "jacobian"))
FLATTEN = Flatten("flatten", _functions(
    "flatten", "x", "x (N, ...) -> out (N, prod(...)) in C order, as torch.flatten(x, 1); a copy, "
    "never a view.\nReturns (out, cache). Raises ValueError for x of ndim < 2.",
    "grad_out (N, prod(...)) -> grad_x of x's shape, a copy.", ("x",)), _LINEAR_CHECKED)
SOFTMAX_CROSS_ENTROPY = SoftmaxCrossEntropy("softmax_cross_entropy", _functions(
    "softmax_cross_entropy", "logits, target", "Mean cross-entropy, as F.cross_entropy(logits, "
    "target): logits (N, K) floats,\ntarget (N,) integers in [0, K). Returns (0-d loss in "
    "logits' dtype, cache); finite for\nlogits of any magnitude. Raises ValueError/TypeError "
    "naming the parameter for bad shapes,\ntargets out of range or of a non-integer dtype.",
    "grad_loss (a 0-d array of the forward's dtype, or a float) -> grad_logits (N, K)\n"
    "= grad_loss * (softmax(logits) - onehot(target)) / N.", ("logits", "target"),
    grad="grad_loss"), ("forward", "grad_logits", "finite_difference", "jacobian"))
DROPOUT = Dropout("dropout", _functions(
    "dropout", "x, mask, *, p", "Inverted dropout with a given mask: x * mask / (1 - p). mask: "
    "bool array of x's shape\n(True = keep); p in [0, 1). Returns (out of x's shape and dtype, "
    "cache). Raises ValueError\nfor p outside [0, 1) or a mask of another shape, TypeError for a "
    "mask that is not bool.",
    "grad_out of x's shape -> grad_x = grad_out * mask / (1 - p).", ("x", "mask", "p")),
    _LINEAR_CHECKED)

RECORDS = (RELU, SIGMOID, TANH, SOFTMAX, LINEAR, FLATTEN, SOFTMAX_CROSS_ENTROPY, DROPOUT)
