"""Argument checks the style examples share: each raises naming the parameter."""
import numpy as np


def floats(name, a):
    """a must be a float32 or float64 numpy array."""
    if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be a float32 or float64 numpy array, got "
                        f"{getattr(a, 'dtype', type(a).__name__)}")
    return a


def array(name, a, ndim, layout):
    """a must be a float32/float64 numpy array of ndim dimensions (layout says which)."""
    if floats(name, a).ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {a.shape}")
    return a


def pair(name, value, minimum):
    """value must be a pair of ints >= minimum."""
    if len(value) != 2 or min(value) < minimum:
        raise ValueError(f"{name} must be a pair of ints >= {minimum}, got {value!r}")
    return tuple(int(v) for v in value)


def output_size(size, kernel, stride, padding):
    """(Ho, Wo) of a window sliding over the padded size; raises when it is empty."""
    out = tuple((s + 2 * p - k) // st + 1 for s, k, st, p in zip(size, kernel, stride, padding))
    if min(out) < 1:
        raise ValueError(f"kernel {tuple(kernel)} does not fit input {tuple(size)} with padding "
                         f"{tuple(padding)}: empty output {out}")
    return out
