"""im2col / col2im by precomputed fancy indices, then one matrix product per group.

Route: the padded input is stored batch-innermost, as a matrix ``xrows`` of shape
(C * Hp * Wp, N), so row r holds pixel r of every image. For each configuration a flat row
index of shape (C, KH * KW, Ho * Wo) is computed once (and cached): entry [c, k, l] is the
padded pixel that kernel offset k of output position l reads in channel c. Gathering those
rows gives the columns (C * KH * KW, Ho * Wo * N), each gather moving a contiguous run of N
values. Then
    forward       out      = W @ cols                 (per group, batched over groups)
    grad weight   grad_W   = grad_out @ cols^T
    grad input    grad_col = W^T @ grad_out, scattered back with the same indices (col2im).
Pooling gathers the same kind of columns (with -inf / +inf / 0 padding) and reduces over
the kernel axis; the max / min winner is the first kernel offset, in row-major window
order, equal to the extreme, as in PyTorch.

col2im is a scatter-add. Within one kernel offset k the indices are distinct (distinct
output positions read distinct pixels), so the scatter runs as KH * KW plain fancy-index
additions ``rows[index[:, k]] += cols[:, k]``, which gives exactly what ``np.add.at`` gives
with all offsets at once, several times faster.

Speed is limited by memory traffic: the columns are KH * KW times the input (or output)
size, and the gathers, the scatter and the page faults of these large temporaries cost
about as much as the matrix products themselves.

batchnorm2d has no im2col step either; it is whole-array NumPy in float64 over the axes
(N, H, W) with keepdims, rounded once to the input dtype: the two-pass mean and biased
variance, and the input gradient in its compact form
    grad_x = gamma / sigma / m * (m * g - sum(g) - xhat * sum(g * xhat)),   sigma = sqrt(var + eps).

The other ops (activations, softmax, linear, flatten, softmax cross-entropy, dropout) have
no im2col step; they are re-exported from conformance.impls.dense.
"""
from __future__ import annotations

import functools

import numpy as np

from conformance.capabilities import Capabilities
from conformance.impls.dense import *  # noqa: F403 - the dense ops (see conformance.impls.dense)
from conformance.impls.validation import (check_batchnorm2d, check_batchnorm2d_running_stats,
                                          check_grad_out, conv2d_output_size, pool2d_output_size)

name = "im2col_index"
capabilities = Capabilities.everything()

_POOL_PAD_VALUE = {"max": -np.inf, "min": np.inf, "avg": 0.0}


@functools.lru_cache(maxsize=64)
def _window_rows(channels, padded_hw, kernel, stride, dilation, out_hw):
    """Row index (C, KH * KW, Ho * Wo) into the flattened padded image (C * Hp * Wp).

    Entry [c, a * KW + b, i * Wo + j] is the pixel (c, i * sh + a * dh, j * sw + b * dw).
    The returned array is read-only because it is shared between calls.
    """
    (hp, wp), (kh, kw), (sh, sw), (dh, dw), (ho, wo) = padded_hw, kernel, stride, dilation, out_hw
    c = np.arange(channels).reshape(-1, 1, 1, 1, 1)
    a = np.arange(kh).reshape(1, -1, 1, 1, 1)
    b = np.arange(kw).reshape(1, 1, -1, 1, 1)
    i = np.arange(ho).reshape(1, 1, 1, -1, 1)
    j = np.arange(wo).reshape(1, 1, 1, 1, -1)
    rows = c * (hp * wp) + (i * sh + a * dh) * wp + (j * sw + b * dw)
    rows = rows.reshape(channels, kh * kw, ho * wo)
    rows.flags.writeable = False
    return rows


def _to_rows(x, padding, value):
    """x (N, C, H, W) -> padded, batch-innermost copy (C * Hp * Wp, N) and (Hp, Wp)."""
    n, c, h, w = x.shape
    ph, pw = padding
    hp, wp = h + 2 * ph, w + 2 * pw
    xrows = np.full((c, hp, wp, n), value, dtype=x.dtype)
    xrows[:, ph:ph + h, pw:pw + w, :] = x.transpose(1, 2, 3, 0)
    return xrows.reshape(c * hp * wp, n), (hp, wp)


def _from_rows(grad_rows, x_shape, padding, padded_hw):
    """(C * Hp * Wp, N) gradient of the padded rows -> grad_x (N, C, H, W), a new array."""
    n, c, h, w = x_shape
    (ph, pw), (hp, wp) = padding, padded_hw
    grad = grad_rows.reshape(c, hp, wp, n)[:, ph:ph + h, pw:pw + w, :]
    return np.ascontiguousarray(grad.transpose(3, 0, 1, 2))


