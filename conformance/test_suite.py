"""The conformance suite as pytest tests (see conformance/pytest_plugin.py for the options).

Here the implementation runs in the pytest process itself (an xdist worker under ``-n``): a
crash takes that worker down, and xdist reports the test that was running and starts another.
"""
import functools

import pytest

from conformance.registry import resolve
from conformance.runner import NOT_CLAIMED, PASSED, describe_exception, run_check


@functools.cache
def _implementation(spec: str):
    """(implementation, None), imported and warmed up once per process, or (None, why not)."""
    step = "import"
    try:
        impl = resolve(spec)
        warm_up = getattr(impl, "warm_up", None)
        if callable(warm_up):
            step = "warm up"
            warm_up()
    except Exception as exc:  # noqa: BLE001 - every test of this implementation fails with it
        return None, f"{spec}: could not {step}: {describe_exception(exc)}"
    return impl, None


def test_conformance(conformance_task, pytestconfig):
    spec, op, check = conformance_task
    impl, error = _implementation(spec)
    if error:
        pytest.fail(error, pytrace=False)
    result = run_check(impl, spec, op, check,
                       pytestconfig.getoption("conformance_profile"),
                       pytestconfig.getoption("conformance_seed"),
                       pytestconfig.getoption("conformance_example_timeout"))
    if result.status == NOT_CLAIMED:
        pytest.skip(f"{op}.{check}: not claimed by {spec}")
    assert result.status == PASSED, result.describe_failure()
