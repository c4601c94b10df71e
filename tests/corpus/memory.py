"""Memory bugs: in-place writes into the caller's arrays, layout assumptions."""
from impls import naive
from tests.corpus import Mutant


def _scaling_in_place_backward(grad_out, cache):
    mode, (kh, kw) = cache[2], cache[3]
    if mode != "avg":
        return naive.pool2d_backward(grad_out, cache)
    grad_out /= kh * kw      # the caller's array now holds grad_out / (kh * kw)
    return naive.pool2d_backward(grad_out * (kh * kw), cache)


grad_out_scaled_in_place = Mutant(
    "grad_out_scaled_in_place", "avg pool backward divides the caller's grad_out in place",
    ("pool2d.no_mutation",), pool2d_backward=_scaling_in_place_backward)


def _memory_order_forward(x, weight, bias, **params):
    # Flattens in memory order and reshapes: right for C order, scrambled for channels-last storage.
    return naive.conv2d_forward(x.ravel(order="K").reshape(x.shape), weight, bias, **params)


reshape_in_memory_order = Mutant(
    "reshape_in_memory_order", "input read in memory order, as if C-contiguous",
    ("conv2d.layouts",), conv2d_forward=_memory_order_forward)
