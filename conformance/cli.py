"""Command line: ``python -m conformance certify|replay|new|list|bench ...``.

Exit codes: 0 certified (replay: the case passed; new, list: done), 1 not certified (a check
failed, an implementation could not be imported, the gate found a regression), 2 usage or
configuration error, reported in one line on stderr before any work is done.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conformance import profiles, worker
from conformance.gate import RecordError
from conformance.registry import UnknownImplementation
from conformance.impls import BUILTIN

EXIT_CERTIFIED, EXIT_NOT_CERTIFIED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A bad argument or configuration: one line, exit code 2."""


def _in_parallel(function, items: list, jobs: int) -> list:
    """``function`` over ``items``, ``jobs`` at a time, results in the order of ``items``.

    Threads suffice: each one only waits on its own child processes (conformance.worker).
    """
    if jobs == 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(function, item) for item in items]
        try:
            return [future.result() for future in futures]
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            worker.stop_all()
            raise


class _Block:
    """One implementation's output: printed line by line (serial runs), or whole when it is
    complete (parallel runs), so blocks never interleave."""
    _lock = threading.Lock()

    def __init__(self, live: bool):
        self.live, self.lines = live, []

    def __call__(self, text: str) -> None:
        if self.live:
            print(text, flush=True)
        else:
            self.lines.append(text)

    def close(self) -> None:
        if not self.live:
            with self._lock:
                print("\n".join(self.lines), flush=True)


def _writable_folder(path: str) -> Path:
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--reports {path}: is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"--reports {path}: cannot write there: {exc.strerror or exc}") from None
    return folder


def _names(probes: list) -> dict[str, str]:
    """{spec: name in reports}: the implementation's name; its spec where it has none (it
    could not be imported) or where two implementations of the run share one."""
    names = {p.spec: p.name or p.spec for p in probes}
    for name in sorted(set(names.values())):
        specs = [spec for spec, n in names.items() if n == name]
        if len(specs) > 1:
            print(f"note: {', '.join(specs)} are all named {name!r}; reported under their specs")
            names.update({spec: spec for spec in specs})
    return names


def _certify_one(probe, name: str, args, limits, reports_dir: Path, live: bool):
    from conformance import report as reports
    from conformance.capabilities import Capabilities
    out = _Block(live)
    start = time.perf_counter()
    out(f"== certifying {probe.spec} (profile {args.profile})")
    from conformance.code_coverage import summarize
    claims = (reports.claims_of(Capabilities(probe.capabilities))
              if probe.capabilities is not None else {})
    results, error, output, code = [], probe.error, probe.output, None
    header = [reports.TEXT_HEADER]     # printed before the first result, if there is one
    table = reports.Table(claims)      # collapses what is not claimed

    def show(rows) -> None:
        for line in reports.text_lines(rows):
            while header:
                out(header.pop())
            out(line)

    if error is None:
        try:
            with tempfile.TemporaryDirectory() as coverage_folder:
                results = worker.run_isolated(
                    probe.spec, args.profile, args.seed, on_result=lambda r: show(table.add(r)),
                    limits=limits, coverage_folder=coverage_folder if args.code_coverage else None)
                code = summarize(coverage_folder, os.getcwd()) if args.code_coverage else None
            show(table.finish())
        except worker.CouldNotStart as exc:
            error, output = exc.reason, exc.output
    if error and output:
        out("  last output:\n" + textwrap.indent(output, "    "))
    report = reports.ImplReport(probe.spec, name, args.profile, claims, results,
                                round(time.perf_counter() - start, 1), code_coverage=code,
                                min_coverage=args.min_coverage,
                                max_elements=probe.max_elements,
                                limits=probe.limits or {}, error=error)
    out(reports.render_summary(report))
    paths = reports.write_reports(report, reports_dir)
    out(f"reports: {', '.join(str(p) for p in paths)}\n")
    out.close()
    return report


