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
    return torch.tensor(np.asarray(a, dtype=np.float64, order="C"), requires_grad=True)


def _grads(out: torch.Tensor, grad_out: np.ndarray | None, leaves):
    if grad_out is None:
        return [None] * len(leaves)
    out.backward(torch.from_numpy(np.asarray(grad_out, dtype=np.float64, order="C")))
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


def _apply(function, inputs: dict, differentiable, grad_out):
    """Evaluate ``function`` on float64 leaves; return (out, {name: grad}) for the named inputs."""
    leaves = {k: (_leaf(v) if k in differentiable else v) for k, v in inputs.items()}
    out = function(**leaves)
    names = [k for k in differentiable if leaves.get(k) is not None]
    grads = _grads(out, grad_out, [leaves[k] for k in names])
    return out.detach().numpy(), ({} if grad_out is None else dict(zip(names, grads)))


def elementwise(op: str, x, grad_out=None):
    """relu, sigmoid or tanh (torch.relu / torch.sigmoid / torch.tanh)."""
    function = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[op]
    return _apply(lambda x: function(x), {"x": x}, ("x",), grad_out)


def softmax(x, grad_out=None, *, axis):
    return _apply(lambda x: torch.softmax(x, dim=axis), {"x": x}, ("x",), grad_out)


def linear(x, weight, bias, grad_out=None):
    return _apply(F.linear, {"input": x, "weight": weight, "bias": bias},
                  ("input", "weight", "bias"), grad_out)


def flatten(x, grad_out=None):
    return _apply(lambda x: torch.flatten(x, 1), {"x": x}, ("x",), grad_out)


def softmax_cross_entropy(logits, target, grad_out=None):
    """Mean cross-entropy of integer class targets (F.cross_entropy, reduction "mean")."""
    target = torch.from_numpy(np.asarray(target, dtype=np.int64, order="C"))
    return _apply(lambda logits: F.cross_entropy(logits, target), {"logits": logits},
                  ("logits",), grad_out)


def dropout(x, mask, grad_out=None, *, p):
    """Inverted dropout with the caller's keep-mask: x * mask / (1 - p)."""
    keep = torch.from_numpy(np.asarray(mask, dtype=np.float64, order="C"))
    return _apply(lambda x: x * keep / (1 - p), {"x": x}, ("x",), grad_out)


def network(arrays: dict, grad_loss=None, *, padding, absolute=False):
    """loss = cross_entropy(linear(flatten(max_pool2d(relu(conv2d(x)), 2, 2))), target), float64.

    Returns (loss, {name: grad}) for x, conv_weight, conv_bias, linear_weight, linear_bias.
    With ``absolute``, the same chain on absolute values, keeping the relu pattern and pool
    winners of the real point and weighting each logit by (softmax + onehot) / N: every product
    the real gradient sums, in absolute value, so the scale of its rounding errors.
    """
    names = ("x", "conv_weight", "conv_bias", "linear_weight", "linear_bias")
    leaves = {k: _leaf(np.abs(arrays[k]) if absolute else arrays[k]) for k in names}
    target = torch.from_numpy(np.asarray(arrays["target"], dtype=np.int64, order="C"))
    with torch.no_grad():
        real = F.conv2d(torch.from_numpy(np.asarray(arrays["x"], np.float64)),
                        torch.from_numpy(np.asarray(arrays["conv_weight"], np.float64)),
                        torch.from_numpy(np.asarray(arrays["conv_bias"], np.float64)),
                        padding=padding)
        _, winners = F.max_pool2d(torch.relu(real), 2, 2, return_indices=True)
    hidden = F.conv2d(leaves["x"], leaves["conv_weight"], leaves["conv_bias"], padding=padding)
    hidden = hidden * (real > 0) if absolute else torch.relu(hidden)
    pooled = hidden.flatten(2).gather(2, winners.flatten(2)).reshape(winners.shape)
    logits = F.linear(pooled.flatten(1), leaves["linear_weight"], leaves["linear_bias"])
    if absolute:
        # Logit errors reach the loss weighted by (softmax + onehot) / N; the loss's own
        # roundings scale with |max|, |logsumexp| and |logit of the target|: 3 max + log K + 1.
        with torch.no_grad():
            weights = torch.softmax(_real_logits(arrays, winners, padding), 1)
            weights[torch.arange(len(target)), target] += 1
        classes = logits.shape[1]
        loss = ((logits * weights).sum() / len(target)
                + (3 * logits.max(1).values + np.log(classes) + 1).mean())
    else:
        loss = F.cross_entropy(logits, target)
    grads = _grads(loss, grad_loss, [leaves[k] for k in names])
    return loss.detach().numpy(), ({} if grad_loss is None else dict(zip(names, grads)))


def _real_logits(arrays, winners, padding):
    t = {k: torch.from_numpy(np.asarray(arrays[k], np.float64)) for k in arrays if k != "target"}
    hidden = torch.relu(F.conv2d(t["x"], t["conv_weight"], t["conv_bias"], padding=padding))
    pooled = hidden.flatten(2).gather(2, winners.flatten(2)).reshape(winners.shape)
    return F.linear(pooled.flatten(1), t["linear_weight"], t["linear_bias"])


def batchnorm2d(x, gamma, beta, grad_out=None, *, training, running_mean, running_var, eps):
    """Return (out, grad_x, grad_gamma, grad_beta) in float64; grads are None without grad_out.

    F.batch_norm: training normalises with the batch mean and biased variance over (N, H, W)
    and differentiates through them; eval uses running_mean/running_var as constants. The
    caller's running buffers are never touched (training does not read them here).
    """
    if training:
        stats = (None, None)
    else:
        stats = tuple(torch.from_numpy(np.array(a, dtype=np.float64, order="C"))
                      for a in (running_mean, running_var))
    out, grads = _apply(
        lambda x, gamma, beta: F.batch_norm(x, *stats, gamma, beta, training=training, eps=eps),
        {"x": x, "gamma": gamma, "beta": beta}, ("x", "gamma", "beta"), grad_out)
    if grad_out is None:
        return out, None, None, None
    return out, grads["x"], grads["gamma"], grads["beta"]


def batchnorm2d_running_stats(x, running_mean, running_var, *, momentum):
    """Return (new_mean, new_var) in float64: PyTorch's update by a training-mode F.batch_norm.

    new_mean = (1 - momentum) * running_mean + momentum * batch mean;
    new_var = (1 - momentum) * running_var + momentum * unbiased batch variance (divides by m - 1).
    """
    new_mean, new_var = (torch.from_numpy(np.array(a, dtype=np.float64, order="C"))
                         for a in (running_mean, running_var))
    with torch.no_grad():
        F.batch_norm(torch.from_numpy(np.array(x, dtype=np.float64, order="C")), new_mean,
                     new_var, training=True, momentum=momentum)
    return new_mean.numpy(), new_var.numpy()
