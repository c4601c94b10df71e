"""Small helpers shared by the corpus modules (the same ones the naive implementation uses)."""
import numpy as np


def pad(x, padding, value=0.0):
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def window(stride, extent, dilation, i, j):
    """Row and column slices of the window of output position (i, j)."""
    (sh, sw), (kh, kw), (dh, dw) = stride, extent, dilation
    rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
    cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
    return rows, cols


def conv_cache(xpad, weight, bias, stride, padding, dilation, groups, out_shape):
    """The cache layout of the naive implementation, so its backward can be reused."""
    return (xpad, weight, bias is not None, tuple(stride), tuple(padding), tuple(dilation), groups,
            out_shape)


def log_sum_exp_rows(z):
    """(log-sum-exp of each row, softmax of each row) of float64 logits z (N, K), max-shifted."""
    with np.errstate(under="ignore"):
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
    return m[:, 0] + np.log(s[:, 0]), e / s
