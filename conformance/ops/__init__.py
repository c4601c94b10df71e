"""The op records, by name: every module of this package (but ``base``) that defines RECORDS.

Adding an op is adding a module here. Ops are ordered by name, the composed ones (built from
other ops' functions, such as the network) last; that order is the report's.
"""
import importlib
import pkgutil

from conformance.ops.base import ContractViolation, ErrorInput, OpRecord


def _discover() -> list[OpRecord]:
    records = []
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base" and not info.name.startswith("_"):
            records += getattr(importlib.import_module(f"{__name__}.{info.name}"), "RECORDS", ())
    return sorted(records, key=lambda record: (record.composed, record.name))


OPS: dict[str, OpRecord] = {record.name: record for record in _discover()}
# The ops an implementation speaks (and claims features of), in report order.
SPOKEN: tuple[str, ...] = tuple(name for name, record in OPS.items() if not record.composed)

__all__ = ["OPS", "SPOKEN", "OpRecord", "ErrorInput", "ContractViolation"]
