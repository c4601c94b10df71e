"""The specification in code: plain loops over output positions that read like the math.

conv2d (cross-correlation, NCHW):
    out[n, f, i, j] = bias[f] + sum_{c, a, b} xpad[n, g*Cg + c, i*sh + a*dh, j*sw + b*dw] * w[f, c, a, b]
    where g = f // (F / groups) is the group of filter f and Cg = C / groups.
pool2d:
    out[n, c, i, j] = reduce_{a, b} xpad[n, c, i*sh + a, j*sw + b]
    with reduce = max (padding -inf), min (padding +inf) or mean over KH*KW (padding 0).

Slow by design; it is the implementation the others are read against.
"""
from __future__ import annotations

import numpy as np

from conformance.capabilities import Capabilities
from impls.validation import check_grad_out, conv2d_output_size, pool2d_output_size

name = "naive"
capabilities = Capabilities.everything()

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
