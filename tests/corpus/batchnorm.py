"""Bugs in batch normalisation (batchnorm2d): the batch statistics, the input gradient through
them, the gamma / beta gradients, the running statistics, eval mode and memory."""
import functools

import numpy as np

from conformance.impls import naive
from conformance.impls.validation import check_batchnorm2d, check_batchnorm2d_running_stats
from tests.corpus import Mutant

CHANNEL_AXES = (0, 2, 3)   # the axes one channel's values run along in NCHW


def _checked(x, gamma, beta, training, running_mean, running_var, eps):
    check_batchnorm2d(x, gamma, beta, training, running_mean, running_var, eps)
    naive.capabilities.require("batchnorm2d", x=x, gamma=gamma, beta=beta, training=training,
                               running_mean=running_mean, running_var=running_var)


# --- the forward's statistics ---------------------------------------------------------------

def _biased_variance(x):
    return x.astype(np.float64).var(axis=CHANNEL_AXES)


def _sqrt_of_var_plus_eps(variances, eps):
    return np.sqrt(variances + eps)


def _forward(x, gamma, beta, *, training, running_mean, running_var, eps,
             variance=_biased_variance, std=_sqrt_of_var_plus_eps):
    """naive's forward with the training variance and the divisor computed by the hooks."""
    _checked(x, gamma, beta, training, running_mean, running_var, eps)
    if training:
        means, variances = x.astype(np.float64).mean(axis=CHANNEL_AXES), variance(x)
    else:
        means, variances = (np.asarray(running_mean, np.float64),
                            np.asarray(running_var, np.float64))
    return naive.normalise_channels(x, gamma, beta, means, std(variances, eps), training)


def _unbiased_variance(x):
    return x.astype(np.float64).var(axis=CHANNEL_AXES, ddof=1)


unbiased_variance_in_normalisation = Mutant(
    "unbiased_variance_in_normalisation", "training normalises with the unbiased batch variance "
    "(divided by m - 1), the one meant for the running statistics",
    ("batchnorm2d.forward", "batchnorm2d.grad_x", "batchnorm2d.grad_gamma"),
    batchnorm2d_forward=functools.partial(_forward, variance=_unbiased_variance))


def _eps_outside_sqrt(variances, eps):
    return np.sqrt(variances) + eps


eps_outside_sqrt = Mutant(
    "eps_outside_sqrt", "divides by sqrt(var) + eps instead of sqrt(var + eps) (forward and "
    "backward agree with each other)",
    ("batchnorm2d.forward", "batchnorm2d.grad_x", "batchnorm2d.grad_gamma"),
    batchnorm2d_forward=functools.partial(_forward, std=_eps_outside_sqrt))


def _one_pass_variance(x):
    # E[x^2] - E[x]^2 in the input dtype: both terms are about mean^2, so at a mean offset
    # much larger than the spread their difference is rounding noise (even negative).
    return (np.mean(x * x, axis=CHANNEL_AXES) - np.mean(x, axis=CHANNEL_AXES) ** 2
            ).astype(np.float64)


one_pass_variance = Mutant(
    "one_pass_variance", "training variance by the one-pass formula E[x^2] - E[x]^2 in the input "
    "dtype: catastrophic cancellation when the mean is large against the spread",
    ("batchnorm2d.forward",),
    batchnorm2d_forward=functools.partial(_forward, variance=_one_pass_variance))


def _training_flag_ignored_forward(x, gamma, beta, *, training, running_mean, running_var, eps):
    _checked(x, gamma, beta, training, running_mean, running_var, eps)
    return naive.batchnorm2d_forward(x, gamma, beta, training=True, running_mean=running_mean,
                                     running_var=running_var, eps=eps)


eval_uses_batch_statistics = Mutant(
    "eval_uses_batch_statistics", "eval mode normalises with the batch mean and variance (and "
    "differentiates through them) instead of running_mean and running_var",
    ("batchnorm2d.forward", "batchnorm2d.grad_x"),
    batchnorm2d_forward=_training_flag_ignored_forward)


# --- the backward on naive's cache (centred x, sqrt(var + eps), gamma, training, dtype) ------

def _per_channel(v):
    return v.reshape(1, -1, 1, 1)


def _statistics_as_constants_backward(grad_out, cache):
    _, grad_gamma, grad_beta = naive.batchnorm2d_backward(grad_out, cache)
    _, stds, gamma, _, dtype = cache
    grad_x = grad_out * _per_channel(gamma / stds)   # the eval-mode gradient, also in training
    return grad_x.astype(dtype), grad_gamma, grad_beta


grad_x_without_mean_terms = Mutant(
    "grad_x_without_mean_terms", "training grad_x = grad_out * gamma / sqrt(var + eps): the "
    "batch mean and variance treated as constants",
    ("batchnorm2d.grad_x", "batchnorm2d.finite_difference", "batchnorm2d.jacobian"),
    batchnorm2d_backward=_statistics_as_constants_backward)


