"""Everything that touches an implementation runs in a child process, under a time limit, so an
implementation that crashes, hangs or floods the terminal anywhere (import, warm-up, a check)
fails where that happened and the run goes on.

``probe`` imports an implementation in a child and reports its name and claims; ``run_isolated``
certifies it: a worker imports it, warms it up and runs the checks from a given position, sending
each result through a pipe. When the worker dies or a step runs past its time limit, the parent
records that check as FAILED and starts a fresh worker at the next check. ``replay_isolated``
runs one check on one case. The supervising process never imports the implementation.

Time limits (seconds; each can be changed on the command line):

import     60   interpreter start-up, the harness's imports and the implementation's import
warm-up   300   the implementation's ``warm_up()``; the built-in Numba implementation compiles
                its kernels there: under 1 s from its compile cache, about 70 s cold on a
                loaded 2-core machine
example    20   one generated case (a hang, not a slow implementation)
check     600   one whole check, whatever happens inside
"""
from __future__ import annotations

import faulthandler
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from conformance.profiles import (CERTIFY_DEFAULT, CHECK_TIMEOUT, EXAMPLE_TIMEOUT, IMPORT_TIMEOUT,
                                  WARM_UP_TIMEOUT)


@dataclass(frozen=True)
class Limits:
    """Seconds each step may take before it counts as hung."""
    import_timeout: float = IMPORT_TIMEOUT
    warm_up_timeout: float = WARM_UP_TIMEOUT
    example_timeout: float = EXAMPLE_TIMEOUT
    check_timeout: float = CHECK_TIMEOUT


@dataclass
class Probe:
    """What a child process found when it imported ``spec``: its name and claims, or why not.

    ``unknown`` is set when ``spec`` names nothing (the caller's mistake); ``error`` when the
    implementation exists but could not be imported (its own failure); ``output`` holds the end
    of what the child printed.
    """
    spec: str
    name: str | None = None
    capabilities: dict[str, list[str]] | None = None
    max_elements: int | None = None        # the declared size limit (Capabilities)
    limits: dict[str, list[str]] | None = None  # the declared domain limits (Capabilities)
    error: str | None = None
    unknown: str | None = None
    output: str = ""


class CouldNotStart(Exception):
    """Import or warm-up failed or timed out: nothing of the implementation could be checked."""

    def __init__(self, reason: str, output: str = ""):
        super().__init__(reason)
        self.reason, self.output = reason, output


class Stopped(Exception):
    """The run was interrupted (``stop_all``)."""


# --- in the child -------------------------------------------------------------------------------

