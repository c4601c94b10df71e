"""pool2d bugs: padding values, window sizes, gradient routing, tie-breaking."""
import math

import numpy as np

from conformance.impls import naive
from conformance.impls.validation import check_grad_out, pool2d_output_size
from tests.corpus import Mutant
from tests.corpus._common import pad, window

_PAD_VALUE = {"max": -np.inf, "min": np.inf, "avg": 0.0}


def _zero_padded_forward(x, *, mode, kernel_size, stride, padding):
    if mode != "max":
        return naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                    padding=padding)
    (ph, pw) = padding
    zero_padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return naive.pool2d_forward(zero_padded, mode=mode, kernel_size=kernel_size, stride=stride,
                                padding=(0, 0))


max_pool_zero_padding = Mutant(
    "max_pool_zero_padding", "max pooling pads with zeros instead of -inf",
    ("pool2d.forward",), pool2d_forward=_zero_padded_forward)


def _valid_count_forward(x, *, mode, kernel_size, stride, padding):
    out, cache = naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                      padding=padding)
    if mode == "avg":
        ones, _ = naive.pool2d_forward(np.ones_like(x), mode=mode, kernel_size=kernel_size,
                                       stride=stride, padding=padding)
        out = out / ones   # divides the window sum by the number of real (unpadded) elements
    return out, cache


avg_pool_count_exclude_pad = Mutant(
    "avg_pool_count_exclude_pad", "avg pooling divides by the count of unpadded elements "
    "(count_include_pad=False) instead of the kernel size", ("pool2d.forward",),
    pool2d_forward=_valid_count_forward)


def _min_zero_padded_forward(x, *, mode, kernel_size, stride, padding):
    if mode != "min":
        return naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                    padding=padding)
    (ph, pw) = padding
    zero_padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return naive.pool2d_forward(zero_padded, mode=mode, kernel_size=kernel_size, stride=stride,
                                padding=(0, 0))


min_pool_zero_padding = Mutant(
    "min_pool_zero_padding", "min pooling pads with zeros instead of +inf",
    ("pool2d.forward",), pool2d_forward=_min_zero_padded_forward)


def _pool_forward(x, mode, kernel_size, stride, padding, xpad, ho, wo):
    """The loops of the naive pool forward over a given padded input and output size."""
    n_batch, channels = x.shape[:2]
    out = np.zeros((n_batch, channels, ho, wo), dtype=x.dtype)
    winners = np.zeros((n_batch, channels, ho, wo, 2), dtype=np.intp)
    for n in range(n_batch):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    rows, cols = window(stride, kernel_size, (1, 1), i, j)
                    win = xpad[n, c, rows, cols]
                    if mode == "avg":
                        out[n, c, i, j] = win.sum() / win.size
                    else:
                        flat = win.argmax() if mode == "max" else win.argmin()
                        winners[n, c, i, j] = np.unravel_index(flat, win.shape)
                        out[n, c, i, j] = win.flat[flat]
    cache = (x.shape, x.dtype, mode, tuple(kernel_size), tuple(stride), tuple(padding), winners)
    return out, cache


def _ceil_mode_forward(x, *, mode, kernel_size, stride, padding):
    pool2d_output_size(x, mode, kernel_size, stride, padding)
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    height, width = x.shape[2:]
    ho = math.ceil((height + 2 * ph - kh) / sh) + 1
    wo = math.ceil((width + 2 * pw - kw) / sw) + 1
    # Extra padding after the data, so that the last (partial) window is a full one.
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph + sh), (pw, pw + sw)),
                  constant_values=_PAD_VALUE[mode])
    return _pool_forward(x, mode, kernel_size, stride, padding, xpad, ho, wo)


pool_output_size_ceil_mode = Mutant(
    "pool_output_size_ceil_mode", "pool output size rounded up (ceil_mode=True) instead of down",
    ("pool2d.forward",), pool2d_forward=_ceil_mode_forward)


