"""Argument checks shared by the built-in implementations.

Each check raises TypeError (wrong kind of value) or ValueError (right kind, illegal value)
with a message that names the parameter, the value and what was expected. They never modify
their arguments. The functions return the output spatial size, so callers need not repeat the
output-size formula.
"""
from __future__ import annotations

import math

import numpy as np

from conformance.sizes import extent, output_size

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
POOL_MODES = ("max", "avg", "min")


def _array(name: str, value, ndim: int, layout: str) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(value).__name__}")
    if value.dtype not in DTYPES:
        raise TypeError(f"{name}.dtype must be float32 or float64, got {value.dtype}")
    if value.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {value.shape}")
    return value


def _pair(name: str, value, minimum: int) -> tuple[int, int]:
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        raise TypeError(f"{name} must be a pair of ints (rows, cols), got {value!r}")
    if min(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum} in both entries, got {tuple(value)}")
    return int(value[0]), int(value[1])


def _check_output(shape_desc: str, ho: int, wo: int) -> tuple[int, int]:
    if ho < 1 or wo < 1:
        raise ValueError(f"x: empty output of size ({ho}, {wo}): {shape_desc}; "
                         "expected the (padded) input to cover at least one window")
    return ho, wo


def conv2d_output_size(x, weight, bias, stride, padding, dilation, groups) -> tuple[int, int]:
    """Validate conv2d arguments (docs/contract.md, "conv2d") and return (Ho, Wo)."""
    _array("x", x, 4, "(N, C, H, W)")
    _array("weight", weight, 4, "(F, C // groups, KH, KW)")
    if weight.dtype != x.dtype:
        raise TypeError(f"weight.dtype must match x.dtype {x.dtype}, got {weight.dtype}")
    if bias is not None:
        _array("bias", bias, 1, "(F,)")
        if bias.dtype != x.dtype:
            raise TypeError(f"bias.dtype must match x.dtype {x.dtype}, got {bias.dtype}")
    sh, sw = _pair("stride", stride, 1)
    ph, pw = _pair("padding", padding, 0)
    dh, dw = _pair("dilation", dilation, 1)
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"groups must be >= 1, got {groups}")
    n, c, h, w = x.shape
    f, cg, kh, kw = weight.shape
    if c % groups:
        raise ValueError(f"groups={groups} must divide the input channels C={c}")
    if f % groups:
        raise ValueError(f"groups={groups} must divide the filters F={f} (weight.shape[0])")
    if cg != c // groups:
        raise ValueError(f"weight.shape[1] must equal C // groups = {c // groups}, "
                         f"got weight.shape={weight.shape}")
    if min(weight.shape) < 1 or min(x.shape) < 1:
        raise ValueError(f"x and weight must have no zero-length axis, got x.shape={x.shape}, "
                         f"weight.shape={weight.shape}")
    if bias is not None and bias.shape != (f,):
        raise ValueError(f"bias must have shape (F,) = ({f},), got {bias.shape}")
    ho = output_size(h, kh, sh, ph, dh)
    wo = output_size(w, kw, sw, pw, dw)
    return _check_output(f"input {h}x{w}, padding {(ph, pw)}, dilated kernel "
                         f"{extent(kh, dh)}x{extent(kw, dw)}", ho, wo)


def pool2d_output_size(x, mode, kernel_size, stride, padding) -> tuple[int, int]:
    """Validate pool2d arguments (docs/contract.md, "pool2d") and return (Ho, Wo)."""
    _array("x", x, 4, "(N, C, H, W)")
    if mode not in POOL_MODES:
        raise ValueError(f"mode must be one of {POOL_MODES}, got {mode!r}")
    kh, kw = _pair("kernel_size", kernel_size, 1)
    sh, sw = _pair("stride", stride, 1)
    ph, pw = _pair("padding", padding, 0)
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(f"padding must be at most half of kernel_size {(kh, kw)}, "
                         f"got {(ph, pw)}")
    if min(x.shape) < 1:
        raise ValueError(f"x must have no zero-length axis, got shape {x.shape}")
    _, _, h, w = x.shape
    ho = output_size(h, kh, sh, ph)
    wo = output_size(w, kw, sw, pw)
    return _check_output(f"input {h}x{w}, padding {(ph, pw)}, kernel {kh}x{kw}", ho, wo)


