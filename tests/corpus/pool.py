"""pool2d bugs."""
import numpy as np

from impls import naive
from tests.corpus import Mutant


def _zero_padded_forward(x, *, mode, kernel_size, stride, padding):
    if mode != "max":
        return naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                    padding=padding)
    (ph, pw) = padding
    zero_padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return naive.pool2d_forward(zero_padded, mode=mode, kernel_size=kernel_size, stride=stride,
                                padding=(0, 0))


max_pool_zero_padding = Mutant(
    "max_pool_zero_padding", "max pooling pads with zeros instead of -inf",
    ("pool2d.forward",), pool2d_forward=_zero_padded_forward)


def _valid_count_forward(x, *, mode, kernel_size, stride, padding):
    out, cache = naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                      padding=padding)
    if mode == "avg":
        ones, _ = naive.pool2d_forward(np.ones_like(x), mode=mode, kernel_size=kernel_size,
                                       stride=stride, padding=padding)
        out = out / ones   # divides the window sum by the number of real (unpadded) elements
    return out, cache


avg_pool_count_exclude_pad = Mutant(
    "avg_pool_count_exclude_pad", "avg pooling divides by the count of unpadded elements "
    "(count_include_pad=False) instead of the kernel size", ("pool2d.forward",),
    pool2d_forward=_valid_count_forward)
