"""Bugs inside declared limits: code certified for square inputs and exact division only is still
checked in full within them, and refusing what the limits exclude is no excuse for serving an
unclaimed feature."""
import numpy as np

from conformance import Capabilities
from conformance.impls import naive
from examples.restricted import square_exact
from tests.corpus import Mutant
from tests.corpus.unclaimed import _served_though_unclaimed


def _avg_divides_by_kernel_height_squared(grad_out, cache):
    """avg backward spreads grad_out / KH^2: right for square kernels only."""
    xpad, mode, (kh, kw), s, p = cache
    grad_x = square_exact.pool2d_backward(grad_out, cache)
    return grad_x * (kw / kh) if mode == "avg" else grad_x


square_exact_avg_grad_by_kernel_height = Mutant(
    "square_exact_avg_grad_by_kernel_height", "within its limits (square inputs, exact "
    "division), avg pooling's gradient divides by KH * KH instead of KH * KW",
    ("pool2d.grad_x", "pool2d.adjoint"), base=square_exact,
    pool2d_backward=_avg_divides_by_kernel_height_squared)


def _bias_from_first_image(grad_out, cache):
    grad_x, grad_weight, grad_bias = square_exact.conv2d_backward(grad_out, cache)
    return grad_x, grad_weight, (None if grad_bias is None else
                                 np.ascontiguousarray(grad_out[:1].sum(axis=(0, 2, 3))))


square_exact_bias_grad_first_image = Mutant(
    "square_exact_bias_grad_first_image", "within its limits (square inputs, exact division), "
    "the bias gradient sums the first image only", ("conv2d.grad_bias",), base=square_exact,
    conv2d_backward=_bias_from_first_image)

conv_rectangular_stride_served_though_unclaimed = _served_though_unclaimed(
    "conv_rectangular_stride_served_though_unclaimed", "conv2d", "rectangular_stride",
    "declared one stride for both axes", base=naive)

limits_declared_never_refused = Mutant(
    "limits_declared_never_refused", "conv2d declares square inputs and exact division, yet "
    "computes a result for a call outside them instead of raising NotImplementedError",
    ("conv2d.not_claimed",), base=naive, capabilities=Capabilities(
        {op: naive.capabilities.claimed(op) for op in naive.capabilities.ops},
        limits={"conv2d": {"square_input", "exact_division"}}))
