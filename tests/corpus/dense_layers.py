"""Bugs in the layers with a state or a shape change: linear, flatten and dropout."""
import math

import numpy as np

from conformance.impls import dense
from conformance.impls.validation import check_dropout, check_flatten, check_grad_out, check_linear
from tests.corpus import Mutant

# --- linear ---------------------------------------------------------------------------------


def _linear_reshaped_weight_forward(x, weight, bias):
    check_linear(x, weight, bias)
    dense.capabilities.require("linear", x=x, weight=weight, bias=bias)
    n_out, n_in = weight.shape
    out = x @ weight.reshape(n_in, n_out)   # meant weight.T: a reshape keeps the memory order
    if bias is not None:
        out += bias
    return out, (x, weight, bias is not None)


linear_weight_reshaped_not_transposed = Mutant(
    "linear_weight_reshaped_not_transposed", "linear forward multiplies by weight.reshape(in, out) "
    "instead of weight.T", ("linear.forward", "linear.adjoint", "linear.jacobian"), base=dense,
    linear_forward=_linear_reshaped_weight_forward)


def _linear_weight_grad_reshaped_backward(grad_out, cache):
    x, weight, has_bias = cache
    check_grad_out(grad_out, (x.shape[0], weight.shape[0]), x.dtype)
    grad_x = grad_out @ weight
    grad_weight = (x.T @ grad_out).reshape(weight.shape)   # (in, out) gradient, reshaped
    grad_bias = grad_out.sum(axis=0) if has_bias else None
    return grad_x, grad_weight, grad_bias


linear_weight_grad_reshaped = Mutant(
    "linear_weight_grad_reshaped", "weight gradient computed as x.T @ grad_out, (in, out), and "
    "reshaped to weight's (out, in) shape instead of transposed",
    ("linear.grad_weight", "linear.adjoint", "linear.jacobian"), base=dense,
    linear_backward=_linear_weight_grad_reshaped_backward)


def _linear_bias_mean_backward(grad_out, cache):
    grad_x, grad_weight, grad_bias = dense.linear_backward(grad_out, cache)
    if grad_bias is not None:
        grad_bias = grad_out.mean(axis=0)
    return grad_x, grad_weight, grad_bias


linear_bias_grad_averaged = Mutant(
    "linear_bias_grad_averaged", "linear bias gradient averaged over the batch instead of summed",
    ("linear.grad_bias", "linear.adjoint", "linear.jacobian"), base=dense,
    linear_backward=_linear_bias_mean_backward)


def _linear_weight_first_sample_backward(grad_out, cache):
    x, weight, has_bias = cache
    check_grad_out(grad_out, (x.shape[0], weight.shape[0]), x.dtype)
    grad_x = grad_out @ weight
    grad_weight = np.outer(grad_out[0], x[0])   # the per-sample formula, batch sum forgotten
    grad_bias = grad_out.sum(axis=0) if has_bias else None
    return grad_x, grad_weight, grad_bias


linear_weight_grad_first_sample = Mutant(
    "linear_weight_grad_first_sample", "linear weight gradient outer(grad_out[0], x[0]): the "
    "first sample only, no sum over the batch",
    ("linear.grad_weight", "linear.adjoint", "linear.jacobian"),
    base=dense, linear_backward=_linear_weight_first_sample_backward)


# --- flatten --------------------------------------------------------------------------------

def _flatten_fortran_backward(grad_out, cache):
    shape, dtype = cache
    check_grad_out(grad_out, (shape[0], math.prod(shape[1:])), dtype)
    return grad_out.reshape(shape, order="F").copy()


flatten_backward_fortran_order = Mutant(
    "flatten_backward_fortran_order", "flatten backward reshapes grad_out to x's shape in Fortran "
    "order while the forward flattens in C order",
    ("flatten.grad_x", "flatten.adjoint", "flatten.jacobian"), base=dense,
    flatten_backward=_flatten_fortran_backward)


def _flatten_view_forward(x):
    check_flatten(x)
    dense.capabilities.require("flatten", x=x)
    return x.reshape(x.shape[0], -1), (x.shape, x.dtype)   # a view of x when x is contiguous


flatten_returns_view = Mutant(
    "flatten_returns_view", "flatten forward returns x.reshape(N, -1), a view of the caller's x",
    ("flatten.no_aliasing",), base=dense, flatten_forward=_flatten_view_forward)


def _flatten_view_backward(grad_out, cache):
    shape, dtype = cache
    check_grad_out(grad_out, (shape[0], math.prod(shape[1:])), dtype)
    return grad_out.reshape(shape)


flatten_grad_is_view = Mutant(
    "flatten_grad_is_view", "flatten backward returns grad_out.reshape(x_shape), a view of the "
    "caller's grad_out", ("flatten.no_aliasing",), base=dense,
    flatten_backward=_flatten_view_backward)


# --- dropout --------------------------------------------------------------------------------

def _dropout_unscaled_forward(x, mask, *, p):
    check_dropout(x, mask, p)
    dense.capabilities.require("dropout", x=x, mask=mask, p=p)
    return np.asarray(x * mask), (mask.copy(), 1.0, x.dtype)


dropout_not_rescaled = Mutant(
    "dropout_not_rescaled", "dropout zeroes the dropped elements but never scales the kept ones "
    "by 1 / (1 - p) (forward and backward)", ("dropout.forward", "dropout.grad_x"), base=dense,
    dropout_forward=_dropout_unscaled_forward)


def _dropout_maskless_backward(grad_out, cache):
    mask, keep, dtype = cache
    check_grad_out(grad_out, mask.shape, dtype)
    return np.asarray(grad_out / keep)


dropout_backward_ignores_mask = Mutant(
    "dropout_backward_ignores_mask", "dropout backward scales grad_out by 1 / (1 - p) but lets "
    "the gradient of dropped elements through",
    ("dropout.grad_x", "dropout.adjoint", "dropout.jacobian"), base=dense,
    dropout_backward=_dropout_maskless_backward)


def _dropout_keep_scaled_forward(x, mask, *, p):
    keep = 1 - check_dropout(x, mask, p)
    dense.capabilities.require("dropout", x=x, mask=mask, p=p)
    # Test-time (non-inverted) scaling applied at training time: multiplies by 1 - p.
    return np.asarray(x * mask * keep), (mask.copy(), 1 / keep, x.dtype)


dropout_scaled_by_keep_probability = Mutant(
    "dropout_scaled_by_keep_probability", "dropout multiplies the kept elements by 1 - p instead "
    "of dividing by it (forward and backward)", ("dropout.forward", "dropout.grad_x"), base=dense,
    dropout_forward=_dropout_keep_scaled_forward)
