"""conv2d backward bugs."""
from impls import naive
from tests.corpus import Mutant


def _stride_ignored_backward(grad_out, cache):
    xpad, weight, has_bias, stride, padding, dilation, groups, out_shape = cache
    unit_stride = (xpad, weight, has_bias, (1, 1), padding, dilation, groups, out_shape)
    grad_x, _, _ = naive.conv2d_backward(grad_out, unit_stride)
    _, grad_weight, grad_bias = naive.conv2d_backward(grad_out, cache)
    return grad_x, grad_weight, grad_bias


stride_ignored_in_grad_x = Mutant(
    "stride_ignored_in_grad_x", "the input gradient scatters windows as if the stride were 1",
    ("conv2d.grad_x", "conv2d.adjoint", "conv2d.jacobian"),
    conv2d_backward=_stride_ignored_backward)


def _bias_first_sample_backward(grad_out, cache):
    grad_x, grad_weight, grad_bias = naive.conv2d_backward(grad_out, cache)
    if grad_bias is not None:
        grad_bias = grad_out[0].sum(axis=(1, 2))
    return grad_x, grad_weight, grad_bias


bias_grad_not_summed_over_batch = Mutant(
    "bias_grad_not_summed_over_batch", "bias gradient summed over height and width of the first "
    "sample only, not over the batch", ("conv2d.grad_bias", "conv2d.adjoint"),
    conv2d_backward=_bias_first_sample_backward)