def _mean_path_only_backward(grad_out, cache):
    grad_x, grad_gamma, grad_beta = naive.batchnorm2d_backward(grad_out, cache)
    _, stds, gamma, training, dtype = cache
    if training:
        # Through the mean only; the variance's dependence on x is forgotten.
        dxhat = grad_out * _per_channel(gamma)
        grad_x = (dxhat - dxhat.mean(axis=CHANNEL_AXES, keepdims=True)) / _per_channel(stds)
    return grad_x.astype(dtype), grad_gamma, grad_beta


grad_x_without_variance_term = Mutant(
    "grad_x_without_variance_term", "training grad_x = (dxhat - mean(dxhat)) / sigma: the "
    "term through the batch variance, - xhat * mean(dxhat * xhat) / sigma, is missing",
    ("batchnorm2d.grad_x", "batchnorm2d.finite_difference", "batchnorm2d.jacobian"),
    batchnorm2d_backward=_mean_path_only_backward)


def _channels_last_axes_backward(grad_out, cache):
    grad_x, _, _ = naive.batchnorm2d_backward(grad_out, cache)
    centred, stds, _, _, dtype = cache
    axes = (0, 1, 2)   # the per-channel reduction of NHWC, applied to NCHW: keeps W, sums C
    grad_gamma = (grad_out * (centred / _per_channel(stds))).sum(axis=axes)
    return grad_x, grad_gamma.astype(dtype), grad_out.sum(axis=axes)


gamma_beta_grads_wrong_axes = Mutant(
    "gamma_beta_grads_wrong_axes", "grad_gamma and grad_beta summed over the channels-last axes "
    "(0, 1, 2) of NCHW arrays: over N, C and H instead of N, H and W",
    ("batchnorm2d.grad_gamma", "batchnorm2d.grad_beta"),
    batchnorm2d_backward=_channels_last_axes_backward)


# --- running statistics -----------------------------------------------------------------------

def _running_stats(x, running_mean, running_var, *, momentum, ddof=1, keras_momentum=False):
    """naive's update, with the variance's divisor m - ddof and, with ``keras_momentum``,
    momentum as the weight of the old value rather than of the batch statistic."""
    check_batchnorm2d_running_stats(x, running_mean, running_var, momentum)
    naive.capabilities.require("batchnorm2d", x=x, running_mean=running_mean,
                               running_var=running_var, momentum=momentum)
    x64 = x.astype(np.float64)
    batch = (x64.mean(axis=CHANNEL_AXES), x64.var(axis=CHANNEL_AXES, ddof=ddof))
    keep = momentum if keras_momentum else 1 - momentum
    return tuple((keep * np.asarray(old, np.float64) + (1 - keep) * new).astype(x.dtype)
                 for old, new in zip((running_mean, running_var), batch))


biased_running_variance = Mutant(
    "biased_running_variance", "running_var updated with the biased batch variance (divided by "
    "m, as in the normalisation) instead of the unbiased one (m - 1)",
    ("batchnorm2d.running_stats",),
    batchnorm2d_running_stats=functools.partial(_running_stats, ddof=0))


running_stats_momentum_reversed = Mutant(
    "running_stats_momentum_reversed", "running statistics updated as momentum * old + "
    "(1 - momentum) * batch (the Keras convention) instead of PyTorch's (1 - momentum) * old + "
    "momentum * batch", ("batchnorm2d.running_stats",),
    batchnorm2d_running_stats=functools.partial(_running_stats, keras_momentum=True))


# --- memory -------------------------------------------------------------------------------------

def _centred_in_place_forward(x, gamma, beta, *, training, running_mean, running_var, eps):
    if not training:
        return naive.batchnorm2d_forward(x, gamma, beta, training=False,
                                         running_mean=running_mean, running_var=running_var,
                                         eps=eps)
    check_batchnorm2d(x, gamma, beta, training, running_mean, running_var, eps)
    mean = x.mean(axis=CHANNEL_AXES, keepdims=True)
    x -= mean   # centres the caller's x to save a copy: the batch statistics stay the same
    try:
        return naive.batchnorm2d_forward(x, gamma, beta, training=True, running_mean=running_mean,
                                         running_var=running_var, eps=eps)
    finally:
        x += mean   # and puts the mean back: x - mean + mean is not x bit for bit


x_centred_in_place = Mutant(
    "x_centred_in_place", "training forward subtracts the batch mean from the caller's x in "
    "place and adds it back afterwards (rounding changes x; read-only x fails)",
    ("batchnorm2d.no_mutation",), batchnorm2d_forward=_centred_in_place_forward)