def _col2im(column, rows, n_rows, dtype):
    """Scatter-add columns to the padded rows given by rows (C, KH * KW, L); returns (n_rows, N).

    ``column(k)`` gives the (C, L, N) columns of kernel offset k. Indices are distinct within
    one kernel offset, so each offset is a plain fancy-index addition; the offsets are added
    in row-major kernel order.
    """
    grad = None
    for k in range(rows.shape[1]):
        values = column(k)
        if grad is None:
            grad = np.zeros((n_rows, values.shape[-1]), dtype=dtype)
        grad[rows[:, k].reshape(-1)] += values.reshape(-1, values.shape[-1])
    return grad


def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
    """x (N, C, H, W), weight (F, C // groups, KH, KW), bias (F,) or None -> out (N, F, Ho, Wo)."""
    ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    capabilities.require("conv2d", x=x, weight=weight, bias=bias, stride=stride,
                         padding=padding, dilation=dilation, groups=groups)
    stride, padding, dilation = tuple(stride), tuple(padding), tuple(dilation)
    n, c, _, _ = x.shape
    f, cg, kh, kw = weight.shape
    xrows, padded_hw = _to_rows(x, padding, 0.0)
    rows = _window_rows(c, padded_hw, (kh, kw), stride, dilation, (ho, wo))
    # cols (G, Cg * KH * KW, Ho * Wo * N): row (c, a, b), column (i, j, n).
    cols = np.take(xrows, rows.reshape(-1), axis=0).reshape(groups, cg * kh * kw, ho * wo * n)
    w = weight.reshape(groups, f // groups, cg * kh * kw)
    out = np.matmul(w, cols).reshape(f, ho, wo, n).transpose(3, 0, 1, 2)
    out = np.ascontiguousarray(out)
    if bias is not None:
        out += bias.reshape(1, f, 1, 1)
    cache = (cols, rows, weight, bias is not None, x.shape, padding, padded_hw, groups,
             out.shape)
    return out, cache


def conv2d_backward(grad_out, cache):
    """grad_out (N, F, Ho, Wo) -> (grad_x (N, C, H, W), grad_weight, grad_bias or None)."""
    cols, rows, weight, has_bias, x_shape, padding, padded_hw, groups, out_shape = cache
    check_grad_out(grad_out, out_shape, cols.dtype)
    n, f, ho, wo = out_shape
    _, cg, kh, kw = weight.shape
    # grad_out as (G, F / G, Ho * Wo * N), matching the column order of cols.
    g = np.ascontiguousarray(grad_out.transpose(1, 2, 3, 0)).reshape(groups, f // groups, -1)
    grad_weight = np.matmul(g, cols.transpose(0, 2, 1)).reshape(weight.shape)
    w_t = np.ascontiguousarray(weight.reshape(groups, f // groups, -1).transpose(0, 2, 1))
    grad_cols = np.matmul(w_t, g).reshape(x_shape[1], kh * kw, ho * wo, n)
    grad_rows = _col2im(lambda k: grad_cols[:, k], rows,
                        x_shape[1] * padded_hw[0] * padded_hw[1], grad_cols.dtype)
    grad_x = _from_rows(grad_rows, x_shape, padding, padded_hw)
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return grad_x, grad_weight, grad_bias


def pool2d_forward(x, *, mode, kernel_size, stride, padding):
    """x (N, C, H, W) -> out (N, C, Ho, Wo); mode "max" | "avg" | "min"."""
    ho, wo = pool2d_output_size(x, mode, kernel_size, stride, padding)
    capabilities.require("pool2d", x=x, mode=mode, kernel_size=kernel_size, stride=stride,
                         padding=padding)
    kernel_size, stride, padding = tuple(kernel_size), tuple(stride), tuple(padding)
    n, c, _, _ = x.shape
    xrows, padded_hw = _to_rows(x, padding, _POOL_PAD_VALUE[mode])
    rows = _window_rows(c, padded_hw, kernel_size, stride, (1, 1), (ho, wo))
    cols = np.take(xrows, rows.reshape(-1), axis=0).reshape(c, rows.shape[1], ho * wo, n)
    winners = None
    if mode == "avg":
        out = cols.sum(axis=1) / np.asarray(rows.shape[1], dtype=x.dtype)
    else:
        out = cols.max(axis=1) if mode == "max" else cols.min(axis=1)
        # The winner is the first kernel offset equal to the extreme: the number of offsets
        # passed before the first match.
        winners = np.zeros(out.shape, dtype=np.min_scalar_type(rows.shape[1] - 1))
        searching = np.ones(out.shape, dtype=bool)
        for k in range(rows.shape[1] - 1):
            searching &= cols[:, k] != out
            winners += searching
    out = np.ascontiguousarray(out.reshape(c, ho, wo, n).transpose(3, 0, 1, 2))
    cache = (x.shape, x.dtype, mode, rows, winners, padding, padded_hw, out.shape)
    return out, cache


def pool2d_backward(grad_out, cache):
    """grad_out (N, C, Ho, Wo) -> grad_x (N, C, H, W)."""
    x_shape, dtype, mode, rows, winners, padding, padded_hw, out_shape = cache
    check_grad_out(grad_out, out_shape, dtype)
    n, c, ho, wo = out_shape
    offsets = rows.shape[1]
    g = np.ascontiguousarray(grad_out.transpose(1, 2, 3, 0)).reshape(c, ho * wo, n)
    if mode == "avg":
        share = g / np.asarray(offsets, dtype=dtype)

        def column(k):
            return share
    else:
        zero = np.zeros((), dtype)

        def column(k):
            return np.where(winners == k, g, zero)
    grad_rows = _col2im(column, rows, c * padded_hw[0] * padded_hw[1], dtype)
    return _from_rows(grad_rows, x_shape, padding, padded_hw)


# ----- batchnorm2d --------------------------------------------------------------------------

_CHANNEL_AXES = (0, 2, 3)   # the axes each channel's statistics run over


def _as_channel(v):
    """(C,) -> a new float64 (1, C, 1, 1) array, broadcasting against (N, C, H, W)."""
    return np.array(v, dtype=np.float64).reshape(1, -1, 1, 1)


def _batch_statistics(x64):
    """Mean and biased variance (1, C, 1, 1) of x64 over (N, H, W), in two passes."""
    mean = x64.mean(axis=_CHANNEL_AXES, keepdims=True)
    var = np.square(x64 - mean).mean(axis=_CHANNEL_AXES, keepdims=True)
    return mean, var


@np.errstate(under="ignore")
def batchnorm2d_forward(x, gamma, beta, *, training, running_mean, running_var, eps):
    """x (N, C, H, W), gamma, beta (C,) -> out = gamma * (x - mu) / sqrt(var + eps) + beta.

    mu, var (1, C, 1, 1): reductions of x over (N, H, W) when training (mean, then the mean of
    squared deviations), else running_mean and running_var.
    """
    check_batchnorm2d(x, gamma, beta, training, running_mean, running_var, eps)
    capabilities.require("batchnorm2d", x=x, gamma=gamma, beta=beta, training=training,
                         running_mean=running_mean, running_var=running_var)
    x64 = x.astype(np.float64)
    if training:
        mean, var = _batch_statistics(x64)
    else:
        mean, var = _as_channel(running_mean), _as_channel(running_var)
    sigma = np.sqrt(var + eps)
    xhat = (x64 - mean) / sigma
    gamma = _as_channel(gamma)
    out = (gamma * xhat + _as_channel(beta)).astype(x.dtype)
    return out, (xhat, sigma, gamma, bool(training), x.dtype)


@np.errstate(under="ignore")
def batchnorm2d_backward(grad_out, cache):
    """grad_out (N, C, H, W) -> (grad_x (N, C, H, W), grad_gamma (C,), grad_beta (C,))."""
    xhat, sigma, gamma, training, dtype = cache
    check_grad_out(grad_out, xhat.shape, dtype)
    g = grad_out.astype(np.float64)
    sum_g = g.sum(axis=_CHANNEL_AXES, keepdims=True)
    sum_g_xhat = (g * xhat).sum(axis=_CHANNEL_AXES, keepdims=True)
    if training:
        m = xhat.size // xhat.shape[1]
        grad_x = gamma / sigma / m * (m * g - sum_g - xhat * sum_g_xhat)
    else:
        grad_x = gamma / sigma * g
    return (grad_x.astype(dtype), sum_g_xhat.reshape(-1).astype(dtype),
            sum_g.reshape(-1).astype(dtype))


def batchnorm2d_running_stats(x, running_mean, running_var, *, momentum):
    """x (N, C, H, W), running_mean, running_var (C,) -> (new_mean, new_var) in x's dtype:
    (1 - momentum) * old + momentum * batch mean / unbiased batch variance (divided by m - 1)."""
    check_batchnorm2d_running_stats(x, running_mean, running_var, momentum)
    capabilities.require("batchnorm2d", x=x, running_mean=running_mean,
                         running_var=running_var, momentum=momentum)
    m = x.size // x.shape[1]
    mean, var = _batch_statistics(x.astype(np.float64))
    new_mean = (1 - momentum) * np.asarray(running_mean, np.float64) + momentum * mean.reshape(-1)
    new_var = ((1 - momentum) * np.asarray(running_var, np.float64)
               + momentum * var.reshape(-1) * m / (m - 1))
    return new_mean.astype(x.dtype), new_var.astype(x.dtype)
