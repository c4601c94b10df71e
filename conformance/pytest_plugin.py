"""pytest plugin: ``--impl NAME_OR_IMPORT_PATH`` (repeatable) selects what the suite certifies.

Installed with the package (entry point ``pytest11``). The suite itself is
``conformance/test_suite.py``: run it with ``pytest --pyargs conformance --impl naive``.
Every (implementation, op, check) is one test; unclaimed ones are skipped as "not claimed".
"""
from __future__ import annotations

from conformance import profiles
from impls import BUILTIN


def pytest_addoption(parser):
    group = parser.getgroup("conformance")
    group.addoption("--impl", action="append", default=[], metavar="NAME_OR_IMPORT_PATH",
                    help="implementation to certify: a built-in name (" + ", ".join(BUILTIN) +
                    ") or package.module:object; repeatable; default: every built-in")
    group.addoption("--conformance-profile", default=profiles.PYTEST_DEFAULT,
                    choices=profiles.NAMES, help="Hypothesis profile for the conformance suite "
                    f"(default: {profiles.PYTEST_DEFAULT})")
    group.addoption("--conformance-seed", type=int, default=None,
                    help="Hypothesis seed for the conformance suite")


def pytest_generate_tests(metafunc):
    if "conformance_task" not in metafunc.fixturenames:
        return
    from conformance.suite import all_tasks
    specs = metafunc.config.getoption("impl") or list(BUILTIN)
    tasks = [(spec, op, check) for spec in specs for op, check in all_tasks()]
    metafunc.parametrize("conformance_task", tasks, ids=["-".join(t) for t in tasks])
