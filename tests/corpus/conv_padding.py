"""conv2d padding bugs in the backward: the padded input gradient cropped wrongly."""
import numpy as np

from conformance.impls.validation import check_grad_out
from tests.corpus import Mutant
from tests.corpus._common import window


def _scatter(grad_out, cache):
    """The naive backward up to the padded input gradient: (grad_xpad, grad_weight, grad_bias)."""
    xpad, weight, has_bias, stride, padding, dilation, groups, out_shape = cache
    check_grad_out(grad_out, out_shape, xpad.dtype)
    n_batch, _, ho, wo = grad_out.shape
    n_filters, cg, kh, kw = weight.shape
    filters_per_group = n_filters // groups
    grad_xpad = np.zeros_like(xpad)
    grad_weight = np.zeros_like(weight)
    for n in range(n_batch):
        for f in range(n_filters):
            group = f // filters_per_group
            channels = slice(group * cg, (group + 1) * cg)
            for i in range(ho):
                for j in range(wo):
                    rows, cols = window(stride, (kh, kw), dilation, i, j)
                    g = grad_out[n, f, i, j]
                    grad_weight[f] += g * xpad[n, channels, rows, cols]
                    grad_xpad[n, channels, rows, cols] += g * weight[f]
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return grad_xpad, grad_weight, grad_bias


def _not_cropped_backward(grad_out, cache):
    grad_xpad, grad_weight, grad_bias = _scatter(grad_out, cache)
    return grad_xpad, grad_weight, grad_bias


grad_x_not_cropped = Mutant(
    "grad_x_not_cropped", "the input gradient is returned with the padding still on "
    "(shape of the padded input)", ("conv2d.grad_x", "conv2d.adjoint"),
    conv2d_backward=_not_cropped_backward)


def _cropped_at_origin_backward(grad_out, cache):
    grad_xpad, grad_weight, grad_bias = _scatter(grad_out, cache)
    ph, pw = cache[4]
    height, width = grad_xpad.shape[2] - 2 * ph, grad_xpad.shape[3] - 2 * pw
    grad_x = grad_xpad[:, :, :height, :width].copy()
    return grad_x, grad_weight, grad_bias


grad_x_cropped_at_wrong_offset = Mutant(
    "grad_x_cropped_at_wrong_offset", "the padded input gradient is cropped from (0, 0) instead "
    "of (ph, pw)", ("conv2d.grad_x", "conv2d.adjoint", "conv2d.jacobian"),
    conv2d_backward=_cropped_at_origin_backward)

