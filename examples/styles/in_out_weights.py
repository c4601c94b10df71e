"""Convolution with the weight stored (C, F, KH, KW): input channels first.

    conv2d   x (N, C, H, W), weight (C, F, KH, KW), bias (F,) -> out (N, F, Ho, Wo)

Each kernel offset (a, b) contributes a (C, F) matrix product of the input slice that offset
reads; the backward runs the same loop for both gradients. Dilation and groups are not
implemented (and not claimed).
"""
import numpy as np

from conformance import Capabilities
from examples.styles import _checks

name = "in_out_weights"
capabilities = Capabilities({"conv2d": {"float32", "float64", "stride", "padding", "bias",
                                        "rectangular", "noncontiguous", "backward", "validation"}})


def _offsets(weight, stride, out_size):
    """(a, b, rows, cols) for each kernel offset: the slices of the padded input it reads."""
    (sh, sw), (ho, wo) = stride, out_size
    for a in range(weight.shape[2]):
        for b in range(weight.shape[3]):
            yield a, b, slice(a, a + (ho - 1) * sh + 1, sh), slice(b, b + (wo - 1) * sw + 1, sw)


def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
    _checks.array("x", x, 4, "(N, C, H, W)")
    _checks.array("weight", weight, 4, "(C, F, KH, KW)")
    if weight.shape[0] != x.shape[1]:
        raise ValueError(f"weight has {weight.shape[0]} input channels, x has {x.shape[1]}")
    if bias is not None and bias.shape != (weight.shape[1],):
        raise ValueError(f"bias must have shape ({weight.shape[1]},), got {bias.shape}")
    stride, (ph, pw) = _checks.pair("stride", stride, 1), _checks.pair("padding", padding, 0)
    out_size = _checks.output_size(x.shape[2:], weight.shape[2:], stride, (ph, pw))
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((x.shape[0], weight.shape[1], *out_size), x.dtype)
    for a, b, rows, cols in _offsets(weight, stride, out_size):
        out += np.einsum("nchw,cf->nfhw", xpad[:, :, rows, cols], weight[:, :, a, b])
    if bias is not None:
        out += bias[:, None, None]
    return out, (xpad, weight.copy(), bias is not None, stride, (ph, pw), out_size)


def conv2d_backward(dout, cache):
    xpad, weight, has_bias, stride, (ph, pw), out_size = cache
    grad_xpad = np.zeros_like(xpad)
    grad_weight = np.zeros_like(weight)
    for a, b, rows, cols in _offsets(weight, stride, out_size):
        grad_weight[:, :, a, b] = np.einsum("nchw,nfhw->cf", xpad[:, :, rows, cols], dout)
        grad_xpad[:, :, rows, cols] += np.einsum("cf,nfhw->nchw", weight[:, :, a, b], dout)
    h, w = xpad.shape[2] - 2 * ph, xpad.shape[3] - 2 * pw
    grad_x = grad_xpad[:, :, ph:ph + h, pw:pw + w].copy()
    return grad_x, grad_weight, dout.sum(axis=(0, 2, 3)) if has_bias else None