def check_grad_out(grad_out, expected_shape: tuple[int, ...], dtype) -> None:
    """Validate the upstream gradient passed to a backward function."""
    _array("grad_out", grad_out, len(expected_shape), "like the forward output")
    if grad_out.shape != tuple(expected_shape):
        raise ValueError(f"grad_out must have the forward output's shape {tuple(expected_shape)}, "
                         f"got {grad_out.shape}")
    if grad_out.dtype != dtype:
        raise TypeError(f"grad_out.dtype must match the forward dtype {dtype}, got {grad_out.dtype}")


# ----- activations, linear, flatten, softmax cross-entropy, dropout -----------------------------

def _float_array(name: str, value, like: np.ndarray | None = None) -> np.ndarray:
    """A float32 / float64 ndarray of any shape, with ``like``'s dtype when given."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(value).__name__}")
    if value.dtype not in DTYPES:
        raise TypeError(f"{name}.dtype must be float32 or float64, got {value.dtype}")
    if like is not None and value.dtype != like.dtype:
        raise TypeError(f"{name}.dtype must match x.dtype {like.dtype}, got {value.dtype}")
    return value


def _int(name: str, value) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    return int(value)


def check_relu(x) -> None:
    """x: float ndarray of any shape."""
    _float_array("x", x)


def check_sigmoid(x) -> None:
    """x: float ndarray of any shape."""
    _float_array("x", x)


def check_tanh(x) -> None:
    """x: float ndarray of any shape."""
    _float_array("x", x)


def check_softmax(x, axis) -> int:
    """x: float ndarray with ndim >= 1; return ``axis`` as a non-negative int."""
    _float_array("x", x)
    if x.ndim < 1:
        raise ValueError(f"x must have at least 1 dimension, got shape {x.shape}")
    axis = _int("axis", axis)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis must be in [-{x.ndim}, {x.ndim}) for x of shape {x.shape}, "
                         f"got {axis}")
    if x.shape[axis] == 0:
        raise ValueError(f"x must have at least one element along axis {axis}, "
                         f"got shape {x.shape}")
    return axis % x.ndim


def check_linear(x, weight, bias) -> None:
    """x (N, in), weight (out, in), bias (out,) or None, all of one float dtype."""
    _array("x", x, 2, "(N, in_features)")
    _float_array("weight", weight, like=x)
    if weight.ndim != 2:
        raise ValueError(f"weight must be 2-D (out_features, in_features), "
                         f"got shape {weight.shape}")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight.shape[1] must equal in_features = x.shape[1] = {x.shape[1]}, "
                         f"got weight.shape={weight.shape}")
    if bias is not None:
        _float_array("bias", bias, like=x)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"bias must have shape (out_features,) = ({weight.shape[0]},), "
                             f"got {bias.shape}")


def check_flatten(x) -> None:
    """x: float ndarray (N, ...) with ndim >= 2."""
    _float_array("x", x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions (N, ...), got shape {x.shape}")


def check_softmax_cross_entropy(logits, target) -> None:
    """logits (N, K) float with N >= 1, target (N,) integers in [0, K)."""
    _array("logits", logits, 2, "(N, K)")
    if not isinstance(target, np.ndarray) or not np.issubdtype(target.dtype, np.integer):
        kind = target.dtype if isinstance(target, np.ndarray) else type(target).__name__
        raise TypeError(f"target must be a numpy.ndarray of integers, got {kind}")
    if target.ndim != 1:
        raise ValueError(f"target must be 1-D (N,), got shape {target.shape}")
    n, k = logits.shape
    if n < 1:
        raise ValueError(f"logits must hold at least one sample, got shape {logits.shape}")
    if target.shape != (n,):
        raise ValueError(f"target must have shape (N,) = ({n},), got {target.shape}")
    bad = target[(target < 0) | (target >= k)]
    if bad.size:
        raise ValueError(f"target values must be class indices in [0, {k}), got {bad[0]}")


def check_dropout(x, mask, p) -> float:
    """x float ndarray, mask bool ndarray of x's shape, p in [0, 1); return p as a float."""
    _float_array("x", x)
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        kind = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise TypeError(f"mask must be a numpy.ndarray of bool (True = keep), got {kind}")
    if mask.shape != x.shape:
        raise ValueError(f"mask must have x's shape {x.shape}, got {mask.shape}")
    if (not isinstance(p, (int, float, np.integer, np.floating))
            or isinstance(p, (bool, np.bool_))):
        raise TypeError(f"p must be a real number in [0, 1), got {p!r}")
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p!r}")
    return float(p)


