"""Meta-tests of conformance.layouts: every layout keeps the values and stores them as it says."""
import numpy as np
import pytest

from conformance.layouts import LAYOUTS, lay_out, read_only

ARRAYS = {
    "float 4-D": np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5) - 7.5,
    "float32 2-D": np.arange(6, dtype=np.float32).reshape(2, 3),
    "int 1-D": np.arange(4, dtype=np.int64),
    "bool 3-D": np.arange(12).reshape(2, 3, 2) % 3 == 0,
    "0-d": np.array(2.5),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ARRAYS)
def test_every_layout_keeps_values_shape_and_dtype_in_a_new_buffer(name, layout):
    a = ARRAYS[name]
    b = lay_out(a, layout)
    assert b.shape == a.shape and b.dtype == a.dtype
    np.testing.assert_array_equal(b, a)
    assert not np.shares_memory(a, b)


@pytest.mark.parametrize("name", [n for n in ARRAYS if ARRAYS[n].ndim])
def test_each_layout_is_stored_as_described(name):
    a = ARRAYS[name]
    assert lay_out(a, "contiguous").flags.c_contiguous
    strided = lay_out(a, "strided")
    storage = strided.base
    assert storage.shape == tuple(2 * n for n in a.shape)
    assert strided.strides == tuple(2 * s for s in storage.strides)
    gaps = np.ones(storage.shape, bool)
    gaps[(slice(None, None, 2),) * a.ndim] = False
    gap = {"f": np.nan, "b": False}.get(a.dtype.kind, -1)
    np.testing.assert_array_equal(storage[gaps], np.full(gaps.sum(), gap, a.dtype))
    reversed_ = lay_out(a, "reversed")
    assert all(s < 0 for s, n in zip(reversed_.strides, a.shape) if n > 1)


def test_strided_gaps_hold_nan_so_wrong_strides_read_nan():
    strided = lay_out(ARRAYS["float 4-D"], "strided")
    storage = np.lib.stride_tricks.as_strided(strided, shape=(strided.size,),
                                              strides=(strided.itemsize,))
    assert np.isnan(storage[1])


def test_channels_last_stores_channels_innermost_for_4d_and_is_contiguous_otherwise():
    cl = lay_out(ARRAYS["float 4-D"], "channels_last")
    assert cl.strides[1] == cl.itemsize and not cl.flags.c_contiguous
    assert lay_out(ARRAYS["float32 2-D"], "channels_last").flags.c_contiguous


def test_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="layout must be one of"):
        lay_out(ARRAYS["int 1-D"], "diagonal")


def test_read_only_views_refuse_writes_and_keep_the_layout():
    a = lay_out(ARRAYS["float 4-D"], "reversed")
    frozen = read_only(a)
    assert frozen.strides == a.strides and np.shares_memory(frozen, a)
    with pytest.raises(ValueError, match="read-only"):
        frozen[0, 0, 0, 0] = 1.0
    assert read_only(None) is None
