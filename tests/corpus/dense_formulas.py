"""Formula bugs in relu and linear that the other corpus modules do not cover."""
import numpy as np

from conformance.impls import dense
from conformance.impls.validation import check_grad_out, check_relu
from tests.corpus import Mutant


def _leaky_relu_forward(x):
    check_relu(x)
    dense.capabilities.require("relu", x=x)
    out = np.where(x < 0, x * x.dtype.type(0.01), x)    # the leaky variant's formula
    return out, (x > 0, x.shape, x.dtype)


relu_leaks_negative_inputs = Mutant(
    "relu_leaks_negative_inputs", "relu forward keeps 0.01 * x for negative x (leaky relu's "
    "formula) while the backward is relu's", ("relu.forward", "relu.finite_difference",
                                                "relu.jacobian"),
    base=dense, relu_forward=_leaky_relu_forward)


def _relu_output_cache_forward(x):
    out, _ = dense.relu_forward(x)
    return out, out.copy()


def _relu_times_output_backward(grad_out, cache):
    out = cache
    check_grad_out(grad_out, out.shape, out.dtype)
    return grad_out * out                 # meant the indicator out > 0, not out itself


relu_grad_times_output = Mutant(
    "relu_grad_times_output", "relu backward multiplies grad_out by the cached output instead of "
    "by its indicator (out > 0)", ("relu.grad_x", "relu.finite_difference", "relu.jacobian"),
    base=dense, relu_forward=_relu_output_cache_forward,
    relu_backward=_relu_times_output_backward)


def _linear_averaged_grad_x_backward(grad_out, cache):
    grad_x, grad_weight, grad_bias = dense.linear_backward(grad_out, cache)
    return grad_x / grad_out.shape[0], grad_weight, grad_bias   # a mean-reduced loss's 1 / N


linear_grad_x_divided_by_batch = Mutant(
    "linear_grad_x_divided_by_batch", "linear backward divides grad_x by the batch size, as if "
    "the layer averaged over the batch", ("linear.grad_x", "linear.adjoint", "linear.jacobian"),
    base=dense, linear_backward=_linear_averaged_grad_x_backward)
