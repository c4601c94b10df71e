"""Convolution and max/avg pooling for square inputs whose windows tile them exactly.

    conv2d   x (N, C, H, H), weight (F, C, KH, KW), bias (F,) -> out (N, F, Ho, Wo)
    pool2d   x (N, C, H, H) -> out (N, C, Ho, Wo), max and avg

Written the way much small CNN code is: the output size comes from H alone (the input is
square), the backward rebuilds the input size from the output size (the stride divides
H + 2p - K exactly), one stride and one padding for both axes (kernels may be rectangular),
and arguments are not validated. Its capabilities say so, and it certifies for exactly that.
"""
import numpy as np

from conformance import Capabilities

name = "square_exact"
_SHAPES = {"float32", "float64", "stride", "padding", "rectangular_kernel", "noncontiguous",
           "backward"}
capabilities = Capabilities(
    {"conv2d": _SHAPES | {"bias"}, "pool2d": _SHAPES | {"max", "avg"}},
    limits={"conv2d": {"square_input", "exact_division"},
            "pool2d": {"square_input", "exact_division"}})


def _sizes(x, kernel, stride, padding):
    """(Ho, Wo) of a square input: both from H."""
    (kh, kw), s, p = kernel, stride[0], padding[0]
    size = x.shape[2]
    return (size + 2 * p - kh) // s + 1, (size + 2 * p - kw) // s + 1


def _input_size(out_size, kernel, stride, padding):
    """H from Ho: exact when the stride divides H + 2p - K."""
    return (out_size - 1) * stride[0] + kernel[0] - 2 * padding[0]


def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
    capabilities.require("conv2d", x=x, weight=weight, bias=bias, stride=stride,
                         padding=padding, dilation=dilation, groups=groups)
    s, p = stride[0], padding[0]
    kernel = weight.shape[2:]
    ho, wo = _sizes(x, kernel, stride, padding)
    xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((x.shape[0], weight.shape[0], ho, wo), x.dtype)
    for i in range(ho):
        for j in range(wo):
            window = xpad[:, :, i * s:i * s + kernel[0], j * s:j * s + kernel[1]]
            out[:, :, i, j] = np.tensordot(window, weight, axes=([1, 2, 3], [1, 2, 3]))
    if bias is not None:
        out += bias[None, :, None, None]
    return out, (xpad, weight.copy(), bias is not None, s, p)


def conv2d_backward(grad_out, cache):
    xpad, weight, has_bias, s, p = cache
    kernel = weight.shape[2:]
    ho, wo = grad_out.shape[2:]
    size = _input_size(ho, kernel, (s, s), (p, p))
    grad_xpad = np.zeros((xpad.shape[0], xpad.shape[1], size + 2 * p, size + 2 * p), xpad.dtype)
    grad_weight = np.zeros_like(weight)
    for i in range(ho):
        for j in range(wo):
            rows, cols = slice(i * s, i * s + kernel[0]), slice(j * s, j * s + kernel[1])
            grad_weight += np.tensordot(grad_out[:, :, i, j], xpad[:, :, rows, cols], axes=(0, 0))
            grad_xpad[:, :, rows, cols] += np.tensordot(grad_out[:, :, i, j], weight, axes=(1, 0))
    grad_x = grad_xpad[:, :, p:p + size, p:p + size].copy()
    return grad_x, grad_weight, grad_out.sum(axis=(0, 2, 3)) if has_bias else None


def pool2d_forward(x, *, mode, kernel_size, stride, padding):
    capabilities.require("pool2d", x=x, mode=mode, kernel_size=kernel_size, stride=stride,
                         padding=padding)
    (kh, kw), s, p = kernel_size, stride[0], padding[0]
    ho, wo = _sizes(x, kernel_size, stride, padding)
    fill = -np.inf if mode == "max" else 0.0
    xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    out = np.zeros(x.shape[:2] + (ho, wo), x.dtype)
    for i in range(ho):
        for j in range(wo):
            window = xpad[:, :, i * s:i * s + kh, j * s:j * s + kw]
            out[:, :, i, j] = window.max(axis=(2, 3)) if mode == "max" else window.mean(axis=(2, 3))
    return out, (xpad, mode, (kh, kw), s, p)


def pool2d_backward(grad_out, cache):
    xpad, mode, (kh, kw), s, p = cache
    ho, wo = grad_out.shape[2:]
    size = _input_size(ho, (kh, kw), (s, s), (p, p))
    grad_xpad = np.zeros(xpad.shape[:2] + (size + 2 * p, size + 2 * p), xpad.dtype)
    for i in range(ho):
        for j in range(wo):
            rows, cols = slice(i * s, i * s + kh), slice(j * s, j * s + kw)
            g = grad_out[:, :, i, j]
            if mode == "avg":
                grad_xpad[:, :, rows, cols] += g[:, :, None, None] / (kh * kw)
                continue
            window = xpad[:, :, rows, cols].reshape(*g.shape, -1)
            first = window.argmax(axis=2)       # the first maximum, row-major, as PyTorch
            n, c = np.indices(g.shape)
            grad_xpad[n, c, i * s + first // kw, j * s + first % kw] += g
    return grad_xpad[:, :, p:p + size, p:p + size].copy()
