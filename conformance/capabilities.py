"""What an implementation claims, and which claimed features a call uses.

This module is the only part of the harness an implementation needs to import. It has no
dependency beyond NumPy (the op records it reads import torch and Hypothesis only on use).

A claim is a set of feature names per op. The features each op knows, and which of them a call
uses, are its record's (conformance/ops/); docs/contract.md describes them.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from conformance.ops import OPS, SPOKEN

FEATURES: dict[str, tuple[str, ...]] = {op: OPS[op].features for op in SPOKEN}
LIMITS: dict[str, tuple[str, ...]] = {op: tuple(OPS[op].limits) for op in SPOKEN}
# Shorthand a claim may use: "rectangular" is rectangular_kernel and the rectangular_* feature of
# each pair the claim has (stride, padding, dilation).
RECTANGULAR = "rectangular"


def expand(op: str, features: Iterable[str]) -> frozenset[str]:
    """``features`` with the shorthand "rectangular" replaced by the op's rectangular_kernel
    and rectangular_NAME for each claimed NAME (stride, padding, dilation)."""
    features = frozenset(features)
    if RECTANGULAR not in features:
        return features
    prefix = RECTANGULAR + "_"
    return (features - {RECTANGULAR}) | {
        f for f in FEATURES.get(op, ())
        if f.startswith(prefix) and f.removeprefix(prefix) in features | {"kernel"}}


def features_used(op: str, **call) -> frozenset[str]:
    """The features a call of ``op`` with these keyword arguments relies on (the keyword
    arguments are the forward's, as in docs/contract.md). Malformed arguments are not features:
    they are left for the implementation's own validation to reject."""
    if op not in FEATURES:
        raise ValueError(f"op must be one of {sorted(FEATURES)}, got {op!r}")
    return OPS[op].features_used(**call)


class Capabilities:
    """The features an implementation claims, per op.

    >>> caps = Capabilities({"conv2d": {"float64", "stride"}})
    >>> caps.claims("conv2d", "stride"), caps.claims("pool2d", "max")
    (True, False)

    "rectangular" in a claim stands for each of the op's rectangular_* features.
    """

    def __init__(self, claims: Mapping[str, Iterable[str]] | None = None, *,
                 max_elements: int | None = None,
                 limits: Mapping[str, Iterable[str]] | None = None):
        """``max_elements``: the most elements any one array of a case may have for this
        implementation (inputs and outputs); larger cases are not run, and the certificate says it
        holds up to that size. None: no limit.

        ``limits``: {op: limit names} (LIMITS lists each op's, docs/contract.md "Limits"): the
        implementation handles only calls within them; cases are drawn within them, ``require``
        refuses calls outside them, and the certificate holds within them only."""
        if max_elements is not None and (isinstance(max_elements, bool) or
                                         not isinstance(max_elements, int) or max_elements < 1):
            raise ValueError(f"max_elements must be a positive int or None, got {max_elements!r}")
        self.max_elements = max_elements
        self._claims: dict[str, frozenset[str]] = {}
        for op, features in (claims or {}).items():
            if op not in FEATURES:
                raise ValueError(f"unknown op {op!r} in capabilities; known ops: {sorted(FEATURES)}")
            features = expand(op, features)
            unknown = features - set(FEATURES[op])
            if unknown:
                raise ValueError(f"unknown {op} features {sorted(unknown)} in capabilities; "
                                 f"known: {list(FEATURES[op])}")
            self._claims[op] = features
        self._limits: dict[str, frozenset[str]] = {}
        for op, names in (limits or {}).items():
            if op not in FEATURES:
                raise ValueError(f"unknown op {op!r} in limits; known ops: {sorted(FEATURES)}")
            if isinstance(names, str):
                raise ValueError(f"limits of {op} must be a set of names, got the string "
                                 f"{names!r}")
            names = frozenset(names)
            unknown = names - set(LIMITS[op])
            if unknown:
                raise ValueError(f"unknown {op} limits {sorted(unknown)}; known: "
                                 f"{list(LIMITS[op]) or 'none'}")
            if names:
                self._limits[op] = names

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

    def limited(self, op: str) -> frozenset[str]:
        """The limits declared for ``op`` (empty: none)."""
        return self._limits.get(op, frozenset())

    def require(self, op: str, **call) -> None:
        """Raise NotImplementedError if the call uses a feature of ``op`` not claimed, or lies
        outside a limit declared for it. Malformed arguments pass: they are the validation's."""
        missing = sorted(features_used(op, **call) - self.claimed(op))
        if missing:
            raise NotImplementedError(
                f"{op}: feature(s) {missing} not claimed by this implementation")
        outside = OPS[op].violated_limits(call, self.limited(op))
        if outside:
            raise NotImplementedError(
                f"{op}: call outside the declared limit(s) {outside} of this implementation")

    def to_dict(self) -> dict[str, list[str]]:
        return {op: sorted(f) for op, f in self._claims.items() if f}

    def limits_dict(self) -> dict[str, list[str]]:
        return {op: sorted(names) for op, names in self._limits.items()}

    def __repr__(self) -> str:
        limit = "" if self.max_elements is None else f", max_elements={self.max_elements}"
        limits = f", limits={self.limits_dict()!r}" if self._limits else ""
        return f"Capabilities({self.to_dict()!r}{limit}{limits})"
