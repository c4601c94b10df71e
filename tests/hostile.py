"""Implementations that misbehave violently: the certification must report them and go on."""
import os
import sys
import time

from impls import naive
from tests.corpus import Mutant


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


exits_in_pool = Mutant("exits_in_pool", "pool2d_forward kills the interpreter with os._exit(3)",
                       ("pool2d.forward",), pool2d_forward=_exit_in_pool)
hangs_in_conv_backward = Mutant("hangs_in_conv_backward", "conv2d_backward never returns",
                                ("conv2d.grad_x",), conv2d_backward=_hang_in_backward)
prints_megabytes = Mutant("prints_megabytes", "conv2d_forward prints 200 kB a call (megabytes a "
                          "check) but is right", (), conv2d_forward=_chatty_forward)
returns_a_list = Mutant("returns_a_list", "pool2d_forward returns a list, not an array",
                        ("pool2d.forward",), pool2d_forward=_returns_list)
