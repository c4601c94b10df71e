"""im2col through strided window views, contractions by matmul, col2im by strided slice-adds.

Route: the input is padded into a fresh array and ``sliding_window_view`` turns it into a
view of all windows, (N, C, Ho, Wo, KH, KW), with stride and dilation applied by slicing
the view. No index arrays exist: the columns are one copy of that view, laid out as
(G, Cg * KH * KW, N * Ho * Wo), and
    forward       out      = W @ cols                   batched over groups
    grad weight   grad_W   = grad_out @ cols^T
    grad input    grad_col = W^T @ grad_out, then for each of the KH * KW kernel offsets the
                  slab grad_col[:, :, a, b] is added to the strided slice of the padded input
                  that offset reads (no Python loop over output positions).
Pooling uses the same window view, reducing over the kernel offsets one strided slice at a
time; the max / min winner is the first offset in row-major order that equals the extreme,
and the backward scatters through the same strided slices with the winner mask.

Speed is limited by the column copy (KH * KW times the input) and the gradient slab, which
are memory-bound, and by matrix products that are skinny when channels are few or groups
are many.

batchnorm2d lays the input out as channel rows, a float64 (C, N * H * W) matrix, so every
statistic is a reduction along rows (sums of squares and of products as row-wise dot
products, einsum), and the input gradient is taken through the normalised values:
    dxhat = g * gamma,   grad_x = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sigma
rounded once to the input dtype.

The other ops (activations, softmax, linear, flatten, softmax cross-entropy, dropout) have
no im2col step; they are re-exported from conformance.impls.dense.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from conformance.capabilities import Capabilities
from conformance.impls.dense import *  # noqa: F403 - the dense ops (see conformance.impls.dense)
from conformance.impls.validation import (check_batchnorm2d, check_batchnorm2d_running_stats,
                                          check_grad_out, conv2d_output_size, pool2d_output_size)

name = "im2col_strided"
capabilities = Capabilities.everything()

_POOL_PAD_VALUE = {"max": -np.inf, "min": np.inf, "avg": 0.0}
_CHUNK_BYTES = 1 << 20


def _pad(x, padding, value):
    """x (N, C, H, W) padded into a new array, or x itself without padding (only ever read)."""
    ph, pw = padding
    if ph == pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _windows(xpad, kernel, stride, dilation, out_hw):
    """Read-only view (N, C, Ho, Wo, KH, KW) of the windows of a padded array we own."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    extent = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    view = sliding_window_view(xpad, extent, axis=(2, 3))
    return view[:, :, :(ho - 1) * sh + 1:sh, :(wo - 1) * sw + 1:sw, ::dh, ::dw]


def _offset_slice(a, b, stride, dilation, out_hw):
    """Slices of the padded image read by kernel offset (a, b) at every output position."""
    (sh, sw), (dh, dw), (ho, wo) = stride, dilation, out_hw
    return (slice(a * dh, a * dh + (ho - 1) * sh + 1, sh),
            slice(b * dw, b * dw + (wo - 1) * sw + 1, sw))


def _unpad(grad_pad, padding, x_shape):
    """The unpadded part of a gradient we own, as a new C-contiguous array."""
    ph, pw = padding
    if ph == pw == 0 and grad_pad.flags.c_contiguous:
        return grad_pad
    h, w = x_shape[2:]
    return np.ascontiguousarray(grad_pad[:, :, ph:ph + h, pw:pw + w])


