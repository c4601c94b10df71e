"""Conformance harness for NumPy CNN layers (the contract: docs/contract.md).

Only what an implementation may use is imported here: the ``Capabilities`` type and the
output-size formula. Neither pulls in torch or Hypothesis (the op records behind them import
those only on use), so an implementation can ``from conformance import Capabilities`` cheaply.
"""
from conformance.capabilities import FEATURES, Capabilities, features_used
from conformance.sizes import output_size

__all__ = ["Capabilities", "FEATURES", "features_used", "output_size"]
