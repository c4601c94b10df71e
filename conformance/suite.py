"""The plan: which checks run on which op, and on which features.

A record's ``checks`` name the checks that apply to it; each is run by a kind of check in
conformance.checks. A CheckSpec puts the two together: the kind's narrowing and the op's (e.g.
finite differences only in float64, the adjoint identity of pooling only for avg), the features
its cases must use, and their size tier. A check whose narrowed claims leave no legal case is
"not claimed" for that implementation.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conformance import checks
from conformance.ops import OPS
from conformance.ops.base import Applies, OpRecord
from conformance.sizes import SMALL


@dataclass(frozen=True)
class CheckSpec:
    name: str
    property: Callable | None = None     # (impl, op, case) -> worst error / bound
    fixed: Callable | None = None        # (impl, op, claimed) -> FixedOutcome
    exclude: frozenset[str] = frozenset()  # features the cases must not use
    required: frozenset[str] = frozenset()
    tier: str = SMALL
    special: str | None = None             # convention-testing data: "ties", "zeros"
    choices: tuple[tuple[str, ...], ...] = ()  # the op's choice groups (dtypes, pool modes)

    def allowed(self, claimed: frozenset[str]) -> frozenset[str] | None:
        """The features cases may use, or None when no legal case is left (a required feature
        missing, or no option left in one of the op's choice groups)."""
        allowed = claimed - self.exclude
        if not self.required <= allowed or not all(allowed & set(g) for g in self.choices):
            return None
        return allowed


def _spec(op: OpRecord, use: Applies) -> CheckSpec:
    kind = checks.kind(use.kind or use.name)
    return CheckSpec(use.name, kind.property, kind.fixed, kind.exclude | use.exclude,
                     kind.required | use.required, use.tier or kind.tier or SMALL, use.special,
                     op.choices)


def checks_for(op: str) -> list[CheckSpec]:
    record = OPS[op]
    return [_spec(record, use) for use in record.applicable()]


def find_check(op: str, name: str) -> CheckSpec:
    for spec in checks_for(op):
        if spec.name == name:
            return spec
    raise ValueError(f"unknown check {name!r} for {op}; known: {[c.name for c in checks_for(op)]}")


def all_tasks() -> list[tuple[str, str]]:
    """Every (op, check) pair, in report order; unclaimed ones are reported as such."""
    return [(op, spec.name) for op in OPS for spec in checks_for(op)]
