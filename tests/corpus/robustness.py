"""Robustness bugs: legal shapes rejected, hangs, overflow at large magnitudes, wrong errors,
unclaimed features computed anyway."""
import numpy as np

from conformance.capabilities import FEATURES, Capabilities
from conformance.impls import naive
from conformance.impls.validation import conv2d_output_size, pool2d_output_size
from tests.corpus import Mutant
from tests.corpus._common import conv_cache, pad, window


def _assert_divides_forward(x, weight, bias, *, stride, padding, dilation, groups):
    _, _, height, width = x.shape
    _, _, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    assert (height + 2 * ph - dh * (kh - 1) - 1) % sh == 0, "stride must tile the input"
    assert (width + 2 * pw - dw * (kw - 1) - 1) % sw == 0, "stride must tile the input"
    return naive.conv2d_forward(x, weight, bias, stride=stride, padding=padding,
                                dilation=dilation, groups=groups)


rejects_stride_not_dividing = Mutant(
    "rejects_stride_not_dividing", "asserts (H + 2p - extent) % stride == 0, rejecting legal "
    "shapes where the last rows are simply not covered", ("conv2d.forward",),
    conv2d_forward=_assert_divides_forward)


def _row_blocked_forward(x, weight, bias, *, stride, padding, dilation, groups):
    ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    n_batch = x.shape[0]
    n_filters, cg, kh, kw = weight.shape
    filters_per_group = n_filters // groups
    xpad = pad(x, padding)
    out = np.zeros((n_batch, n_filters, ho, wo), dtype=x.dtype)
    block = ho // 2 if ho > 2 else ho - 1     # two blocks of rows (one row per block when small)
    start = 0
    while start < ho:
        for n in range(n_batch):
            for f in range(n_filters):
                group = f // filters_per_group
                channels = slice(group * cg, (group + 1) * cg)
                for i in range(start, min(start + block, ho)):
                    for j in range(wo):
                        rows, cols = window(stride, (kh, kw), dilation, i, j)
                        out[n, f, i, j] = np.sum(xpad[n, channels, rows, cols] * weight[f])
        start += block
    if bias is not None:
        out += bias.reshape(1, n_filters, 1, 1)
    return out, conv_cache(xpad, weight, bias, stride, padding, dilation, groups, out.shape)


hangs_on_single_output_row = Mutant(
    "hangs_on_single_output_row", "row blocking whose block size is 0 when the output has one "
    "row: the loop never advances", ("conv2d.forward",), conv2d_forward=_row_blocked_forward)


def _early_size_forward(x, weight, bias, *, stride, padding, dilation, groups):
    height, width = x.shape[-2:]
    kh, kw = weight.shape[-2:]
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    ho = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1      # before the arguments are validated
    wo = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    n_batch = x.shape[0]
    n_filters, cg = weight.shape[:2]
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


zero_stride_divides_by_zero = Mutant(
    "zero_stride_divides_by_zero", "output size computed before validation: stride 0 raises "
    "ZeroDivisionError instead of ValueError", ("conv2d.error_inputs",),
    conv2d_forward=_early_size_forward)


def _vague_error_forward(x, weight, bias, *, stride, padding, dilation, groups):
    if min(padding) < 0:
        raise ValueError(f"negative values are not allowed: {tuple(padding)}")
    return naive.conv2d_forward(x, weight, bias, stride=stride, padding=padding,
                                dilation=dilation, groups=groups)


error_does_not_name_parameter = Mutant(
    "error_does_not_name_parameter", "negative padding raises ValueError whose message does not "
    "say which parameter is wrong", ("conv2d.error_inputs",),
    conv2d_forward=_vague_error_forward)


_PAD_VALUE = {"max": -np.inf, "min": np.inf, "avg": 0.0}


def _early_lookup_forward(x, *, mode, kernel_size, stride, padding):
    pad_value = _PAD_VALUE[mode]
    del pad_value
    return naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                padding=padding)


unknown_mode_raises_key_error = Mutant(
    "unknown_mode_raises_key_error", "the padding value is looked up by mode before validation: "
    "an unknown mode raises KeyError", ("pool2d.error_inputs",),
    pool2d_forward=_early_lookup_forward)


_no_dilation = Capabilities({"conv2d": set(FEATURES["conv2d"]) - {"dilation"},
                             "pool2d": FEATURES["pool2d"]})


def _unguarded_forward(x, weight, bias, *, stride, padding, dilation, groups):
    return naive.conv2d_forward(x, weight, bias, stride=stride, padding=padding,
                                dilation=dilation, groups=groups)


dilation_computed_though_not_claimed = Mutant(
    "dilation_computed_though_not_claimed", "dilation not claimed, yet a dilated call returns a "
    "result instead of raising NotImplementedError", ("conv2d.not_claimed",),
    capabilities=_no_dilation, conv2d_forward=_unguarded_forward)


def _pool_forward(x, mode, kernel_size, stride, padding, xpad, ho, wo, dtype):
    """The loops of the naive pool forward, reading windows from ``xpad`` converted to ``dtype``."""
    n_batch, channels = x.shape[:2]
    out = np.zeros((n_batch, channels, ho, wo), dtype=x.dtype)
    winners = np.zeros((n_batch, channels, ho, wo, 2), dtype=np.intp)
    columns = xpad.astype(dtype)
    for n in range(n_batch):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    rows, cols = window(stride, kernel_size, (1, 1), i, j)
                    win = columns[n, c, rows, cols]
                    if mode == "avg":
                        out[n, c, i, j] = xpad[n, c, rows, cols].sum() / win.size
                    else:
                        flat = win.argmax() if mode == "max" else win.argmin()
                        winners[n, c, i, j] = np.unravel_index(flat, win.shape)
                        out[n, c, i, j] = win.flat[flat]
    cache = (x.shape, x.dtype, mode, tuple(kernel_size), tuple(stride), tuple(padding), winners)
    return out, cache


def _sentinel_forward(x, *, mode, kernel_size, stride, padding):
    ho, wo = pool2d_output_size(x, mode, kernel_size, stride, padding)
    sentinel = {"max": -1e4, "min": 1e4, "avg": 0.0}[mode]
    xpad = pad(x, padding, sentinel)
    return _pool_forward(x, mode, kernel_size, stride, padding, xpad, ho, wo, x.dtype)


pool_pads_with_large_finite_value = Mutant(
    "pool_pads_with_large_finite_value", "max/min pooling pads with -1e4/+1e4 instead of "
    "-inf/+inf: wrong once |x| exceeds 1e4", ("pool2d.forward",),
    pool2d_forward=_sentinel_forward)


def _half_columns_forward(x, *, mode, kernel_size, stride, padding):
    ho, wo = pool2d_output_size(x, mode, kernel_size, stride, padding)
    xpad = pad(x, padding, _PAD_VALUE[mode])
    # Selection is exact in any precision, so max/min windows are stored in half precision.
    return _pool_forward(x, mode, kernel_size, stride, padding, xpad, ho, wo,
                         x.dtype if mode == "avg" else np.float16)


pool_windows_in_float16 = Mutant(
    "pool_windows_in_float16", "max/min pooling windows stored in float16: values above 65504 "
    "become inf (and small ones lose digits)", ("pool2d.forward",),
    pool2d_forward=_half_columns_forward)
