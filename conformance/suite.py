"""Which checks run on which op, and on which features.

Each CheckSpec narrows the features its cases may use (e.g. finite differences only in float64,
the adjoint identity only for ops that are linear) and names the features the cases must use.
A check whose narrowed claims leave no legal case is "not claimed" for that implementation.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conformance import checks
from conformance.capabilities import FEATURES
from conformance.ops import OPS
from conformance.ops.network import finite_difference as network_finite_difference


@dataclass(frozen=True)
class CheckSpec:
    name: str
    description: str
    property: Callable | None = None     # (impl, op, case) -> worst error / bound
    fixed: Callable | None = None        # (impl, op, claimed) -> FixedOutcome
    ops: tuple[str, ...] = ("conv2d", "pool2d")
    exclude: frozenset[str] = frozenset()  # features the cases must not use
    required: frozenset[str] = frozenset()
    tiny: bool = False
    special: str | None = None             # convention-testing data: "ties", "zeros"

    def allowed(self, op: str, claimed: frozenset[str]) -> frozenset[str] | None:
        """The features cases may use, or None when no legal case is left."""
        allowed = claimed - self.exclude
        if not self.required <= allowed or not allowed & {"float32", "float64"}:
            return None
        if op == "pool2d" and not allowed & {"max", "avg", "min"}:
            return None
        return allowed


BACKWARD = frozenset({"backward"})
ALL_OPS = tuple(FEATURES)
WITH_X = tuple(op for op in ALL_OPS if op != "softmax_cross_entropy")
WITH_WEIGHT = ("conv2d", "linear")
LINEAR_OPS = ("conv2d", "pool2d", "linear", "flatten", "dropout")     # pool2d: avg only
NONLINEAR_OPS = ("pool2d", "relu", "sigmoid", "tanh", "softmax", "softmax_cross_entropy")

CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("forward", "output against PyTorch", checks.forward, ops=ALL_OPS + ("network",)),
    CheckSpec("gradients", "gradient of every parameter against PyTorch autograd",
              checks.gradients, ops=("network",), required=BACKWARD),
    CheckSpec("finite_difference", "directional central differences of the loss, per parameter "
              "(no PyTorch)", network_finite_difference, ops=("network",), required=BACKWARD),
    CheckSpec("grad_x", "input gradient against PyTorch autograd", checks.gradient("x"),
              ops=WITH_X, required=BACKWARD),
    CheckSpec("grad_logits", "logits gradient against PyTorch autograd",
              checks.gradient("logits"), ops=("softmax_cross_entropy",), required=BACKWARD),
    CheckSpec("grad_weight", "weight gradient against PyTorch autograd",
              checks.gradient("weight"), ops=WITH_WEIGHT, required=BACKWARD),
    CheckSpec("grad_bias", "bias gradient against PyTorch autograd", checks.gradient("bias"),
              ops=WITH_WEIGHT, required=BACKWARD | {"bias"}),
    CheckSpec("adjoint", "<y(a) - y(0), g> = <a, grad_a> for each linear input (no PyTorch)",
              checks.adjoint, ops=LINEAR_OPS, exclude=frozenset({"max", "min"}),
              required=BACKWARD),
    CheckSpec("finite_difference", "directional central difference in float64 (no PyTorch)",
              checks.finite_difference, ops=NONLINEAR_OPS,
              exclude=frozenset({"avg", "float32"}), required=BACKWARD),
    CheckSpec("ties", "max/min pooling with tied values: PyTorch's first-winner gradient",
              checks.convention, ops=("pool2d",), exclude=frozenset({"avg"}),
              required=BACKWARD | {"ties"}, special="ties"),
    CheckSpec("at_zero", "relu at exact zeros: gradient 0, as in PyTorch",
              checks.convention, ops=("relu",), required=BACKWARD, special="zeros"),
    CheckSpec("jacobian", "full finite-difference Jacobian on tiny shapes (no PyTorch)",
              checks.jacobian, ops=ALL_OPS, exclude=frozenset({"float32"}), required=BACKWARD,
              tiny=True),
    CheckSpec("no_mutation", "inputs unchanged bit for bit; read-only inputs accepted",
              checks.no_mutation, ops=ALL_OPS),
    CheckSpec("no_aliasing", "results share no memory with inputs or each other",
              checks.no_aliasing, ops=ALL_OPS),
    CheckSpec("layouts", "non-contiguous inputs match contiguous ones",
              checks.layouts, ops=ALL_OPS, required=frozenset({"noncontiguous"})),
    CheckSpec("deterministic", "repeated calls give identical bits", checks.deterministic,
              ops=ALL_OPS),
    CheckSpec("error_inputs", "invalid arguments raise ValueError/TypeError naming the parameter",
              fixed=checks.error_inputs, ops=ALL_OPS),
    CheckSpec("not_claimed", "unclaimed features raise NotImplementedError",
              fixed=lambda impl, op, claimed: checks.unclaimed_features(
                  impl, op, claimed, FEATURES[op.name]), ops=ALL_OPS),
)


def checks_for(op: str) -> list[CheckSpec]:
    return [c for c in CHECKS if op in c.ops]


def find_check(op: str, name: str) -> CheckSpec:
    for spec in checks_for(op):
        if spec.name == name:
            return spec
    raise ValueError(f"unknown check {name!r} for {op}; known: {[c.name for c in checks_for(op)]}")


def all_tasks() -> list[tuple[str, str]]:
    """Every (op, check) pair, in report order; unclaimed ones are reported as such."""
    return [(op, spec.name) for op in OPS for spec in checks_for(op)]
