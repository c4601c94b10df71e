"""The composed check: a small CNN built from one implementation's own ops.

    loss = softmax_cross_entropy(linear(flatten(pool2d(relu(conv2d(x)), max, 2x2/2))), target)

Its forward chains the implementation's forwards, its backward the implementation's backwards in
reverse order, so glue bugs show up: a transpose between layers, a flatten in the wrong order, a
cache reused across layers. The end-to-end gradient of every parameter is checked against
PyTorch autograd and against central differences of the implementation's own loss
(checks.loss_finite_difference).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conformance.ops.base import (ContractViolation, OpRecord, applies, expect_array,
                                  torch_oracle)
from conformance.ops.layers import EXP_TERMS, SMOOTH_STEP, SOFTMAX_M3
from conformance.sizes import SMALL, Range, Sizes, output_size

PARAMETERS = ("x", "conv_weight", "conv_bias", "linear_weight", "linear_bias")
NEEDS = {"conv2d": {"float64", "backward", "bias", "padding"},
         "relu": {"float64", "backward"},
         "pool2d": {"float64", "backward", "max", "stride"},
         "flatten": {"float64", "backward"},
         "linear": {"float64", "backward", "bias"},
         "softmax_cross_entropy": {"float64", "backward"}}
POOL = 2    # the max pool's kernel and stride


@dataclass(frozen=True)
class NetworkCase:
    batch: int
    channels: int
    size: int           # input height = width
    filters: int
    kernel: int         # conv kernel, padded by kernel // 2 ("same" size for odd kernels)
    classes: int
    seed: int
    dtype: str = "float64"
    layout: str = "contiguous"

    @property
    def x_shape(self):
        return (self.batch, self.channels, self.size, self.size)

    @property
    def pooled(self) -> int:
        conv = output_size(self.size, self.kernel, padding=self.kernel // 2)
        return output_size(conv, POOL, stride=POOL)

    def arrays(self) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        features = self.filters * self.pooled**2
        return {"x": rng.standard_normal((self.batch, self.channels, self.size, self.size)),
                "conv_weight": rng.standard_normal((self.filters, self.channels, self.kernel,
                                                    self.kernel)),
                "conv_bias": rng.standard_normal(self.filters),
                "linear_weight": rng.standard_normal((self.classes, features)) / features**0.5,
                "linear_bias": rng.standard_normal(self.classes),
                "target": rng.integers(0, self.classes, self.batch)}


class Network(OpRecord):
    name = "network"
    features = ("float64", "backward")
    composed = True
    inputs = PARAMETERS
    checks = ("forward", applies("gradients"),
              applies("finite_difference", "loss_finite_difference"))
    case_type = NetworkCase
    sizes = {SMALL: Sizes(batch=(1, 3), channels=(1, 2), size=(2, 6), filters=(1, 3),
                          kernel=(1, 3), classes=(1, 4))}
    edge_cases = ("batch 1", "one class", "1x1 kernel")

    def claimed(self, capabilities) -> frozenset[str]:
        """float64 and backward, when every layer claims what the network uses."""
        ok = all(needs <= capabilities.claimed(op) for op, needs in NEEDS.items())
        return frozenset(self.features) if ok else frozenset()

    def draw_case(self, draw, sizes, special):
        kernel = draw.integer(sizes.kernel)
        return NetworkCase(batch=draw.integer(sizes.batch), channels=draw.integer(sizes.channels),
                           size=draw.integer(Range(max(sizes.size.low, kernel - 1),
                                                   sizes.size.high)),
                           filters=draw.integer(sizes.filters), kernel=kernel,
                           classes=draw.integer(sizes.classes), seed=draw.seed())

    def features_of(self, case):
        return frozenset(self.features)

    def edge_cases_of(self, case):
        return frozenset(name for name, hit in (
            ("batch 1", case.batch == 1), ("one class", case.classes == 1),
            ("1x1 kernel", case.kernel == 1)) if hit)

    def out_shape(self, case):
        return ()

    def layers(self, impl, arrays, case):
        """The forward chain: (values of the hidden layer, the pool, the logits and the loss;
        the caches)."""
        pad = case.kernel // 2
        hidden, conv = impl.conv2d_forward(arrays["x"], arrays["conv_weight"],
                                           arrays["conv_bias"], stride=(1, 1),
                                           padding=(pad, pad), dilation=(1, 1), groups=1)
        active, relu = impl.relu_forward(hidden)
        pooled, pool = impl.pool2d_forward(active, mode="max", kernel_size=(POOL, POOL),
                                           stride=(POOL, POOL), padding=(0, 0))
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
        return torch_oracle().network(arrays, grad_out, padding=case.kernel // 2)

    def error_scale(self, arrays, case, grad_out):
        """The chain on absolute values (see reference.torch_oracle.network)."""
        return torch_oracle().network(arrays, None if grad_out is None else np.abs(grad_out),
                                      padding=case.kernel // 2, absolute=True)

    def terms(self, case):
        """All products summed anywhere along the chain, forward and backward."""
        spatial = case.size**2
        features = case.filters * case.pooled**2
        n = (case.channels * case.kernel**2 + 1 + case.filters * case.kernel**2
             + case.batch * spatial + features + 1 + case.classes + case.classes + EXP_TERMS
             + 3 * case.batch)
        return dict.fromkeys(("out",) + PARAMETERS, n)

    # -- finite differences of the loss (checks.loss_finite_difference) ------------------------

    def fd_step(self, case):
        return SMOOTH_STEP

    def fd_loss_truncation(self, ends, step) -> float:
        """Within a region where no relu changes sign and no pool winner changes, the loss along t
        is cross-entropy of logits linear in t: truncation at most h^2/6 * SOFTMAX_M3 *
        max|d logits/dt|^3."""
        slope = (ends[0]["logits"] - ends[1]["logits"]) / (2 * step)
        return step**2 / 6 * SOFTMAX_M3 * np.abs(slope).max() ** 3

    def same_pattern(self, plus: dict, minus: dict) -> bool:
        """Same relu signs and same pool winners at both ends of a difference."""
        if not np.array_equal(plus["hidden"] > 0, minus["hidden"] > 0):
            return False
        return np.array_equal(_winners(plus["hidden"]), _winners(minus["hidden"]))


def _winners(hidden):
    """The winner of each POOL x POOL window of relu(hidden), as an index 0..POOL^2 - 1."""
    active = np.maximum(hidden, 0)
    n, c, h, w = active.shape
    blocks = active[:, :, :h // POOL * POOL, :w // POOL * POOL].reshape(
        n, c, h // POOL, POOL, w // POOL, POOL)
    return blocks.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // POOL, w // POOL,
                                                      POOL * POOL).argmax(-1)


NETWORK = Network()
RECORDS = (NETWORK,)
