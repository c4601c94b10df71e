"""conv2d layout bugs: axes of the weight, batch and channels, groups."""
import numpy as np

from conformance.impls import naive
from conformance.impls.validation import check_grad_out, conv2d_output_size
from tests.corpus import Mutant
from tests.corpus._common import conv_cache, pad, window


def _weight_in_out_forward(x, weight, bias, **params):
    # Weights taken as (C, F, KH, KW), the transposed-convolution layout, reshaped back.
    w = weight.transpose(1, 0, 2, 3).reshape(weight.shape)
    return naive.conv2d_forward(x, w, bias, **params)


weight_read_as_in_out = Mutant(
    "weight_read_as_in_out", "weight read as (C, F, KH, KW) instead of (F, C, KH, KW)",
    ("conv2d.forward",), conv2d_forward=_weight_in_out_forward)


def _batch_channels_forward(x, weight, bias, **params):
    # Converts from (C, N, H, W), a layout the input is not in.
    x_nchw = x.transpose(1, 0, 2, 3).reshape(x.shape)
    return naive.conv2d_forward(x_nchw, weight, bias, **params)


batch_and_channels_confused = Mutant(
    "batch_and_channels_confused", "input treated as (C, N, H, W) and transposed to NCHW by a "
    "reshape", ("conv2d.forward",), conv2d_forward=_batch_channels_forward)


def _group_of(f, n_filters, groups):
    return f % groups


def _wrong_groups_forward(x, weight, bias, *, stride, padding, dilation, groups):
    ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    n_batch = x.shape[0]
    n_filters, cg, kh, kw = weight.shape
    xpad = pad(x, padding)
    out = np.zeros((n_batch, n_filters, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for f in range(n_filters):
            group = _group_of(f, n_filters, groups)
            channels = slice(group * cg, (group + 1) * cg)
            for i in range(ho):
                for j in range(wo):
                    rows, cols = window(stride, (kh, kw), dilation, i, j)
                    out[n, f, i, j] = np.sum(xpad[n, channels, rows, cols] * weight[f])
            if bias is not None:
                out[n, f] += bias[f]
    return out, conv_cache(xpad, weight, bias, stride, padding, dilation, groups, out.shape)


def _wrong_groups_backward(grad_out, cache):
    xpad, weight, has_bias, stride, padding, dilation, groups, out_shape = cache
    check_grad_out(grad_out, out_shape, xpad.dtype)
    n_batch, _, ho, wo = grad_out.shape
    n_filters, cg, kh, kw = weight.shape
    grad_xpad = np.zeros_like(xpad)
    grad_weight = np.zeros_like(weight)
    for n in range(n_batch):
        for f in range(n_filters):
            group = _group_of(f, n_filters, groups)
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


groups_interleaved = Mutant(
    "groups_interleaved", "filter f assigned to group f % groups instead of f // (F // groups)",
    ("conv2d.forward", "conv2d.grad_x", "conv2d.grad_weight"),
    conv2d_forward=_wrong_groups_forward, conv2d_backward=_wrong_groups_backward)
