"""Convolution by im2col and one matrix product, with the bias a column (F, 1).

    conv2d   x (N, C, H, W), weight (F, C, KH, KW), bias (F, 1) -> out (N, F, Ho, Wo)

The columns are (C * KH * KW, N * Ho * Wo); out = weight as (F, C * KH * KW) @ columns + bias,
where the (F, 1) bias broadcasts over the columns. The backward is the transposed products and
col2im by adding each kernel offset's rows back into the padded input. Dilation and groups are
not implemented (and not claimed).
"""
import numpy as np

from conformance import Capabilities
from examples.styles import _checks

name = "column_bias"
capabilities = Capabilities({"conv2d": {"float32", "float64", "stride", "padding", "bias",
                                        "rectangular", "noncontiguous", "backward", "validation"}})


def _im2col_slices(kernel, stride, out_size):
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_size
    return [(slice(a, a + (ho - 1) * sh + 1, sh), slice(b, b + (wo - 1) * sw + 1, sw))
            for a in range(kh) for b in range(kw)]


def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
    _checks.array("x", x, 4, "(N, C, H, W)")
    _checks.array("weight", weight, 4, "(F, C, KH, KW)")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight has {weight.shape[1]} input channels, x has {x.shape[1]}")
    if bias is not None and bias.shape != (weight.shape[0], 1):
        raise ValueError(f"bias must have shape ({weight.shape[0]}, 1), got {bias.shape}")
    stride, (ph, pw) = _checks.pair("stride", stride, 1), _checks.pair("padding", padding, 0)
    out_size = _checks.output_size(x.shape[2:], weight.shape[2:], stride, (ph, pw))
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    slices = _im2col_slices(weight.shape[2:], stride, out_size)
    # rows ordered (c, a, b) like weight.reshape(F, -1); columns ordered (n, i, j)
    cols = np.stack([xpad[:, :, r, c] for r, c in slices], axis=2)   # (N, C, KH*KW, Ho, Wo)
    cols = cols.transpose(1, 2, 0, 3, 4).reshape(-1, x.shape[0] * out_size[0] * out_size[1])
    out = weight.reshape(weight.shape[0], -1) @ cols
    if bias is not None:
        out += bias
    out = out.reshape(weight.shape[0], x.shape[0], *out_size).transpose(1, 0, 2, 3)
    return out.copy(), (cols, weight.copy(), bias is not None, slices, xpad.shape, (ph, pw))


def conv2d_backward(dout, cache):
    cols, weight, has_bias, slices, xpad_shape, (ph, pw) = cache
    dout_cols = dout.transpose(1, 0, 2, 3).reshape(weight.shape[0], -1)   # (F, N * Ho * Wo)
    grad_weight = (dout_cols @ cols.T).reshape(weight.shape)
    grad_cols = weight.reshape(weight.shape[0], -1).T @ dout_cols
    n, c, hp, wp = xpad_shape
    grad_cols = grad_cols.reshape(c, len(slices), n, *dout.shape[2:])
    grad_xpad = np.zeros(xpad_shape, dout.dtype)
    for k, (rows, columns) in enumerate(slices):
        grad_xpad[:, :, rows, columns] += grad_cols[:, k].transpose(1, 0, 2, 3)
    grad_x = grad_xpad[:, :, ph:hp - ph, pw:wp - pw].copy()
    grad_bias = dout_cols.sum(axis=1, keepdims=True) if has_bias else None
    return grad_x, grad_weight, grad_bias
