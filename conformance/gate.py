"""The regression gate: a committed record of what each implementation is certified for.

The record (JSON) maps implementation names to the features certified per op:

    {"schema_version": 1, "implementations": {"naive": {"conv2d": ["bias", ...], ...}}}

``certify --gate FILE`` fails when a recorded feature is no longer claimed or its op no longer
certified. ``certify --record FILE`` writes what this run certified, and refuses to narrow the
record: a reviewer sees every widening as a diff of FILE.
"""
from __future__ import annotations

import json
from pathlib import Path

from conformance.report import ImplReport

SCHEMA_VERSION = 1


def load(path: Path) -> dict[str, dict[str, list[str]]]:
    if not Path(path).exists():
        return {}
    data = json.loads(Path(path).read_text())
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path}: schema_version must be {SCHEMA_VERSION}, "
                         f"got {data.get('schema_version')!r}")
    return data["implementations"]


def certified_features(report: ImplReport) -> dict[str, list[str]]:
    return {v.op: sorted(v.claimed) for v in report.ops if v.certified}


def regressions(record: dict, reports: list[ImplReport]) -> list[str]:
    """What was certified before and is not now, one line each."""
    lines = []
    for report in reports:
        before = record.get(report.name)
        if not before:
            continue
        verdicts = {v.op: v for v in report.ops}
        for op, features in before.items():
            verdict = verdicts.get(op)
            dropped = sorted(set(features) - set(verdict.claimed if verdict else ()))
            if dropped:
                lines.append(f"{report.name}: {op} no longer claims {', '.join(dropped)}")
            if verdict is None or not verdict.certified:
                why = (f"failed {', '.join(verdict.failed_checks)}" if verdict and
                       verdict.failed_checks else "not certified")
                lines.append(f"{report.name}: {op} was certified for {', '.join(features)}; "
                             f"now {why}")
    return lines


def record(path: Path, reports: list[ImplReport]) -> list[str]:
    """Write the certified features of this run into the record; return the changes made."""
    current = load(path)
    problems = regressions(current, reports)
    if problems:
        raise ValueError("refusing to narrow the record:\n" + "\n".join(problems))
    changes = []
    for report in reports:
        now = certified_features(report)
        if now != current.get(report.name):
            changes.append(f"{report.name}: {current.get(report.name, {})} -> {now}")
            current[report.name] = now
    Path(path).write_text(json.dumps({"schema_version": SCHEMA_VERSION,
                                      "implementations": dict(sorted(current.items()))},
                                     indent=2) + "\n")
    return changes
