"""Error maps of real failures: every corpus failure that has a mismatch carries a map that
renders, its worst element is on the map, and on mutants whose bug has a shape the reading names
it (on the shrunk case, or on the shrunk case grown to 8x8).

The mutants with a reading below run in every test run; the rest of the corpus carries the
``maps`` marker (``-m "not maps"`` skips them).
"""
import json
import re

import numpy as np
import pytest

from conformance.error_map import ErrorMap, read_pattern, render
from conformance.runner import FAILED, run_check
from tests.corpus import all_mutants

# mutant -> {(op.check, "shrunk" | "grown"): the reading, as a regular expression}. Where a bug
# is symmetric in rows and columns the shrinker may pick either, so both are accepted.
AXIS = r"(row|column)"
READINGS = {
    "padding_on_one_side": {("conv2d.forward", "shrunk"): "the last 2 columns only"},
    "groups_interleaved": {("conv2d.forward", "shrunk"): "every position in channels 1-2",
                           ("conv2d.forward", "grown"): "every position in channels 1-2",
                           ("conv2d.grad_weight", "shrunk"): "every position in filters 1-2"},
    "last_column_skipped_in_backward": {("conv2d.grad_x", "grown"): "the last column only"},
    "gather_grad_x_skips_first_row": {("conv2d.grad_x", "grown"): "the first row only"},
    "last_output_row_skipped": {("conv2d.forward", "grown"): "the last row only"},
    "stride_applied_twice_in_grad_x": {
        ("conv2d.grad_x", "shrunk"): r"a single element, \[0, 0, (0, 2|2, 0)\]",
        ("conv2d.grad_x", "grown"): f"every 2nd {AXIS} from {AXIS} 2"},
    # Gradient rows land at 0, 1, 2, 3 instead of 0, 2, 4, 6.
    "stride_ignored_in_grad_x": {("conv2d.grad_x", "grown"): f"{AXIS}s 1, 2, 3, 4, 6 only"},
    "dilation_ignored_in_grad_x": {("conv2d.grad_x", "grown"): f"the last 7 {AXIS}s only"},
    "max_pool_zero_padding": {("pool2d.forward", "shrunk"): "every element",
                              ("pool2d.forward", "grown"): "the border only"},
    "min_pool_zero_padding": {("pool2d.forward", "grown"): "the border only"},
    "avg_pool_count_exclude_pad": {("pool2d.forward", "grown"): f"the first and last {AXIS}s only"},
    "pool_padded_before_only": {("pool2d.forward", "grown"): f"the last {AXIS} only"},
    "kernel_flipped": {("conv2d.grad_x", "grown"): "every element"},
}

MUTANTS = all_mutants()
assert set(READINGS) <= {m.name for _, m in MUTANTS}, "a reading names no mutant of the corpus"


def _check_map(data: dict, where: str) -> ErrorMap:
    """The map decodes, renders, and shows its over-bound elements."""
    found = ErrorMap.from_dict(json.loads(json.dumps(data)))
    lines = render(found)
    assert found.count >= 1 and lines[0].startswith(f"error map of {found.name} "), where
    if found.shape:
        grid = "".join(lines[1:])
        assert re.search(r"[0-9X]", grid), f"{where}: no over-bound element drawn"
    return found


@pytest.mark.parametrize("path,mutant", [
    pytest.param(path, m, id=m.name, marks=() if m.name in READINGS else pytest.mark.maps)
    for path, m in MUTANTS])
def test_every_failure_with_a_mismatch_has_an_error_map(path, mutant):
    readings = dict(READINGS.get(mutant.name, {}))
    for target in mutant.caught_by:
        op, check = target.split(".")
        result = run_check(mutant, path, op, check, "ci", example_timeout=5)
        where = f"{mutant.name} {target}"
        if result.status != FAILED or result.mismatch is None:
            assert result.error_map is None, where
            continue
        assert result.error_map is not None, f"{where}: a mismatch without an error map"
        found = _check_map(result.error_map, where)
        worst = tuple(result.mismatch["index"])
        if found.shape:
            assert found.mask()[worst], f"{where}: the worst element is not on the map"
        maps = {"shrunk": found}
        if result.grown_error_map:
            maps["grown"] = _check_map(result.grown_error_map, f"{where} (grown)")
            assert json.loads(result.grown_error_map["case"])["height"] >= 8
        for which, found_map in maps.items():
            expected = readings.pop((target, which), None)
            if expected is not None:
                reading = read_pattern(found_map.mask(), found_map.name)
                assert re.fullmatch(expected, reading), f"{where} ({which}): {reading!r}"
    assert not readings, f"{mutant.name}: no map to read for {sorted(readings)}"


def test_grown_maps_exist_only_where_growing_shows_more():
    """A bias gradient does not grow with the input: no second map repeats the first."""
    path, mutant = next((p, m) for p, m in MUTANTS if m.name == "bias_grad_not_summed_over_batch")
    result = run_check(mutant, path, "conv2d", "grad_bias", "ci", example_timeout=5)
    assert result.error_map is not None and result.grown_error_map is None
    assert np.prod(result.error_map["shape"]) >= 1
