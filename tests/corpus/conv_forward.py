"""conv2d forward bugs: padding, kernel orientation, output size."""
import numpy as np

from conformance.impls import naive
from tests.corpus import Mutant


def _pad_before(x, rows, cols):
    return np.pad(x, ((0, 0), (0, 0), (rows, 0), (cols, 0)))


def _one_side_forward(x, weight, bias, *, stride, padding, dilation, groups):
    # Both padding amounts put before the data: the output has the right size, shifted content.
    (ph, pw) = padding
    return naive.conv2d_forward(_pad_before(x, 2 * ph, 2 * pw), weight, bias, stride=stride,
                                padding=(0, 0), dilation=dilation, groups=groups)


def _one_side_backward(grad_out, cache):
    grad_x, grad_weight, grad_bias = naive.conv2d_backward(grad_out, cache)
    return grad_x, grad_weight, grad_bias  # gradient of the padded input, never cropped back


padding_on_one_side = Mutant(
    "padding_on_one_side", "all padding applied before the data (top/left), none after",
    ("conv2d.forward",), conv2d_forward=_one_side_forward)


def _flipped_forward(x, weight, bias, **params):
    return naive.conv2d_forward(x, weight[:, :, ::-1, ::-1], bias, **params)


def _flipped_backward(grad_out, cache):
    grad_x, grad_weight, grad_bias = naive.conv2d_backward(grad_out, cache)
    return grad_x, grad_weight[:, :, ::-1, ::-1].copy(), grad_bias


kernel_flipped = Mutant(
    "kernel_flipped", "true convolution (kernel flipped) instead of cross-correlation",
    ("conv2d.forward", "conv2d.grad_x", "conv2d.grad_weight"),
    conv2d_forward=_flipped_forward, conv2d_backward=_flipped_backward)


def _ceil_forward(x, weight, bias, *, stride, padding, dilation, groups):
    # Output size ceil((H + 2p - extent) / s) + 1: extra zero rows/cols let the last window fit.
    extents = [d * (k - 1) + 1 for d, k in zip(dilation, weight.shape[2:])]
    short = [-(size + 2 * p - e) % s for size, p, e, s in zip(x.shape[2:], padding, extents, stride)]
    padded = np.pad(x, ((0, 0), (0, 0), (0, short[0]), (0, short[1])))
    return naive.conv2d_forward(padded, weight, bias, stride=stride, padding=padding,
                                dilation=dilation, groups=groups)


output_size_rounded_up = Mutant(
    "output_size_rounded_up", "output size computed with ceil instead of floor division",
    ("conv2d.forward",), conv2d_forward=_ceil_forward)