def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
    """x (N, C, H, W), weight (F, C // groups, KH, KW), bias (F,) or None -> out (N, F, Ho, Wo)."""
    ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    capabilities.require("conv2d", x=x, weight=weight, bias=bias, stride=stride,
                         padding=padding, dilation=dilation, groups=groups)
    stride, padding, dilation = tuple(stride), tuple(padding), tuple(dilation)
    n, c, _, _ = x.shape
    f, cg, kh, kw = weight.shape
    xpad = _pad(x, padding, 0)
    win = _windows(xpad, (kh, kw), stride, dilation, (ho, wo))
    # cols (G, Cg, KH, KW, N, Ho, Wo): the copy runs along Wo, the longest unit of the view.
    win = win.reshape(n, groups, cg, ho, wo, kh, kw).transpose(1, 2, 5, 6, 0, 3, 4)
    cols = np.ascontiguousarray(win).reshape(groups, cg * kh * kw, n * ho * wo)
    w = weight.reshape(groups, f // groups, cg * kh * kw)
    out = np.matmul(w, cols).reshape(f, n, ho, wo).transpose(1, 0, 2, 3)
    out = np.ascontiguousarray(out)
    if bias is not None:
        out += bias.reshape(1, f, 1, 1)
    cache = (cols, weight, bias is not None, x.shape, stride, padding, dilation, groups,
             out.shape)
    return out, cache


def conv2d_backward(grad_out, cache):
    """grad_out (N, F, Ho, Wo) -> (grad_x (N, C, H, W), grad_weight, grad_bias or None)."""
    cols, weight, has_bias, x_shape, stride, padding, dilation, groups, out_shape = cache
    check_grad_out(grad_out, out_shape, cols.dtype)
    n, f, ho, wo = out_shape
    _, c, h, w = x_shape
    _, cg, kh, kw = weight.shape
    g = np.ascontiguousarray(grad_out.transpose(1, 0, 2, 3)).reshape(groups, f // groups, -1)
    grad_weight = np.matmul(g, cols.transpose(0, 2, 1)).reshape(weight.shape)
    w_t = np.ascontiguousarray(weight.reshape(groups, f // groups, -1).transpose(0, 2, 1))
    # grad_cols (C, KH, KW, N, Ho, Wo), the same layout as cols.
    # With one filter per group (depthwise) the product is an outer product, which BLAS
    # does poorly; broadcasting computes the same single products.
    grad_cols = w_t * g if f == groups else np.matmul(w_t, g)
    grad_cols = grad_cols.reshape(c, kh, kw, n, ho, wo)
    ph, pw = padding
    grad_pad = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for a in range(kh):
        for b in range(kw):
            rows, cols_ = _offset_slice(a, b, stride, dilation, (ho, wo))
            grad_pad[:, :, rows, cols_] += grad_cols[:, a, b]
    grad_x = _unpad(grad_pad.transpose(1, 0, 2, 3), padding, x_shape)
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return grad_x, grad_weight, grad_bias


def _batch_chunks(n, image_bytes):
    """Slices of the batch small enough (about 1 MiB) for repeated passes to stay in cache."""
    step = max(1, _CHUNK_BYTES // max(1, image_bytes))
    return [slice(start, start + step) for start in range(0, n, step)]


def _pool_windows(win, mode, out, winners):
    """Reduce windows (n, C, Ho, Wo, KH, KW) into out (n, C, Ho, Wo); record max/min winners."""
    kh, kw = win.shape[4:]
    offsets = [win[..., a, b] for a in range(kh) for b in range(kw)]
    reduce = {"max": np.maximum, "min": np.minimum, "avg": np.add}[mode]
    out[...] = offsets[0]
    for value in offsets[1:]:
        reduce(out, value, out=out)
    if mode == "avg":
        out /= np.asarray(kh * kw, dtype=out.dtype)
    else:
        # The winner is the first offset holding the extreme: count the offsets before the
        # first match, i.e. add 1 for every offset while no match has been seen yet.
        searching = np.ones(out.shape, dtype=bool)
        for value in offsets[:-1]:
            searching &= value != out
            winners += searching


def pool2d_forward(x, *, mode, kernel_size, stride, padding):
    """x (N, C, H, W) -> out (N, C, Ho, Wo); mode "max" | "avg" | "min"."""
    ho, wo = pool2d_output_size(x, mode, kernel_size, stride, padding)
    capabilities.require("pool2d", x=x, mode=mode, kernel_size=kernel_size, stride=stride,
                         padding=padding)
    kernel_size, stride, padding = tuple(kernel_size), tuple(stride), tuple(padding)
    kh, kw = kernel_size
    n, c, _, _ = x.shape
    xpad = _pad(x, padding, _POOL_PAD_VALUE[mode])
    win = _windows(xpad, kernel_size, stride, (1, 1), (ho, wo))
    out = np.empty((n, c, ho, wo), dtype=x.dtype)
    winners = None
    if mode != "avg":
        winners = np.zeros(out.shape, dtype=np.min_scalar_type(kh * kw - 1))
    for part in _batch_chunks(n, xpad[0].nbytes):
        _pool_windows(win[part], mode, out[part], None if winners is None else winners[part])
    cache = (x.shape, x.dtype, mode, kernel_size, stride, padding, winners, out.shape)
    return out, cache


def pool2d_backward(grad_out, cache):
    """grad_out (N, C, Ho, Wo) -> grad_x (N, C, H, W)."""
    x_shape, dtype, mode, kernel_size, stride, padding, winners, out_shape = cache
    check_grad_out(grad_out, out_shape, dtype)
    (kh, kw), (ph, pw) = kernel_size, padding
    n, c, h, w = x_shape
    grad_pad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=dtype)
    zero = np.zeros((), dtype=dtype)
    slices = [_offset_slice(a, b, stride, (1, 1), out_shape[2:])
              for a in range(kh) for b in range(kw)]
    for part in _batch_chunks(n, grad_pad[0].nbytes):
        g = grad_out[part]
        if mode == "avg":
            share = g / np.asarray(kh * kw, dtype=dtype)
        for k, (rows, cols) in enumerate(slices):
            target = grad_pad[part, :, rows, cols]
            target += share if mode == "avg" else np.where(winners[part] == k, g, zero)
    return _unpad(grad_pad, padding, x_shape)


# ----- batchnorm2d on channel rows ------------------------------------------------------------

def _channel_rows(a):
    """(N, C, H, W) -> a new float64 (C, N * H * W) matrix: row c holds channel c's values."""
    return a.transpose(1, 0, 2, 3).astype(np.float64, order="C").reshape(a.shape[1], -1)


def _from_channel_rows(rows, shape, dtype):
    """Inverse of _channel_rows, rounded to dtype: a new C-contiguous (N, C, H, W) array."""
    n, c, h, w = shape
    return np.ascontiguousarray(rows.reshape(c, n, h, w).transpose(1, 0, 2, 3), dtype=dtype)


def _row_statistics(rows):
    """Mean (C,) of each row, its centred rows, and the sum of squares of those (C,)."""
    mean = rows.sum(axis=1) / rows.shape[1]
    centred = rows - mean[:, None]
    return mean, centred, np.einsum("ij,ij->i", centred, centred)


@np.errstate(under="ignore")
def batchnorm2d_forward(x, gamma, beta, *, training, running_mean, running_var, eps):
    """x (N, C, H, W), gamma, beta (C,) -> out = gamma * (x - mu) / sqrt(var + eps) + beta.

    Computed on channel rows (C, N * H * W); mu, var per row: the row mean and the mean of
    squared deviations when training, else running_mean and running_var.
    """
    check_batchnorm2d(x, gamma, beta, training, running_mean, running_var, eps)
    capabilities.require("batchnorm2d", x=x, gamma=gamma, beta=beta, training=training,
                         running_mean=running_mean, running_var=running_var)
    rows = _channel_rows(x)
    if training:
        _, centred, squares = _row_statistics(rows)
        var = squares / rows.shape[1]
    else:
        centred = rows - np.asarray(running_mean, np.float64)[:, None]
        var = np.asarray(running_var, np.float64)
    sigma = np.sqrt(var + eps)
    xhat = centred / sigma[:, None]
    gamma64 = np.array(gamma, np.float64)   # a copy: the cache must not see later changes
    out = gamma64[:, None] * xhat + np.asarray(beta, np.float64)[:, None]
    return _from_channel_rows(out, x.shape, x.dtype), (xhat, sigma, gamma64, bool(training),
                                                       x.shape, x.dtype)


@np.errstate(under="ignore")
def batchnorm2d_backward(grad_out, cache):
    """grad_out (N, C, H, W) -> (grad_x (N, C, H, W), grad_gamma (C,), grad_beta (C,))."""
    xhat, sigma, gamma, training, shape, dtype = cache
    check_grad_out(grad_out, shape, dtype)
    g = _channel_rows(grad_out)
    grad_beta = g.sum(axis=1)
    grad_gamma = np.einsum("ij,ij->i", g, xhat)
    dxhat = g * gamma[:, None]
    if training:
        m = xhat.shape[1]
        mean_dxhat = (gamma * grad_beta / m)[:, None]
        mean_dxhat_xhat = (gamma * grad_gamma / m)[:, None]
        dxhat = dxhat - mean_dxhat - xhat * mean_dxhat_xhat
    grad_x = _from_channel_rows(dxhat / sigma[:, None], shape, dtype)
    return grad_x, grad_gamma.astype(dtype), grad_beta.astype(dtype)


def batchnorm2d_running_stats(x, running_mean, running_var, *, momentum):
    """x (N, C, H, W), running_mean, running_var (C,) -> (new_mean, new_var) in x's dtype:
    (1 - momentum) * old + momentum * batch mean / unbiased batch variance (divided by m - 1)."""
    check_batchnorm2d_running_stats(x, running_mean, running_var, momentum)
    capabilities.require("batchnorm2d", x=x, running_mean=running_mean,
                         running_var=running_var, momentum=momentum)
    rows = _channel_rows(x)
    mean, _, squares = _row_statistics(rows)
    unbiased = squares / (rows.shape[1] - 1)
    new_mean = (1 - momentum) * np.asarray(running_mean, np.float64) + momentum * mean
    new_var = (1 - momentum) * np.asarray(running_var, np.float64) + momentum * unbiased
    return new_mean.astype(x.dtype), new_var.astype(x.dtype)