def _kernel_swapped_forward(x, *, mode, kernel_size, stride, padding):
    ho, wo = pool2d_output_size(x, mode, kernel_size, stride, padding)
    kw, kh = kernel_size
    xpad = pad(x, padding, _PAD_VALUE[mode])
    return _pool_forward(x, mode, (kh, kw), stride, padding, xpad, ho, wo)


pool_kernel_height_width_swapped = Mutant(
    "pool_kernel_height_width_swapped", "kernel_size unpacked as (kw, kh): rectangular pooling "
    "windows are transposed", ("pool2d.forward",), pool2d_forward=_kernel_swapped_forward)


def _padded_before_forward(x, *, mode, kernel_size, stride, padding):
    ho, wo = pool2d_output_size(x, mode, kernel_size, stride, padding)
    ph, pw = padding
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, 0), (pw, 0)), constant_values=_PAD_VALUE[mode])
    return _pool_forward(x, mode, kernel_size, stride, padding, xpad, ho, wo)


pool_padded_before_only = Mutant(
    "pool_padded_before_only", "pooling pads only the top and left: the last windows are cut "
    "short (avg divides by a smaller window)", ("pool2d.forward",),
    pool2d_forward=_padded_before_forward)


def _pool_backward(grad_out, cache, route):
    """The naive pool backward, with the max/min routing of one window given by ``route``."""
    x_shape, dtype, mode, kernel_size, stride, padding, winners, xpad = cache
    check_grad_out(grad_out, winners.shape[:4], dtype)
    (kh, kw), (ph, pw) = kernel_size, padding
    n_batch, channels, height, width = x_shape
    _, _, ho, wo = grad_out.shape
    grad_xpad = np.zeros((n_batch, channels, height + 2 * ph, width + 2 * pw), grad_out.dtype)
    for n in range(n_batch):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    rows, cols = window(stride, kernel_size, (1, 1), i, j)
                    g = grad_out[n, c, i, j]
                    if mode == "avg":
                        grad_xpad[n, c, rows, cols] += g / (kh * kw)
                    else:
                        win = xpad[n, c, rows, cols]
                        grad_xpad[n, c, rows, cols] += g * route(win, mode)
    return grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()


def _keeping_xpad_forward(x, *, mode, kernel_size, stride, padding):
    out, cache = naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                      padding=padding)
    return out, cache + (pad(x, padding, _PAD_VALUE[mode]),)


def _every_tie(win, mode):
    extreme = win.max() if mode == "max" else win.min()
    return win == extreme


def _every_tie_backward(grad_out, cache):
    return _pool_backward(grad_out, cache, _every_tie)


max_pool_grad_to_every_tie = Mutant(
    "max_pool_grad_to_every_tie", "max/min pool gradient sent to every element equal to the "
    "window's extreme (mask x == max), not only the first", ("pool2d.ties",),
    pool2d_forward=_keeping_xpad_forward, pool2d_backward=_every_tie_backward)


def _last_winner(win, mode):
    flipped = win.ravel()[::-1]
    last = win.size - 1 - (flipped.argmax() if mode == "max" else flipped.argmin())
    mask = np.zeros(win.size, dtype=bool)
    mask[last] = True
    return mask.reshape(win.shape)


def _last_winner_backward(grad_out, cache):
    return _pool_backward(grad_out, cache, _last_winner)


max_pool_grad_to_last_tie = Mutant(
    "max_pool_grad_to_last_tie", "max/min pool gradient sent to the last extreme element of the "
    "window instead of the first", ("pool2d.ties",),
    pool2d_forward=_keeping_xpad_forward, pool2d_backward=_last_winner_backward)


def _hard_coded_2x2_backward(grad_out, cache):
    x_shape, dtype, mode, kernel_size, stride, padding, winners = cache
    check_grad_out(grad_out, winners.shape[:4], dtype)
    (ph, pw) = padding
    n_batch, channels, height, width = x_shape
    _, _, ho, wo = grad_out.shape
    grad_xpad = np.zeros((n_batch, channels, height + 2 * ph, width + 2 * pw), grad_out.dtype)
    for n in range(n_batch):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    rows, cols = slice(2 * i, 2 * i + 2), slice(2 * j, 2 * j + 2)
                    g = grad_out[n, c, i, j]
                    if mode == "avg":
                        grad_xpad[n, c, rows, cols] += g / 4
                    else:
                        a, b = winners[n, c, i, j]
                        grad_xpad[n, c, 2 * i + a, 2 * j + b] += g
    return grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()


