"""The regression gate: a committed record of what each implementation is certified for.

The record (JSON) maps implementation names to the features certified per op:

    {"schema_version": 1, "implementations": {"naive": {"conv2d": ["bias", ...], ...}}}

An entry "limit:NAME" among an op's features records a declared limit (docs/contract.md,
"Limits"): the certificate holds within it only, so a limit added later narrows it. The
shorthand "rectangular" stands for the op's rectangular_* features.

``certify --gate FILE`` fails when a recorded feature is no longer claimed or its op no longer
certified. It is strict: a missing or unreadable record, a wrong schema, or an implementation in
the run that the record does not know is a RecordError, raised before anything is certified.
``certify --record FILE`` writes what this run certified, atomically, and refuses to narrow the
record: a reviewer sees every widening as a diff of FILE.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from conformance.capabilities import Capabilities, expand

LIMIT = "limit:"


def split(entries) -> tuple[set[str], set[str]]:
    """(features, limit names) of one op's entries in a record."""
    entries = set(entries)
    limits = {e for e in entries if e.startswith(LIMIT)}
    return entries - limits, {e.removeprefix(LIMIT) for e in limits}

SCHEMA_VERSION = 1


class RecordError(ValueError):
    """The record cannot be used as it is: one line saying why."""


def _known_features() -> dict[str, frozenset[str]]:
    """{op: every feature it can be certified for}, the composed network included."""
    from conformance.ops import OPS
    everything = Capabilities.everything()
    return {name: record.claimed(everything) | {LIMIT + limit for limit in record.limits}
            for name, record in OPS.items()}


def _validate(path: Path, data) -> dict[str, dict[str, list[str]]]:
    if not isinstance(data, dict):
        raise RecordError(f"{path}: expected a JSON object, got {type(data).__name__}")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise RecordError(f"{path}: schema_version must be {SCHEMA_VERSION}, "
                          f"got {data.get('schema_version')!r}")
    implementations = data.get("implementations")
    if not isinstance(implementations, dict):
        raise RecordError(f"{path}: 'implementations' must be an object {{name: {{op: "
                          f"[feature, ...]}}}}, got {type(implementations).__name__}")
    known = _known_features()
    for name, ops in implementations.items():
        if not isinstance(ops, dict):
            raise RecordError(f"{path}: implementation {name!r} must map ops to feature lists, "
                              f"got {type(ops).__name__}")
        for op, features in ops.items():
            if op not in known:
                raise RecordError(f"{path}: implementation {name!r}: unknown op {op!r}; "
                                  f"known: {', '.join(known)}")
            if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
                raise RecordError(f"{path}: implementation {name!r}: {op} must be a list of "
                                  f"feature names, got {features!r}")
            ops[op] = features = sorted(expand(op, features))
            unknown = sorted(set(features) - known[op])
            if unknown:
                raise RecordError(f"{path}: implementation {name!r}: unknown {op} features "
                                  f"{unknown}; known: {', '.join(sorted(known[op]))}")
    return implementations


def load(path: Path, missing_ok: bool = False) -> dict[str, dict[str, list[str]]]:
    """The record's implementations; RecordError if it is missing (unless ``missing_ok``: then
    empty), unreadable, not JSON, or not of this schema."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise RecordError(f"{path}: no such record (create one with certify --record "
                          f"{path})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path}: cannot read the record: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON: {exc}") from None
    return _validate(path, data)


def check_writable(path: Path) -> None:
    """RecordError unless ``path`` can be (re)written: its folder exists and is writable, and an
    existing record is valid."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise RecordError(f"{path}: folder {str(folder)!r} does not exist")
    if path.is_dir():
        raise RecordError(f"{path}: is a folder, not a record file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RecordError(f"{path}: folder {str(folder)!r} is not writable")
    load(path, missing_ok=True)


def unknown_implementations(record: dict, names: list[str]) -> list[str]:
    """The names in the run that the record does not know."""
    return [name for name in names if name not in record]


def certified_features(report) -> dict[str, list[str]]:
    """{op: its certified features and declared limits ("limit:NAME")}."""
    return {v.op: sorted(v.claimed) + [LIMIT + name for name in sorted(v.limits)]
            for v in report.ops if v.certified}


def regressions(record: dict, reports: list) -> list[str]:
    """What was certified before and is not now, one line each."""
    lines = []
    for report in reports:
        before = record.get(report.name)
        if not before:
            continue
        verdicts = {v.op: v for v in report.ops}
        for op, entries in before.items():
            verdict = verdicts.get(op)
            error = getattr(report, "error", None)
            features, limits = split(entries)
            dropped = sorted(features - set(verdict.claimed if verdict else ()))
            if dropped and not error:
                lines.append(f"{report.name}: {op} no longer claims {', '.join(dropped)}")
            added = sorted(set(verdict.limits if verdict else ()) - limits)
            if added and not error:
                lines.append(f"{report.name}: {op} is now limited to {', '.join(added)}")
            if verdict is None or not verdict.certified:
                if error:
                    why = error
                elif verdict and verdict.failed_checks:
                    why = f"failed {', '.join(verdict.failed_checks)}"
                else:
                    why = "not certified"
                lines.append(f"{report.name}: {op} was certified for "
                             f"{', '.join(sorted(features))}; now {why}")
    return lines


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` all at once: a crash leaves the old file or the new one,
    never half of it (a temporary file in the same folder, then os.replace)."""
    path = Path(path)
    if path.exists():
        mode = path.stat().st_mode & 0o777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, mode)     # mkstemp makes it private; keep the record's permissions
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def record(path: Path, reports: list) -> list[str]:
    """Write the certified features of this run into the record; return the changes made.
    ValueError (and the record untouched) when that would narrow it."""
    current = load(path, missing_ok=True)
    problems = regressions(current, reports)
    if problems:
        raise ValueError("refusing to narrow the record:\n" + "\n".join(problems))
    changes = []
    for report in reports:
        now = certified_features(report)
        if now != current.get(report.name):
            changes.append(f"{report.name}: {current.get(report.name, {})} -> {now}")
            current[report.name] = now
    write_atomically(path, json.dumps({"schema_version": SCHEMA_VERSION,
                                       "implementations": dict(sorted(current.items()))},
                                      indent=2) + "\n")
    return changes
