"""Command line: ``python -m conformance certify|replay|new|list|bench ...``."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from conformance import profiles
from impls import BUILTIN


def _show(rows) -> None:
    from conformance import report as reports
    for line in reports.text_lines(rows):
        print(line, flush=True)


def _certify(args) -> int:
    from conformance import gate, html_report
    from conformance import report as reports
    from conformance.code_coverage import summarize
    from conformance.registry import resolve
    from conformance.worker import run_isolated
    specs = args.impl or list(BUILTIN)
    done: list[reports.ImplReport] = []
    ok = True
    for spec in specs:
        start = time.perf_counter()
        print(f"== certifying {spec} (profile {args.profile})", flush=True)
        try:
            declared = resolve(spec).capabilities
            capabilities = reports.claims_of(declared)
            print(reports.TEXT_HEADER, flush=True)
            table = reports.Table(capabilities)
            with tempfile.TemporaryDirectory() as coverage_folder:
                results = run_isolated(
                    spec, args.profile, args.seed, on_result=lambda r: _show(table.add(r)),
                    example_timeout=args.example_timeout, check_timeout=args.check_timeout,
                    coverage_folder=coverage_folder if args.code_coverage else None)
                code = summarize(coverage_folder, os.getcwd()) if args.code_coverage else None
            _show(table.finish())
        except (RuntimeError, ValueError, TypeError) as exc:
            print(f"{spec}: cannot certify: {exc}\n", flush=True)
            ok = False
            continue
        report = reports.ImplReport(spec, results[0].impl, args.profile, capabilities, results,
                                    round(time.perf_counter() - start, 1), code,
                                    args.min_coverage, declared.max_elements)
        print(reports.render_summary(report), flush=True)
        paths = reports.write_reports(report, Path(args.reports))
        print(f"reports: {', '.join(str(p) for p in paths)}\n", flush=True)
        ok &= report.certified
        done.append(report)
    if done:
        summary = Path(args.reports) / "summary.md"
        summary.write_text(reports.render_summary_matrix(done))
        print(f"summary: {summary}")
        print(f"html: {html_report.write_html(done, Path(args.reports))}")
    if args.gate:
        problems = gate.regressions(gate.load(Path(args.gate)), done)
        for line in problems:
            print(f"GATE: {line}")
        print(f"gate {args.gate}: " + ("FAILED" if problems else "passed"))
        ok &= not problems
    if args.record:
        try:
            changes = gate.record(Path(args.record), [r for r in done if r.certified])
        except ValueError as exc:
            print(f"record {args.record}: {exc}")
            return 1
        print(f"record {args.record}: " + ("; ".join(changes) if changes else "unchanged"))
    return 0 if ok else 1


def _new(args) -> int:
    from conformance.scaffold import write_scaffold
    try:
        path = write_scaffold(args.name, Path(args.path))
    except (ValueError, FileExistsError) as exc:
        print(f"new: {exc}")
        return 1
    print(f"wrote {path}\ncertify it with:  PYTHONPATH={path.parent} python -m conformance "
          f"certify {args.name}:implementation")
    return 0


def _list(args) -> int:
    from conformance.registry import known, resolve
    for name, path, origin in known():
        try:
            claims = resolve(name).capabilities.to_dict()
            summary = "; ".join(f"{op}: {' '.join(f)}" for op, f in claims.items()) or "nothing"
        except Exception as exc:  # noqa: BLE001 - listing goes on past a broken plug-in
            summary = f"cannot load: {exc}"
        print(f"{name:<16} {path:<32} {origin}\n{'':<16} claims {summary}")
    return 0


def _replay(args) -> int:
    from conformance.ops import OPS
    from conformance.registry import resolve
    from conformance.runner import replay
    impl = resolve(args.impl)
    warm_up = getattr(impl, "warm_up", None)
    if callable(warm_up):
        warm_up()
    if args.op not in OPS:
        print(f"replay: op must be one of {', '.join(OPS)}, got {args.op!r}")
        return 1
    passed, message = replay(impl, args.op, args.check, OPS[args.op].case_from_json(args.case))
    print(f"{args.impl} {args.op}.{args.check}: {message}")
    return 0 if passed else 1


def _bench(args) -> int:
    from conformance import bench
    return bench.main(args.rest)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance",
                                     description="Conformance harness for NumPy CNN layers.")
    sub = parser.add_subparsers(dest="command", required=True)

    certify = sub.add_parser("certify", help="run the suite on implementations; exit 0 only if "
                             "every claimed feature passes every check")
    certify.add_argument("impl", nargs="*", help="built-in name (" + ", ".join(BUILTIN) +
                         ") or import path package.module:object; default: every built-in")
    certify.add_argument("--profile", default=profiles.CERTIFY_DEFAULT, choices=profiles.NAMES)
    certify.add_argument("--seed", type=int, default=None, help="Hypothesis seed")
    certify.add_argument("--reports", default="reports", help="folder for NAME.md and NAME.json")
    certify.add_argument("--example-timeout", type=float, default=profiles.EXAMPLE_TIMEOUT,
                         help="seconds one generated case may run (default "
                         f"{profiles.EXAMPLE_TIMEOUT:g})")
    certify.add_argument("--check-timeout", type=float, default=profiles.CHECK_TIMEOUT,
                         help=f"seconds one check may run in all (default "
                         f"{profiles.CHECK_TIMEOUT:g})")
    certify.add_argument("--no-code-coverage", dest="code_coverage", action="store_false",
                         help="do not measure which of the implementation's code the checks ran")
    certify.add_argument("--min-coverage", type=float, metavar="PERCENT", default=None,
                         help="fail certification when less of the implementation's lines and "
                         "branches than this were executed")
    certify.add_argument("--gate", metavar="RECORD", help="also fail when a feature certified in "
                         "RECORD (e.g. certified.json) is no longer claimed or certified")
    certify.add_argument("--record", metavar="RECORD", help="write what this run certified into "
                         "RECORD (widening only; commit the diff)")
    certify.set_defaults(run=_certify)

    new = sub.add_parser("new", help="write a new implementation module that claims nothing")
    new.add_argument("name", help="module name, e.g. my_impl")
    new.add_argument("--path", default=".", help="folder to write NAME.py in (default: .)")
    new.set_defaults(run=_new)

    listing = sub.add_parser("list", help="implementations found: built-ins and plug-ins")
    listing.set_defaults(run=_list)

    replay = sub.add_parser("replay", help="run one check on one case (as printed by a failure)")
    replay.add_argument("impl")
    replay.add_argument("op")
    replay.add_argument("check")
    replay.add_argument("case", help="the case as JSON")
    replay.set_defaults(run=_replay)

    bench = sub.add_parser("bench", help="time every implementation against PyTorch",
                           add_help=False)
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    bench.set_defaults(run=_bench)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
