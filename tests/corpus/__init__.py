"""A corpus of realistic buggy implementations: each is a correct one with exactly one bug.

Every mutant says what its bug is and which checks (``op.check``) must catch it. The harness's
own tests assert that each of those checks fails on it, and ``python -m tests.corpus`` prints
the kill report. A mutant is an object with the implementation interface; it is named on the
command line by its import path, e.g. ``tests.corpus.conv_gradients:stride_ignored_in_grad_x``.
"""
from __future__ import annotations

import importlib
import pkgutil

from conformance.ops import OPS, SPOKEN
from conformance.impls import naive

# Seconds one example of a mutant may run: the corpus holds no slow code, only wrong code.
EXAMPLE_TIMEOUT = 5
# Every function of the interface, from the op records.
FUNCTIONS = tuple(function.name for op in SPOKEN for function in OPS[op].functions)


class Mutant:
    """naive, with some of its functions replaced by buggy ones."""

    def __init__(self, name: str, bug: str, caught_by: tuple[str, ...], base=naive, **replaced):
        unknown = set(replaced) - set(FUNCTIONS) - {"capabilities"}
        if unknown:
            raise TypeError(f"Mutant {name}: unknown replacements {sorted(unknown)}")
        self.name = name
        self.bug = bug
        self.caught_by = caught_by
        self.capabilities = base.capabilities
        for function in FUNCTIONS:
            if hasattr(base, function):
                setattr(self, function, getattr(base, function))
        for attribute, value in replaced.items():
            setattr(self, attribute, value)

    def __repr__(self):
        return f"<mutant {self.name}: {self.bug}>"


def all_mutants() -> list[tuple[str, Mutant]]:
    """(import path, mutant) for every mutant in the corpus modules, in a stable order."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found += [(f"{module.__name__}:{attr}", value) for attr, value in vars(module).items()
                  if isinstance(value, Mutant)]
    return found
