"""The specification in code: plain loops over output positions that read like the math.

conv2d (cross-correlation, NCHW):
    out[n, f, i, j] = bias[f] + sum_{c, a, b} xpad[n, g*Cg + c, i*sh + a*dh, j*sw + b*dw] * w[f, c, a, b]
    where g = f // (F / groups) is the group of filter f and Cg = C / groups.
pool2d:
    out[n, c, i, j] = reduce_{a, b} xpad[n, c, i*sh + a, j*sw + b]
    with reduce = max (padding -inf), min (padding +inf) or mean over KH*KW (padding 0).
linear:
    out[n, o] = bias[o] + sum_i x[n, i] * weight[o, i]     (one dot product per output element)
softmax (along ``axis``; each slice along it is one row of K values):
    out[k] = exp(x[k] - m) / sum_j exp(x[j] - m),  m = max_j x[j]
softmax cross-entropy (per sample i, then the mean over the batch):
    loss_i = m + log(sum_k exp(logits[i, k] - m)) - logits[i, target[i]]
batchnorm2d (per channel c, over the m = N * H * W values x[:, c]):
    training   mu = sum(x) / m,  var = sum((x - mu)^2) / m   (two passes, biased)
    eval       mu, var = running_mean[c], running_var[c]
    out = gamma[c] * (x - mu) / sqrt(var + eps) + beta[c]
    running statistics: (1 - momentum) * old + momentum * new, with var divided by m - 1
Softmax, cross-entropy and batchnorm2d are computed in double precision and rounded once to
the input dtype. relu, sigmoid, tanh, flatten and dropout are single element-wise
formulas (or a copy) with nothing to spell out in loops: they are re-exported from
conformance.impls.dense.

Slow by design; it is the implementation the others are read against.
"""
from __future__ import annotations

import math

import numpy as np

from conformance.capabilities import Capabilities
from conformance.impls.dense import *  # noqa: F403 - the dense ops (see conformance.impls.dense)
from conformance.impls.validation import (check_batchnorm2d, check_batchnorm2d_running_stats,
                                          check_grad_loss, check_grad_out, check_linear,
                                          check_softmax, check_softmax_cross_entropy,
                                          conv2d_output_size, pool2d_output_size)

name = "naive"
# Python loops over every output position: a 2^15-element case takes about a second per check.
capabilities = Capabilities.everything(max_elements=2**15)

_POOL_PAD_VALUE = {"max": -np.inf, "min": np.inf, "avg": 0.0}


def _pad(x, padding, value=0.0):
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _window(stride, extent, dilation, i, j):
    """Row and column slices of the window of output position (i, j)."""
    (sh, sw), (kh, kw), (dh, dw) = stride, extent, dilation
    rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
    cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
    return rows, cols


