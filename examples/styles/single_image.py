"""Convolution and max pooling of one image at a time, by loops over output positions.

    conv2d   x (C, H, W), weight (F, C, KH, KW), bias (F,) -> out (F, Ho, Wo)
    pool2d   x (C, H, W) -> out (C, Ho, Wo), max only

Dilation, groups and the other pooling modes are not implemented (and not claimed).
"""
import numpy as np

from conformance import Capabilities
from examples.styles import _checks

name = "single_image"
capabilities = Capabilities({
    "conv2d": {"float32", "float64", "stride", "padding", "bias", "rectangular",
               "noncontiguous", "backward", "validation"},
    "pool2d": {"float32", "float64", "max", "stride", "padding", "rectangular",
               "noncontiguous", "backward", "validation"},
})


def _window(i, j, kernel, stride):
    (kh, kw), (sh, sw) = kernel, stride
    return slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)


def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
    _checks.array("x", x, 3, "(C, H, W)")
    _checks.array("weight", weight, 4, "(F, C, KH, KW)")
    if weight.shape[1] != x.shape[0]:
        raise ValueError(f"weight has {weight.shape[1]} input channels, x has {x.shape[0]}")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(f"bias must have shape ({weight.shape[0]},), got {bias.shape}")
    stride, (ph, pw) = _checks.pair("stride", stride, 1), _checks.pair("padding", padding, 0)
    ho, wo = _checks.output_size(x.shape[1:], weight.shape[2:], stride, (ph, pw))
    xpad = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((weight.shape[0], ho, wo), x.dtype)
    for i in range(ho):
        for j in range(wo):
            rows, cols = _window(i, j, weight.shape[2:], stride)
            out[:, i, j] = np.tensordot(weight, xpad[:, rows, cols], axes=3)
    if bias is not None:
        out += bias[:, None, None]
    return out, (xpad, weight.copy(), bias is not None, stride, (ph, pw))


def conv2d_backward(dout, cache):
    xpad, weight, has_bias, stride, (ph, pw) = cache
    grad_xpad = np.zeros_like(xpad)
    grad_weight = np.zeros_like(weight)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            rows, cols = _window(i, j, weight.shape[2:], stride)
            grad_weight += dout[:, i, j, None, None, None] * xpad[:, rows, cols]
            grad_xpad[:, rows, cols] += np.tensordot(dout[:, i, j], weight, axes=1)
    grad_x = grad_xpad[:, ph:xpad.shape[1] - ph, pw:xpad.shape[2] - pw].copy()
    return grad_x, grad_weight, dout.sum(axis=(1, 2)) if has_bias else None


def pool2d_forward(x, *, mode, kernel_size, stride, padding):
    _checks.array("x", x, 3, "(C, H, W)")
    if mode != "max":
        raise ValueError(f"mode must be 'max', got {mode!r}")
    kernel = _checks.pair("kernel_size", kernel_size, 1)
    stride, (ph, pw) = _checks.pair("stride", stride, 1), _checks.pair("padding", padding, 0)
    if ph > kernel[0] // 2 or pw > kernel[1] // 2:
        raise ValueError(f"padding {(ph, pw)} must be at most half of kernel_size {kernel}")
    ho, wo = _checks.output_size(x.shape[1:], kernel, stride, (ph, pw))
    xpad = np.pad(x, ((0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    out = np.zeros((x.shape[0], ho, wo), x.dtype)
    winners = np.zeros((x.shape[0], ho, wo), int)
    for i in range(ho):
        for j in range(wo):
            rows, cols = _window(i, j, kernel, stride)
            flat = xpad[:, rows, cols].reshape(x.shape[0], -1)
            winners[:, i, j] = flat.argmax(axis=1)
            out[:, i, j] = flat.max(axis=1)
    return out, (xpad.shape, kernel, stride, (ph, pw), winners)


def pool2d_backward(dout, cache):
    xpad_shape, kernel, stride, (ph, pw), winners = cache
    grad_xpad = np.zeros(xpad_shape, dout.dtype)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            a, b = np.divmod(winners[:, i, j], kernel[1])
            channels = np.arange(dout.shape[0])
            grad_xpad[channels, i * stride[0] + a, j * stride[1] + b] += dout[:, i, j]
    return grad_xpad[:, ph:xpad_shape[1] - ph, pw:xpad_shape[2] - pw].copy()
