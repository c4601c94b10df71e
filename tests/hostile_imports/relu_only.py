"""A correct implementation of relu alone: certified beside the broken modules of this folder."""
from conformance import Capabilities
from conformance.capabilities import FEATURES
from conformance.impls.dense import relu_backward, relu_forward  # noqa: F401

name = "relu_only"
capabilities = Capabilities({"relu": FEATURES["relu"]})
