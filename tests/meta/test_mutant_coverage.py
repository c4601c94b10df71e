"""Every (op, check) pair the suite runs has a mutant in the corpus that it catches, or a waiver
below that says why no realistic bug can exist for it.

A mutant names the checks that catch it (``caught_by``); tests/test_corpus.py asserts that each
of them fails on it. So a pair named by some mutant has a catching mutant.
"""
from conformance.suite import all_tasks
from tests.corpus import all_mutants

# "op.check" -> why no realistic implementation bug can make this check fail while the op's
# other checks pass. Empty while every pair has a mutant.
WAIVERS: dict[str, str] = {}

PAIRS = {f"{op}.{check}" for op, check in all_tasks()}
CAUGHT = {target for _, mutant in all_mutants() for target in mutant.caught_by}


def test_every_pair_has_a_catching_mutant_or_a_waiver():
    missing = sorted(PAIRS - CAUGHT - set(WAIVERS))
    assert not missing, f"{len(missing)} (op, check) pairs without a mutant or waiver: {missing}"


def test_mutants_name_only_pairs_the_suite_runs():
    assert not CAUGHT - PAIRS, sorted(CAUGHT - PAIRS)


def test_waivers_are_for_existing_pairs_without_mutants_and_say_why():
    assert not set(WAIVERS) - PAIRS, sorted(set(WAIVERS) - PAIRS)
    assert not set(WAIVERS) & CAUGHT, f"waived but caught: {sorted(set(WAIVERS) & CAUGHT)}"
    assert all(len(reason.split()) >= 5 for reason in WAIVERS.values())