def _silence(output_path: str) -> None:
    """Send the implementation's prints to a file, never into the parent's terminal or the pipe;
    a fatal signal writes the Python stack there too."""
    with open(output_path, "ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
    faulthandler.enable()


def _load(conn, spec: str):
    """Import the implementation and report ("imported", name, claims); None if it failed."""
    from conformance.registry import UnknownImplementation, resolve
    try:
        impl = resolve(spec)
    except UnknownImplementation as exc:
        conn.send(("unknown", str(exc)))
        return None
    except BaseException as exc:  # noqa: BLE001 - whatever the module does is its failure
        conn.send(("failed", _describe(exc)))
        return None
    conn.send(("imported", str(getattr(impl, "name", spec)), impl.capabilities.to_dict(),
               getattr(impl.capabilities, "max_elements", None),
               getattr(impl.capabilities, "limits_dict", dict)()))
    return impl


def _describe(exc: BaseException) -> str:
    from conformance.runner import describe_exception
    return describe_exception(exc)


def _warm_up(conn, impl) -> bool:
    warm_up = getattr(impl, "warm_up", None)
    if not callable(warm_up):
        return True
    conn.send(("phase", "warm_up"))
    try:
        warm_up()
    except BaseException as exc:  # noqa: BLE001
        conn.send(("failed", _describe(exc)))
        return False
    return True


def _probe_child(conn, spec: str, output_path: str) -> None:
    _silence(output_path)
    _load(conn, spec)


def _check_child(conn, spec: str, profile: str, seed, start: int, example_timeout: float,
                 output_path: str, coverage_folder: str | None = None) -> None:
    _silence(output_path)
    from conformance import runner
    from conformance.code_coverage import Measurement
    from conformance.registry import import_path
    from conformance.suite import all_tasks
    measurement = None
    if coverage_folder:
        measurement = Measurement(import_path(spec).partition(":")[0], coverage_folder)
    _measure(measurement, "start")
    impl = _load(conn, spec)
    _measure(measurement, "stop")
    if impl is None or not _warm_up(conn, impl):   # warm-up is not measured: it may run every
        return                                      # path on purpose
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


def _replay_child(conn, spec: str, op: str, check: str, case_json: str) -> None:
    # Prints go to the terminal: replay is for looking at one case closely.
    faulthandler.enable()
    from conformance.ops import OPS
    from conformance.runner import replay
    impl = _load(conn, spec)
    if impl is None or not _warm_up(conn, impl):
        return
    conn.send(("start", 0))
    conn.send(("replayed", *replay(impl, op, check, OPS[op].case_from_json(case_json))))


# --- in the parent ------------------------------------------------------------------------------

_STOP = threading.Event()
_CHILDREN: set = set()
_CHILDREN_LOCK = threading.Lock()


def stop_all() -> None:
    """Kill every child process and make every supervising call raise Stopped (on Ctrl-C)."""
    with _CHILDREN_LOCK:
        _STOP.set()
        for process in _CHILDREN:
            process.kill()


class _Child:
    """A child process running ``target(conn, *args)``, and the pipe it reports on."""

    def __init__(self, target, *args):
        context = multiprocessing.get_context("spawn")
        self.conn, child_end = context.Pipe(duplex=False)
        self.process = context.Process(target=target, args=(child_end, *args), daemon=True)
        with _CHILDREN_LOCK:
            if _STOP.is_set():
                raise Stopped()
            self.process.start()
            _CHILDREN.add(self.process)
        child_end.close()

    def receive(self, seconds: float) -> tuple:
        """The next message; ("timeout",) after ``seconds`` (the child is killed then);
        ("died", why) if the child ended."""
        if not self.conn.poll(max(0.0, seconds)):
            self.process.kill()
            return ("timeout",)
        try:
            return self.conn.recv()
        except EOFError:
            self.process.join(5)
            if _STOP.is_set():
                raise Stopped() from None
            return ("died", _exit_reason(self.process.exitcode))

    def __enter__(self):
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        """Let a child that has finished exit; kill it at once if the parent is leaving early
        (Ctrl-C)."""
        if error_type is None:
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()
        with _CHILDREN_LOCK:
            _CHILDREN.discard(self.process)


def _exit_reason(code) -> str:
    if code is not None and code < 0:
        return f"killed by signal {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _tail(path: str, lines: int = 12) -> str:
    """The end of what the child printed; after a fatal signal, the start of the stack that
    faulthandler wrote (innermost call first) instead."""
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - 8000))
        text = f.read().decode(errors="replace").strip()
    fatal = text.rfind("Fatal Python error")
    if fatal >= 0:
        return "\n".join(text[fatal:].splitlines()[:lines])
    return "\n".join(text.splitlines()[-lines:])[-1500:]


_STEP_NAMES = {"import": ("import", "could not import"),
               "warm_up": ("warm-up", "could not warm up"),
               "between": ("the harness between checks", "could not go on")}


def _why(step: str, message: tuple, limit: float) -> str:
    """One line: why ``step`` (import, warm_up or between) did not complete."""
    timed_out, failed = _STEP_NAMES[step]
    if message[0] == "timeout":
        return f"{timed_out} timed out after {limit:g} s"
    return f"{failed}: {message[1]}"


