"""Activations, linear, flatten, softmax cross-entropy and dropout as whole-array NumPy.

Route: every op is a handful of vectorised NumPy expressions over the whole input:
    relu        where(x < 0, 0, x)                  (keeps -0.0 and NaN, as torch.relu does)
    sigmoid     e = exp(-|x|);  1 / (1 + e) where x >= 0, else e / (1 + e)
                (exp never sees a positive argument, so it cannot overflow)
    tanh        np.tanh
    linear      x @ weight.T + bias                 (one matrix product; BLAS for the gradients)
    flatten     a C-order reshaped copy
    softmax     exp(x - max) / sum, along the axis
    cross-entropy  logsumexp(row) - row[target], averaged over the batch
    dropout     x * mask / (1 - p)
Softmax and cross-entropy work in float64 and round once to the input dtype: ``x - max`` is
rounded before exp, and exp turns that absolute rounding into a relative error of
|x - max| * u, which in float32 would be large for the small outputs.

im2col_index and im2col_strided re-export these functions (their own route is only for
convolution and pooling); naive and numba re-export them too and replace linear, softmax and
cross-entropy with their own loops: for the element-wise ops and flatten a separate route
would add nothing. ``from conformance.impls.dense import *`` brings exactly the functions
(``__all__``).
"""
from __future__ import annotations

import math

import numpy as np

from conformance.capabilities import FEATURES, Capabilities
from conformance.impls.validation import (check_dropout, check_flatten, check_grad_loss,
                                          check_grad_out, check_linear, check_relu, check_sigmoid,
                                          check_softmax, check_softmax_cross_entropy, check_tanh)

name = "dense"

# Results below the dtype's normal range are expected (exp of very negative numbers, products
# of tiny values, float64 results rounded to float32): they become subnormal or 0 quietly,
# also under np.seterr(under="raise").
_QUIET_UNDERFLOW = np.errstate(under="ignore")


@_QUIET_UNDERFLOW
def relu_forward(x):
    """x (any shape) -> out of x's shape."""
    check_relu(x)
    capabilities.require("relu", x=x)
    out = np.where(x < 0, x.dtype.type(0), x)
    return out, (x > 0, x.shape, x.dtype)


@_QUIET_UNDERFLOW
def relu_backward(grad_out, cache):
    """grad_out of x's shape -> grad_x; the gradient at x == 0 is 0."""
    positive, shape, dtype = cache
    check_grad_out(grad_out, shape, dtype)
    return np.where(positive, grad_out, dtype.type(0))


@_QUIET_UNDERFLOW
def sigmoid_forward(x):
    """x (any shape) -> out = 1 / (1 + exp(-x)) of x's shape."""
    check_sigmoid(x)
    capabilities.require("sigmoid", x=x)
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return out, out.copy()


@_QUIET_UNDERFLOW
def sigmoid_backward(grad_out, cache):
    """grad_out of x's shape -> grad_x = grad_out * (1 - s) * s."""
    s = cache
    check_grad_out(grad_out, s.shape, s.dtype)
    return np.asarray(grad_out * (1 - s) * s)


@_QUIET_UNDERFLOW
def tanh_forward(x):
    """x (any shape) -> out = tanh(x) of x's shape."""
    check_tanh(x)
    capabilities.require("tanh", x=x)
    out = np.asarray(np.tanh(x))
    return out, out.copy()


@_QUIET_UNDERFLOW
def tanh_backward(grad_out, cache):
    """grad_out of x's shape -> grad_x = grad_out * (1 - t * t)."""
    t = cache
    check_grad_out(grad_out, t.shape, t.dtype)
    return np.asarray(grad_out * (1 - t * t))


@_QUIET_UNDERFLOW
def softmax_forward(x, *, axis):
    """x (any shape, ndim >= 1) -> out of x's shape, each slice along ``axis`` summing to 1."""
    ax = check_softmax(x, axis)
    capabilities.require("softmax", x=x, axis=axis)
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(axis=ax, keepdims=True))
    y = e / e.sum(axis=ax, keepdims=True)
    return y.astype(x.dtype), (y, ax, x.dtype)


