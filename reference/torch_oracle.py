"""PyTorch as the oracle: forward values and autograd gradients, always computed in float64.

Inputs of any float dtype are converted to float64 first (exactly), so the oracle's own error is
that of a float64 computation from the very values the implementation saw.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def _leaf(a: np.ndarray | None) -> torch.Tensor | None:
    if a is None:
        return None
    return torch.tensor(np.ascontiguousarray(a, dtype=np.float64), requires_grad=True)


def _grads(out: torch.Tensor, grad_out: np.ndarray | None, leaves):
    if grad_out is None:
        return [None] * len(leaves)
    out.backward(torch.from_numpy(np.ascontiguousarray(grad_out, dtype=np.float64)))
    return [None if t is None else t.grad.numpy() for t in leaves]


def conv2d(x, weight, bias, grad_out=None, *, stride, padding, dilation, groups):
    """Return (out, grad_x, grad_weight, grad_bias) in float64; grads are None without grad_out."""
    tx, tw, tb = _leaf(x), _leaf(weight), _leaf(bias)
    out = F.conv2d(tx, tw, tb, stride=tuple(stride), padding=tuple(padding),
                   dilation=tuple(dilation), groups=groups)
    return (out.detach().numpy(), *_grads(out, grad_out, (tx, tw, tb)))


def pool2d(x, grad_out=None, *, mode, kernel_size, stride, padding):
    """Return (out, grad_x) in float64; grad_x is None without grad_out.

    max: F.max_pool2d (padding acts as -inf); avg: F.avg_pool2d(count_include_pad=True);
    min: -F.max_pool2d(-x) (padding acts as +inf).
    """
    tx = _leaf(x)
    kwargs = dict(kernel_size=tuple(kernel_size), stride=tuple(stride), padding=tuple(padding))
    if mode == "max":
        out = F.max_pool2d(tx, **kwargs)
    elif mode == "min":
        out = -F.max_pool2d(-tx, **kwargs)
    elif mode == "avg":
        out = F.avg_pool2d(tx, count_include_pad=True, **kwargs)
    else:
        raise ValueError(f"mode must be 'max', 'avg' or 'min', got {mode!r}")
    (grad_x,) = _grads(out, grad_out, (tx,))
    return out.detach().numpy(), grad_x