def check_grad_loss(grad_loss, dtype) -> float:
    """Validate the upstream gradient of a scalar loss; return it as a Python float.

    grad_loss is a 0-d array of the forward dtype, or a Python / NumPy float.
    """
    if isinstance(grad_loss, np.ndarray):
        if grad_loss.shape != ():
            raise ValueError(f"grad_loss must be a 0-d array (the loss is a scalar), "
                             f"got shape {grad_loss.shape}")
        if grad_loss.dtype != dtype:
            raise TypeError(f"grad_loss.dtype must match the forward dtype {dtype}, "
                            f"got {grad_loss.dtype}")
    elif not isinstance(grad_loss, (float, np.floating)):
        raise TypeError(f"grad_loss must be a 0-d numpy.ndarray or a float, "
                        f"got {type(grad_loss).__name__}")
    return float(dtype.type(grad_loss))


# ----- batchnorm2d ---------------------------------------------------------------------------

def _real(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))


def _channel_vector(name: str, value, channels: int) -> None:
    """A float32 / float64 ndarray of shape (C,)."""
    _float_array(name, value)
    if value.shape != (channels,):
        raise ValueError(f"{name} must have shape (C,) = ({channels},), got {value.shape}")


def _batch_input(x, per_channel_statistics: bool) -> int:
    """x (N, C, H, W) with no zero-length axis and, where batch statistics are taken, more
    than one value per channel (the biased and unbiased variances need m = N * H * W >= 2)."""
    _array("x", x, 4, "(N, C, H, W)")
    if min(x.shape) < 1:
        raise ValueError(f"x must have no zero-length axis, got shape {x.shape}")
    n, c, h, w = x.shape
    if per_channel_statistics and n * h * w < 2:
        raise ValueError(f"x must hold more than one value per channel for batch statistics "
                         f"(N * H * W >= 2), got shape {x.shape}")
    return c


def _running_statistics(running_mean, running_var, channels: int, purpose: str) -> None:
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        if value is None:
            raise ValueError(f"{name} is required {purpose}, got None")
        _channel_vector(name, value, channels)


def check_batchnorm2d(x, gamma, beta, training, running_mean, running_var, eps) -> None:
    """x (N, C, H, W); gamma, beta (C,); eps a finite number > 0; training a bool.

    training: N * H * W >= 2, running_mean / running_var are not read and may be None
    (when given they must have shape (C,)); otherwise both are required, shape (C,).
    """
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"training must be a bool, got {training!r}")
    channels = _batch_input(x, bool(training))
    _channel_vector("gamma", gamma, channels)
    _channel_vector("beta", beta, channels)
    if not _real(eps) or not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps must be a finite number > 0, got {eps!r}")
    if training:
        for name, value in (("running_mean", running_mean), ("running_var", running_var)):
            if value is not None:
                _channel_vector(name, value, channels)
    else:
        _running_statistics(running_mean, running_var, channels, "when training is False")


def check_batchnorm2d_running_stats(x, running_mean, running_var, momentum) -> None:
    """x (N, C, H, W) with N * H * W >= 2; running_mean, running_var (C,); momentum in [0, 1]."""
    channels = _batch_input(x, True)
    _running_statistics(running_mean, running_var, channels, "to update the running statistics")
    if not _real(momentum) or not 0 <= momentum <= 1:
        raise ValueError(f"momentum must be a number in [0, 1], got {momentum!r}")
