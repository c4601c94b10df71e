"""Test cases: a small readable record of the configuration, plus a seed for the data.

Each op record defines its case type (a frozen dataclass with an ``arrays()`` method). The arrays
are made from the seed, so a case prints, shrinks and replays as a single line of JSON.
"""
from __future__ import annotations

import json
from dataclasses import asdict, fields

import numpy as np

from conformance.layouts import lay_out

# Independent random streams of one case's seed (the case's own arrays use the seed alone).
GRAD_STREAM = 1         # the upstream gradient grad_out
DIRECTION_STREAM = 2    # finite-difference directions


def random_like(shape, dtype, layout: str, seed: int, stream: int) -> np.ndarray:
    """A standard normal array for the upstream gradient or a direction, reproducible from the seed."""
    rng = np.random.default_rng([seed, stream])
    return lay_out(rng.standard_normal(shape).astype(dtype), layout)


def case_to_json(case) -> str:
    return json.dumps(asdict(case), separators=(",", ":"))


def parse_case(case_type: type, text: str):
    """The case of type ``case_type`` that ``case_to_json`` wrote as ``text``."""
    data = json.loads(text)
    names = {f.name for f in fields(case_type)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown {case_type.__name__} fields {sorted(unknown)}; "
                         f"expected {sorted(names)}")
    return case_type(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
