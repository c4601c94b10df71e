"""Error maps that name the bug: on mutants whose bug has a shape, the map's reading says which
part of the array is wrong (on the shrunk case, or on the shrunk case grown to 8x8).

That every corpus failure which compared arrays carries a map that renders, with its worst
element on it, is checked with the corpus itself (tests/test_corpus.py).
"""
import re

import numpy as np
import pytest

from conformance.error_map import read_pattern
from conformance.runner import run_check
from tests.corpus import EXAMPLE_TIMEOUT, all_mutants
from tests.error_maps import maps_of

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
MUTANTS_READ = [(path, m) for path, m in MUTANTS if m.name in READINGS]


@pytest.mark.parametrize("path,mutant", MUTANTS_READ, ids=[m.name for _, m in MUTANTS_READ])
def test_the_map_of_a_shaped_bug_names_its_shape(path, mutant):
    readings = dict(READINGS[mutant.name])
    for target in sorted({target for target, _ in readings}):
        op, check = target.split(".")
        result = run_check(mutant, path, op, check, "ci", example_timeout=EXAMPLE_TIMEOUT)
        where = f"{mutant.name} {target}"
        for which, found in maps_of(result, where).items():
            expected = readings.pop((target, which), None)
            if expected is not None:
                reading = read_pattern(found.mask(), found.name)
                assert re.fullmatch(expected, reading), f"{where} ({which}): {reading!r}"
    assert not readings, f"{mutant.name}: no map to read for {sorted(readings)}"


def test_grown_maps_exist_only_where_growing_shows_more():
    """A bias gradient does not grow with the input: no second map repeats the first."""
    path, mutant = next((p, m) for p, m in MUTANTS if m.name == "bias_grad_not_summed_over_batch")
    result = run_check(mutant, path, "conv2d", "grad_bias", "ci", example_timeout=EXAMPLE_TIMEOUT)
    assert result.error_map is not None and result.grown_error_map is None
    assert np.prod(result.error_map["shape"]) >= 1
