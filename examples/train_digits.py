"""Train a small CNN on scikit-learn's bundled digits with one implementation's own layers.

    python -m examples.train_digits [--impl NAME] [--epochs N] [--seed S] [--plot FILE]

NAME is anything ``certify`` accepts: a built-in name (naive, im2col_index, im2col_strided,
numba) or an import path such as tests.corpus.pool:max_pool_grad_stride_ignored. The network
uses nothing but that implementation's forward and backward functions:

    x (N, 1, 8, 8) -> conv2d 3x3, 16 filters, padding 1 -> relu -> max pool 2x2 / 2
      -> flatten (N, 256) -> dropout p = 0.25 -> linear (10) -> softmax cross-entropy

trained with Adam on 1347 images (8x8, 16 grey levels; no download: the data ship with
scikit-learn) and tested on the other 450. It prints the training loss and the test accuracy
per epoch and, with --plot FILE, draws the loss curve into a PNG (matplotlib).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from conformance.registry import resolve

DEFAULT_IMPL = "im2col_strided"
FILTERS, CLASSES, DROPOUT = 16, 10, 0.25
CONV = dict(stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1)
POOL = dict(mode="max", kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))


@dataclass
class History:
    impl: str
    losses: list[float] = field(default_factory=list)       # mean training loss per epoch
    accuracies: list[float] = field(default_factory=list)   # test accuracy after each epoch
    seconds: float = 0.0


def load_digits_split(seed: int):
    """(x_train, y_train, x_test, y_test): x (N, 1, 8, 8) float64 in [0, 1], y ints 0-9."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    x = (digits.images / 16.0)[:, None, :, :]
    return train_test_split(x, digits.target, test_size=450, stratify=digits.target,
                            random_state=seed)


def init_params(rng) -> dict[str, np.ndarray]:
    """He-initialised weights, zero biases."""
    features = FILTERS * 4 * 4
    return {"conv_w": rng.standard_normal((FILTERS, 1, 3, 3)) * np.sqrt(2 / 9),
            "conv_b": np.zeros(FILTERS),
            "lin_w": rng.standard_normal((CLASSES, features)) * np.sqrt(2 / features),
            "lin_b": np.zeros(CLASSES)}


def logits_of(impl, params, x, keep=None):
    """Forward to the logits; keep is the dropout mask (None: no dropout, as at test time).
    Returns (logits, caches)."""
    hidden, conv = impl.conv2d_forward(x, params["conv_w"], params["conv_b"], **CONV)
    active, relu = impl.relu_forward(hidden)
    pooled, pool = impl.pool2d_forward(active, **POOL)
    flat, flatten = impl.flatten_forward(pooled)
    dropout = None
    if keep is not None:
        flat, dropout = impl.dropout_forward(flat, keep, p=DROPOUT)
    logits, linear = impl.linear_forward(flat, params["lin_w"], params["lin_b"])
    return logits, (conv, relu, pool, flatten, dropout, linear)


def loss_and_grads(impl, params, x, y, keep):
    """The mean cross-entropy of a batch and the gradient of every parameter."""
    logits, (conv, relu, pool, flatten, dropout, linear) = logits_of(impl, params, x, keep)
    loss, ce = impl.softmax_cross_entropy_forward(logits, y)
    grad_logits = impl.softmax_cross_entropy_backward(np.array(1.0), ce)
    grad_flat, grad_lin_w, grad_lin_b = impl.linear_backward(grad_logits, linear)
    grad_flat = impl.dropout_backward(grad_flat, dropout)
    grad_pooled = impl.flatten_backward(grad_flat, flatten)
    grad_active = impl.pool2d_backward(grad_pooled, pool)
    grad_hidden = impl.relu_backward(grad_active, relu)
    _, grad_conv_w, grad_conv_b = impl.conv2d_backward(grad_hidden, conv)
    return float(loss), {"conv_w": grad_conv_w, "conv_b": grad_conv_b, "lin_w": grad_lin_w,
                         "lin_b": grad_lin_b}


class Adam:
    def __init__(self, params, lr=0.01, betas=(0.9, 0.999), eps=1e-8):
        self.lr, self.betas, self.eps, self.steps = lr, betas, eps, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params, grads):
        self.steps += 1
        (b1, b2) = self.betas
        for k, g in grads.items():
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
            m_hat, v_hat = self.m[k] / (1 - b1**self.steps), self.v[k] / (1 - b2**self.steps)
            params[k] = params[k] - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def accuracy(impl, params, x, y) -> float:
    logits, _ = logits_of(impl, params, x)
    return float(np.mean(logits.argmax(axis=1) == y))


def train(impl_name: str = DEFAULT_IMPL, epochs: int = 12, seed: int = 0, batch: int = 32,
          report=None) -> History:
    """Train from scratch; report(epoch, loss, accuracy) is called after each epoch."""
    impl = resolve(impl_name)
    x_train, x_test, y_train, y_test = load_digits_split(seed)
    rng = np.random.default_rng(seed)
    params = init_params(rng)
    optimizer = Adam(params)
    history = History(impl_name)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        losses = []
        for first in range(0, len(order), batch):
            rows = order[first:first + batch]
            keep = rng.random((len(rows), FILTERS * 4 * 4)) >= DROPOUT
            loss, grads = loss_and_grads(impl, params, x_train[rows], y_train[rows], keep)
            optimizer.step(params, grads)
            losses.append(loss)
        history.losses.append(float(np.mean(losses)))
        history.accuracies.append(accuracy(impl, params, x_test, y_test))
        if report:
            report(epoch, history.losses[-1], history.accuracies[-1])
    history.seconds = time.perf_counter() - start
    return history


def plot(history: History, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot
    epochs = range(1, len(history.losses) + 1)
    figure, axes = pyplot.subplots(figsize=(6, 4))
    axes.plot(epochs, history.losses, marker="o")
    axes.set(xlabel="epoch", ylabel="mean training loss", yscale="log")
    axes.set_title(f"digits CNN with {history.impl}\nfinal test accuracy "
                   f"{history.accuracies[-1]:.1%}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.train_digits",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", default=DEFAULT_IMPL, help="built-in name or import path "
                        f"package.module:object (default {DEFAULT_IMPL})")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", metavar="FILE", help="write the loss curve to this PNG")
    args = parser.parse_args(argv)
    print(f"training on digits with {args.impl}")
    history = train(args.impl, args.epochs, args.seed, report=lambda epoch, loss, acc: print(
        f"epoch {epoch:2d}  loss {loss:.4f}  test accuracy {acc:.1%}", flush=True))
    print(f"{history.seconds:.1f} s; final loss {history.losses[-1]:.4f}, "
          f"test accuracy {history.accuracies[-1]:.1%}")
    if args.plot:
        plot(history, args.plot)
        print(f"loss curve: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
