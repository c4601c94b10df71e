"""softmax_cross_entropy bugs."""
import numpy as np

from conformance.impls import dense
from conformance.impls.validation import check_grad_loss, check_softmax_cross_entropy
from tests.corpus import Mutant


def _validated(logits, target):
    check_softmax_cross_entropy(logits, target)
    dense.capabilities.require("softmax_cross_entropy", logits=logits, target=target)
    return logits.astype(np.float64), np.arange(logits.shape[0])


def _summed_forward(logits, target):
    z, rows = _validated(logits, target)
    with np.errstate(under="ignore"):
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(s[:, 0])
    loss = np.sum(lse - z[rows, target])
    return np.array(loss, dtype=logits.dtype), (e / s, target.copy(), logits.dtype)


def _summed_backward(grad_loss, cache):
    probs, target, dtype = cache
    g = check_grad_loss(grad_loss, dtype)
    diff = probs.copy()
    diff[np.arange(probs.shape[0]), target] -= 1
    with np.errstate(under="ignore"):
        return (g * diff).astype(dtype)


cross_entropy_summed_over_batch = Mutant(
    "cross_entropy_summed_over_batch", "cross-entropy summed over the batch instead of averaged "
    "(forward and backward)",
    ("softmax_cross_entropy.forward", "softmax_cross_entropy.grad_logits"),
    base=dense, softmax_cross_entropy_forward=_summed_forward,
    softmax_cross_entropy_backward=_summed_backward)


def _unshifted_forward(logits, target):
    z, rows = _validated(logits, target)
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        e = np.exp(z)                   # no max subtraction: overflows, or underflows to 0
        s = e.sum(axis=1, keepdims=True)
        lse = np.log(s[:, 0])
        probs = e / s
        loss = np.mean(lse - z[rows, target])
    return np.array(loss, dtype=logits.dtype), (probs, target.copy(), logits.dtype)


cross_entropy_without_max_shift = Mutant(
    "cross_entropy_without_max_shift", "log-softmax as log(sum(exp(z))) without subtracting the "
    "row maximum: inf or NaN for large logits",
    ("softmax_cross_entropy.forward", "softmax_cross_entropy.grad_logits"), base=dense,
    softmax_cross_entropy_forward=_unshifted_forward)


def _no_onehot_backward(grad_loss, cache):
    probs, target, dtype = cache
    g = check_grad_loss(grad_loss, dtype)
    with np.errstate(under="ignore"):
        return (g * probs / probs.shape[0]).astype(dtype)


cross_entropy_grad_missing_onehot = Mutant(
    "cross_entropy_grad_missing_onehot", "cross-entropy gradient softmax(logits) / N, missing the "
    "subtraction of the one-hot target",
    ("softmax_cross_entropy.grad_logits", "softmax_cross_entropy.finite_difference",
     "softmax_cross_entropy.jacobian"), base=dense,
    softmax_cross_entropy_backward=_no_onehot_backward)


def _column_gather_forward(logits, target):
    z, _ = _validated(logits, target)
    with np.errstate(under="ignore"):
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(s[:, 0])
    loss = np.mean(lse - z[:, target])   # (N, N): every row's logit at every sample's target
    return np.array(loss, dtype=logits.dtype), (e / s, target.copy(), logits.dtype)


cross_entropy_target_column_gather = Mutant(
    "cross_entropy_target_column_gather", "target logits gathered as logits[:, target], an (N, N) "
    "block broadcast against the (N,) log-sum-exp, instead of logits[arange(N), target]",
    ("softmax_cross_entropy.forward", "softmax_cross_entropy.finite_difference",
     "softmax_cross_entropy.jacobian"), base=dense,
    softmax_cross_entropy_forward=_column_gather_forward)
