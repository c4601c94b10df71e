"""Domain limits of the windowed ops (conv2d, pool2d): restrictions real code has and may
declare, e.g. ``Capabilities({...}, limits={"conv2d": {"square_input", "exact_division"}})``.

Each limit judges a forward call by its shapes and pairs (``holds``, true for malformed calls:
they are the validation's), moves a case of either op within it (``impose``) and just outside it
(``breach``: the not-claimed check expects such a call refused). docs/contract.md, "Limits",
lists them.
"""
from __future__ import annotations

from dataclasses import replace

from conformance.ops.base import Limit, well_formed_pair


def _call_window(call) -> tuple[list[int], tuple[int, int], tuple[int, int]]:
    """(window extents, stride, padding) of a conv2d or pool2d call; TypeError if malformed."""
    if "weight" in call:
        kernel = well_formed_pair(tuple(call["weight"].shape[2:]), 1)
        dilation = well_formed_pair(call["dilation"], 1)
    else:
        kernel, dilation = well_formed_pair(call["kernel_size"], 1), (1, 1)
    stride, padding = well_formed_pair(call["stride"], 1), well_formed_pair(call["padding"], 0)
    if None in (kernel, dilation, stride, padding) or call["x"].ndim != 4:
        raise TypeError("malformed call")
    return [d * (k - 1) + 1 for k, d in zip(kernel, dilation)], stride, padding


def _case_extents(case) -> list[int]:
    dilation = getattr(case, "dilation", (1, 1))
    return [d * (k - 1) + 1 for k, d in zip(case.kernel, dilation)]


def _covering(case):
    """case with H and W grown, where needed, to hold one window."""
    height, width = (max(n, e - 2 * p) for n, e, p in zip(
        (case.height, case.width), _case_extents(case), case.padding))
    return replace(case, height=height, width=width)


# -- square inputs ------------------------------------------------------------------------------

def _square(x, **_):
    return x.ndim != 4 or x.shape[2] == x.shape[3]


def _make_square(case, allowed):
    lowest = [max(1, e - 2 * p) for e, p in zip(_case_extents(case), case.padding)]
    side = max(min(case.height, case.width), *lowest)    # smaller: within the tier's caps
    return replace(case, height=side, width=side)


square_input = Limit("square_input", "square inputs only (H == W)", _square, _make_square,
                     lambda case: replace(case, width=case.height + 1))


# -- a batch of one -----------------------------------------------------------------------------

batch_one = Limit("batch_one", "one image at a time (N == 1)",
                  lambda x, **_: x.ndim != 4 or x.shape[0] == 1,
                  lambda case, allowed: replace(case, batch=1),
                  lambda case: replace(case, batch=2))


# -- odd kernels --------------------------------------------------------------------------------

def _odd(**call):
    if "weight" in call:
        kernel = call["weight"].shape[2:] if call["weight"].ndim == 4 else ()
    else:
        kernel = well_formed_pair(call["kernel_size"], 1) or ()
    return all(k % 2 for k in kernel)


def _make_odd(case, allowed):
    kernel = tuple(k if k % 2 else k - 1 for k in case.kernel)
    if hasattr(case, "dilation"):
        return replace(case, kernel=kernel)
    # Pooling pads by at most half the kernel.
    return replace(case, kernel=kernel,
                   padding=tuple(min(p, k // 2) for p, k in zip(case.padding, kernel)))


def _even_kernel(case):
    return _covering(replace(case, kernel=tuple(k + k % 2 for k in case.kernel)))


odd_kernel = Limit("odd_kernel", "odd kernel sizes only", _odd, _make_odd, _even_kernel)


# -- exact division -----------------------------------------------------------------------------

def _exact(**call):
    extents, stride, padding = _call_window(call)
    return all((n + 2 * p - e) % s == 0
               for n, e, s, p in zip(call["x"].shape[2:], extents, stride, padding))


def _exact_size(n, extent, stride, padding):
    """The size nearest below n (above, when none is) the stride divides exactly."""
    left = (n + 2 * padding - extent) % stride
    return n - left if n - left >= 1 else n + stride - left


def _make_exact(case, allowed):
    height, width = (_exact_size(n, e, s, p) for n, e, s, p in zip(
        (case.height, case.width), _case_extents(case), case.stride, case.padding))
    return replace(case, height=height, width=width)


def _row_left_over(case):
    """Stride 2 (or the case's own) and one row and column more than divides exactly."""
    stride = (2, 2) if case.stride == (1, 1) else case.stride
    height, width = (_exact_size(n, e, s, p) + 1 for n, e, s, p in zip(
        (case.height, case.width), _case_extents(case), stride, case.padding))
    return replace(case, stride=stride, height=height, width=width)


exact_division = Limit("exact_division", "the stride divides H + 2 * padding - window exactly "
                       "(no row or column left over), likewise for W", _exact, _make_exact,
                       _row_left_over)


# -- 'same' padding (conv2d) --------------------------------------------------------------------

def _same(**call):
    extents, stride, padding = _call_window(call)
    return stride == (1, 1) and all(2 * p == e - 1 for e, p in zip(extents, padding))


def _make_same(case, allowed):
    """Stride 1 and padding (window - 1) / 2: odd windows, square ones unless rectangular
    padding is allowed, 1x1 unless padding is."""
    kernel, dilation = list(case.kernel), list(case.dilation)
    if "padding" not in allowed:
        kernel = [1, 1]
    if "rectangular_padding" not in allowed:
        kernel[1], dilation[1] = kernel[0], dilation[0]
    # d * (k - 1) + 1 is odd when k is odd, or d even.
    kernel = [k if (k % 2 or d % 2 == 0) else k - 1 for k, d in zip(kernel, dilation)]
    padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    return replace(case, kernel=tuple(kernel), dilation=tuple(dilation), stride=(1, 1),
                   padding=padding)


def _unpadded(case):
    """No padding, a 3x3 kernel where the window was 1x1."""
    kernel = case.kernel if max(_case_extents(case)) > 1 else (3, 3)
    return _covering(replace(case, kernel=kernel, padding=(0, 0)))


same_padding = Limit("same_padding", "'same' padding only: stride 1 and padding (window - 1) / 2 "
                     "on each axis, so the output has the input's size", _same, _make_same,
                     _unpadded)


def limits(*declared: Limit) -> dict[str, Limit]:
    return {limit.name: limit for limit in declared}
