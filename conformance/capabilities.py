"""What an implementation claims, and which claimed features a call uses.

This module is the only part of the harness an implementation may import. It has no
dependency beyond NumPy.

A claim is a set of feature names per op. The features each op knows:

conv2d
    float32, float64      dtypes of x, weight, bias
    stride                stride other than (1, 1)
    padding               padding other than (0, 0)
    dilation              dilation other than (1, 1)
    groups                groups > 1
    bias                  a bias array (bias=None is always allowed)
    rectangular           a kernel, stride, padding or dilation pair with unequal entries
    noncontiguous         an input array that is not C-contiguous
    backward              conv2d_backward (without it, only the forward is certified)
pool2d
    float32, float64, stride, padding, rectangular, noncontiguous   as for conv2d
    max, avg, min         pooling modes
    backward              pool2d_backward
    ties                  max/min gradients at tied values go to the first extreme element of
                          the window in row-major order, as in PyTorch (a property of the data,
                          not of the call: it is checked, but cannot be refused)
relu, sigmoid, tanh, softmax, flatten, softmax_cross_entropy, dropout
    float32, float64, noncontiguous, backward          as for conv2d
linear
    float32, float64, noncontiguous, backward, bias    as for conv2d
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

FEATURES: dict[str, tuple[str, ...]] = {
    "conv2d": ("float32", "float64", "stride", "padding", "dilation", "groups", "bias",
               "rectangular", "noncontiguous", "backward"),
    "pool2d": ("float32", "float64", "max", "avg", "min", "stride", "padding",
               "rectangular", "noncontiguous", "backward", "ties"),
    **{op: ("float32", "float64", "noncontiguous", "backward")
       for op in ("relu", "sigmoid", "tanh", "softmax", "flatten", "softmax_cross_entropy",
                  "dropout")},
    "linear": ("float32", "float64", "noncontiguous", "backward", "bias"),
}

# Features of the input values rather than of the call: no call can be refused for them.
DATA_FEATURES = frozenset({"ties"})


def _pair(value) -> tuple:
    try:
        return tuple(value)
    except TypeError:
        return (value, value)


def _is_rectangular(*pairs) -> bool:
    return any(len(set(_pair(pair))) > 1 for pair in pairs)


def features_used(op: str, **call) -> frozenset[str]:
    """The features a call of ``op`` with these keyword arguments relies on.

    conv2d takes x, weight, bias, stride, padding, dilation, groups;
    pool2d takes x, mode, kernel_size, stride, padding; linear x, weight, bias;
    softmax_cross_entropy logits, target; dropout x, mask, p; softmax x, axis; the
    elementwise ops and flatten x. Malformed arguments are not features: they are left for the
    implementation's own validation to reject.
    """
    if op not in FEATURES:
        raise ValueError(f"op must be one of {sorted(FEATURES)}, got {op!r}")
    arrays = [a for a in call.values() if isinstance(a, np.ndarray)]
    first = call.get("x", call.get("logits"))
    used = {np.dtype(first.dtype).name} if isinstance(first, np.ndarray) else set()
    if any(not a.flags.c_contiguous for a in arrays):
        used.add("noncontiguous")
    if op == "linear" and call.get("bias") is not None:
        used.add("bias")
    if op not in ("conv2d", "pool2d"):
        return frozenset(used)
    if len(set(_pair(call["stride"])) - {1}):
        used.add("stride")
    if len(set(_pair(call["padding"])) - {0}):
        used.add("padding")
    if op == "conv2d":
        if len(set(_pair(call["dilation"])) - {1}):
            used.add("dilation")
        if call["groups"] != 1:
            used.add("groups")
        if call["bias"] is not None:
            used.add("bias")
        kernel = getattr(call["weight"], "shape", ())[2:]
        if _is_rectangular(kernel, call["stride"], call["padding"], call["dilation"]):
            used.add("rectangular")
    else:
        used.add(call["mode"])
        if _is_rectangular(call["kernel_size"], call["stride"], call["padding"]):
            used.add("rectangular")
    return frozenset(used)


class Capabilities:
    """The features an implementation claims, per op.

    >>> caps = Capabilities({"conv2d": {"float64", "stride"}})
    >>> caps.claims("conv2d", "stride"), caps.claims("pool2d", "max")
    (True, False)
    """

    def __init__(self, claims: Mapping[str, Iterable[str]] | None = None, *,
                 max_elements: int | None = None):
        """``max_elements``: the most elements any one array of a case may have for this
        implementation (inputs and outputs); larger cases are not run, and the certificate says it
        holds up to that size. None: no limit."""
        if max_elements is not None and (isinstance(max_elements, bool) or
                                         not isinstance(max_elements, int) or max_elements < 1):
            raise ValueError(f"max_elements must be a positive int or None, got {max_elements!r}")
        self.max_elements = max_elements
        self._claims: dict[str, frozenset[str]] = {}
        for op, features in (claims or {}).items():
            if op not in FEATURES:
                raise ValueError(f"unknown op {op!r} in capabilities; known ops: {sorted(FEATURES)}")
            features = frozenset(features)
            unknown = features - set(FEATURES[op])
            if unknown:
                raise ValueError(f"unknown {op} features {sorted(unknown)} in capabilities; "
                                 f"known: {list(FEATURES[op])}")
            self._claims[op] = features

    @classmethod
    def everything(cls, *, max_elements: int | None = None) -> "Capabilities":
        """Claims every feature of every op."""
        return cls({op: features for op, features in FEATURES.items()}, max_elements=max_elements)

    @property
    def ops(self) -> tuple[str, ...]:
        """The ops with at least one claimed feature."""
        return tuple(op for op in FEATURES if self._claims.get(op))

    def claimed(self, op: str) -> frozenset[str]:
        return self._claims.get(op, frozenset())

    def claims(self, op: str, feature: str) -> bool:
        return feature in self.claimed(op)

    def require(self, op: str, **call) -> None:
        """Raise NotImplementedError if the call uses a feature of ``op`` not claimed."""
        missing = sorted(features_used(op, **call) - self.claimed(op))
        if missing:
            raise NotImplementedError(
                f"{op}: feature(s) {missing} not claimed by this implementation")

    def to_dict(self) -> dict[str, list[str]]:
        return {op: sorted(f) for op, f in self._claims.items() if f}

    def __repr__(self) -> str:
        limit = "" if self.max_elements is None else f", max_elements={self.max_elements}"
        return f"Capabilities({self.to_dict()!r}{limit})"
