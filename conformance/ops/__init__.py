"""The op records, by name."""
from conformance.ops.base import ContractViolation, ErrorInput, OpRecord
from conformance.ops.conv2d import CONV2D
from conformance.ops.pool2d import POOL2D

OPS: dict[str, OpRecord] = {op.name: op for op in (CONV2D, POOL2D)}

__all__ = ["OPS", "OpRecord", "ErrorInput", "ContractViolation"]
