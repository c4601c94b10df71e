"""Layers as objects that keep their own caches: forward(x) -> out, backward(dout) -> dx.

    Conv2D(W, b, stride, padding)    W (F, C, KH, KW), b (F,) or None; keeps dW, db
    Pool2D(kernel_size, stride, padding, mode="max")
    ReLU(), Flatten()
    Dense(W, b, optimizer)           out = x @ W.T + b; hands dW, db to optimizer.update(param,
                                     grad), which updates W and b in place
    SoftmaxCrossEntropy()            forward(logits, target) -> mean loss; backward(dloss=1.0)

A layer object serves one forward and the backward after it, as in a training loop that builds
its graph anew each step. Dilation, groups and average or min pooling are not implemented
(and not claimed).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from conformance import Capabilities
from examples.styles import _checks

name = "layer_classes"
_SHAPES = {"float32", "float64", "noncontiguous", "backward", "validation"}
capabilities = Capabilities({
    "conv2d": _SHAPES | {"stride", "padding", "bias", "rectangular"},
    "pool2d": _SHAPES | {"max", "stride", "padding", "rectangular"},
    "relu": _SHAPES, "flatten": _SHAPES, "softmax_cross_entropy": _SHAPES,
    "linear": _SHAPES | {"bias"},
})


def _windows(xpad, kernel, stride, out_size):
    """(N, C, Ho, Wo, KH, KW) view of the windows of the padded input."""
    (sh, sw), (ho, wo) = stride, out_size
    return sliding_window_view(xpad, kernel, axis=(2, 3))[:, :, :(ho - 1) * sh + 1:sh,
                                                         :(wo - 1) * sw + 1:sw]


def _scatter_windows(grad_windows, xpad_shape, stride, padding):
    """Adds grad_windows (N, C, Ho, Wo, KH, KW) back into the input they were read from."""
    (sh, sw), (ph, pw) = stride, padding
    _, _, ho, wo, kh, kw = grad_windows.shape
    grad_xpad = np.zeros(xpad_shape, grad_windows.dtype)
    for a in range(kh):
        for b in range(kw):
            grad_xpad[:, :, a:a + (ho - 1) * sh + 1:sh, b:b + (wo - 1) * sw + 1:sw] += \
                grad_windows[..., a, b]
    return grad_xpad[:, :, ph:xpad_shape[2] - ph, pw:xpad_shape[3] - pw].copy()


class Conv2D:
    def __init__(self, W, b, stride=(1, 1), padding=(0, 0)):
        self.W = _checks.array("weight", W, 4, "(F, C, KH, KW)")
        if b is not None and b.shape != W.shape[:1]:
            raise ValueError(f"bias must have shape ({W.shape[0]},), got {b.shape}")
        self.b = b
        self.stride = _checks.pair("stride", stride, 1)
        self.padding = _checks.pair("padding", padding, 0)

    def forward(self, x):
        _checks.array("x", x, 4, "(N, C, H, W)")
        if x.shape[1] != self.W.shape[1]:
            raise ValueError(f"weight has {self.W.shape[1]} input channels, x has {x.shape[1]}")
        out_size = _checks.output_size(x.shape[2:], self.W.shape[2:], self.stride, self.padding)
        (ph, pw) = self.padding
        self.xpad_shape = (x.shape[0], x.shape[1], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw)
        self.windows = _windows(np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))),
                                self.W.shape[2:], self.stride, out_size)
        out = np.tensordot(self.windows, self.W, axes=([1, 4, 5], [1, 2, 3]))  # (N, Ho, Wo, F)
        if self.b is not None:
            out += self.b
        return np.ascontiguousarray(out.transpose(0, 3, 1, 2))

    def backward(self, dout):
        self.dW = np.tensordot(dout, self.windows, axes=([0, 2, 3], [0, 2, 3]))
        self.db = dout.sum(axis=(0, 2, 3)) if self.b is not None else None
        grad_windows = np.tensordot(dout, self.W, axes=([1], [0]))   # (N, Ho, Wo, C, KH, KW)
        return _scatter_windows(grad_windows.transpose(0, 3, 1, 2, 4, 5), self.xpad_shape,
                                self.stride, self.padding)


class Pool2D:
    def __init__(self, kernel_size, stride, padding=(0, 0), mode="max"):
        if mode != "max":
            raise ValueError(f"mode must be 'max', got {mode!r}")
        self.kernel = _checks.pair("kernel_size", kernel_size, 1)
        self.stride = _checks.pair("stride", stride, 1)
        self.padding = _checks.pair("padding", padding, 0)
        if self.padding[0] > self.kernel[0] // 2 or self.padding[1] > self.kernel[1] // 2:
            raise ValueError(f"padding {self.padding} must be at most half of kernel_size "
                             f"{self.kernel}")

    def forward(self, x):
        _checks.array("x", x, 4, "(N, C, H, W)")
        out_size = _checks.output_size(x.shape[2:], self.kernel, self.stride, self.padding)
        (ph, pw) = self.padding
        xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
        self.xpad_shape = xpad.shape
        windows = _windows(xpad, self.kernel, self.stride, out_size)
        flat = windows.reshape(*windows.shape[:4], -1)
        self.winner = flat.argmax(axis=4)
        return np.take_along_axis(flat, self.winner[..., None], axis=4)[..., 0]

    def backward(self, dout):
        one_hot = np.arange(self.kernel[0] * self.kernel[1]) == self.winner[..., None]
        grad_windows = (dout[..., None] * one_hot).reshape(*dout.shape, *self.kernel)
        return _scatter_windows(grad_windows, self.xpad_shape, self.stride, self.padding)


class ReLU:
    def forward(self, x):
        self.positive = _checks.floats("x", x) > 0
        return np.where(self.positive, x, x.dtype.type(0))

    def backward(self, dout):
        return np.where(self.positive, dout, dout.dtype.type(0))


class Flatten:
    def forward(self, x):
        if not isinstance(x, np.ndarray) or x.ndim < 2:
            raise ValueError(f"x must be an array (N, ...) of at least 2 dimensions, got "
                             f"{getattr(x, 'shape', type(x).__name__)}")
        self.shape = x.shape
        return x.reshape(x.shape[0], -1).copy()

    def backward(self, dout):
        return dout.reshape(self.shape).copy()


class Dense:
    def __init__(self, W, b, optimizer):
        self.W = _checks.array("weight", W, 2, "(out, in)")
        if b is not None and b.shape != W.shape[:1]:
            raise ValueError(f"bias must have shape ({W.shape[0]},), got {b.shape}")
        self.b, self.optimizer = b, optimizer

    def forward(self, x):
        self.x = _checks.array("x", x, 2, "(N, in)")
        if x.shape[1] != self.W.shape[1]:
            raise ValueError(f"weight has {self.W.shape[1]} input features, x has {x.shape[1]}")
        return x @ self.W.T + (self.b if self.b is not None else 0)

    def backward(self, dout):
        dx = dout @ self.W            # before the update below changes W
        self.optimizer.update(self.W, dout.T @ self.x)
        if self.b is not None:
            self.optimizer.update(self.b, dout.sum(axis=0))
        return dx


class SoftmaxCrossEntropy:
    def forward(self, logits, target):
        _checks.array("logits", logits, 2, "(N, K)")
        if not isinstance(target, np.ndarray) or target.dtype.kind not in "iu":
            raise TypeError(f"target must be an integer array, got "
                            f"{getattr(target, 'dtype', type(target).__name__)}")
        if target.shape != logits.shape[:1] or target.min() < 0 or \
                target.max() >= logits.shape[1]:
            raise ValueError(f"target must hold {logits.shape[0]} class indices in "
                             f"[0, {logits.shape[1]}), got {target!r}")
        z = logits.astype(np.float64)
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        self.p, self.target, self.dtype = np.exp(log_p), target.copy(), logits.dtype
        return np.array(-log_p[np.arange(len(target)), target].mean(), logits.dtype)

    def backward(self, dloss=1.0):
        grad = self.p.copy()
        grad[np.arange(len(self.target)), self.target] -= 1
        return (grad * (float(dloss) / len(self.target))).astype(self.dtype)
