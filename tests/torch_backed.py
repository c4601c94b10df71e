"""A correct implementation that wraps PyTorch itself, computing in the input's own dtype.

The harness must certify it: any check it fails is a false alarm of the harness.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from conformance.capabilities import Capabilities
from conformance.impls import validation
from conformance.impls.validation import check_grad_out, conv2d_output_size, pool2d_output_size

name = "torch_backed"
capabilities = Capabilities.everything()


def _tensor(a):
    return None if a is None else torch.tensor(np.asarray(a, order="C"), requires_grad=True)


def _backward(grad_out, cache):
    out, leaves = cache
    if out.ndim:   # a scalar loss takes a 0-d array or a float
        check_grad_out(grad_out, tuple(out.shape), np.dtype(str(out.dtype).removeprefix("torch.")))
    present = [t for t in leaves if t is not None]
    grads = iter(torch.autograd.grad(out, present, torch.tensor(np.asarray(grad_out, order="C")),
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


def _layer(check, function, differentiable):
    """forward/backward of a dense-network op computed by torch, validated like the built-ins."""
    def forward(*arrays, **params):
        check(*arrays, **params)
        tensors = [_tensor(a) if i in differentiable else (
            None if a is None else torch.from_numpy(np.array(a, copy=True)))
            for i, a in enumerate(arrays)]
        out = function(*tensors, **params)
        leaves = tuple(t if i in differentiable else None for i, t in enumerate(tensors))
        return out.detach().numpy().copy(), (out, leaves)

    def backward(grad_out, cache):
        out, leaves = cache
        grad_out = np.asarray(grad_out, dtype=np.dtype(str(out.dtype).removeprefix("torch.")))
        grads = _backward(grad_out, (out, [t for t in leaves if t is not None]))
        return grads[0] if len(grads) == 1 else tuple(grads)
    return forward, backward


relu_forward, relu_backward = _layer(validation.check_relu, torch.relu, {0})
sigmoid_forward, sigmoid_backward = _layer(validation.check_sigmoid, torch.sigmoid, {0})
tanh_forward, tanh_backward = _layer(validation.check_tanh, torch.tanh, {0})
softmax_forward, softmax_backward = _layer(
    validation.check_softmax, lambda x, axis: torch.softmax(x, dim=axis), {0})
flatten_forward, flatten_backward = _layer(validation.check_flatten,
                                           lambda x: torch.flatten(x, 1), {0})
softmax_cross_entropy_forward, softmax_cross_entropy_backward = _layer(
    validation.check_softmax_cross_entropy, F.cross_entropy, {0})
dropout_forward, dropout_backward = _layer(
    validation.check_dropout, lambda x, mask, p: x * mask / (1 - p), {0})
_linear_forward, _linear_backward = _layer(validation.check_linear, F.linear, {0, 1, 2})


def linear_forward(x, weight, bias):
    return _linear_forward(x, weight, bias)


def linear_backward(grad_out, cache):
    grad_x, grad_weight, *rest = _linear_backward(grad_out, cache)
    return grad_x, grad_weight, (rest[0] if rest else None)


def batchnorm2d_forward(x, gamma, beta, *, training, running_mean, running_var, eps):
    validation.check_batchnorm2d(x, gamma, beta, training, running_mean, running_var, eps)
    leaves = (_tensor(x), _tensor(gamma), _tensor(beta))
    # Training reads no running statistics (and F.batch_norm would update them in place).
    stats = (None, None) if training else tuple(
        torch.tensor(np.asarray(a, order="C")) for a in (running_mean, running_var))
    out = F.batch_norm(leaves[0], *stats, leaves[1], leaves[2], training=training, eps=eps)
    return out.detach().numpy().copy(), (out, leaves)


def batchnorm2d_backward(grad_out, cache):
    return tuple(_backward(grad_out, cache))


def batchnorm2d_running_stats(x, running_mean, running_var, *, momentum):
    validation.check_batchnorm2d_running_stats(x, running_mean, running_var, momentum)
    new = [torch.tensor(np.asarray(a, order="C")) for a in (running_mean, running_var)]
    with torch.no_grad():
        F.batch_norm(torch.tensor(np.asarray(x, order="C")), *new, training=True,
                     momentum=momentum)
    return tuple(t.numpy() for t in new)