pool_backward_hard_coded_2x2 = Mutant(
    "pool_backward_hard_coded_2x2", "pool backward written for 2x2 windows with stride 2 "
    "whatever the kernel and stride",
    ("pool2d.grad_x", "pool2d.adjoint", "pool2d.finite_difference"),
    pool2d_backward=_hard_coded_2x2_backward)


def _avg_not_divided_backward(grad_out, cache):
    x_shape, dtype, mode, kernel_size, stride, padding, winners = cache
    check_grad_out(grad_out, winners.shape[:4], dtype)
    (ph, pw) = padding
    n_batch, channels, height, width = x_shape
    _, _, ho, wo = grad_out.shape
    grad_xpad = np.zeros((n_batch, channels, height + 2 * ph, width + 2 * pw), grad_out.dtype)
    for n in range(n_batch):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    rows, cols = window(stride, kernel_size, (1, 1), i, j)
                    g = grad_out[n, c, i, j]
                    if mode == "avg":
                        grad_xpad[n, c, rows, cols] += g
                    else:
                        a, b = winners[n, c, i, j]
                        grad_xpad[n, c, i * stride[0] + a, j * stride[1] + b] += g
    return grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()


avg_pool_grad_not_divided = Mutant(
    "avg_pool_grad_not_divided", "avg pool backward spreads grad_out over the window without "
    "dividing by the window size", ("pool2d.grad_x", "pool2d.adjoint", "pool2d.jacobian"),
    pool2d_backward=_avg_not_divided_backward)


def _max_stride_ignored_backward(grad_out, cache):
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
                    rows, cols = window(stride, kernel_size, (1, 1), i, j)
                    g = grad_out[n, c, i, j]
                    if mode == "avg":
                        grad_xpad[n, c, rows, cols] += g / (kh * kw)
                    else:
                        a, b = winners[n, c, i, j]
                        grad_xpad[n, c, i + a, j + b] += g
    return grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()


max_pool_grad_stride_ignored = Mutant(
    "max_pool_grad_stride_ignored", "max/min pool backward adds the winner offset to (i, j) "
    "instead of (i * stride, j * stride)", ("pool2d.grad_x", "pool2d.finite_difference"),
    pool2d_backward=_max_stride_ignored_backward)


def _cropped_at_origin_backward(grad_out, cache):
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
                    rows, cols = window(stride, kernel_size, (1, 1), i, j)
                    g = grad_out[n, c, i, j]
                    if mode == "avg":
                        grad_xpad[n, c, rows, cols] += g / (kh * kw)
                    else:
                        a, b = winners[n, c, i, j]
                        grad_xpad[n, c, i * stride[0] + a, j * stride[1] + b] += g
    return grad_xpad[:, :, :height, :width].copy()


pool_grad_cropped_at_wrong_offset = Mutant(
    "pool_grad_cropped_at_wrong_offset", "pool backward crops the padded gradient from (0, 0) "
    "instead of (ph, pw)", ("pool2d.grad_x", "pool2d.adjoint", "pool2d.finite_difference"),
    pool2d_backward=_cropped_at_origin_backward)


def _three_bugs_forward(x, *, mode, kernel_size, stride, padding):
    """Three independent bugs, each behind its own feature: max pads with zeros, avg divides by
    KH * KH, and the column stride is the row stride."""
    stride = (stride[0], stride[0])
    if mode == "max":
        return _zero_padded_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                    padding=padding)
    out, cache = naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                      padding=padding)
    if mode == "avg":
        out = out * (kernel_size[1] / kernel_size[0])
    return out, cache


pool_three_independent_bugs = Mutant(
    "pool_three_independent_bugs", "max pooling pads with zeros, avg pooling divides by KH * KH "
    "and the column stride is the row stride: three bugs, each behind its own feature",
    ("pool2d.forward",), pool2d_forward=_three_bugs_forward)
