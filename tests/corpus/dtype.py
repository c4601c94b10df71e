"""dtype bugs: results in the wrong dtype, computation in a narrower one."""
import numpy as np

from conformance.impls import naive
from conformance.impls.validation import check_grad_out, conv2d_output_size
from tests.corpus import Mutant
from tests.corpus._common import conv_cache, pad, window


def _float64_out_forward(x, weight, bias, *, stride, padding, dilation, groups):
    ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    n_batch = x.shape[0]
    n_filters, cg, kh, kw = weight.shape
    filters_per_group = n_filters // groups
    xpad = pad(x, padding)
    out = np.zeros((n_batch, n_filters, ho, wo))
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


float32_returned_as_float64 = Mutant(
    "float32_returned_as_float64", "output allocated with np.zeros' default dtype: float32 inputs "
    "give a float64 result", ("conv2d.forward",), conv2d_forward=_float64_out_forward)


def _narrow_forward(dtype):
    def forward(x, weight, bias, *, stride, padding, dilation, groups):
        ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
        n_batch = x.shape[0]
        n_filters, cg, kh, kw = weight.shape
        filters_per_group = n_filters // groups
        xpad = pad(x, padding)
        xs, ws = xpad.astype(dtype), weight.astype(dtype)
        out = np.zeros((n_batch, n_filters, ho, wo), dtype=x.dtype)
        for n in range(n_batch):
            for f in range(n_filters):
                group = f // filters_per_group
                channels = slice(group * cg, (group + 1) * cg)
                for i in range(ho):
                    for j in range(wo):
                        rows, cols = window(stride, (kh, kw), dilation, i, j)
                        out[n, f, i, j] = np.sum(xs[n, channels, rows, cols] * ws[f])
                if bias is not None:
                    out[n, f] += bias[f]
        return out, conv_cache(xpad, weight, bias, stride, padding, dilation, groups, out.shape)
    return forward


float64_computed_in_float32 = Mutant(
    "float64_computed_in_float32", "x and weight cast to float32 before the products, whatever "
    "the input dtype", ("conv2d.forward",), conv2d_forward=_narrow_forward(np.float32))

float16_accumulation = Mutant(
    "float16_accumulation", "x and weight cast to float16 before the products (half-precision "
    "products and sums)", ("conv2d.forward",), conv2d_forward=_narrow_forward(np.float16))


def _float64_grad_backward(grad_out, cache):
    x_shape, dtype, mode, kernel_size, stride, padding, winners = cache
    check_grad_out(grad_out, winners.shape[:4], dtype)
    (kh, kw), (ph, pw) = kernel_size, padding
    n_batch, channels, height, width = x_shape
    _, _, ho, wo = grad_out.shape
    grad_xpad = np.zeros((n_batch, channels, height + 2 * ph, width + 2 * pw))
    for n in range(n_batch):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    rows, cols = window(stride, kernel_size, (1, 1), i, j)
                    g = grad_out[n, c, i, j]
                    if mode == "avg":
                        grad_xpad[n, c, rows, cols] += g / (kh * kw)
                    else:
                        a, b = winners[n, c, i, j]
                        grad_xpad[n, c, i * stride[0] + a, j * stride[1] + b] += g
    return grad_xpad[:, :, ph:ph + height, pw:pw + width].copy()


pool_grad_float64_for_float32 = Mutant(
    "pool_grad_float64_for_float32", "pool backward allocates its gradient with np.zeros' default "
    "dtype: float32 gradients come back as float64", ("pool2d.grad_x",),
    pool2d_backward=_float64_grad_backward)


def _avg_float32_forward(x, *, mode, kernel_size, stride, padding):
    if mode != "avg":
        return naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                    padding=padding)
    out, cache = naive.pool2d_forward(x.astype(np.float32), mode=mode, kernel_size=kernel_size,
                                      stride=stride, padding=padding)
    return out.astype(x.dtype), cache[:1] + (x.dtype,) + cache[2:]


avg_pool_in_float32 = Mutant(
    "avg_pool_in_float32", "avg pooling sums in float32 and casts back: float64 inputs lose "
    "precision", ("pool2d.forward",), pool2d_forward=_avg_float32_forward)