class _Steps:
    """The parent's view of a child: which step it is in and until when that step may run."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.enter("import")

    def enter(self, step: str) -> None:
        self.step = step
        self.limit = {"import": self.limits.import_timeout,
                      "warm_up": self.limits.warm_up_timeout,
                      "case": self.limits.example_timeout}.get(step, self.limits.check_timeout)
        self.deadline = time.monotonic() + self.limit

    def follow(self, message: tuple) -> None:
        if message[0] == "phase":
            self.enter(message[1])
        elif message[0] in ("imported", "tasks", "result"):
            self.enter("between")

    def left(self) -> float:
        return self.deadline - time.monotonic()


def probe(spec: str, import_timeout: float = IMPORT_TIMEOUT) -> Probe:
    """Import ``spec`` in a child process; its name and claims, or why it could not be imported."""
    with tempfile.TemporaryDirectory() as tmp:
        output = os.path.join(tmp, "output")
        open(output, "wb").close()
        with _Child(_probe_child, spec, output) as child:
            message = child.receive(import_timeout)
        if message[0] == "imported":
            return Probe(spec, name=message[1], capabilities=message[2], max_elements=message[3],
                         limits=message[4])
        if message[0] == "unknown":
            return Probe(spec, unknown=message[1])
        return Probe(spec, error=_why("import", message, import_timeout), output=_tail(output))


def run_isolated(spec: str, profile: str = CERTIFY_DEFAULT, seed=None, on_result=None,
                 limits: Limits = Limits(), coverage_folder: str | None = None) -> list:
    """Run every check of ``spec`` in worker processes; return the CheckResults in plan order.

    Raises CouldNotStart when the implementation cannot be imported or warmed up. When that
    happens on a restart after a crash, the checks left are FAILED as not run. With
    ``coverage_folder``, each worker measures the implementation's code with coverage.py and
    writes its data there (see conformance.code_coverage).
    """
    from conformance.ops import OPS
    from conformance.runner import FAILED, CheckResult, replay_command

    results: dict[int, CheckResult] = {}
    tasks: list[tuple[str, str]] | None = None

    def record(index: int, result: CheckResult) -> None:
        results[index] = result
        if on_result:
            on_result(result)

    start = 0
    with tempfile.TemporaryDirectory() as tmp:
        output = os.path.join(tmp, "output")
        open(output, "wb").close()
        while tasks is None or start < len(tasks):
            steps, current, case = _Steps(limits), None, None
            with _Child(_check_child, spec, profile, seed, start, limits.example_timeout,
                        output, coverage_folder) as child:
                while True:
                    message = child.receive(steps.left())
                    steps.follow(message)
                    if message[0] == "tasks":
                        tasks = message[1]
                    elif message[0] == "start":
                        current, case = message[1], None
                        steps.enter("check")
                    elif message[0] == "case":
                        case = message[1]
                    elif message[0] == "result":
                        record(message[1], CheckResult(**message[2]))
                        current = None
                    elif message[0] not in ("imported", "phase"):
                        break
            if message[0] == "done":
                break
            detail = _tail(output)
            if steps.step != "check":
                reason = _why(steps.step, message, steps.limit)
                if tasks is None:
                    raise CouldNotStart(reason, detail)
                for index in range(start, len(tasks)):   # a restart after a crash failed
                    op, check = tasks[index]
                    record(index, CheckResult(spec, op, check, FAILED, message=(
                        f"not run: {reason} (restarting after an earlier check crashed)")))
                break
            why = (f"timed out after {steps.limit:.0f} s" if message[0] == "timeout" else
                   f"the process running it {message[1]}")
            op, check = tasks[current]
            failed = CheckResult(spec, op, check, FAILED, case=case, message=(
                f"{why} while running this check" + (f"; last output: {detail[-500:]}"
                                                     if detail else "")))
            if case is not None:
                failed.replay = replay_command(spec, op, check, OPS[op].case_from_json(case))
            record(current, failed)
            start = current + 1
    return [results[i] for i in sorted(results)]


def replay_isolated(spec: str, op: str, check: str, case_json: str,
                    limits: Limits = Limits()) -> tuple[bool | None, str]:
    """Run one check on one case in a child process: (passed, description); passed is None when
    the implementation could not be imported (``description`` says why)."""
    steps = _Steps(limits)
    with _Child(_replay_child, spec, op, check, case_json) as child:
        while True:
            message = child.receive(steps.left())
            steps.follow(message)
            if message[0] == "start":
                steps.enter("case")
            elif message[0] not in ("imported", "phase"):
                break
    sys.stdout.flush()
    if message[0] == "replayed":
        return message[1], message[2]
    if message[0] == "unknown":
        from conformance.registry import UnknownImplementation
        raise UnknownImplementation(message[1])
    if steps.step == "case":
        return False, (f"timed out after {steps.limit:g} s" if message[0] == "timeout"
                       else f"the process running it {message[1]}")
    return None, _why(steps.step, message, steps.limit)
