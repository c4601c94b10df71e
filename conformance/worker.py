"""Run checks in a child process, so an implementation that crashes, hangs or floods the terminal
fails the check where that happened and the certification goes on.

The parent (``run_isolated``) starts a worker for one implementation; the worker imports it,
warms it up, and runs the checks from a given position, sending each result through a pipe. When
the worker dies or a check runs past its time-out, the parent records that check as FAILED and
starts a fresh worker at the next check.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
import time

from conformance.ops import OPS
from conformance.profiles import (CERTIFY_DEFAULT, CHECK_TIMEOUT, EXAMPLE_TIMEOUT,
                                  START_TIMEOUT)
from conformance.runner import FAILED, CheckResult, replay_command
from conformance.suite import all_tasks


def _worker(conn, spec: str, profile: str, seed, start: int, example_timeout: float,
            output_path: str, coverage_folder: str | None = None) -> None:
    # The implementation's prints go to a file, never into the parent's terminal or the pipe.
    with open(output_path, "ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
    from conformance import runner
    from conformance.code_coverage import Measurement
    from conformance.registry import import_path, resolve
    measurement = None
    if coverage_folder:
        measurement = Measurement(import_path(spec).partition(":")[0], coverage_folder)
    _measure(measurement, "start")
    impl = resolve(spec)
    _measure(measurement, "stop")
    warm_up = getattr(impl, "warm_up", None)
    if callable(warm_up):
        warm_up()   # not measured: it may run every path on purpose
    _measure(measurement, "record_unmeasured")
    tasks = all_tasks()
    conn.send(("tasks", tasks))
    for index in range(start, len(tasks)):
        conn.send(("start", index))
        op, check = tasks[index]
        _measure(measurement, "start")
        result = runner.run_check(impl, spec, op, check, profile, seed,
                                  example_timeout, on_case=lambda case: conn.send(("case", case)))
        _measure(measurement, "stop")
        _measure(measurement, "save")
        conn.send(("result", index, result.to_dict()))
    conn.send(("done",))


def _measure(measurement, action: str) -> None:
    if measurement is not None:
        getattr(measurement, action)()


def _tail(path: str, size: int = 2000) -> str:
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - size))
        return f.read().decode(errors="replace").strip()


def _exit_reason(code) -> str:
    if code is not None and code < 0:
        return f"killed by signal {signal.Signals(-code).name}"
    return f"exited with code {code}"


def run_isolated(spec: str, profile: str = CERTIFY_DEFAULT, seed=None, on_result=None,
                 example_timeout: float = EXAMPLE_TIMEOUT,
                 check_timeout: float = CHECK_TIMEOUT,
                 coverage_folder: str | None = None) -> list[CheckResult]:
    """Run every check of ``spec`` in worker processes; return the results in plan order.

    With ``coverage_folder``, each worker measures the implementation's code with coverage.py
    and writes its data there (see conformance.code_coverage)."""
    context = multiprocessing.get_context("spawn")
    results: dict[int, CheckResult] = {}
    tasks: list[tuple[str, str]] | None = None
    start = 0
    with tempfile.TemporaryDirectory() as tmp:
        output = os.path.join(tmp, "output")
        open(output, "wb").close()
        while tasks is None or start < len(tasks):
            parent, child = context.Pipe()
            process = context.Process(target=_worker, daemon=True, args=(
                child, spec, profile, seed, start, example_timeout, output, coverage_folder))
            process.start()
            child.close()
            current, case, began = None, None, time.monotonic()
            while True:
                timeout = check_timeout if current is not None else START_TIMEOUT
                if not parent.poll(max(0.0, timeout - (time.monotonic() - began))):
                    process.kill()
                    reason = f"timed out after {timeout:.0f} s"
                    break
                try:
                    message = parent.recv()
                except EOFError:
                    process.join(5)
                    reason = f"the process running it {_exit_reason(process.exitcode)}"
                    break
                if message[0] == "tasks":
                    tasks = message[1]
                elif message[0] == "start":
                    current, case, began = message[1], None, time.monotonic()
                elif message[0] == "case":
                    case = message[1]
                elif message[0] == "result":
                    results[message[1]] = CheckResult(**message[2])
                    if on_result:
                        on_result(results[message[1]])
                    current = None
                else:
                    reason = None
                    break
            process.join(5)
            if process.is_alive():
                process.kill()
            if reason is None:
                break
            detail = _tail(output)
            if tasks is None or current is None:
                # Import, warm-up or planning failed: nothing can be checked.
                raise RuntimeError(f"could not start checking {spec!r}: {reason}\n{detail}")
            op, check = tasks[current]
            failed = CheckResult(spec, op, check, FAILED, case=case, message=(
                f"{reason} while running this check" + (f"; last output: {detail[-500:]}"
                                                        if detail else "")))
            if case is not None:
                failed.replay = replay_command(spec, op, check, OPS[op].case_from_json(case))
            results[current] = failed
            if on_result:
                on_result(failed)
            start = current + 1
    return [results[i] for i in sorted(results)]
