"""conv2d indexing bugs: strides, off-by-one windows, swapped rows and columns, output size."""
import numpy as np

from conformance.impls import naive
from conformance.impls.validation import check_grad_out, conv2d_output_size
from tests.corpus import Mutant
from tests.corpus._common import conv_cache, pad, window


# --- backward loops ---------------------------------------------------------------------------

def _grad_weight_unit_stride_backward(grad_out, cache):
    xpad, weight, has_bias, stride, padding, dilation, groups, out_shape = cache
    check_grad_out(grad_out, out_shape, xpad.dtype)
    n_batch, _, ho, wo = grad_out.shape
    n_filters, cg, kh, kw = weight.shape
    (dh, dw) = dilation
    filters_per_group = n_filters // groups
    grad_xpad = np.zeros_like(xpad)
    grad_weight = np.zeros_like(weight)
    for n in range(n_batch):
        for f in range(n_filters):
            group = f // filters_per_group
            channels = slice(group * cg, (group + 1) * cg)
            for i in range(ho):
                for j in range(wo):
                    rows, cols = window(stride, (kh, kw), dilation, i, j)
                    g = grad_out[n, f, i, j]
                    patch = xpad[n, channels, i:i + dh * (kh - 1) + 1:dh,
                                 j:j + dw * (kw - 1) + 1:dw]
                    grad_weight[f] += g * patch
                    grad_xpad[n, channels, rows, cols] += g * weight[f]
    ph, pw = padding
    height, width = xpad.shape[2] - 2 * ph, xpad.shape[3] - 2 * pw
    grad_x = grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return grad_x, grad_weight, grad_bias


stride_ignored_in_grad_weight = Mutant(
    "stride_ignored_in_grad_weight", "the weight gradient reads the input patch at (i, j) "
    "instead of (i * stride, j * stride)",
    ("conv2d.grad_weight", "conv2d.adjoint", "conv2d.jacobian"),
    conv2d_backward=_grad_weight_unit_stride_backward)


def _stride_twice_backward(grad_out, cache):
    xpad, weight, has_bias, stride, padding, dilation, groups, out_shape = cache
    check_grad_out(grad_out, out_shape, xpad.dtype)
    n_batch, _, ho, wo = grad_out.shape
    n_filters, cg, kh, kw = weight.shape
    (sh, sw), (dh, dw) = stride, dilation
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    filters_per_group = n_filters // groups
    grad_xpad = np.zeros_like(xpad)
    grad_weight = np.zeros_like(weight)
    for n in range(n_batch):
        for f in range(n_filters):
            group = f // filters_per_group
            channels = slice(group * cg, (group + 1) * cg)
            for i, top in enumerate(range(0, ho * sh, sh)):
                for j, left in enumerate(range(0, wo * sw, sw)):
                    g = grad_out[n, f, i, j]
                    grad_weight[f] += g * xpad[n, channels, top:top + eh:dh, left:left + ew:dw]
                    rows = slice(top * sh, top * sh + eh, dh)
                    cols = slice(left * sw, left * sw + ew, dw)
                    grad_xpad[n, channels, rows, cols] += g * weight[f]
    ph, pw = padding
    height, width = xpad.shape[2] - 2 * ph, xpad.shape[3] - 2 * pw
    grad_x = grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return grad_x, grad_weight, grad_bias


stride_applied_twice_in_grad_x = Mutant(
    "stride_applied_twice_in_grad_x", "the input gradient multiplies an already strided window "
    "position by the stride again", ("conv2d.grad_x", "conv2d.adjoint"),
    conv2d_backward=_stride_twice_backward)


def _last_window_skipped_backward(grad_out, cache):
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
                for j in range(wo - 1):
                    rows, cols = window(stride, (kh, kw), dilation, i, j)
                    g = grad_out[n, f, i, j]
                    grad_weight[f] += g * xpad[n, channels, rows, cols]
                    grad_xpad[n, channels, rows, cols] += g * weight[f]
    ph, pw = padding
    height, width = xpad.shape[2] - 2 * ph, xpad.shape[3] - 2 * pw
    grad_x = grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return grad_x, grad_weight, grad_bias


last_column_skipped_in_backward = Mutant(
    "last_column_skipped_in_backward", "backward loops over range(wo - 1): the last output "
    "column contributes to no gradient", ("conv2d.grad_x", "conv2d.grad_weight", "conv2d.adjoint"),
    conv2d_backward=_last_window_skipped_backward)


def _dilation_ignored_backward(grad_out, cache):
    xpad, weight, has_bias, stride, padding, dilation, groups, out_shape = cache
    check_grad_out(grad_out, out_shape, xpad.dtype)
    n_batch, _, ho, wo = grad_out.shape
    n_filters, cg, kh, kw = weight.shape
    (sh, sw) = stride
    filters_per_group = n_filters // groups
    grad_xpad = np.zeros_like(xpad)
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
                    grad_xpad[n, channels, i * sh:i * sh + kh, j * sw:j * sw + kw] += g * weight[f]
    ph, pw = padding
    height, width = xpad.shape[2] - 2 * ph, xpad.shape[3] - 2 * pw
    grad_x = grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return grad_x, grad_weight, grad_bias


