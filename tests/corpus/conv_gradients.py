"""conv2d backward bugs."""
import numpy as np

from conformance.impls import naive
from conformance.impls.validation import check_grad_out
from tests.corpus import Mutant
from tests.corpus._common import window


def _stride_ignored_backward(grad_out, cache):
    xpad, weight, has_bias, stride, padding, dilation, groups, out_shape = cache
    unit_stride = (xpad, weight, has_bias, (1, 1), padding, dilation, groups, out_shape)
    grad_x, _, _ = naive.conv2d_backward(grad_out, unit_stride)
    _, grad_weight, grad_bias = naive.conv2d_backward(grad_out, cache)
    return grad_x, grad_weight, grad_bias


stride_ignored_in_grad_x = Mutant(
    "stride_ignored_in_grad_x", "the input gradient scatters windows as if the stride were 1",
    ("conv2d.grad_x", "conv2d.adjoint", "conv2d.jacobian"),
    conv2d_backward=_stride_ignored_backward)


def _bias_first_sample_backward(grad_out, cache):
    grad_x, grad_weight, grad_bias = naive.conv2d_backward(grad_out, cache)
    if grad_bias is not None:
        grad_bias = grad_out[0].sum(axis=(1, 2))
    return grad_x, grad_weight, grad_bias


bias_grad_not_summed_over_batch = Mutant(
    "bias_grad_not_summed_over_batch", "bias gradient summed over height and width of the first "
    "sample only, not over the batch", ("conv2d.grad_bias", "conv2d.adjoint"),
    conv2d_backward=_bias_first_sample_backward)


def _bias_mean_backward(grad_out, cache):
    grad_x, grad_weight, grad_bias = naive.conv2d_backward(grad_out, cache)
    if grad_bias is not None:
        grad_bias = grad_out.sum(axis=(2, 3)).mean(axis=0)
    return grad_x, grad_weight, grad_bias


bias_grad_averaged_over_batch = Mutant(
    "bias_grad_averaged_over_batch", "bias gradient averaged over the batch instead of summed",
    ("conv2d.grad_bias", "conv2d.adjoint"), conv2d_backward=_bias_mean_backward)


def _weight_last_sample_backward(grad_out, cache):
    xpad, weight, has_bias, stride, padding, dilation, groups, out_shape = cache
    check_grad_out(grad_out, out_shape, xpad.dtype)
    n_batch, _, ho, wo = grad_out.shape
    n_filters, cg, kh, kw = weight.shape
    filters_per_group = n_filters // groups
    grad_xpad = np.zeros_like(xpad)
    for n in range(n_batch):
        grad_weight = np.zeros_like(weight)
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


weight_grad_last_sample_only = Mutant(
    "weight_grad_last_sample_only", "weight gradient zeroed inside the batch loop: only the last "
    "sample contributes", ("conv2d.grad_weight", "conv2d.adjoint"),
    conv2d_backward=_weight_last_sample_backward)


def _weight_grad_flipped_backward(grad_out, cache):
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
                    rows, cols = window(stride, (kh, kw), dilation, i, j)
                    g = grad_out[n, f, i, j]
                    grad_weight[f] += g * xpad[n, channels, rows, cols][:, ::-1, ::-1]
                    grad_xpad[n, channels, rows, cols] += g * weight[f]
    ph, pw = padding
    height, width = xpad.shape[2] - 2 * ph, xpad.shape[3] - 2 * pw
    grad_x = grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return grad_x, grad_weight, grad_bias


weight_grad_flipped = Mutant(
    "weight_grad_flipped", "weight gradient computed with the true-convolution (flipped kernel) "
    "convention while the forward cross-correlates",
    ("conv2d.grad_weight", "conv2d.adjoint", "conv2d.jacobian"),
    conv2d_backward=_weight_grad_flipped_backward)


def _grad_x_flipped_backward(grad_out, cache):
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
                    rows, cols = window(stride, (kh, kw), dilation, i, j)
                    g = grad_out[n, f, i, j]
                    grad_weight[f] += g * xpad[n, channels, rows, cols]
                    grad_xpad[n, channels, rows, cols] += g * weight[f, :, ::-1, ::-1]
    ph, pw = padding
    height, width = xpad.shape[2] - 2 * ph, xpad.shape[3] - 2 * pw
    grad_x = grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return grad_x, grad_weight, grad_bias


grad_x_kernel_flipped = Mutant(
    "grad_x_kernel_flipped", "input gradient scatters the flipped kernel (the full-convolution "
    "formula applied to an already transposed scatter)",
    ("conv2d.grad_x", "conv2d.adjoint", "conv2d.jacobian"),
    conv2d_backward=_grad_x_flipped_backward)


def _padding_not_cropped_backward(grad_out, cache):
    """The gradient of the padded input, returned as grad_x: the padding rows never cropped."""
    xpad, weight, has_bias, stride, padding, dilation, groups, out_shape = cache
    return naive.conv2d_backward(grad_out, (xpad, weight, has_bias, stride, (0, 0), dilation,
                                            groups, out_shape))


grad_x_padding_not_cropped = Mutant(
    "grad_x_padding_not_cropped", "grad_x is the gradient of the padded input, (N, C, H + 2p, "
    "W + 2p), while grad_weight and grad_bias are right", ("conv2d.grad_x",),
    conv2d_backward=_padding_not_cropped_backward)
