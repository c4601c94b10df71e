"""Activation bugs: relu, sigmoid, tanh and softmax."""
import numpy as np

from conformance.impls import dense
from conformance.impls.validation import (check_grad_out, check_relu, check_sigmoid, check_softmax,
                                          check_tanh)
from tests.corpus import Mutant

# --- relu -----------------------------------------------------------------------------------


def _relu_nonnegative_mask_forward(x):
    check_relu(x)
    dense.capabilities.require("relu", x=x)
    out = np.where(x < 0, x.dtype.type(0), x)
    return out, (x >= 0, x.shape, x.dtype)


relu_grad_one_at_zero = Mutant(
    "relu_grad_one_at_zero", "relu keeps the mask x >= 0, so the gradient at x == 0 is 1, not 0",
    ("relu.at_zero",), base=dense, relu_forward=_relu_nonnegative_mask_forward)


def _relu_in_place_forward(x):
    check_relu(x)
    dense.capabilities.require("relu", x=x)
    out = np.maximum(x, 0, out=x)    # saves an allocation; the caller's x is now relu(x)
    return out, (out > 0, x.shape, x.dtype)


relu_in_place = Mutant(
    "relu_in_place", "relu forward clamps the caller's x in place (np.maximum(x, 0, out=x)) and "
    "returns it", ("relu.no_mutation", "relu.no_aliasing"), base=dense,
    relu_forward=_relu_in_place_forward)


_last_mask = None


def _relu_global_mask_forward(x):
    global _last_mask
    check_relu(x)
    dense.capabilities.require("relu", x=x)
    _last_mask = x > 0
    return np.where(x < 0, x.dtype.type(0), x), (x.shape, x.dtype)


def _relu_global_mask_backward(grad_out, cache):
    shape, dtype = cache
    check_grad_out(grad_out, shape, dtype)
    return np.where(_last_mask, grad_out, dtype.type(0))


relu_mask_in_module_state = Mutant(
    "relu_mask_in_module_state", "relu keeps its mask in a module-level variable, not the cache: "
    "a later forward changes an earlier backward", ("relu.deterministic",), base=dense,
    relu_forward=_relu_global_mask_forward, relu_backward=_relu_global_mask_backward)


def _relu_accumulating_forward(x):
    check_relu(x)
    dense.capabilities.require("relu", x=x)
    out = np.where(x < 0, x.dtype.type(0), x)
    return out, {"mask": x > 0, "dtype": x.dtype, "grad_x": np.zeros(x.shape, x.dtype)}


def _relu_accumulating_backward(grad_out, cache):
    check_grad_out(grad_out, cache["mask"].shape, cache["dtype"])
    # Adds into one buffer per cache and returns it: the first call is right, every later call
    # on the same cache returns (and overwrites) a multiple.
    cache["grad_x"] += np.where(cache["mask"], grad_out, cache["dtype"].type(0))
    return cache["grad_x"]


relu_backward_returns_its_accumulator = Mutant(
    "relu_backward_returns_its_accumulator", "relu backward adds into a buffer kept in the cache "
    "and returns it: a second backward on one cache doubles (and overwrites) the first result",
    ("relu.deterministic",), base=dense, relu_forward=_relu_accumulating_forward,
    relu_backward=_relu_accumulating_backward)


# --- sigmoid --------------------------------------------------------------------------------

def _sigmoid_missing_factor_backward(grad_out, cache):
    s = cache
    check_grad_out(grad_out, s.shape, s.dtype)
    return np.asarray(grad_out * s)


sigmoid_grad_missing_one_minus_s = Mutant(
    "sigmoid_grad_missing_one_minus_s", "sigmoid gradient grad_out * s instead of "
    "grad_out * s * (1 - s)", ("sigmoid.grad_x", "sigmoid.finite_difference", "sigmoid.jacobian"),
    base=dense, sigmoid_backward=_sigmoid_missing_factor_backward)


def _sigmoid_exp_ratio_forward(x):
    check_sigmoid(x)
    dense.capabilities.require("sigmoid", x=x)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        e = np.exp(x)
        out = np.asarray(e / (1 + e))   # inf / inf = NaN once exp(x) overflows
    return out, out


sigmoid_exp_ratio_overflows = Mutant(
    "sigmoid_exp_ratio_overflows", "sigmoid as exp(x) / (1 + exp(x)): NaN for large positive x",
    ("sigmoid.forward",), base=dense, sigmoid_forward=_sigmoid_exp_ratio_forward)


# --- tanh -----------------------------------------------------------------------------------

def _tanh_linear_backward(grad_out, cache):
    t = cache
    check_grad_out(grad_out, t.shape, t.dtype)
    return np.asarray(grad_out * (1 - t))


tanh_grad_one_minus_t = Mutant(
    "tanh_grad_one_minus_t", "tanh gradient grad_out * (1 - t) instead of grad_out * (1 - t * t)",
    ("tanh.grad_x", "tanh.finite_difference", "tanh.jacobian"), base=dense,
    tanh_backward=_tanh_linear_backward)


def _tanh_float32_forward(x):
    check_tanh(x)
    dense.capabilities.require("tanh", x=x)
    out = np.tanh(x.astype(np.float32)).astype(x.dtype)
    return out, out


tanh_in_float32 = Mutant(
    "tanh_in_float32", "tanh computed in float32 whatever the input dtype",
    ("tanh.forward", "tanh.grad_x"), base=dense, tanh_forward=_tanh_float32_forward)


# --- softmax --------------------------------------------------------------------------------

def _softmax_unshifted_forward(x, *, axis):
    ax = check_softmax(x, axis)
    dense.capabilities.require("softmax", x=x, axis=axis)
    x64 = x.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        e = np.exp(x64)                 # no max subtraction: overflows (or all underflow)
        y = e / e.sum(axis=ax, keepdims=True)
    return y.astype(x.dtype), (y, ax, x.dtype)


softmax_without_max_shift = Mutant(
    "softmax_without_max_shift", "softmax exponentiates x without subtracting the row maximum: "
    "inf / inf (or 0 / 0) = NaN for large inputs", ("softmax.forward",), base=dense,
    softmax_forward=_softmax_unshifted_forward)


def _softmax_no_sum_backward(grad_out, cache):
    y, axis, dtype = cache
    check_grad_out(grad_out, y.shape, dtype)
    with np.errstate(under="ignore"):
        grad = y * grad_out.astype(np.float64)
    return grad.astype(dtype)


softmax_grad_missing_sum_term = Mutant(
    "softmax_grad_missing_sum_term", "softmax backward y * g, missing the - y * sum(g * y) term",
    ("softmax.grad_x", "softmax.finite_difference", "softmax.jacobian"), base=dense,
    softmax_backward=_softmax_no_sum_backward)


def _softmax_last_axis_forward(x, *, axis):
    check_softmax(x, axis)
    dense.capabilities.require("softmax", x=x, axis=axis)
    x64 = x.astype(np.float64)
    with np.errstate(under="ignore"):
        e = np.exp(x64 - x64.max(axis=-1, keepdims=True))
        y = e / e.sum(axis=-1, keepdims=True)
    return y.astype(x.dtype), (y, -1, x.dtype)


softmax_always_last_axis = Mutant(
    "softmax_always_last_axis", "softmax validates axis but always normalises along the last "
    "axis (forward and backward)", ("softmax.forward", "softmax.grad_x"), base=dense,
    softmax_forward=_softmax_last_axis_forward)
