"""Error maps on constructed masks: the reading of each pattern, the grid, its cuts, the carrier."""
import json

import numpy as np
import pytest

from conformance.checks import CheckFailure, compare, compare_scalar
from conformance.error_map import (MAX_STORED, ErrorMap, describe_indices, read_pattern,
                                   render)


def mask(shape, *where):
    """A boolean array of ``shape`` with the given index expressions set."""
    m = np.zeros(shape, bool)
    for index in where:
        m[index] = True
    return m


NCHW = (2, 3, 8, 8)
READINGS = [
    (mask((8, 8), np.s_[:, -1]), "the last column only"),
    (mask((8, 8), np.s_[-1, :]), "the last row only"),
    (mask((8, 8), np.s_[0, :]), "the first row only"),
    (mask((8, 8), np.s_[:, :2]), "the first 2 columns only"),
    (mask((8, 8), np.s_[5:, :]), "the last 3 rows only"),
    (mask((8, 8), np.s_[2:5, :]), "rows 2-4 only"),
    (mask((8, 8), np.s_[1::2, :]), "every 2nd row from row 1"),
    (mask((8, 8), np.s_[::2, :]), "every 2nd row"),
    (mask((9, 9), np.s_[:, 2::3]), "every 3rd column from column 2"),
    (mask((8, 8), np.s_[::2, ::2]), "every 2nd row, every 2nd column"),
    (mask((8, 8), np.s_[-1, :], np.s_[:, -1]), "the last row and the last column only"),
    (mask((8, 8), np.s_[[0, -1], :], np.s_[:, [0, -1]]), "the border only"),
    (mask((8, 8), (0, 0), (0, 7), (7, 3)), "part of the border only"),
    (mask((8, 8), np.s_[[0, -1], :]), "the first and last rows only"),
    (mask((8, 8), (3, 4)), "a single element, [3, 4]"),
    (mask((8, 8), np.s_[:, :]), "every element"),
    (mask((1,), 0), "the only element"),
    (mask((8, 8), (1, 2), (4, 6)), "2 of 64 elements, no simple pattern"),
    (mask(NCHW, np.s_[:, 1]), "every position in channel 1"),
    (mask(NCHW, np.s_[:, -1, :, -1]), "the last column only in the last channel"),
    (mask(NCHW, np.s_[1, :, 0, :]), "the first row only in the last sample"),
    (mask(NCHW, np.s_[:, :, 1::2, :]), "every 2nd row from row 1"),
    (mask(NCHW, np.s_[0, 0, :, -1], np.s_[1, 2, -1, :]),
     "the last row and the last column only in the first and last channels "
     "(not the same in every slice)"),
    (mask((4, 2, 3, 3), np.s_[2]), "every position in filter 2"),
    (mask((6,), np.s_[-2:]), "the last 2 elements only"),
    (mask((6,), np.s_[::3]), "every 3rd element"),
]


@pytest.mark.parametrize("where,reading", READINGS, ids=[r for _, r in READINGS])
def test_pattern_readings_on_constructed_masks(where, reading):
    name = "grad_weight" if where.shape == (4, 2, 3, 3) else "grad_x"
    assert read_pattern(where, name) == reading


def test_index_sets_name_their_axis():
    assert describe_indices([0, 1, 2], 3, "row") is None
    assert describe_indices([2], 5, "channel") == "channel 2"
    assert describe_indices([0, 1, 4], 5, "row") == "rows 0, 1, 4"


def test_a_failing_comparison_carries_every_over_bound_element():
    expected = np.zeros((1, 2, 4, 5))
    got = expected.copy()
    got[:, 1, :, -1] = 1.0          # far over
    got[0, 0, 2, 2] = 5e-3          # just over: 10^2 times its bound
    bound = np.full(expected.shape, 1e-5)
    with pytest.raises(CheckFailure) as failure:
        compare("grad_x", got, expected, bound)
    found = failure.value.error_map
    assert found.shape == (1, 2, 4, 5) and found.count == 5
    levels = found.level_array()
    assert levels[0, 0, 2, 2] == 2 and (levels[0, 1, :, -1] == 5).all()
    assert (levels >= 0).sum() == 5
    # It travels as JSON (worker pipe, JSON report) and comes back the same.
    assert ErrorMap.from_dict(json.loads(json.dumps(found.to_dict()))) == found


def test_nan_and_exact_bounds_saturate():
    got = np.array([[np.nan, 1.0, 0.0]])
    with pytest.raises(CheckFailure) as failure:
        compare("out", got, np.zeros((1, 3)), np.zeros((1, 3)))
    assert failure.value.error_map.level_array().tolist() == [[10, 10, -1]]
    assert render(failure.value.error_map)[1].strip() == "XX."


def test_a_scalar_identity_has_a_map_without_layout():
    with pytest.raises(CheckFailure) as failure:
        compare_scalar("<y, g> vs <x, grad_x>", 1.0, 2.0, 1e-9)
    found = failure.value.error_map
    assert found.shape == () and found.count == 1
    assert render(found) == [
        "error map of <y, g> vs <x, grad_x> (): 1 of 1 over their bound; "
        "a single number: no element layout"]


def test_grid_lays_slices_side_by_side_with_labels():
    ratio = np.zeros((1, 2, 3, 4))
    ratio[0, 1, :, -1] = 1e12
    lines = render(ErrorMap.from_ratios("grad_x", ratio))
    assert lines[0] == ("error map of grad_x (1, 2, 3, 4): 3 of 24 over their bound; "
                        "the last column only in the last channel")
    assert lines[1:] == ["    n0 c0   n0 c1",
                         "    ....    ...X",
                         "    ....    ...X",
                         "    ....    ...X"]


def test_large_grids_are_cut_around_the_middle_and_say_so():
    ratio = np.zeros((40, 100))
    ratio[-1, :] = 1e3
    lines = render(ErrorMap.from_ratios("out", ratio), max_rows=8, max_cols=10)
    grid = lines[1:-1]
    assert len(grid) == 9 and grid[4].strip() == "~" * 11     # 4 rows, the cut, 4 rows
    assert grid[-1].strip() == "33333~33333"                   # the last row is still shown
    assert "cut to their first and last 4 rows and 5 columns" in lines[-1]


def test_many_slices_show_those_with_errors_first_and_count_the_rest():
    ratio = np.zeros((4, 8, 2, 2))
    ratio[3, 7, 0, 0] = 2.0
    lines = render(ErrorMap.from_ratios("out", ratio), max_slices=3)
    assert "n3 c7" in lines[1]
    assert lines[-1] == "    (29 more slices not shown, 0 of them with elements over)"


def test_the_stored_elements_are_capped():
    found = ErrorMap.from_ratios("out", np.full((100, 100), np.inf))
    assert found.count == 10_000 and len(found.over) == MAX_STORED and not found.complete
    assert "only the first 4096 stored" in render(found)[0]
