"""Which lines and branches of an implementation's own code no case executed, by coverage.py.

A certificate says what was checked; this says which of the implementation's code the checks ran.
Code that no case reached (a batch-chunking path, a vector kernel for many channels, a threaded
variant) is certified by nothing, and the report lists it.

What counts as the implementation's code: the Python files in the folder of the module it is
imported from (its package, or the folder of a single-module implementation), except the
harness's own packages and the Python installation. Measurement starts before the import (so
definitions count as executed) and pauses during ``warm_up()``, which may call every code path
on purpose and is no evidence that checks reached them.

Two kinds of code are listed apart and left out of the percentage ("not measured"): bodies of
functions compiled by Numba, which run as machine code that coverage.py cannot see (which of them
ran, and whether the threaded or the serial compilation did, shows in the Python lines that call
them, measured like all others), and functions whose name contains "warm_up", which only the
warm-up runs. Each worker process writes its own data file; ``summarize`` combines them.
"""
from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys
import sysconfig
import tempfile
from pathlib import Path

import coverage

UNMEASURED_FILE = "unmeasured.json"   # per data folder: line ranges of compiled and warm-up code


def _harness_folders() -> list[str]:
    import conformance
    from conformance import reference
    return [str(Path(conformance.__file__).parent), str(Path(reference.__file__).parent)]


def source_folder(module_name: str) -> str | None:
    """The folder holding the implementation module's code (found without importing it)."""
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return str(Path(spec.origin).resolve().parent)


class Measurement:
    """coverage.py over one implementation's folder, in one worker process."""

    def __init__(self, module_name: str, data_folder: str):
        self.folder = source_folder(module_name)
        self.data_folder = data_folder
        self.coverage = None
        if self.folder is None:
            return
        installed = {sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")}
        omit = [f"{d}/*" for d in _harness_folders() + sorted(installed)
                if not self.folder.startswith(d)]
        self.coverage = coverage.Coverage(
            data_file=os.path.join(data_folder, ".coverage"), data_suffix=True, branch=True,
            include=[f"{self.folder}/*"], omit=omit, config_file=False)

    def start(self) -> None:
        if self.coverage is not None:
            self.coverage.start()

    def stop(self) -> None:
        if self.coverage is not None:
            self.coverage.stop()

    def save(self) -> None:
        if self.coverage is not None:
            self.coverage.save()

    def record_unmeasured(self) -> None:
        """Write the line ranges of compiled and warm-up functions in the measured modules."""
        if self.folder is None:
            return
        ranges = sorted(set(_unmeasured_ranges(self.folder)))
        if ranges:
            path = os.path.join(self.data_folder, UNMEASURED_FILE)
            with open(path + f".{os.getpid()}", "w") as f:
                json.dump(ranges, f)


def _unmeasured_ranges(folder: str):
    """(file, first line, last line) of every Numba-compiled function and every function named
    *warm_up* defined under ``folder``: module globals and functions' closures (decorators that
    wrap compiled functions)."""
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None) or ""
        if not path.startswith(folder):
            continue
        for value in list(vars(module).values()):
            cells = getattr(value, "__closure__", None) or ()
            for candidate in (value, *(c.cell_contents for c in cells if _filled(c))):
                compiled = type(candidate).__module__.split(".")[0] == "numba"
                function = getattr(candidate, "py_func", None) if compiled else candidate
                if not inspect.isfunction(function) or not (
                        compiled or "warm_up" in function.__name__):
                    continue
                try:
                    lines, first = inspect.getsourcelines(function)
                except (OSError, TypeError):
                    continue
                yield (str(Path(inspect.getsourcefile(function)).resolve()), first,
                       first + len(lines) - 1)


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _unmeasured(data_folder: str) -> dict[str, list[tuple[int, int]]]:
    found: dict[str, set] = {}
    for path in Path(data_folder).glob(UNMEASURED_FILE + ".*"):
        for file, first, last in json.loads(path.read_text()):
            found.setdefault(file, set()).add((first, last))
    return {file: sorted(r) for file, r in found.items()}


def _ranges(lines: list[int]) -> str:
    """[3, 4, 5, 9] -> "3-5, 9"."""
    spans: list[list[int]] = []
    for line in sorted(lines):
        if spans and line == spans[-1][1] + 1:
            spans[-1][1] = line
        else:
            spans.append([line, line])
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in spans)


def summarize(data_folder: str, relative_to: str | None = None) -> dict | None:
    """Combine the data of every worker of one implementation into the report's section:

    {"percent": lines and branches executed (unmeasured code left out), "measured",
     "files": {path: {"percent", "never_called" (functions no check called), "missing_lines",
     "missing_branches", "unmeasured_lines"}}};
    None when nothing was measured.
    """
    if not list(Path(data_folder).glob(".coverage*")):
        return None
    combined = coverage.Coverage(data_file=os.path.join(data_folder, ".coverage"), branch=True,
                                 config_file=False)
    combined.combine(data_paths=[data_folder], keep=True)
    combined.save()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "coverage.json")
        try:
            combined.json_report(outfile=out, ignore_errors=True)
        except coverage.exceptions.NoDataError:
            return None
        data = json.loads(Path(out).read_text())
    unmeasured = _unmeasured(data_folder)
    files, executed, total = {}, 0, 0
    for path, info in sorted(data["files"].items()):
        spans = unmeasured.get(str(Path(path).resolve()), [])

        def measured_line(line):
            return not any(first <= line <= last for first, last in spans)
        missing = [n for n in info["missing_lines"] if measured_line(n)]
        run = [n for n in info["executed_lines"] if measured_line(n)]
        missing_branches = [b for b in info.get("missing_branches", []) if measured_line(b[0])]
        branches = [b for b in info.get("executed_branches", []) if measured_line(b[0])]
        measured = len(missing) + len(run) + len(missing_branches) + len(branches)
        hit = len(run) + len(branches)
        executed += hit
        total += measured
        name = os.path.relpath(path, relative_to) if relative_to else path
        never_called = sorted(
            function for function, detail in info.get("functions", {}).items()
            if function and detail["summary"]["num_statements"] and not detail["executed_lines"]
            and measured_line(detail["start_line"]))
        files[name] = {
            "percent": round(100.0 * hit / measured, 1) if measured else 100.0,
            "never_called": never_called,
            "missing_lines": _ranges(missing),
            "missing_branches": [f"{a}->{b if b > 0 else 'exit'}" for a, b in missing_branches],
            "unmeasured_lines": ", ".join(f"{a}-{b}" for a, b in spans),
        }
    return {"percent": round(100.0 * executed / total, 1) if total else 100.0,
            "measured": total, "files": files}
