"""Timing of the built-in implementations against PyTorch CPU on typical CNN layers.

    python -c 'from conformance.bench import main; main()' [--repeat N] [--dtype D] [--impl NAME]

Every implementation and PyTorch run in the same process with the same inputs. PyTorch is
limited to two threads (torch.set_num_threads(2)); NumPy's BLAS and Numba use their
defaults. Each case is run once untimed (after ``warm_up()`` where an implementation has
one), then ``--repeat`` times; the table shows the median forward time, the median
forward + backward time and each as a ratio to PyTorch. The naive implementation is run
only on cases small enough for it and reported "skipped (too slow)" elsewhere.
"""
from __future__ import annotations

import argparse
import importlib
import statistics
import time
from dataclasses import dataclass

import numpy as np

from conformance.impls import BUILTIN
from conformance.registry import default_builtins, missing_extra
from conformance.sizes import output_size

# Largest number of multiply-adds (or window reads) the naive loops are given.
NAIVE_LIMIT = 2_000_000


@dataclass(frozen=True)
class Case:
    """One layer: a convolution (weight shape given) or a pool (mode given)."""
    label: str
    x_shape: tuple[int, int, int, int]
    weight_shape: tuple[int, int, int, int] | None = None
    mode: str | None = None
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    groups: int = 1

    def work(self) -> int:
        """Multiply-adds (conv) or window reads (pool) of one forward pass."""
        n, c, h, w = self.x_shape
        kh, kw = self.weight_shape[2:] if self.weight_shape else self.kernel
        ho = output_size(h, kh, self.stride[0], self.padding[0])
        wo = output_size(w, kw, self.stride[1], self.padding[1])
        if self.weight_shape:
            return n * self.weight_shape[0] * ho * wo * self.weight_shape[1] * kh * kw
        return n * c * ho * wo * kh * kw


CASES = (
    Case("tiny conv 2x3x8x8, 4 3x3 pad 1", (2, 3, 8, 8), (4, 3, 3, 3), padding=(1, 1)),
    Case("conv 64x3x32x32, 16 5x5 pad 2", (64, 3, 32, 32), (16, 3, 5, 5), padding=(2, 2)),
    Case("conv 64x16x32x32, 32 3x3 pad 1", (64, 16, 32, 32), (32, 16, 3, 3), padding=(1, 1)),
    Case("conv 64x64x16x16, 64 3x3 stride 2", (64, 64, 16, 16), (64, 64, 3, 3), stride=(2, 2)),
    Case("depthwise 64x32x32x32, 3x3 g=32 pad 1", (64, 32, 32, 32), (32, 1, 3, 3),
         padding=(1, 1), groups=32),
    Case("tiny max pool 2x3x8x8, 2x2/2", (2, 3, 8, 8), mode="max", kernel=(2, 2), stride=(2, 2)),
    Case("max pool 64x64x32x32, 2x2/2", (64, 64, 32, 32), mode="max", kernel=(2, 2),
         stride=(2, 2)),
    Case("avg pool 64x64x32x32, 3x3/2", (64, 64, 32, 32), mode="avg", kernel=(3, 3),
         stride=(2, 2)),
)


def _inputs(case: Case, dtype, rng):
    x = rng.standard_normal(case.x_shape).astype(dtype)
    if case.weight_shape is None:
        return x, None, None
    weight = rng.standard_normal(case.weight_shape).astype(dtype)
    bias = rng.standard_normal(case.weight_shape[0]).astype(dtype)
    return x, weight, bias


def _impl_runners(impl, case: Case, x, weight, bias):
    """(forward, forward + backward) callables for a NumPy-interface implementation."""
    if case.mode is None:
        def forward():
            return impl.conv2d_forward(x, weight, bias, stride=case.stride, padding=case.padding,
                                       dilation=(1, 1), groups=case.groups)

        def both():
            out, cache = forward()
            return impl.conv2d_backward(np.ones_like(out), cache)
    else:
        def forward():
            return impl.pool2d_forward(x, mode=case.mode, kernel_size=case.kernel,
                                       stride=case.stride, padding=case.padding)

        def both():
            out, cache = forward()
            return impl.pool2d_backward(np.ones_like(out), cache)
    return forward, both


def _torch_runners(torch, case: Case, x, weight, bias):
    """(forward, forward + backward) callables for PyTorch with autograd."""
    functional = torch.nn.functional
    tx = torch.from_numpy(x).requires_grad_(True)
    tw = None if weight is None else torch.from_numpy(weight).requires_grad_(True)
    tb = None if bias is None else torch.from_numpy(bias).requires_grad_(True)

    def apply():
        if case.mode is None:
            return functional.conv2d(tx, tw, tb, stride=case.stride, padding=case.padding,
                                     groups=case.groups)
        if case.mode == "max":
            return functional.max_pool2d(tx, case.kernel, case.stride, case.padding)
        return functional.avg_pool2d(tx, case.kernel, case.stride, case.padding,
                                     count_include_pad=True)

    def forward():
        with torch.no_grad():
            return apply()

    def both():
        for tensor in (tx, tw, tb):
            if tensor is not None:
                tensor.grad = None
        out = apply()
        out.backward(torch.ones_like(out))

    return forward, both


def _median_ms(fn, repeat: int) -> float:
    fn()  # untimed: first-call allocations, lazy initialisation
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _row(label, dtype, impl, fwd, both, ref=None):
    if fwd is None:
        return f"{label:<40} {dtype:<8} {impl:<15} {'skipped (too slow)':>38}"
    ratios = ""
    if ref is not None:
        ratios = f" {fwd / ref[0]:>8.1f}x {both / ref[1]:>8.1f}x"
    return f"{label:<40} {dtype:<8} {impl:<15} {fwd:>9.2f} {both:>12.2f}{ratios}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="conformance.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (default 5)")
    parser.add_argument("--dtype", choices=("float32", "float64", "both"), default="both")
    parser.add_argument("--impl", action="append", choices=sorted(BUILTIN),
                        help="implementation to time (repeatable; default: all built-ins)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    for name in args.impl or ():
        if missing_extra(name):
            parser.error(missing_extra(name))

    import torch  # imported late: --help should not pay for it

    torch.set_num_threads(2)
    names = args.impl
    if not names:
        names, left_out = default_builtins()
        for name, why in left_out.items():
            print(f"note: {name} left out: {why}")
    impls = {}
    for name in names:
        module = importlib.import_module(BUILTIN[name])
        if hasattr(module, "warm_up"):
            module.warm_up()
        impls[name] = module
    dtypes = ("float32", "float64") if args.dtype == "both" else (args.dtype,)
    rng = np.random.default_rng(0)

    print(f"{'layer':<40} {'dtype':<8} {'impl':<15} {'fwd ms':>9} {'fwd+bwd ms':>12}"
          f" {'fwd/torch':>9} {'f+b/torch':>9}")
    for case in CASES:
        for dtype in dtypes:
            x, weight, bias = _inputs(case, np.dtype(dtype), rng)
            ref = tuple(_median_ms(fn, args.repeat)
                        for fn in _torch_runners(torch, case, x, weight, bias))
            print(_row(case.label, dtype, "torch", *ref), flush=True)
            for name, module in impls.items():
                if name == "naive" and case.work() > NAIVE_LIMIT:
                    print(_row(case.label, dtype, name, None, None), flush=True)
                    continue
                fwd, both = (_median_ms(fn, args.repeat)
                             for fn in _impl_runners(module, case, x, weight, bias))
                print(_row(case.label, dtype, name, fwd, both, ref), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
