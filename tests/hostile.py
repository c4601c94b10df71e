"""Implementations that misbehave violently: the certification must report them and go on."""
import os
import sys
import time
import types

import numpy as np
import torch

from conformance import Capabilities
from conformance.impls import naive
from conformance.ops import OPS
from tests.corpus import Mutant

# What the tests read of a hostile run: misbehaviour in conv2d or pool2d, relu checked after it.
# The other ops would only make each run longer, so the hostile implementations have none.
OPS_KEPT = ("conv2d", "pool2d", "relu")
# The tests run these with 2 s per example, to keep hangs short: at naive's own cap (2^15
# elements) one call of the correct conv2d takes up to 0.4 s on an idle core and an example makes
# up to four, too close to 2 s on a loaded one.
MAX_ELEMENTS = 2**12
BASE = types.SimpleNamespace(
    capabilities=Capabilities({op: naive.capabilities.claimed(op) for op in OPS_KEPT},
                              max_elements=MAX_ELEMENTS),
    **{function.name: getattr(naive, function.name)
       for op in OPS_KEPT for function in OPS[op].functions})


def hostile(name: str, bug: str, caught_by: tuple[str, ...], **replaced) -> Mutant:
    """naive's conv2d, pool2d and relu, with ``replaced`` functions; no other op."""
    return Mutant(name, bug, caught_by, base=BASE, **replaced)


def _exit_in_pool(x, **params):
    os._exit(3)


def _hang_in_backward(grad_out, cache):
    while True:
        time.sleep(0.01)


def _chatty_forward(x, weight, bias, **params):
    sys.stdout.write("x" * 200_000 + "\n")
    return naive.conv2d_forward(x, weight, bias, **params)


def _returns_list(x, **params):
    out, cache = naive.pool2d_forward(x, **params)
    return out.tolist(), cache


exits_in_pool = hostile("exits_in_pool", "pool2d_forward kills the interpreter with os._exit(3)",
                       ("pool2d.forward",), pool2d_forward=_exit_in_pool)
hangs_in_conv_backward = hostile("hangs_in_conv_backward", "conv2d_backward never returns",
                                ("conv2d.grad_x",), conv2d_backward=_hang_in_backward)
prints_megabytes = hostile("prints_megabytes", "conv2d_forward prints 200 kB a call (megabytes a "
                          "check) but is right", (), conv2d_forward=_chatty_forward)
returns_a_list = hostile("returns_a_list", "pool2d_forward returns a list, not an array",
                        ("pool2d.forward",), pool2d_forward=_returns_list)


def _raises(x, weight, bias, **params):
    raise RuntimeError("internal error in conv2d_forward")


def _wrong_shape(x, **params):
    out, cache = naive.pool2d_forward(x, **params)
    return out[:, :, :-1], cache


def _wrong_dtype(x, weight, bias, **params):
    out, cache = naive.conv2d_forward(x, weight, bias, **params)
    return out.astype(np.float16), cache


def _torch_tensor(x, **params):
    out, cache = naive.pool2d_forward(x, **params)
    return torch.from_numpy(out), cache


def _nan(x, weight, bias, **params):
    out, cache = naive.conv2d_forward(x, weight, bias, **params)
    out.flat[0] = np.nan
    return out, cache


def _sleep_forever(x, **params):
    time.sleep(10**6)


def _segfault(x, **params):
    # Reads far outside x's buffer through a wrong stride: the process dies with SIGSEGV.
    return np.lib.stride_tricks.as_strided(x, shape=(4,), strides=(1 << 42,)).sum(), None


raises = hostile("raises", "conv2d_forward raises RuntimeError", ("conv2d.forward",),
                conv2d_forward=_raises)
wrong_shape = hostile("wrong_shape", "pool2d_forward drops the last output column",
                     ("pool2d.forward",), pool2d_forward=_wrong_shape)
wrong_dtype = hostile("wrong_dtype", "conv2d_forward returns float16", ("conv2d.forward",),
                     conv2d_forward=_wrong_dtype)
returns_a_tensor = hostile("returns_a_tensor", "pool2d_forward returns a torch tensor",
                          ("pool2d.forward",), pool2d_forward=_torch_tensor)
returns_nan = hostile("returns_nan", "conv2d_forward puts NaN in the first element",
                     ("conv2d.forward",), conv2d_forward=_nan)
sleeps_forever = hostile("sleeps_forever", "pool2d_forward sleeps for days", ("pool2d.forward",),
                        pool2d_forward=_sleep_forever)
segfaults = hostile("segfaults", "pool2d_forward reads through as_strided out of bounds",
                   ("pool2d.forward",), pool2d_forward=_segfault)


def _sleep_in_warm_up():
    time.sleep(10**6)


def _raise_in_warm_up():
    raise RuntimeError("kernel compilation failed")


# Import-time misbehaviour lives in tests/hostile_imports/ (one module each); warm-up here.
hangs_in_warm_up = hostile("hangs_in_warm_up", "warm_up() never returns", ())
hangs_in_warm_up.warm_up = _sleep_in_warm_up
raises_in_warm_up = hostile("raises_in_warm_up", "warm_up() raises RuntimeError", ())
raises_in_warm_up.warm_up = _raise_in_warm_up
