"""batchnorm2d bugs beyond the numbers: results that alias inputs, memory-order reads, state
outside the cache, unvalidated arguments and unclaimed features served."""
import numpy as np

from conformance.impls import naive
from conformance.impls.validation import check_batchnorm2d
from tests.corpus import Mutant
from tests.corpus.unclaimed import _served_though_unclaimed


def _unchanged_when_momentum_zero(x, running_mean, running_var, *, momentum):
    if momentum == 0:
        naive.batchnorm2d_running_stats(x, running_mean, running_var, momentum=momentum)
        return running_mean, running_var   # "nothing to update": the caller's own arrays
    return naive.batchnorm2d_running_stats(x, running_mean, running_var, momentum=momentum)


running_stats_return_inputs_at_momentum_zero = Mutant(
    "running_stats_return_inputs_at_momentum_zero", "with momentum 0 the running statistics "
    "are returned as they came, the caller's arrays themselves, not new ones",
    ("batchnorm2d.no_aliasing",),
    batchnorm2d_running_stats=_unchanged_when_momentum_zero)


def _memory_order_forward(x, gamma, beta, *, training, running_mean, running_var, eps):
    """Channel statistics over x's elements in memory order, viewed as (N, C, H * W): right
    for C-contiguous x only."""
    check_batchnorm2d(x, gamma, beta, training, running_mean, running_var, eps)
    naive.capabilities.require("batchnorm2d", x=x, gamma=gamma, beta=beta, training=training,
                               running_mean=running_mean, running_var=running_var)
    n, c, h, w = x.shape
    flat = x.ravel(order="K").reshape(n, c, h * w).astype(np.float64)
    if training:
        means, stds = flat.mean(axis=(0, 2)), np.sqrt(flat.var(axis=(0, 2)) + eps)
    else:
        means = np.asarray(running_mean, np.float64)
        stds = np.sqrt(np.asarray(running_var, np.float64) + eps)
    return naive.normalise_channels(x, gamma, beta, means, stds, training)


statistics_in_memory_order = Mutant(
    "statistics_in_memory_order", "the batch statistics read x in memory order (ravel(order='K')) "
    "as (N, C, H * W): channels-last or reversed x mixes the channels",
    ("batchnorm2d.layouts", "batchnorm2d.forward"), batchnorm2d_forward=_memory_order_forward)


_LAST = {}


def _remembering_forward(x, gamma, beta, **params):
    out, cache = naive.batchnorm2d_forward(x, gamma, beta, **params)
    _LAST["stds"] = cache[1]   # kept for the backward instead of reading the cache
    return out, cache


def _remembered_backward(grad_out, cache):
    centred, _, gamma, training, dtype = cache
    return naive.batchnorm2d_backward(grad_out, (centred, _LAST["stds"], gamma, training, dtype))


backward_uses_latest_forward = Mutant(
    "backward_uses_latest_forward", "backward divides by the standard deviations of the latest "
    "forward call (a module-level variable), not those of its own cache",
    ("batchnorm2d.deterministic",), batchnorm2d_forward=_remembering_forward,
    batchnorm2d_backward=_remembered_backward)


def _statistics(x, training, running_mean, running_var, eps):
    x64 = x.astype(np.float64)
    if training:
        return x64.mean(axis=(0, 2, 3)), np.sqrt(x64.var(axis=(0, 2, 3)) + eps)
    return (np.asarray(running_mean, np.float64),
            np.sqrt(np.asarray(running_var, np.float64) + eps))


def _eps_unchecked_forward(x, gamma, beta, *, training, running_mean, running_var, eps):
    check_batchnorm2d(x, gamma, beta, training, running_mean, running_var, 1.0)   # eps unchecked
    naive.capabilities.require("batchnorm2d", x=x, gamma=gamma, beta=beta, training=training,
                               running_mean=running_mean, running_var=running_var)
    with np.errstate(all="ignore"):
        return naive.normalise_channels(x, gamma, beta, *_statistics(x, training, running_mean,
                                                                      running_var, eps), training)


eps_not_validated = Mutant(
    "eps_not_validated", "eps is never checked: 0, negative or NaN eps gives inf or NaN instead "
    "of a ValueError naming eps", ("batchnorm2d.error_inputs",),
    batchnorm2d_forward=_eps_unchecked_forward)


running_stats_served_though_unclaimed = _served_though_unclaimed(
    "running_stats_served_though_unclaimed", "batchnorm2d", "running_stats",
    "declared without running statistics", base=naive)
