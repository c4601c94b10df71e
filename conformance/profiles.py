"""How much is run and for how long: Hypothesis profiles and time-outs.

dev        quick and random: a new seed each run, 25 examples per check; no real layer shapes
           (they are the same every run, and the slowest cases)
ci         derandomized: the same cases every run (the gate must be reproducible), 100 per check,
           and the real layer shapes (conformance/sizes.py)
thorough   for releases: 1000 examples per check, random, and the real layer shapes
Per-example deadlines are not Hypothesis's (its timing is noisy on a loaded machine); the certify
worker applies its own time-outs instead (EXAMPLE_TIMEOUT, CHECK_TIMEOUT).

Hypothesis is imported only by ``get``, so the command line can list the names without it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    examples: int           # generated cases per check
    derandomize: bool       # the same cases every run
    real_layers: bool       # also run the real layer shapes of conformance.sizes


PROFILES = {
    "dev": Profile(examples=25, derandomize=False, real_layers=False),
    "ci": Profile(examples=100, derandomize=True, real_layers=True),
    "thorough": Profile(examples=1000, derandomize=False, real_layers=True),
}
NAMES = tuple(PROFILES)
CERTIFY_DEFAULT = "ci"      # certify: the gate's profile
PYTEST_DEFAULT = "dev"      # pytest --pyargs conformance: quick while developing

# Seconds each step may take before it counts as hung (conformance.worker; each can be changed
# on the command line).
IMPORT_TIMEOUT = 60.0    # interpreter start-up, the harness's and the implementation's imports
WARM_UP_TIMEOUT = 300.0  # warm_up(): Numba compiles there, about 70 s cold on 2 busy cores
EXAMPLE_TIMEOUT = 20.0   # one generated case (a hang, not a slow implementation)
CHECK_TIMEOUT = 600.0    # one whole check, whatever happens inside


def derandomized(name: str) -> bool:
    return _profile(name).derandomize


def real_layers(name: str) -> bool:
    return _profile(name).real_layers


def _profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {name!r}") from None


def get(name: str):
    """The hypothesis.settings of profile ``name``."""
    from hypothesis import HealthCheck, Phase, Verbosity, settings

    profile = _profile(name)
    return settings(max_examples=profile.examples, derandomize=profile.derandomize,
                    deadline=None, database=None, report_multiple_bugs=False, print_blob=False,
                    verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
                    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))
