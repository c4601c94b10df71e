"""``python -m conformance new NAME``: write a new implementation module that claims nothing."""
from __future__ import annotations

from pathlib import Path

TEMPLATE = '''"""{name}: convolution and pooling layers in NumPy.

Certify with:  python -m conformance certify {name}:implementation
(run from the folder holding this file, or put that folder on PYTHONPATH).

Claim a feature in CAPABILITIES only once it works: the suite tests every claimed feature and
reports the others as "not claimed". Calls that use an unclaimed feature must raise
NotImplementedError; ``CAPABILITIES.require(op, ...)`` does that for you.
"""
import numpy as np

from conformance import Capabilities

# Features per op (see conformance/capabilities.py):
#   conv2d: float64 float32 stride padding dilation groups bias rectangular noncontiguous backward
#   pool2d: float64 float32 max avg min stride padding rectangular noncontiguous backward ties
# e.g. Capabilities({{"conv2d": {{"float64"}}}}) claims the float64 conv2d forward only.
CAPABILITIES = Capabilities({{}})


class {cls}:
    name = "{name}"
    capabilities = CAPABILITIES

    @staticmethod
    def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
        """2-D cross-correlation, as torch.nn.functional.conv2d.

        x: (N, C, H, W); weight: (F, C // groups, KH, KW); bias: (F,) or None.
        stride, padding, dilation: pairs of ints (rows, cols); groups: int dividing C and F.
        Returns (out, cache): out (N, F, Ho, Wo) in x's dtype, with
        Ho = (H + 2 * padding[0] - dilation[0] * (KH - 1) - 1) // stride[0] + 1 (likewise Wo),
        zero padding; cache is anything conv2d_backward needs.
        Never modifies or returns views of its inputs; inputs may be non-contiguous.
        Raises ValueError/TypeError naming the parameter for invalid arguments (wrong ndim,
        channel mismatch, groups not dividing C, stride or dilation < 1, padding < 0, empty
        output), NotImplementedError for unclaimed features.
        """
        CAPABILITIES.require("conv2d", x=x, weight=weight, bias=bias, stride=stride,
                             padding=padding, dilation=dilation, groups=groups)
        raise NotImplementedError("conv2d_forward")

    @staticmethod
    def conv2d_backward(grad_out, cache):
        """Gradients of sum(out * grad_out): grad_out (N, F, Ho, Wo) in the forward's dtype.

        Returns (grad_x (N, C, H, W), grad_weight (F, C // groups, KH, KW), grad_bias (F,) or
        None when bias was None). May be called several times with one cache; same answer.
        """
        raise NotImplementedError("conv2d_backward")

    @staticmethod
    def pool2d_forward(x, *, mode, kernel_size, stride, padding):
        """2-D pooling: mode "max" (torch max_pool2d, padding acts as -inf), "avg" (avg_pool2d
        with count_include_pad=True: always divide by KH * KW) or "min" (-max_pool2d(-x)).

        x: (N, C, H, W); kernel_size, stride, padding: pairs of ints, padding <= kernel // 2.
        Returns (out (N, C, Ho, Wo) in x's dtype, cache), Ho = (H + 2p - KH) // stride + 1.
        Raises ValueError/TypeError naming the parameter for invalid arguments (unknown mode,
        padding above half the kernel, ...), NotImplementedError for unclaimed features.
        """
        CAPABILITIES.require("pool2d", x=x, mode=mode, kernel_size=kernel_size, stride=stride,
                             padding=padding)
        raise NotImplementedError("pool2d_forward")

    @staticmethod
    def pool2d_backward(grad_out, cache):
        """Gradient of sum(out * grad_out) w.r.t. x: grad_out (N, C, Ho, Wo) -> grad_x (N, C, H, W).

        max/min: each window's gradient goes to its first extreme element (row-major), as in
        PyTorch; avg: grad_out / (KH * KW) to every element of the window.
        """
        raise NotImplementedError("pool2d_backward")


implementation = {cls}()
'''


def write_scaffold(name: str, directory: Path) -> Path:
    """Write ``directory/NAME.py``; refuse to overwrite an existing file."""
    if not name.isidentifier():
        raise ValueError(f"NAME must be a Python identifier (it becomes a module), got {name!r}")
    path = Path(directory) / f"{name}.py"
    if path.exists():
        raise FileExistsError(f"{path} exists; choose another NAME or --path")
    path.parent.mkdir(parents=True, exist_ok=True)
    cls = "".join(part.capitalize() for part in name.split("_")) or "Implementation"
    path.write_text(TEMPLATE.format(name=name, cls=cls))
    return path
