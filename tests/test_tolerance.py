"""The error bound: never flags honest rounding, catches one wrong element of small magnitude."""
import numpy as np
import pytest

from conformance.ops.conv2d import Conv2dCase
from conformance.checks import CheckFailure, compare
from conformance.ops import OPS
from conformance.tolerance import elementwise_bound

CONV = OPS["conv2d"]


def _case(dtype, seed=0):
    return Conv2dCase(batch=2, channels=6, height=9, width=9, filters=4, kernel=(3, 3),
                      stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1, bias=True,
                      dtype=dtype, layout="contiguous", magnitude=0, seed=seed)


def _sequential_conv(arrays, order, dtype):
    """conv2d as explicit products summed one by one in ``dtype``, in the given term order."""
    x = np.pad(arrays["x"], ((0, 0), (0, 0), (1, 1), (1, 1)))
    w, b = arrays["weight"], arrays["bias"]
    n, _, h, width = arrays["x"].shape
    terms = np.stack([x[:, None, c, i:i + h, j:j + width] * w[None, :, c, i, j, None, None]
                      for c in range(w.shape[1]) for i in range(3) for j in range(3)])
    terms = np.concatenate([terms, np.broadcast_to(b[None, None, :, None, None],
                                                   (1, n, len(b), h, width))])
    out = np.zeros(terms.shape[1:], dtype)
    for t in order:
        out = (out + terms[t]).astype(dtype)
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("order", ["forward", "reversed", "by magnitude", "shuffled"])
def test_any_summation_order_is_within_the_bound(dtype, order):
    case = _case(dtype)
    arrays = case.arrays()
    expected, _ = CONV.oracle(arrays, case)
    abs_out, _ = CONV.error_scale(arrays, case, None)
    n = CONV.terms(case)["out"]
    orders = {"forward": np.arange(n), "reversed": np.arange(n)[::-1],
              "shuffled": np.random.default_rng(1).permutation(n),
              "by magnitude": np.argsort([-abs(float(v)) for v in
                                          arrays["weight"][0].ravel()] + [0.0])}
    got = _sequential_conv(arrays, orders[order], dtype)
    ratio = compare("out", got, expected, elementwise_bound(n, dtype, abs_out, expected))
    assert 0 < ratio <= 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_wrong_element_of_small_magnitude_is_caught(dtype):
    case = _case(dtype)
    arrays = case.arrays()
    expected, _ = CONV.oracle(arrays, case)
    abs_out, _ = CONV.error_scale(arrays, case, None)
    bound = elementwise_bound(CONV.terms(case)["out"], dtype, abs_out, expected)
    got = expected.astype(dtype)
    # The smallest output element, off by 1e-4 of its own size (well above rounding).
    index = np.unravel_index(np.argmin(np.abs(expected)), expected.shape)
    relative = 1e-3 if dtype == "float32" else 1e-9
    got[index] += relative * abs_out[index]
    with pytest.raises(CheckFailure) as failure:
        compare("out", got, expected, bound)
    assert failure.value.mismatch.index == tuple(int(i) for i in index)


def test_exact_ops_have_zero_bound():
    bound = elementwise_bound(0, "float32", np.ones(3), np.ones(3))
    assert not bound.any()
