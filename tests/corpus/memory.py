"""Memory bugs: in-place writes into the caller's arrays, layout assumptions, aliasing, reuse."""
import numpy as np

from conformance.impls import naive
from conformance.impls.validation import check_grad_out, conv2d_output_size
from tests.corpus import Mutant
from tests.corpus._common import window


def _scaling_in_place_backward(grad_out, cache):
    mode, (kh, kw) = cache[2], cache[3]
    if mode != "avg":
        return naive.pool2d_backward(grad_out, cache)
    grad_out /= kh * kw      # the caller's array now holds grad_out / (kh * kw)
    return naive.pool2d_backward(grad_out * (kh * kw), cache)


grad_out_scaled_in_place = Mutant(
    "grad_out_scaled_in_place", "avg pool backward divides the caller's grad_out in place",
    ("pool2d.no_mutation",), pool2d_backward=_scaling_in_place_backward)


def _memory_order_forward(x, weight, bias, **params):
    # Flattens in memory order and reshapes: right for C order, scrambled for channels-last storage.
    return naive.conv2d_forward(x.ravel(order="K").reshape(x.shape), weight, bias, **params)


reshape_in_memory_order = Mutant(
    "reshape_in_memory_order", "input read in memory order, as if C-contiguous",
    ("conv2d.layouts",), conv2d_forward=_memory_order_forward)


def _depthwise_1x1_forward(x, weight, bias, *, stride, padding, dilation, groups):
    f, cg, kh, kw = weight.shape
    n, c, h, w = x.shape
    pointwise = (kh, kw) == (1, 1) and tuple(stride) == (1, 1) and tuple(padding) == (0, 0)
    if not (pointwise and groups == c == f):
        return naive.conv2d_forward(x, weight, bias, stride=stride, padding=padding,
                                    dilation=dilation, groups=groups)
    conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    naive.capabilities.require("conv2d", x=x, weight=weight, bias=bias, stride=stride,
                               padding=padding, dilation=dilation, groups=groups)
    # A 1x1 depthwise conv scales and shifts each channel; the columns are a view of x.
    cols = x.reshape(n, c, h * w)
    cols *= weight.reshape(1, f, 1)
    if bias is not None:
        cols += bias.reshape(1, f, 1)
    out = cols.reshape(n, f, h, w).copy()
    cache = (x.copy(), weight, bias is not None, (1, 1), (0, 0), tuple(dilation), groups,
             out.shape)
    return out, cache


depthwise_1x1_scales_input_in_place = Mutant(
    "depthwise_1x1_scales_input_in_place", "1x1 depthwise fast path scales and shifts a reshape "
    "view of x in place", ("conv2d.no_mutation",), conv2d_forward=_depthwise_1x1_forward)


def _min_by_negation_forward(x, *, mode, kernel_size, stride, padding):
    if mode != "min":
        return naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                    padding=padding)
    # min pooling is -max_pool(-x); negate in place (and back) to avoid a copy.
    np.negative(x, out=x)
    try:
        out, cache = naive.pool2d_forward(x, mode="max", kernel_size=kernel_size, stride=stride,
                                          padding=padding)
    finally:
        np.negative(x, out=x)
    return -out, cache


min_pool_negates_input_in_place = Mutant(
    "min_pool_negates_input_in_place", "min pooling negates the caller's x in place and back "
    "(fails on read-only inputs)", ("pool2d.no_mutation",),
    pool2d_forward=_min_by_negation_forward)


def _prescaled_avg_forward(x, *, mode, kernel_size, stride, padding):
    if mode != "avg":
        return naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                    padding=padding)
    kh, kw = kernel_size
    scaled = np.asarray(x, dtype=x.dtype)
    scaled /= kh * kw        # divide before summing; np.asarray made no copy
    out, cache = naive.pool2d_forward(scaled, mode=mode, kernel_size=kernel_size, stride=stride,
                                      padding=padding)
    return out * (kh * kw), cache


avg_pool_scales_input_in_place = Mutant(
    "avg_pool_scales_input_in_place", "avg pooling divides x by the window size in place "
    "(np.asarray does not copy)", ("pool2d.no_mutation",), pool2d_forward=_prescaled_avg_forward)


def _flip_in_place_backward(grad_out, cache):
    weight = cache[1]
    weight[...] = weight[:, :, ::-1, ::-1]       # the transposed convolution flips the kernel
    try:
        flipped = cache[:1] + (weight[:, :, ::-1, ::-1],) + cache[2:]
        return naive.conv2d_backward(grad_out, flipped)
    finally:
        weight[...] = weight[:, :, ::-1, ::-1]   # and flip it back


kernel_flipped_in_place = Mutant(
    "kernel_flipped_in_place", "backward flips the caller's weight in place for the transposed "
    "convolution and back (fails on read-only weights)", ("conv2d.no_mutation",),
    conv2d_backward=_flip_in_place_backward)


