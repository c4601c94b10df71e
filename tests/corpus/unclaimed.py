"""Claims bugs: an implementation declares fewer features than its code serves.

The usual way this happens: the declared capabilities are trimmed to what was verified, while the
functions still check calls against the full claims object they were written with (here, the
base implementation's), so a call using the dropped feature is computed instead of refused with
NotImplementedError. The user is then told the feature is "not claimed", yet gets unverified
results from it.
"""
from conformance.capabilities import Capabilities
from conformance.impls import dense, naive
from tests.corpus import Mutant


def _claims_without(base, op: str, feature: str) -> Capabilities:
    """base's claims with ``feature`` of ``op`` removed."""
    claims = {name: set(base.capabilities.claimed(name)) for name in base.capabilities.ops}
    claims[op].discard(feature)
    return Capabilities(claims)


def _served_though_unclaimed(name: str, op: str, feature: str, story: str, base=dense) -> Mutant:
    return Mutant(name, f"{op} does not claim {feature} ({story}), yet a call using it returns a "
                  "result instead of raising NotImplementedError", (f"{op}.not_claimed",),
                  base=base, capabilities=_claims_without(base, op, feature))


min_pool_served_though_unclaimed = _served_though_unclaimed(
    "min_pool_served_though_unclaimed", "pool2d", "min", "the claims list max and avg only",
    base=naive)
relu_strided_input_served_though_unclaimed = _served_though_unclaimed(
    "relu_strided_input_served_though_unclaimed", "relu", "noncontiguous",
    "declared contiguous-only")
sigmoid_float32_served_though_unclaimed = _served_though_unclaimed(
    "sigmoid_float32_served_though_unclaimed", "sigmoid", "float32", "declared float64-only")
tanh_backward_served_though_unclaimed = _served_though_unclaimed(
    "tanh_backward_served_though_unclaimed", "tanh", "backward",
    "its gradient is declared unverified")
softmax_float64_served_though_unclaimed = _served_though_unclaimed(
    "softmax_float64_served_though_unclaimed", "softmax", "float64", "declared float32-only")
linear_bias_served_though_unclaimed = _served_though_unclaimed(
    "linear_bias_served_though_unclaimed", "linear", "bias", "declared bias-free")
flatten_strided_input_served_though_unclaimed = _served_though_unclaimed(
    "flatten_strided_input_served_though_unclaimed", "flatten", "noncontiguous",
    "declared contiguous-only")
cross_entropy_float32_served_though_unclaimed = _served_though_unclaimed(
    "cross_entropy_float32_served_though_unclaimed", "softmax_cross_entropy", "float32",
    "declared float64-only")
dropout_backward_served_though_unclaimed = _served_though_unclaimed(
    "dropout_backward_served_though_unclaimed", "dropout", "backward",
    "its gradient is declared unverified")
