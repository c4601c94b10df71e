"""pytest plugin: ``--impl NAME_OR_IMPORT_PATH`` (repeatable) selects what the suite certifies.

Installed with the package (entry point ``pytest11``). The suite itself is
``conformance/test_suite.py``: run it with ``pytest --pyargs conformance --impl naive``.
Every (implementation, op, check) is one test; unclaimed ones are skipped as "not claimed".
This is the route to many machines: pytest-xdist spreads the tests over local and remote workers
(``-n``, ``--tx``), and ``--dist loadgroup`` keeps each implementation's tests on one worker
(each test is in the xdist group named by its implementation).
"""
from __future__ import annotations

import pytest

from conformance import profiles
from conformance.impls import BUILTIN


def pytest_addoption(parser):
    from conformance.worker import EXAMPLE_TIMEOUT
    group = parser.getgroup("conformance")
    group.addoption("--impl", action="append", default=[], metavar="NAME_OR_IMPORT_PATH",
                    help="implementation to certify: a built-in name (" + ", ".join(BUILTIN) +
                    "), package.module:object or path/module.py[:object]; repeatable; "
                    "default: every built-in (numba only with its extra)")
    group.addoption("--conformance-profile", default=profiles.PYTEST_DEFAULT,
                    choices=profiles.NAMES, help="Hypothesis profile for the conformance suite "
                    f"(default: {profiles.PYTEST_DEFAULT})")
    group.addoption("--conformance-seed", type=int, default=None,
                    help="Hypothesis seed for the conformance suite")
    group.addoption("--conformance-example-timeout", type=float, default=EXAMPLE_TIMEOUT,
                    metavar="S", help="seconds one generated case may run before its check "
                    f"fails (default {EXAMPLE_TIMEOUT:g})")


def pytest_generate_tests(metafunc):
    if "conformance_task" not in metafunc.fixturenames:
        return
    from conformance.registry import default_builtins
    from conformance.suite import all_tasks
    specs, left_out = metafunc.config.getoption("impl"), {}
    if not specs:
        specs, left_out = default_builtins()
    tasks = [pytest.param((spec, op, check), id=f"{spec}-{op}-{check}",
                          marks=pytest.mark.xdist_group(spec))
             for spec in specs for op, check in all_tasks()]
    # A built-in left out (its extra is missing) shows as one skipped test that says why.
    tasks += [pytest.param((name, None, None), id=f"{name}-left-out",
                           marks=pytest.mark.skip(reason=why)) for name, why in left_out.items()]
    metafunc.parametrize("conformance_task", tasks)
