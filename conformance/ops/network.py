"""The composed check: a small CNN built from one implementation's own ops.

    loss = softmax_cross_entropy(linear(flatten(pool2d(relu(conv2d(x)), max, 2x2/2))), target)

Its forward chains the implementation's forwards, its backward the implementation's backwards in
reverse order, so glue bugs show up: a transpose between layers, a flatten in the wrong order, a
cache reused across layers. The end-to-end gradient of every parameter is checked against
PyTorch autograd and against central differences of the implementation's own loss.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from conformance.cases import NetworkCase
from conformance.ops.base import ContractViolation, OpRecord, expect_array
from conformance.tolerance import SAFETY, U64
from reference import torch_oracle

PARAMETERS = ("x", "conv_weight", "conv_bias", "linear_weight", "linear_bias")
NEEDS = {"conv2d": {"float64", "backward", "bias", "padding"},
         "relu": {"float64", "backward"},
         "pool2d": {"float64", "backward", "max", "stride"},
         "flatten": {"float64", "backward"},
         "linear": {"float64", "backward", "bias"},
         "softmax_cross_entropy": {"float64", "backward"}}


@st.composite
def network_cases(draw, allowed=frozenset(), required=frozenset(), tiny=False, special=None):
    kernel = draw(st.integers(1, 3))
    return NetworkCase(batch=draw(st.integers(1, 3)), channels=draw(st.integers(1, 2)),
                       size=draw(st.integers(max(2, kernel - 1), 6)),
                       filters=draw(st.integers(1, 3)), kernel=kernel,
                       classes=draw(st.integers(1, 4)), seed=draw(st.integers(0, 2**32 - 1)))


class Network(OpRecord):
    name = "network"
    inputs = PARAMETERS
    edge_cases = ("batch 1", "one class", "1x1 kernel")

    def claimed(self, capabilities) -> frozenset[str]:
        """float64 and backward, when every layer claims what the network uses."""
        ok = all(needs <= capabilities.claimed(op) for op, needs in NEEDS.items())
        return frozenset({"float64", "backward"}) if ok else frozenset()

    def strategy(self, allowed, required=frozenset(), tiny=False, special=None):
        return network_cases(allowed, required, tiny, special)

    def out_shape(self, case):
        return ()

    def layers(self, impl, arrays, case):
        """The forward chain: (logits, loss, caches)."""
        pad = case.kernel // 2
        hidden, conv = impl.conv2d_forward(arrays["x"], arrays["conv_weight"],
                                           arrays["conv_bias"], stride=(1, 1),
                                           padding=(pad, pad), dilation=(1, 1), groups=1)
        active, relu = impl.relu_forward(hidden)
        pooled, pool = impl.pool2d_forward(active, mode="max", kernel_size=(2, 2),
                                           stride=(2, 2), padding=(0, 0))
        flat, flatten = impl.flatten_forward(pooled)
        logits, linear = impl.linear_forward(flat, arrays["linear_weight"],
                                             arrays["linear_bias"])
        loss, ce = impl.softmax_cross_entropy_forward(logits, arrays["target"])
        return {"hidden": hidden, "pooled": pooled, "logits": logits, "loss": loss}, (
            conv, relu, pool, flatten, linear, ce)

    def forward(self, impl, arrays, case):
        values, caches = self.layers(impl, arrays, case)
        expect_array("network loss", values["loss"], (), case.dtype)
        return values["loss"], caches

    def backward(self, impl, grad_out, cache, case):
        conv, relu, pool, flatten, linear, ce = cache
        grad_logits = impl.softmax_cross_entropy_backward(grad_out, ce)
        grad_flat, grad_lw, grad_lb = impl.linear_backward(grad_logits, linear)
        grad_pooled = impl.flatten_backward(grad_flat, flatten)
        grad_active = impl.pool2d_backward(grad_pooled, pool)
        grad_hidden = impl.relu_backward(grad_active, relu)
        grad_x, grad_cw, grad_cb = impl.conv2d_backward(grad_hidden, conv)
        grads = dict(zip(PARAMETERS, (grad_x, grad_cw, grad_cb, grad_lw, grad_lb)))
        for name, grad in grads.items():
            if not isinstance(grad, np.ndarray):
                raise ContractViolation(f"grad_{name} must be a numpy.ndarray")
        return grads

    def oracle(self, arrays, case, grad_out=None):
        return torch_oracle.network(arrays, grad_out, padding=case.kernel // 2)

    def abs_oracle(self, arrays, case, grad_out):
        return torch_oracle.network(arrays, None if grad_out is None else np.abs(grad_out),
                                    padding=case.kernel // 2, absolute=True)

    def terms(self, case):
        """All products summed anywhere along the chain, forward and backward."""
        spatial = case.size**2
        features = case.filters * case.pooled**2
        n = (case.channels * case.kernel**2 + 1 + case.filters * case.kernel**2
             + case.batch * spatial + features + 1 + case.classes + case.classes + 8
             + 3 * case.batch)
        return dict.fromkeys(("out",) + PARAMETERS, n)

    def linear(self, case):
        return False

    def features_of(self, case):
        return frozenset({"float64", "backward"})

    def edge_cases_of(self, case):
        return frozenset(name for name, hit in (
            ("batch 1", case.batch == 1), ("one class", case.classes == 1),
            ("1x1 kernel", case.kernel == 1)) if hit)


NETWORK = Network()


def finite_difference(impl, op: Network, case) -> float:
    """For each parameter, a directional central difference of the implementation's own loss
    against <v, grad>. Within a region where no relu changes sign and no pool winner changes
    (checked; otherwise the case is invalid), the loss along t is cross-entropy of logits linear
    in t, so the truncation error is at most h^2/6 * 26 max|d logits/dt|^3."""
    from hypothesis import reject

    from conformance.checks import compare_scalar
    from reference.finite_diff import inner, inner_abs

    arrays = case.arrays()
    values, cache = op.layers(impl, arrays, case)
    grads = op.backward(impl, np.asarray(1.0), cache, case)
    _, abs_grads = op.abs_oracle(arrays, case, np.asarray(1.0))
    abs_loss, _ = op.abs_oracle(arrays, case, None)
    n = op.terms(case)["out"]
    step = 2.0**-13
    rng = np.random.default_rng([case.seed, 2])
    worst = 0.0
    for name in PARAMETERS:
        direction = rng.integers(-16, 17, size=arrays[name].shape) / 16.0
        ends = [op.layers(impl, dict(arrays, **{name: arrays[name] + sign * step * direction}),
                          case)[0] for sign in (1, -1)]
        if not _same_pattern(*ends):
            reject()
        slope = (ends[0]["logits"] - ends[1]["logits"]) / (2 * step)
        fd = (float(ends[0]["loss"]) - float(ends[1]["loss"])) / (2 * step)
        bound = (SAFETY * step**2 / 6 * 26 * np.abs(slope).max() ** 3
                 + SAFETY * (n + 1) * 2 * U64 * float(abs_loss) / step
                 + SAFETY * n * 2 * U64 * inner_abs(direction, abs_grads[name]))
        worst = max(worst, compare_scalar(f"(loss({name}+hv) - loss({name}-hv))/2h vs "
                                          f"<v, grad_{name}>", fd,
                                          inner(direction, grads[name]), bound))
    return worst


def _same_pattern(plus: dict, minus: dict) -> bool:
    """Same relu signs and same 2x2 pool winners at both ends of the difference."""
    if not np.array_equal(plus["hidden"] > 0, minus["hidden"] > 0):
        return False
    def winners(hidden):
        active = np.maximum(hidden, 0)
        n, c, h, w = active.shape
        blocks = active[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
        return blocks.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4).argmax(-1)
    return np.array_equal(winners(plus["hidden"]), winners(minus["hidden"]))
