"""Glue bugs: layers that agree with themselves but not with the layout the next layer expects.
They show in the composed network (conv2d -> relu -> max pool -> flatten -> linear ->
cross-entropy), and in the single-op checks of the layer at fault where its cases reach them."""
import math

import numpy as np

from conformance.impls import naive
from conformance.impls.validation import check_flatten, check_grad_out
from tests.corpus import Mutant


def _channels_last_flatten_forward(x):
    check_flatten(x)
    naive.capabilities.require("flatten", x=x)
    out = np.moveaxis(x, 1, -1).reshape(x.shape[0], math.prod(x.shape[1:])).copy()
    return out, (x.shape, x.dtype)


def _channels_last_flatten_backward(grad_out, cache):
    shape, dtype = cache
    check_grad_out(grad_out, (shape[0], math.prod(shape[1:])), dtype)
    moved = grad_out.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],))
    return np.moveaxis(moved, -1, 1).copy()


flatten_channels_last = Mutant(
    "flatten_channels_last", "flatten orders features channels-last (N, H, W, C), consistently in "
    "forward and backward, so the linear layer's weight columns meet the wrong features",
    ("flatten.forward", "flatten.grad_x", "network.forward", "network.gradients"),
    flatten_forward=_channels_last_flatten_forward,
    flatten_backward=_channels_last_flatten_backward)


def _relu_nhwc_backward(grad_out, cache):
    positive, shape, dtype = cache
    check_grad_out(grad_out, shape, dtype)
    if grad_out.ndim != 4:
        return np.where(positive, grad_out, dtype.type(0))
    # Feature maps: work channels-last, then back to NCHW with the wrong inverse permutation.
    g = np.where(positive.transpose(0, 2, 3, 1), grad_out.transpose(0, 2, 3, 1), dtype.type(0))
    return np.ascontiguousarray(g.transpose(0, 3, 2, 1))


relu_backward_swaps_height_width = Mutant(
    "relu_backward_swaps_height_width", "relu backward on 4-D feature maps goes channels-last and "
    "back with transpose(0, 3, 2, 1) instead of (0, 3, 1, 2): height and width swapped",
    ("relu.grad_x", "network.gradients", "network.finite_difference"),
    relu_backward=_relu_nhwc_backward)
