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