def _certify(args) -> int:
    from conformance import gate, html_report
    from conformance import report as reports
    from conformance.registry import default_builtins, expand
    limits = worker.Limits(args.import_timeout, args.warm_up_timeout, args.example_timeout,
                           args.check_timeout)
    # Every configuration error is found before anything is certified.
    record = gate.load(Path(args.gate)) if args.gate else None
    if args.record:
        gate.check_writable(Path(args.record))
    reports_dir = _writable_folder(args.reports)
    if not args.impl:
        args.impl, left_out = default_builtins()
        for name, why in left_out.items():
            print(f"note: {name} left out: {why}")
    specs = list(dict.fromkeys(spec for arg in args.impl for spec in expand(arg)))
    probes = _in_parallel(lambda spec: worker.probe(spec, limits.import_timeout), specs,
                          args.jobs)
    unknown = [p.unknown for p in probes if p.unknown]
    if unknown:
        raise UsageError("; ".join(unknown))
    names = _names(probes)
    if record is not None:
        missing = gate.unknown_implementations(record, list(names.values()))
        if missing:
            raise UsageError(f"--gate {args.gate}: the record does not know {', '.join(missing)}"
                             f"; record it first (certify {' '.join(missing)} --record "
                             f"{args.gate}) or leave it out of the run")
    if args.jobs > 1:
        print(f"certifying {len(probes)} implementations, {args.jobs} at a time", flush=True)
    done = _in_parallel(lambda p: _certify_one(p, names[p.spec], args, limits, reports_dir,
                                               live=args.jobs == 1), probes, args.jobs)
    ok = all(report.certified for report in done)
    summary = reports_dir / "summary.md"
    summary.write_text(reports.render_summary_matrix(done))
    print(f"summary: {summary}")
    print(f"html: {html_report.write_html(done, reports_dir)}")
    if record is not None:
        problems = gate.regressions(record, done)
        for line in problems:
            print(f"GATE: {line}")
        print(f"gate {args.gate}: " + ("FAILED" if problems else "passed"))
        ok &= not problems
    if args.record:
        try:
            changes = gate.record(Path(args.record), [r for r in done if r.certified])
        except ValueError as exc:
            print(f"record {args.record}: {exc}")
            return EXIT_NOT_CERTIFIED
        print(f"record {args.record}: " + ("; ".join(changes) if changes else "unchanged"))
    return EXIT_CERTIFIED if ok else EXIT_NOT_CERTIFIED


def _new(args) -> int:
    from conformance.scaffold import write_scaffold
    if not Path(args.path).is_dir():
        raise UsageError(f"--path {args.path}: no such folder")
    try:
        path = write_scaffold(args.name, Path(args.path))
    except (ValueError, FileExistsError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write {args.name}.py in {args.path}: "
                         f"{exc.strerror or exc}") from None
    print(f"wrote {path}\ncertify it with:  PYTHONPATH={path.parent} python -m conformance "
          f"certify {args.name}:implementation")
    return 0


def _list(args) -> int:
    from conformance.registry import known
    for name, path, origin in known():
        probe = worker.probe(name, args.import_timeout)
        if probe.capabilities is not None:
            summary = "; ".join(f"{op}: {' '.join(f)}" for op, f in probe.capabilities.items())
            summary = f"claims {summary or 'nothing'}"
        else:
            summary = f"cannot load: {probe.error or probe.unknown}"
        print(f"{name:<16} {path:<32} {origin}\n{'':<16} {summary}", flush=True)
    return 0


