"""Hypothesis profiles.

dev        quick and random: a new seed each run, 25 examples per check
ci         derandomized: the same cases every run (the gate must be reproducible), 100 per check
thorough   for releases: 1000 examples per check, random
Per-example deadlines are not Hypothesis's (its timing is noisy on a loaded machine); the certify
worker applies its own time-out per check instead.
"""
from __future__ import annotations

from hypothesis import HealthCheck, Phase, Verbosity, settings

_COMMON = dict(deadline=None, database=None, report_multiple_bugs=False, print_blob=False,
               verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
               phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))

PROFILES = {
    "dev": settings(max_examples=25, **_COMMON),
    "ci": settings(max_examples=100, derandomize=True, **_COMMON),
    "thorough": settings(max_examples=1000, **_COMMON),
}


def get(name: str) -> settings:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {name!r}") from None