def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
    """x (N, C, H, W), weight (F, C // groups, KH, KW), bias (F,) or None -> out (N, F, Ho, Wo)."""
    ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    capabilities.require("conv2d", x=x, weight=weight, bias=bias, stride=stride,
                         padding=padding, dilation=dilation, groups=groups)
    n_batch, _, _, _ = x.shape
    n_filters, cg, kh, kw = weight.shape
    filters_per_group = n_filters // groups
    xpad = _pad(x, padding)
    out = np.zeros((n_batch, n_filters, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for f in range(n_filters):
            group = f // filters_per_group
            channels = slice(group * cg, (group + 1) * cg)
            for i in range(ho):
                for j in range(wo):
                    rows, cols = _window(stride, (kh, kw), dilation, i, j)
                    out[n, f, i, j] = np.sum(xpad[n, channels, rows, cols] * weight[f])
            if bias is not None:
                out[n, f] += bias[f]
    cache = (xpad, weight, bias is not None, tuple(stride), tuple(padding), tuple(dilation), groups,
             out.shape)
    return out, cache


def conv2d_backward(grad_out, cache):
    """grad_out (N, F, Ho, Wo) -> (grad_x (N, C, H, W), grad_weight, grad_bias or None)."""
    xpad, weight, has_bias, stride, padding, dilation, groups, out_shape = cache
    check_grad_out(grad_out, out_shape, xpad.dtype)
    n_batch, _, ho, wo = grad_out.shape
    n_filters, cg, kh, kw = weight.shape
    filters_per_group = n_filters // groups
    grad_xpad = np.zeros_like(xpad)
    grad_weight = np.zeros_like(weight)
    for n in range(n_batch):
        for f in range(n_filters):
            group = f // filters_per_group
            channels = slice(group * cg, (group + 1) * cg)
            for i in range(ho):
                for j in range(wo):
                    rows, cols = _window(stride, (kh, kw), dilation, i, j)
                    g = grad_out[n, f, i, j]
                    grad_weight[f] += g * xpad[n, channels, rows, cols]
                    grad_xpad[n, channels, rows, cols] += g * weight[f]
    ph, pw = padding
    height, width = xpad.shape[2] - 2 * ph, xpad.shape[3] - 2 * pw
    grad_x = grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return grad_x, grad_weight, grad_bias


def pool2d_forward(x, *, mode, kernel_size, stride, padding):
    """x (N, C, H, W) -> out (N, C, Ho, Wo); mode "max" | "avg" | "min"."""
    ho, wo = pool2d_output_size(x, mode, kernel_size, stride, padding)
    capabilities.require("pool2d", x=x, mode=mode, kernel_size=kernel_size, stride=stride,
                         padding=padding)
    n_batch, channels, _, _ = x.shape
    xpad = _pad(x, padding, _POOL_PAD_VALUE[mode])
    out = np.zeros((n_batch, channels, ho, wo), dtype=x.dtype)
    winners = np.zeros((n_batch, channels, ho, wo, 2), dtype=np.intp)
    for n in range(n_batch):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    rows, cols = _window(stride, kernel_size, (1, 1), i, j)
                    window = xpad[n, c, rows, cols]
                    if mode == "avg":
                        out[n, c, i, j] = window.sum() / window.size
                    else:
                        # The first extreme element in row-major order wins, as in PyTorch.
                        flat = window.argmax() if mode == "max" else window.argmin()
                        winners[n, c, i, j] = np.unravel_index(flat, window.shape)
                        out[n, c, i, j] = window.flat[flat]
    cache = (x.shape, x.dtype, mode, tuple(kernel_size), tuple(stride), tuple(padding), winners)
    return out, cache


def pool2d_backward(grad_out, cache):
    """grad_out (N, C, Ho, Wo) -> grad_x (N, C, H, W)."""
    x_shape, dtype, mode, kernel_size, stride, padding, winners = cache
    check_grad_out(grad_out, winners.shape[:4], dtype)
    (kh, kw), (ph, pw) = kernel_size, padding
    n_batch, channels, height, width = x_shape
    _, _, ho, wo = grad_out.shape
    grad_xpad = np.zeros((n_batch, channels, height + 2 * ph, width + 2 * pw), grad_out.dtype)
    for n in range(n_batch):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    rows, cols = _window(stride, kernel_size, (1, 1), i, j)
                    g = grad_out[n, c, i, j]
                    if mode == "avg":
                        grad_xpad[n, c, rows, cols] += g / (kh * kw)
                    else:
                        a, b = winners[n, c, i, j]
                        grad_xpad[n, c, i * stride[0] + a, j * stride[1] + b] += g
    return grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()


# Results below the dtype's normal range are expected (exp of very negative numbers, float64
# results rounded to float32): they become subnormal or 0 quietly, also under
# np.seterr(under="raise").
_QUIET_UNDERFLOW = np.errstate(under="ignore")


def linear_forward(x, weight, bias):
    """x (N, in), weight (out, in), bias (out,) or None -> out (N, out)."""
    check_linear(x, weight, bias)
    capabilities.require("linear", x=x, weight=weight, bias=bias)
    n_batch, n_out = x.shape[0], weight.shape[0]
    out = np.zeros((n_batch, n_out), dtype=x.dtype)
    for n in range(n_batch):
        for o in range(n_out):
            out[n, o] = np.dot(x[n], weight[o])
            if bias is not None:
                out[n, o] += bias[o]
    return out, (x.copy(), weight.copy(), bias is not None)


def linear_backward(grad_out, cache):
    """grad_out (N, out) -> (grad_x (N, in), grad_weight (out, in), grad_bias (out,) or None)."""
    x, weight, has_bias = cache
    n_batch, n_in = x.shape
    n_out = weight.shape[0]
    check_grad_out(grad_out, (n_batch, n_out), x.dtype)
    grad_x = np.zeros_like(x)
    grad_weight = np.zeros_like(weight)
    for n in range(n_batch):
        for i in range(n_in):
            grad_x[n, i] = np.dot(grad_out[n, :], weight[:, i])
    for o in range(n_out):
        for i in range(n_in):
            grad_weight[o, i] = np.dot(grad_out[:, o], x[:, i])
    grad_bias = None
    if has_bias:
        grad_bias = np.zeros(n_out, dtype=x.dtype)
        for o in range(n_out):
            grad_bias[o] = np.sum(grad_out[:, o])
    return grad_x, grad_weight, grad_bias


def _rows(a, axis):
    """a with ``axis`` moved last, as a (rows, K) array, and the moved shape."""
    moved = np.moveaxis(a, axis, -1)
    return moved.reshape(-1, moved.shape[-1]), moved.shape


def _unrows(rows, moved_shape, axis):
    """Inverse of _rows: a new C-contiguous array of the original shape."""
    return np.ascontiguousarray(np.moveaxis(rows.reshape(moved_shape), -1, axis))


def _softmax_row(row):
    """A list of K Python floats -> its softmax, a list of K Python floats."""
    m = max(row)
    exps = [math.exp(v - m) for v in row]
    total = sum(exps)
    return [e / total for e in exps]


@_QUIET_UNDERFLOW
def softmax_forward(x, *, axis):
    """x (any shape, ndim >= 1) -> out of x's shape, each slice along ``axis`` summing to 1."""
    ax = check_softmax(x, axis)
    capabilities.require("softmax", x=x, axis=axis)
    rows, moved_shape = _rows(x, ax)
    y = np.zeros(rows.shape, dtype=np.float64)
    for r in range(rows.shape[0]):
        y[r] = _softmax_row([float(v) for v in rows[r]])
    return _unrows(y.astype(x.dtype), moved_shape, ax), (y, x.shape, moved_shape, ax, x.dtype)


@_QUIET_UNDERFLOW
def softmax_backward(grad_out, cache):
    """grad_out of x's shape -> grad_x[k] = y[k] * (g[k] - sum_j g[j] * y[j]) along the axis."""
    y, shape, moved_shape, ax, dtype = cache
    check_grad_out(grad_out, shape, dtype)
    g_rows, _ = _rows(grad_out, ax)
    grad = np.zeros(y.shape, dtype=np.float64)
    for r in range(y.shape[0]):
        g = [float(v) for v in g_rows[r]]
        dot = sum(g_k * y_k for g_k, y_k in zip(g, y[r]))
        grad[r] = [y_k * (g_k - dot) for g_k, y_k in zip(g, y[r])]
    return _unrows(grad.astype(dtype), moved_shape, ax)


@_QUIET_UNDERFLOW
def softmax_cross_entropy_forward(logits, target):
    """logits (N, K), target (N,) ints in [0, K) -> 0-d loss, mean of logsumexp - logit[target]."""
    check_softmax_cross_entropy(logits, target)
    capabilities.require("softmax_cross_entropy", logits=logits, target=target)
    n_batch = logits.shape[0]
    total = 0.0
    for i in range(n_batch):
        row = [float(v) for v in logits[i]]
        m = max(row)
        lse = m + math.log(sum(math.exp(v - m) for v in row))
        total += lse - row[int(target[i])]
    loss = np.array(total / n_batch, dtype=logits.dtype)
    return loss, (logits.copy(), target.copy())


@_QUIET_UNDERFLOW
def softmax_cross_entropy_backward(grad_loss, cache):
    """grad_loss (0-d array or float) -> grad_logits (N, K) = grad_loss * (p - onehot) / N."""
    logits, target = cache
    g = check_grad_loss(grad_loss, logits.dtype)
    n_batch, n_classes = logits.shape
    grad = np.zeros(logits.shape, dtype=np.float64)
    for i in range(n_batch):
        p = _softmax_row([float(v) for v in logits[i]])
        for k in range(n_classes):
            grad[i, k] = g * (p[k] - float(k == target[i])) / n_batch
    return grad.astype(logits.dtype)


# ----- batchnorm2d, one channel at a time ------------------------------------------------------

def _channel_statistics(xc, ddof=0):
    """Mean and variance of one channel's values (float64), in two passes; the variance
    divides by m - ddof (0: biased, 1: unbiased)."""
    m = xc.size
    mean = np.sum(xc) / m
    var = np.sum((xc - mean) ** 2) / (m - ddof)
    return mean, var


@_QUIET_UNDERFLOW
def batchnorm2d_forward(x, gamma, beta, *, training, running_mean, running_var, eps):
    """x (N, C, H, W), gamma, beta (C,) -> out (N, C, H, W).

    out[:, c] = gamma[c] * (x[:, c] - mu) / sqrt(var + eps) + beta[c], with the batch mean and
    biased variance of channel c when training, running_mean[c] and running_var[c] otherwise.
    """
    check_batchnorm2d(x, gamma, beta, training, running_mean, running_var, eps)
    capabilities.require("batchnorm2d", x=x, gamma=gamma, beta=beta, training=training,
                         running_mean=running_mean, running_var=running_var)
    channels = x.shape[1]
    means, stds = np.empty(channels), np.empty(channels)
    for c in range(channels):
        if training:
            mean, var = _channel_statistics(x[:, c].astype(np.float64))
        else:
            mean, var = float(running_mean[c]), float(running_var[c])
        means[c], stds[c] = mean, math.sqrt(var + eps)
    return normalise_channels(x, gamma, beta, means, stds, training)


@_QUIET_UNDERFLOW
def normalise_channels(x, gamma, beta, means, stds, training):
    """The forward for given per-channel float64 statistics (C,): returns (out, cache) with
    out[:, c] = gamma[c] * (x[:, c] - means[c]) / stds[c] + beta[c]. With ``training`` the
    backward differentiates through means and stds as the batch mean and sqrt(var + eps)."""
    out = np.empty(x.shape, dtype=x.dtype)
    centred = np.empty(x.shape, dtype=np.float64)
    for c in range(x.shape[1]):
        centred[:, c] = x[:, c].astype(np.float64) - means[c]
        xhat = centred[:, c] / stds[c]
        out[:, c] = float(gamma[c]) * xhat + float(beta[c])
    return out, (centred, stds, gamma.astype(np.float64), bool(training), x.dtype)


@_QUIET_UNDERFLOW
def batchnorm2d_backward(grad_out, cache):
    """grad_out (N, C, H, W) -> (grad_x (N, C, H, W), grad_gamma (C,), grad_beta (C,)).

    Training differentiates through the batch mean and variance; eval treats the running
    statistics as constants.
    """
    centred, stds, gamma, training, dtype = cache
    check_grad_out(grad_out, centred.shape, dtype)
    channels = centred.shape[1]
    m = centred[:, 0].size
    grad_x = np.empty(centred.shape, dtype=dtype)
    grad_gamma = np.empty(channels, dtype=dtype)
    grad_beta = np.empty(channels, dtype=dtype)
    for c in range(channels):
        g = grad_out[:, c].astype(np.float64)
        x_mu, std = centred[:, c], stds[c]
        xhat = x_mu / std
        grad_beta[c] = np.sum(g)
        grad_gamma[c] = np.sum(g * xhat)
        dxhat = g * gamma[c]
        if training:
            dvar = np.sum(dxhat * x_mu) * -0.5 * std ** -3      # std ** -3 = (var + eps) ** -1.5
            dmu = np.sum(-dxhat / std) + dvar * np.sum(-2 * x_mu) / m
            grad_x[:, c] = dxhat / std + dvar * 2 * x_mu / m + dmu / m
        else:
            grad_x[:, c] = dxhat / std
    return grad_x, grad_gamma, grad_beta


def batchnorm2d_running_stats(x, running_mean, running_var, *, momentum):
    """x (N, C, H, W), running_mean, running_var (C,) -> (new_mean, new_var), in x's dtype.

    new = (1 - momentum) * old + momentum * batch statistic, the variance divided by m - 1.
    """
    check_batchnorm2d_running_stats(x, running_mean, running_var, momentum)
    capabilities.require("batchnorm2d", x=x, running_mean=running_mean,
                         running_var=running_var, momentum=momentum)
    channels = x.shape[1]
    new_mean = np.empty(channels, dtype=x.dtype)
    new_var = np.empty(channels, dtype=x.dtype)
    for c in range(channels):
        mean, unbiased = _channel_statistics(x[:, c].astype(np.float64), ddof=1)
        new_mean[c] = (1 - momentum) * float(running_mean[c]) + momentum * mean
        new_var[c] = (1 - momentum) * float(running_var[c]) + momentum * unbiased
    return new_mean, new_var