def _case_problem(op: str, data) -> str | None:
    """Why ``data`` (parsed JSON) is not a case of ``op``, or None."""
    from dataclasses import MISSING, fields

    from conformance.layouts import LAYOUTS
    from conformance.ops import OPS
    if not isinstance(data, dict):
        return f"a case is a JSON object, got {type(data).__name__}"
    known = {f.name: f for f in fields(OPS[op].case_type)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        return f"unknown {op} case field(s) {unknown}; expected {sorted(known)}"
    missing = [n for n, f in known.items() if n not in data and f.default is MISSING
               and f.default_factory is MISSING]
    if missing:
        return f"missing {op} case field(s) {missing}"
    integer = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
    expected = {"int": integer, "bool": lambda v: isinstance(v, bool),
                "float": lambda v: integer(v) or isinstance(v, float),
                "str": lambda v: isinstance(v, str),
                "tuple[int, int]": lambda v: isinstance(v, list) and len(v) == 2
                and all(map(integer, v)),
                "tuple[int, ...]": lambda v: isinstance(v, list) and all(map(integer, v))}
    for name, value in data.items():
        accepts = expected.get(str(known[name].type))
        if accepts and not accepts(value):
            return f"case field {name!r} must be {known[name].type}, got {value!r}"
    if data.get("dtype", "float64") not in ("float32", "float64"):
        return f"case field 'dtype' must be 'float32' or 'float64', got {data['dtype']!r}"
    if data.get("layout", LAYOUTS[0]) not in LAYOUTS:
        return f"case field 'layout' must be one of {list(LAYOUTS)}, got {data['layout']!r}"
    return None


def _replay(args) -> int:
    import json

    from conformance.ops import OPS
    from conformance.suite import find_check
    if args.op not in OPS:
        raise UsageError(f"unknown op {args.op!r}; known: {', '.join(OPS)}")
    try:
        check = find_check(args.op, args.check)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if check.property is None:
        raise UsageError(f"check {args.check!r} of {args.op} runs a fixed list, not a case; "
                         f"run certify for it")
    try:
        data = json.loads(args.case)
    except json.JSONDecodeError as exc:
        raise UsageError(f"CASE is not valid JSON ({exc}): {args.case[:80]!r}") from None
    problem = _case_problem(args.op, data)
    if problem:
        raise UsageError(problem)
    limits = worker.Limits(args.import_timeout, args.warm_up_timeout, args.example_timeout)
    passed, message = worker.replay_isolated(args.impl, args.op, args.check, args.case, limits)
    print(f"{args.impl} {args.op}.{args.check}: {message}")
    return EXIT_CERTIFIED if passed else EXIT_NOT_CERTIFIED


def _bench(args) -> int:
    from conformance import bench
    return bench.main(args.rest)


def _positive(convert):
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value
    parse.__name__ = convert.__name__
    return parse


def _add_time_limits(parser, example: bool = True, check: bool = True) -> None:
    seconds = _positive(float)
    parser.add_argument("--import-timeout", type=seconds, default=worker.IMPORT_TIMEOUT,
                        metavar="S", help="seconds start-up and importing the implementation may "
                        f"take (default {worker.IMPORT_TIMEOUT:g})")
    parser.add_argument("--warm-up-timeout", type=seconds, default=worker.WARM_UP_TIMEOUT,
                        metavar="S", help="seconds its warm_up() may take (default "
                        f"{worker.WARM_UP_TIMEOUT:g}; Numba compiles there: about 70 s cold)")
    if example:
        parser.add_argument("--example-timeout", type=seconds, default=worker.EXAMPLE_TIMEOUT,
                            metavar="S", help="seconds one generated case may run "
                            f"(default {worker.EXAMPLE_TIMEOUT:g})")
    if check:
        parser.add_argument("--check-timeout", type=seconds, default=worker.CHECK_TIMEOUT,
                            metavar="S", help="seconds one check may run in all "
                            f"(default {worker.CHECK_TIMEOUT:g})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance",
                                     description="Conformance harness for NumPy CNN layers. "
                                     "Exit codes: 0 certified, 1 not certified, 2 usage or "
                                     "configuration error.")
    sub = parser.add_subparsers(dest="command", required=True)

    certify = sub.add_parser("certify", help="run the suite on implementations; exit 0 only if "
                             "every claimed feature passes every check")
    certify.add_argument("impl", nargs="*", help="built-in name (" + ", ".join(BUILTIN) +
                         "), plug-in name, import path package.module:object, module file "
                         "path/module.py[:object], folder of module files, or pattern "
                         "'path/*.py'; default: every built-in (numba only with its extra)")
    certify.add_argument("--profile", default=profiles.CERTIFY_DEFAULT, choices=profiles.NAMES)
    certify.add_argument("--seed", type=int, default=None, help="Hypothesis seed")
    certify.add_argument("--reports", default="reports", help="folder for NAME.md and NAME.json")
    certify.add_argument("-j", "--jobs", type=_positive(int), default=1, metavar="N",
                         help="certify N implementations at a time, each in its own processes "
                         "(default 1)")
    _add_time_limits(certify)
    certify.add_argument("--no-code-coverage", dest="code_coverage", action="store_false",
                         help="do not measure which of the implementation's code the checks ran")
    certify.add_argument("--min-coverage", type=float, metavar="PERCENT", default=None,
                         help="fail certification when less of the implementation's lines and "
                         "branches than this were executed")
    certify.add_argument("--gate", metavar="RECORD", help="also fail when a feature certified in "
                         "RECORD (e.g. certified.json) is no longer claimed or certified; RECORD "
                         "must exist and know every implementation of the run")
    certify.add_argument("--record", metavar="RECORD", help="write what this run certified into "
                         "RECORD (widening only; commit the diff)")
    certify.set_defaults(run=_certify)

    new = sub.add_parser("new", help="write a new implementation module that claims nothing")
    new.add_argument("name", help="module name, e.g. my_impl")
    new.add_argument("--path", default=".", help="existing folder to write NAME.py in "
                     "(default: .)")
    new.set_defaults(run=_new)

    listing = sub.add_parser("list", help="implementations found: built-ins and plug-ins")
    _add_time_limits(listing, example=False, check=False)
    listing.set_defaults(run=_list)

    replay = sub.add_parser("replay", help="run one check on one case (as printed by a failure)")
    replay.add_argument("impl")
    replay.add_argument("op")
    replay.add_argument("check")
    replay.add_argument("case", help="the case as JSON")
    _add_time_limits(replay, check=False)
    replay.set_defaults(run=_replay)

    bench = sub.add_parser("bench", help="time every implementation against PyTorch",
                           add_help=False)
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    bench.set_defaults(run=_bench)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, RecordError, UnknownImplementation) as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        worker.stop_all()
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