dilation_ignored_in_grad_x = Mutant(
    "dilation_ignored_in_grad_x", "the input gradient scatters into an undilated kh x kw block",
    ("conv2d.grad_x", "conv2d.adjoint", "conv2d.jacobian"),
    conv2d_backward=_dilation_ignored_backward)


def _gather_grad_x(grad_out, x_shape, weight, stride, padding, dilation, groups):
    """grad_x[n, c, h, w] = sum over (f, u, v) with h + ph = i*sh + u*dh, w + pw = j*sw + v*dw."""
    n_batch, n_filters, ho, wo = grad_out.shape
    _, cg, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    filters_per_group = n_filters // groups
    _, channels, height, width = x_shape
    grad_x = np.zeros(x_shape, dtype=grad_out.dtype)
    for c in range(channels):
        group = c // cg
        filters = slice(group * filters_per_group, (group + 1) * filters_per_group)
        for h in range(height):
            for w in range(width):
                total = np.zeros(n_batch, dtype=grad_out.dtype)
                for u in range(kh):
                    for v in range(kw):
                        ti, tj = h + ph - u * dh, w + pw - v * dw
                        if ti > 0 and tj >= 0 and ti % sh == 0 and tj % sw == 0:
                            i, j = ti // sh, tj // sw
                            if i < ho and j < wo:
                                w_cuv = weight[filters, c - group * cg, u, v]
                                total += grad_out[:, filters, i, j] @ w_cuv
                grad_x[:, c, h, w] = total
    return grad_x


def _gather_backward(grad_out, cache):
    xpad, weight, has_bias, stride, padding, dilation, groups, out_shape = cache
    _, grad_weight, grad_bias = naive.conv2d_backward(grad_out, cache)
    ph, pw = padding
    x_shape = (*xpad.shape[:2], xpad.shape[2] - 2 * ph, xpad.shape[3] - 2 * pw)
    grad_x = _gather_grad_x(grad_out, x_shape, weight, stride, padding, dilation, groups)
    return grad_x, grad_weight, grad_bias


gather_grad_x_skips_first_row = Mutant(
    "gather_grad_x_skips_first_row", "gather-style input gradient tests h + ph - u*dh > 0 "
    "where >= 0 is meant: output row 0 never contributes",
    ("conv2d.grad_x", "conv2d.adjoint", "conv2d.jacobian"), conv2d_backward=_gather_backward)


# --- forward loops ----------------------------------------------------------------------------

