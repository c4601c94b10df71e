"""Test cases: a small readable record of the configuration, plus a seed for the data.

The arrays are made from the seed, so a case prints, shrinks and replays as a single line.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

import numpy as np

from conformance.layouts import lay_out

# Pool inputs for max/min are distinct multiples of this spacing: no ties, and any finite-difference
# step below half of it keeps every window's winner.
POOL_GRID = 1 / 8


@dataclass(frozen=True)
class Conv2dCase:
    batch: int
    channels: int
    height: int
    width: int
    filters: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    bias: bool
    dtype: str
    layout: str
    magnitude: int      # x is scaled by 2**magnitude
    seed: int

    @property
    def x_shape(self):
        return (self.batch, self.channels, self.height, self.width)

    @property
    def weight_shape(self):
        return (self.filters, self.channels // self.groups, *self.kernel)

    def arrays(self) -> dict[str, np.ndarray]:
        """x, weight and (if bias) bias: standard normal values in the case's dtype and layout."""
        rng = np.random.default_rng(self.seed)
        values = {"x": rng.standard_normal(self.x_shape) * 2.0**self.magnitude,
                  "weight": rng.standard_normal(self.weight_shape)}
        if self.bias:
            values["bias"] = rng.standard_normal(self.filters)
        return {k: lay_out(v.astype(self.dtype), self.layout) for k, v in values.items()}


@dataclass(frozen=True)
class Pool2dCase:
    batch: int
    channels: int
    height: int
    width: int
    mode: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dtype: str
    layout: str
    ties: bool          # max/min only: values from {-1, 0, 1} * grid, full of ties
    magnitude: int      # x is scaled by 2**magnitude
    seed: int

    @property
    def x_shape(self):
        return (self.batch, self.channels, self.height, self.width)

    @property
    def grid(self) -> float:
        """Spacing of max/min inputs: no two differ by less."""
        return POOL_GRID * 2.0**self.magnitude

    def arrays(self) -> dict[str, np.ndarray]:
        """x in the case's dtype and layout, scaled by 2**magnitude.

        max/min: a random arrangement of distinct grid values (tie-free); a third of the seeds make
        every value negative, a third every value positive, so the padding value matters.
        With ``ties``, values from {-1, 0, 1} * grid instead. avg: standard normal values.
        """
        rng = np.random.default_rng(self.seed)
        size = int(np.prod(self.x_shape))
        if self.mode == "avg":
            x = rng.standard_normal(self.x_shape) * 2.0**self.magnitude
        elif self.ties:
            x = rng.integers(-1, 2, self.x_shape) * self.grid
        else:
            offset = (-size, 1, rng.integers(-size, 1))[self.seed % 3]
            x = ((rng.permutation(size) + offset) * self.grid).reshape(self.x_shape)
        return {"x": lay_out(x.astype(self.dtype), self.layout)}


@dataclass(frozen=True)
class LayerCase:
    """A case of one of the dense-network ops (activations, softmax, linear, flatten,
    softmax_cross_entropy, dropout). Fields an op does not use keep their defaults.

    shape is x's shape (logits' for softmax_cross_entropy; (N, in_features) for linear).
    """
    op: str
    shape: tuple[int, ...]
    dtype: str
    layout: str
    magnitude: int          # x (logits) scaled by 2**magnitude
    seed: int
    axis: int = -1          # softmax
    out_features: int = 0   # linear
    bias: bool = False      # linear
    p: float = 0.0          # dropout
    zeros: bool = False     # relu: a third of x exactly 0 (the gradient-at-zero convention)

    def arrays(self) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        scale = 2.0**self.magnitude
        z = rng.standard_normal(self.shape)
        if self.op == "relu":
            # Away from 0 by a quarter of the scale, so a finite-difference step never crosses it.
            z = np.sign(z) * (np.abs(z) + 0.25)
            if self.zeros:
                z[rng.random(self.shape) < 1 / 3] = 0.0
        values = {"x": z * scale}
        if self.op == "linear":
            values["weight"] = rng.standard_normal((self.out_features, self.shape[1]))
            if self.bias:
                values["bias"] = rng.standard_normal(self.out_features)
        arrays = {k: lay_out(v.astype(self.dtype), self.layout) for k, v in values.items()}
        if self.op == "softmax_cross_entropy":
            arrays = {"logits": arrays.pop("x"), "target": lay_out(
                rng.integers(0, self.shape[1], self.shape[0]).astype(np.int64), self.layout)}
        elif self.op == "dropout":
            arrays["mask"] = lay_out(rng.random(self.shape) >= self.p, self.layout)
        return arrays


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
        conv = self.size + 2 * (self.kernel // 2) - self.kernel + 1
        return conv // 2

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


CASE_TYPES = {"conv2d": Conv2dCase, "pool2d": Pool2dCase, "network": NetworkCase}
LAYER_OPS = ("relu", "sigmoid", "tanh", "softmax", "linear", "flatten", "softmax_cross_entropy",
             "dropout")
CASE_TYPES.update({op: LayerCase for op in LAYER_OPS})


def random_like(shape, dtype, layout: str, seed: int, stream: int) -> np.ndarray:
    """A standard normal array for the upstream gradient or a direction, reproducible from the seed."""
    rng = np.random.default_rng([seed, stream])
    return lay_out(rng.standard_normal(shape).astype(dtype), layout)


def case_to_json(case) -> str:
    return json.dumps(asdict(case), separators=(",", ":"))


def case_from_json(op: str, text: str):
    cls = CASE_TYPES[op]
    data = json.loads(text)
    names = {f.name for f in fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown {op} case fields {sorted(unknown)}; expected {sorted(names)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
