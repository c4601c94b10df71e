"""Conformance harness for NumPy convolution and pooling layers.

Only the tiny ``Capabilities`` type is imported here, so an implementation can
``from conformance import Capabilities`` without pulling in the harness (or torch).
"""
from conformance.capabilities import Capabilities, FEATURES, features_used

__all__ = ["Capabilities", "FEATURES", "features_used"]
