"""Correct implementations pass every check: under every seed, and reproducibly under ci."""
import os

import pytest

from conformance.ops import OPS
from conformance.runner import FAILED, NOT_CLAIMED, PASSED, replay, run_check
from conformance.suite import all_tasks
from conformance.test_suite import _implementation
from conformance.impls import BUILTIN, naive
from tests import torch_backed

# `tox` (and CI) sweeps the first few seeds; `CONFORMANCE_SWEEP_SEEDS=50 tox -e false-alarms` the
# full sweep (about 65 minutes on 2 cores: each seed runs every check with its large-tier cases).
SWEEP_SEEDS = int(os.environ.get("CONFORMANCE_SWEEP_SEEDS", "50"))


@pytest.mark.parametrize("op,check", all_tasks())
def test_torch_backed_implementation_passes(op, check):
    result = run_check(torch_backed, "tests.torch_backed", op, check, "ci")
    # Everything is claimed, so only the not-claimed check itself has nothing to run.
    expected = NOT_CLAIMED if check == "not_claimed" else PASSED
    assert result.status == expected, result.describe_failure()


@pytest.mark.seeds
@pytest.mark.parametrize("seed", range(SWEEP_SEEDS))
@pytest.mark.parametrize("spec", [*BUILTIN, "tests.torch_backed",
                                  "examples.restricted.square_exact"])
def test_builtin_passes_under_dev_profile_with_any_seed(spec, seed):
    """Every built-in, the PyTorch-backed implementation and one with restricted claims and
    declared limits, under SWEEP_SEEDS seeds (each with its large-tier cases): any failure is a
    false alarm of the harness."""
    impl, error = _implementation(spec)
    assert error is None, error
    results = [run_check(impl, spec, op, check, "dev", seed) for op, check in all_tasks()]
    failures = [r.describe_failure() for r in results if r.status == FAILED]
    assert not failures, "\n".join(failures)


def test_ci_profile_is_reproducible():
    def outcome(op, check):
        r = run_check(naive, "naive", op, check, "ci")
        return (r.status, r.examples, r.worst_ratio, r.features, r.edge_cases)

    assert [outcome(*t) for t in all_tasks()] == [outcome(*t) for t in all_tasks()]


@pytest.mark.parametrize("check,case_json", [
    # x + h rounds where it crosses a power of two (1.99.. + 2^-10): the quotient is off by about
    # one rounding of x over 2h, which the bound must allow.
    ("jacobian", '{"shape":[1],"dtype":"float64","layout":"contiguous","magnitude":0,'
                 '"seed":168075230,"zeros":false}'),
    ("finite_difference", '{"shape":[2,3],"dtype":"float64","layout":"contiguous",'
                          '"magnitude":0,"seed":364,"zeros":false}'),
])
def test_relu_difference_quotients_allow_the_rounding_of_x_plus_h(check, case_json):
    passed, description = replay(naive, "relu", check, OPS["relu"].case_from_json(case_json))
    assert passed, description
