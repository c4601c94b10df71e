"""Convolution and pooling written channels-last, as in TensorFlow.

    conv2d   x (N, H, W, C), weight (KH, KW, C, F), bias (F,) -> out (N, Ho, Wo, F)
    pool2d   x (N, H, W, C) -> out (N, Ho, Wo, C), max or average (padding counted)

The windows are a strided view of the padded input, contracted with the kernel by einsum; the
input gradient adds each kernel offset's contribution to the strided slice it was read from.
Dilation and groups are not implemented (and not claimed).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from conformance import Capabilities
from examples.styles import _checks

name = "nhwc_layers"
capabilities = Capabilities({
    "conv2d": {"float32", "float64", "stride", "padding", "bias", "rectangular",
               "noncontiguous", "backward", "validation"},
    "pool2d": {"float32", "float64", "max", "avg", "stride", "padding", "rectangular",
               "noncontiguous", "backward", "validation"},
})


def _pad(x, padding, value=0.0):
    (ph, pw) = padding
    return np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)), constant_values=value)


def _windows(xpad, kernel, stride, out_size):
    """(N, Ho, Wo, C, KH, KW) view of the windows."""
    (sh, sw), (ho, wo) = stride, out_size
    view = sliding_window_view(xpad, kernel, axis=(1, 2))
    return view[:, :(ho - 1) * sh + 1:sh, :(wo - 1) * sw + 1:sw]


def _rows_cols(a, b, stride, out_size):
    """The slices of the padded input that kernel offset (a, b) reads."""
    (sh, sw), (ho, wo) = stride, out_size
    return slice(a, a + (ho - 1) * sh + 1, sh), slice(b, b + (wo - 1) * sw + 1, sw)


def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
    _checks.array("x", x, 4, "(N, H, W, C)")
    _checks.array("weight", weight, 4, "(KH, KW, C, F)")
    if weight.shape[2] != x.shape[3]:
        raise ValueError(f"weight has {weight.shape[2]} input channels, x has {x.shape[3]}")
    if bias is not None and bias.shape != weight.shape[3:]:
        raise ValueError(f"bias must have shape ({weight.shape[3]},), got {bias.shape}")
    stride, padding = _checks.pair("stride", stride, 1), _checks.pair("padding", padding, 0)
    out_size = _checks.output_size(x.shape[1:3], weight.shape[:2], stride, padding)
    xpad = _pad(x, padding)
    out = np.einsum("nhwcij,ijcf->nhwf", _windows(xpad, weight.shape[:2], stride, out_size),
                    weight)
    if bias is not None:
        out += bias
    return out, (xpad, weight.copy(), bias is not None, stride, padding, out_size, x.shape)


def conv2d_backward(dout, cache):
    xpad, weight, has_bias, stride, padding, out_size, x_shape = cache
    windows = _windows(xpad, weight.shape[:2], stride, out_size)
    grad_weight = np.einsum("nhwcij,nhwf->ijcf", windows, dout)
    grad_xpad = np.zeros_like(xpad)
    for a in range(weight.shape[0]):
        for b in range(weight.shape[1]):
            rows, cols = _rows_cols(a, b, stride, out_size)
            grad_xpad[:, rows, cols, :] += dout @ weight[a, b].T
    (ph, pw), (h, w) = padding, x_shape[1:3]
    grad_x = grad_xpad[:, ph:ph + h, pw:pw + w, :].copy()
    return grad_x, grad_weight, dout.sum(axis=(0, 1, 2)) if has_bias else None


def pool2d_forward(x, *, mode, kernel_size, stride, padding):
    _checks.array("x", x, 4, "(N, H, W, C)")
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    kernel = _checks.pair("kernel_size", kernel_size, 1)
    stride, padding = _checks.pair("stride", stride, 1), _checks.pair("padding", padding, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"padding {padding} must be at most half of kernel_size {kernel}")
    out_size = _checks.output_size(x.shape[1:3], kernel, stride, padding)
    xpad = _pad(x, padding, -np.inf if mode == "max" else 0.0)
    windows = _windows(xpad, kernel, stride, out_size)
    if mode == "avg":
        return windows.mean(axis=(4, 5)), (mode, kernel, stride, padding, out_size, x.shape)
    flat = windows.reshape(*windows.shape[:4], -1)
    winner = flat.argmax(axis=4)
    out = np.take_along_axis(flat, winner[..., None], axis=4)[..., 0]
    return out, (mode, kernel, stride, padding, out_size, x.shape, winner)


def pool2d_backward(dout, cache):
    mode, kernel, stride, padding, out_size, x_shape = cache[:6]
    (ph, pw), (kh, kw), (sh, sw) = padding, kernel, stride
    n, h, w, c = x_shape
    grad_xpad = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dout.dtype)
    if mode == "avg":
        share = dout / (kh * kw)
        for a in range(kh):
            for b in range(kw):
                rows, cols = _rows_cols(a, b, stride, out_size)
                grad_xpad[:, rows, cols, :] += share
    else:
        a, b = np.divmod(cache[6], kw)
        ns, i, j, cs = np.indices(dout.shape)
        np.add.at(grad_xpad, (ns, i * sh + a, j * sw + b, cs), dout)
    return grad_xpad[:, ph:ph + h, pw:pw + w, :].copy()