def _as_strided_forward(x, weight, bias, *, stride, padding, dilation, groups):
    ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    naive.capabilities.require("conv2d", x=x, weight=weight, bias=bias, stride=stride,
                               padding=padding, dilation=dilation, groups=groups)
    (sh, sw), (dh, dw) = stride, dilation
    f, cg, kh, kw = weight.shape
    xpad = x if tuple(padding) == (0, 0) else np.pad(
        x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    n, c, hp, wp = xpad.shape
    flat = np.ravel(xpad, order="K")             # no copy when possible
    item = flat.itemsize
    s_n, s_c, s_h, s_w = c * hp * wp * item, hp * wp * item, wp * item, item
    cols = np.lib.stride_tricks.as_strided(
        flat, shape=(n, groups, cg, ho, wo, kh, kw),
        strides=(s_n, cg * s_c, s_c, sh * s_h, sw * s_w, dh * s_h, dw * s_w), writeable=False)
    w = weight.reshape(groups, f // groups, cg, kh, kw)
    out = np.einsum("ngchwij,gfcij->ngfhw", cols, w).reshape(n, f, ho, wo)
    if bias is not None:
        out = out + bias.reshape(1, f, 1, 1)
    out = np.ascontiguousarray(out, dtype=x.dtype)
    cache = (np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2)), weight,
             bias is not None, tuple(stride), tuple(padding), tuple(dilation), groups, out.shape)
    return out, cache


im2col_as_strided_assumes_c_order = Mutant(
    "im2col_as_strided_assumes_c_order", "im2col by as_strided with strides computed for a "
    "C-contiguous input, applied to the input's memory order", ("conv2d.layouts",),
    conv2d_forward=_as_strided_forward)


def _subsampling_pool_forward(x, *, mode, kernel_size, stride, padding):
    if tuple(kernel_size) != (1, 1):
        return naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                    padding=padding)
    _, cache = naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                    padding=padding)
    sh, sw = stride
    return x[:, :, ::sh, ::sw], cache     # 1x1 pooling just subsamples


pool_1x1_returns_view_of_input = Mutant(
    "pool_1x1_returns_view_of_input", "1x1 pooling returns x[:, :, ::sh, ::sw], a view of the "
    "input", ("pool2d.no_aliasing",), pool2d_forward=_subsampling_pool_forward)


_workspace = {}


def _reused_buffer_backward(grad_out, cache):
    grad_x, grad_weight, grad_bias = naive.conv2d_backward(grad_out, cache)
    key = (grad_x.shape, grad_x.dtype)
    if key not in _workspace:
        _workspace[key] = np.empty_like(grad_x)
    buffer = _workspace[key]
    buffer[...] = grad_x
    return buffer, grad_weight, grad_bias


grad_x_buffer_reused = Mutant(
    "grad_x_buffer_reused", "backward returns grad_x in a workspace buffer reused by the next "
    "call of the same shape", ("conv2d.no_aliasing",), conv2d_backward=_reused_buffer_backward)


def _workspace_forward(x, weight, bias, **params):
    out, cache = naive.conv2d_forward(x, weight, bias, **params)
    return out, cache + (np.zeros_like(cache[0]),)   # the padded-gradient workspace


def _workspace_backward(grad_out, cache):
    xpad, weight, has_bias, stride, padding, dilation, groups, out_shape, grad_xpad = cache
    check_grad_out(grad_out, out_shape, xpad.dtype)
    n_batch, _, ho, wo = grad_out.shape
    n_filters, cg, kh, kw = weight.shape
    filters_per_group = n_filters // groups
    grad_weight = np.zeros_like(weight)
    for n in range(n_batch):
        for f in range(n_filters):
            group = f // filters_per_group
            channels = slice(group * cg, (group + 1) * cg)
            for i in range(ho):
                for j in range(wo):
                    rows, cols = window(stride, (kh, kw), dilation, i, j)
                    g = grad_out[n, f, i, j]
                    grad_weight[f] += g * xpad[n, channels, rows, cols]
                    grad_xpad[n, channels, rows, cols] += g * weight[f]
    ph, pw = padding
    height, width = xpad.shape[2] - 2 * ph, xpad.shape[3] - 2 * pw
    grad_x = grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return grad_x, grad_weight, grad_bias


backward_accumulates_into_cache = Mutant(
    "backward_accumulates_into_cache", "backward accumulates the input gradient into a workspace "
    "kept in the cache without zeroing it: a second call adds to the first",
    ("conv2d.deterministic", "conv2d.jacobian"),
    conv2d_forward=_workspace_forward, conv2d_backward=_workspace_backward)


def _required_writable_forward(x, *, mode, kernel_size, stride, padding):
    if mode != "avg":
        return naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                    padding=padding)
    kh, kw = kernel_size
    # A C-contiguous writable buffer: a copy only when x is not one already.
    scaled = np.require(x, x.dtype, ["C", "W"])
    scaled /= kh * kw
    out, cache = naive.pool2d_forward(scaled, mode=mode, kernel_size=kernel_size, stride=stride,
                                      padding=padding)
    return out * (kh * kw), cache


avg_pool_scales_writable_input = Mutant(
    "avg_pool_scales_writable_input", "avg pooling divides x in place through np.require(x, "
    "requirements='CW'), which copies only read-only or non-contiguous inputs",
    ("pool2d.no_mutation",), pool2d_forward=_required_writable_forward)


def _identity_window_backward(grad_out, cache):
    kernel_size, stride, padding = cache[3], cache[4], cache[5]
    if kernel_size == (1, 1) and stride == (1, 1) and padding == (0, 0):
        check_grad_out(grad_out, cache[6].shape[:4], cache[1])
        return grad_out          # every window is one element: the gradient passes through
    return naive.pool2d_backward(grad_out, cache)


pool_1x1_backward_returns_grad_out = Mutant(
    "pool_1x1_backward_returns_grad_out", "pool backward with 1x1 windows and stride 1 returns "
    "grad_out itself", ("pool2d.no_aliasing",), pool2d_backward=_identity_window_backward)
