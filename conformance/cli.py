"""Command line: ``python -m conformance certify|replay|bench ...``."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from impls import BUILTIN


def _certify(args) -> int:
    from conformance import report as reports
    from conformance.worker import run_isolated
    specs = args.impl or list(BUILTIN)
    certified = True
    for spec in specs:
        start = time.perf_counter()
        print(f"== certifying {spec} (profile {args.profile})", flush=True)
        print(reports.TEXT_HEADER, flush=True)
        try:
            results = run_isolated(spec, args.profile, args.seed,
                                   on_result=lambda r: print(reports.result_line(r), flush=True),
                                   example_timeout=args.example_timeout,
                                   check_timeout=args.check_timeout)
        except (RuntimeError, ValueError, TypeError) as exc:
            print(f"{spec}: cannot certify: {exc}", flush=True)
            certified = False
            continue
        capabilities = _capabilities(spec)
        report = reports.ImplReport(spec, results[0].impl if results else spec, args.profile,
                                    capabilities, results, round(time.perf_counter() - start, 1))
        print(reports.render_summary(report), flush=True)
        paths = reports.write_reports(report, Path(args.reports))
        print(f"reports: {', '.join(str(p) for p in paths)}\n", flush=True)
        certified &= report.certified
    return 0 if certified else 1


def _capabilities(spec: str) -> dict[str, list[str]]:
    from conformance.registry import resolve
    return resolve(spec).capabilities.to_dict()


def _replay(args) -> int:
    from conformance.cases import case_from_json
    from conformance.registry import resolve
    from conformance.runner import replay
    impl = resolve(args.impl)
    warm_up = getattr(impl, "warm_up", None)
    if callable(warm_up):
        warm_up()
    passed, message = replay(impl, args.op, args.check, case_from_json(args.op, args.case))
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
    certify.add_argument("--profile", default="ci", choices=("dev", "ci", "thorough"))
    certify.add_argument("--seed", type=int, default=None, help="Hypothesis seed")
    certify.add_argument("--reports", default="reports", help="folder for NAME.md and NAME.json")
    certify.add_argument("--example-timeout", type=float, default=20.0,
                         help="seconds one generated case may run (default 20)")
    certify.add_argument("--check-timeout", type=float, default=600.0,
                         help="seconds one check may run in all (default 600)")
    certify.set_defaults(run=_certify)

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