@_QUIET_UNDERFLOW
def softmax_backward(grad_out, cache):
    """grad_out of x's shape -> grad_x = y * (grad_out - sum(grad_out * y, axis))."""
    y, axis, dtype = cache
    check_grad_out(grad_out, y.shape, dtype)
    g = grad_out.astype(np.float64)
    grad = y * (g - (g * y).sum(axis=axis, keepdims=True))
    return grad.astype(dtype)


@_QUIET_UNDERFLOW
def linear_forward(x, weight, bias):
    """x (N, in), weight (out, in), bias (out,) or None -> out (N, out) = x @ weight.T + bias."""
    check_linear(x, weight, bias)
    capabilities.require("linear", x=x, weight=weight, bias=bias)
    out = x @ weight.T
    if bias is not None:
        out += bias
    return out, (x.copy(), weight.copy(), bias is not None)


@_QUIET_UNDERFLOW
def linear_backward(grad_out, cache):
    """grad_out (N, out) -> (grad_x (N, in), grad_weight (out, in), grad_bias (out,) or None)."""
    x, weight, has_bias = cache
    check_grad_out(grad_out, (x.shape[0], weight.shape[0]), x.dtype)
    grad_x = grad_out @ weight
    grad_weight = grad_out.T @ x
    grad_bias = grad_out.sum(axis=0) if has_bias else None
    return grad_x, grad_weight, grad_bias


@_QUIET_UNDERFLOW
def flatten_forward(x):
    """x (N, ...) -> out (N, prod(...)), a C-order copy."""
    check_flatten(x)
    capabilities.require("flatten", x=x)
    out = x.reshape(x.shape[0], math.prod(x.shape[1:])).copy()
    return out, (x.shape, x.dtype)


@_QUIET_UNDERFLOW
def flatten_backward(grad_out, cache):
    """grad_out (N, prod(...)) -> grad_x of x's shape, a C-order copy."""
    shape, dtype = cache
    check_grad_out(grad_out, (shape[0], math.prod(shape[1:])), dtype)
    return grad_out.reshape(shape).copy()


@_QUIET_UNDERFLOW
def softmax_cross_entropy_forward(logits, target):
    """logits (N, K), target (N,) ints in [0, K) -> 0-d loss, mean of logsumexp - logit[target]."""
    check_softmax_cross_entropy(logits, target)
    capabilities.require("softmax_cross_entropy", logits=logits, target=target)
    z = logits.astype(np.float64)
    rows = np.arange(z.shape[0])
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(s[:, 0])
    loss = np.mean(lse - z[rows, target])
    probs = e / s
    return np.array(loss, dtype=logits.dtype), (probs, target.copy(), logits.dtype)


@_QUIET_UNDERFLOW
def softmax_cross_entropy_backward(grad_loss, cache):
    """grad_loss (0-d array or float) -> grad_logits (N, K) = grad_loss * (p - onehot) / N."""
    probs, target, dtype = cache
    g = check_grad_loss(grad_loss, dtype)
    n = probs.shape[0]
    diff = probs.copy()
    diff[np.arange(n), target] -= 1
    return (g * diff / n).astype(dtype)


@_QUIET_UNDERFLOW
def dropout_forward(x, mask, *, p):
    """x (any shape), mask bool of x's shape (True = keep), p in [0, 1) -> x * mask / (1 - p)."""
    keep = 1 - check_dropout(x, mask, p)
    capabilities.require("dropout", x=x, mask=mask, p=p)
    out = np.asarray(x * mask / keep)
    return out, (mask.copy(), keep, x.dtype)


@_QUIET_UNDERFLOW
def dropout_backward(grad_out, cache):
    """grad_out of x's shape -> grad_x = grad_out * mask / (1 - p)."""
    mask, keep, dtype = cache
    check_grad_out(grad_out, mask.shape, dtype)
    return np.asarray(grad_out * mask / keep)


# Certifiable on its own by import path (conformance.impls.dense): it claims every feature of
# each op whose functions it defines, and nothing else.
OPS = tuple(op for op in FEATURES if f"{op}_forward" in globals())
capabilities = Capabilities({op: FEATURES[op] for op in OPS})
__all__ = [f"{op}_{half}" for op in OPS for half in ("forward", "backward")]
