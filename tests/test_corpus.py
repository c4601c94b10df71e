"""The harness catches every buggy implementation of the corpus, by the checks meant for it, and
reports each failure with its case, its replay command and (where it compared arrays) an error
map."""
import pytest

from conformance.runner import FAILED, run_check
from conformance.suite import find_check
from tests.corpus import EXAMPLE_TIMEOUT, all_mutants
from tests.error_maps import maps_of

MUTANTS = all_mutants()


def test_corpus_is_not_trivial():
    assert len(MUTANTS) >= 8
    assert len({m.name for _, m in MUTANTS}) == len(MUTANTS), "mutant names must be unique"


@pytest.mark.parametrize("path,mutant", MUTANTS, ids=[m.name for _, m in MUTANTS])
def test_mutant_fails_the_checks_meant_for_it(path, mutant):
    assert mutant.caught_by, f"{mutant.name} names no check that catches it"
    for target in mutant.caught_by:
        op, check = target.split(".")
        result = run_check(mutant, path, op, check, "ci", example_timeout=EXAMPLE_TIMEOUT)
        assert result.status == FAILED, f"{mutant.name} ({mutant.bug}) survived {target}"
        assert result.message
        if find_check(op, check).property is not None:
            assert result.case and result.replay.startswith("python -m conformance replay ")
        maps_of(result, f"{mutant.name} {target}")