def _last_row_skipped_forward(x, weight, bias, *, stride, padding, dilation, groups):
    ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    n_batch = x.shape[0]
    n_filters, cg, kh, kw = weight.shape
    filters_per_group = n_filters // groups
    xpad = pad(x, padding)
    out = np.zeros((n_batch, n_filters, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for f in range(n_filters):
            group = f // filters_per_group
            channels = slice(group * cg, (group + 1) * cg)
            for i in range(ho - 1):
                for j in range(wo):
                    rows, cols = window(stride, (kh, kw), dilation, i, j)
                    out[n, f, i, j] = np.sum(xpad[n, channels, rows, cols] * weight[f])
            if bias is not None:
                out[n, f] += bias[f]
    return out, conv_cache(xpad, weight, bias, stride, padding, dilation, groups, out.shape)


last_output_row_skipped = Mutant(
    "last_output_row_skipped", "forward loops over range(ho - 1): the last output row is never "
    "computed", ("conv2d.forward",), conv2d_forward=_last_row_skipped_forward)


def _kernel_swapped_forward(x, weight, bias, *, stride, padding, dilation, groups):
    ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    n_batch = x.shape[0]
    n_filters, cg, kw, kh = weight.shape
    filters_per_group = n_filters // groups
    xpad = pad(x, padding)
    out = np.zeros((n_batch, n_filters, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for f in range(n_filters):
            group = f // filters_per_group
            channels = slice(group * cg, (group + 1) * cg)
            for i in range(ho):
                for j in range(wo):
                    for a in range(kh):
                        for b in range(kw):
                            r = i * stride[0] + a * dilation[0]
                            s = j * stride[1] + b * dilation[1]
                            out[n, f, i, j] += xpad[n, channels, r, s] @ weight[f, :, a, b]
            if bias is not None:
                out[n, f] += bias[f]
    return out, conv_cache(xpad, weight, bias, stride, padding, dilation, groups, out.shape)


kernel_height_width_swapped = Mutant(
    "kernel_height_width_swapped", "kernel shape unpacked as (kw, kh): non-square kernels are "
    "read with rows and columns exchanged", ("conv2d.forward",),
    conv2d_forward=_kernel_swapped_forward)


def _stride_swapped_forward(x, weight, bias, *, stride, padding, dilation, groups):
    ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    n_batch = x.shape[0]
    n_filters, cg, kh, kw = weight.shape
    sw, sh = stride
    (dh, dw) = dilation
    filters_per_group = n_filters // groups
    xpad = pad(x, padding)
    out = np.zeros((n_batch, n_filters, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for f in range(n_filters):
            group = f // filters_per_group
            channels = slice(group * cg, (group + 1) * cg)
            for i in range(ho):
                for j in range(wo):
                    patch = xpad[n, channels, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                                 j * sw:j * sw + dw * (kw - 1) + 1:dw]
                    out[n, f, i, j] = np.sum(patch * weight[f])
            if bias is not None:
                out[n, f] += bias[f]
    return out, conv_cache(xpad, weight, bias, stride, padding, dilation, groups, out.shape)


stride_height_width_swapped = Mutant(
    "stride_height_width_swapped", "stride unpacked as (sw, sh): rectangular strides step rows "
    "by the column stride", ("conv2d.forward",), conv2d_forward=_stride_swapped_forward)


def _padding_swapped_forward(x, weight, bias, *, stride, padding, dilation, groups):
    ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    n_batch = x.shape[0]
    n_filters, cg, kh, kw = weight.shape
    filters_per_group = n_filters // groups
    ph, pw = padding
    xpad = np.pad(x, ((0, 0), (0, 0), (pw, pw), (ph, ph)))
    out = np.zeros((n_batch, n_filters, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for f in range(n_filters):
            group = f // filters_per_group
            channels = slice(group * cg, (group + 1) * cg)
            for i in range(ho):
                for j in range(wo):
                    rows, cols = window(stride, (kh, kw), dilation, i, j)
                    out[n, f, i, j] = np.sum(xpad[n, channels, rows, cols] * weight[f])
            if bias is not None:
                out[n, f] += bias[f]
    return out, conv_cache(xpad, weight, bias, stride, padding, dilation, groups, out.shape)


padding_height_width_swapped = Mutant(
    "padding_height_width_swapped", "rows padded by the column padding and columns by the row "
    "padding", ("conv2d.forward",), conv2d_forward=_padding_swapped_forward)


def _forward_own_size(x, weight, bias, stride, padding, dilation, groups, ho, wo):
    """The loops of the naive forward for a given output size."""
    n_batch = x.shape[0]
    n_filters, cg, kh, kw = weight.shape
    filters_per_group = n_filters // groups
    xpad = pad(x, padding)
    out = np.zeros((n_batch, n_filters, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for f in range(n_filters):
            group = f // filters_per_group
            channels = slice(group * cg, (group + 1) * cg)
            for i in range(ho):
                for j in range(wo):
                    rows, cols = window(stride, (kh, kw), dilation, i, j)
                    out[n, f, i, j] = np.sum(xpad[n, channels, rows, cols] * weight[f])
            if bias is not None:
                out[n, f] += bias[f]
    return out, conv_cache(xpad, weight, bias, stride, padding, dilation, groups, out.shape)


def _input_swapped_forward(x, weight, bias, *, stride, padding, dilation, groups):
    conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    _, _, width, height = x.shape
    _, _, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    ho = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return _forward_own_size(x, weight, bias, stride, padding, dilation, groups, ho, wo)


input_height_width_swapped = Mutant(
    "input_height_width_swapped", "input spatial shape unpacked as (W, H) when computing the "
    "output size", ("conv2d.forward",), conv2d_forward=_input_swapped_forward)


def _rounded_size_forward(x, weight, bias, *, stride, padding, dilation, groups):
    conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    _, _, height, width = x.shape
    _, _, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    ho = int(round((height + 2 * ph - dh * (kh - 1) - 1) / sh)) + 1
    wo = int(round((width + 2 * pw - dw * (kw - 1) - 1) / sw)) + 1
    return _forward_own_size(x, weight, bias, stride, padding, dilation, groups, ho, wo)


output_size_true_division = Mutant(
    "output_size_true_division", "output size int(round((H + 2p - extent) / s)) + 1 instead of "
    "floor division", ("conv2d.forward",), conv2d_forward=_rounded_size_forward)


def _padding_once_forward(x, weight, bias, *, stride, padding, dilation, groups):
    conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    _, _, height, width = x.shape
    _, _, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    ho = (height + ph - dh * (kh - 1) - 1) // sh + 1
    wo = (width + pw - dw * (kw - 1) - 1) // sw + 1
    return _forward_own_size(x, weight, bias, stride, padding, dilation, groups, ho, wo)


output_size_padding_counted_once = Mutant(
    "output_size_padding_counted_once", "output size (H + p - extent) // s + 1: padding counted "
    "on one side only", ("conv2d.forward",), conv2d_forward=_padding_once_forward)
