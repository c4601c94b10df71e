"""The op records, by name."""
from conformance.ops.base import ContractViolation, ErrorInput, OpRecord
from conformance.ops.conv2d import CONV2D
from conformance.ops.layers import LAYER_RECORDS
from conformance.ops.network import NETWORK
from conformance.ops.pool2d import POOL2D

# The ops an implementation speaks, then the composed network built from them.
OPS: dict[str, OpRecord] = {op.name: op for op in (CONV2D, POOL2D, *LAYER_RECORDS, NETWORK)}

__all__ = ["OPS", "OpRecord", "ErrorInput", "ContractViolation"]
