"""A correct implementation that wraps PyTorch itself, computing in the input's own dtype.

The harness must certify it: any check it fails is a false alarm of the harness.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from conformance.capabilities import Capabilities
from impls.validation import check_grad_out, conv2d_output_size, pool2d_output_size

name = "torch_backed"
capabilities = Capabilities.everything()


def _tensor(a):
    return None if a is None else torch.tensor(np.ascontiguousarray(a), requires_grad=True)


def _backward(grad_out, cache):
    out, leaves = cache
    check_grad_out(grad_out, tuple(out.shape), np.dtype(str(out.dtype).removeprefix("torch.")))
    present = [t for t in leaves if t is not None]
    grads = iter(torch.autograd.grad(out, present, torch.tensor(np.ascontiguousarray(grad_out)),
                                     retain_graph=True))
    return [None if t is None else next(grads).numpy() for t in leaves]


def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
    conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    leaves = (_tensor(x), _tensor(weight), _tensor(bias))
    out = F.conv2d(*leaves, stride=tuple(stride), padding=tuple(padding),
                   dilation=tuple(dilation), groups=groups)
    return out.detach().numpy().copy(), (out, leaves)


def conv2d_backward(grad_out, cache):
    return tuple(_backward(grad_out, cache))


def pool2d_forward(x, *, mode, kernel_size, stride, padding):
    pool2d_output_size(x, mode, kernel_size, stride, padding)
    tx = _tensor(x)
    kwargs = dict(kernel_size=tuple(kernel_size), stride=tuple(stride), padding=tuple(padding))
    if mode == "max":
        out = F.max_pool2d(tx, **kwargs)
    elif mode == "min":
        out = -F.max_pool2d(-tx, **kwargs)
    else:
        out = F.avg_pool2d(tx, count_include_pad=True, **kwargs)
    return out.detach().numpy().copy(), (out, (tx,))


def pool2d_backward(grad_out, cache):
    return _backward(grad_out, cache)[0]
