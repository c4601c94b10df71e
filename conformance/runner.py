"""Run one check of one op on one implementation, under Hypothesis, and describe the outcome.

The result records what a report needs: status, examples run, worst error as a fraction of its
bound, the features and edge cases the generated cases covered, and for a failure the shrunk case,
the worst element and a one-line replay command.
"""
from __future__ import annotations

import json
import shlex
import signal
import time
import traceback
import zlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from hypothesis import example, given, reject, seed as hypothesis_seed, settings
from hypothesis.errors import UnsatisfiedAssumption

# The op records import torch on first use; here it is imported before any example is timed.
import conformance.reference.torch_oracle  # noqa: F401
from conformance import profiles, sizes
from conformance.cases import case_to_json
from conformance.error_map import render, render_from_dict
from conformance.illustrate import grown_failure
from conformance.ops import OPS
from conformance.registry import pasteable
from conformance.suite import CheckSpec, find_check

PASSED, FAILED, NOT_CLAIMED = "passed", "FAILED", "not claimed"
# After a failure, searches for failures of other bugs (see _more_failures).
MORE_ROUNDS = 3


class ExampleTimeout(BaseException):
    """One example ran past its time limit. A BaseException, so Hypothesis stops at once instead
    of shrinking by re-running the hanging code."""


def _raise_timeout(signum, frame):
    raise ExampleTimeout()


@contextmanager
def _time_limit(seconds):
    """Raise ExampleTimeout in this (main) thread after ``seconds``; no limit when None."""
    if not seconds:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class CheckResult:
    impl: str
    op: str
    check: str
    status: str
    examples: int = 0
    invalid: int = 0
    worst_ratio: float = 0.0
    seconds: float = 0.0
    message: str = ""
    case: str | None = None          # the shrunk failing case, as JSON
    mismatch: dict | None = None     # the worst element of the failing case
    error_map: dict | None = None    # its elements over bound (conformance.error_map.ErrorMap)
    grown_error_map: dict | None = None  # the same on the case grown (conformance.illustrate),
    #                                      with that "case" and its "replay" command
    replay: str | None = None
    first_failure_example: int | None = None     # examples generated until the first failure
    first_failure_seconds: float | None = None   # seconds until the first failure
    features: list[str] = field(default_factory=list)
    edge_cases: dict[str, int] = field(default_factory=dict)
    # {tier: {"cases": n, "worst_ratio": r}}: passed cases per size tier (see conformance.sizes)
    tiers: dict[str, dict] = field(default_factory=dict)
    largest_elements: int = 0        # elements of the largest array of any case run
    longest_reduction: int = 0       # most products summed into one element, over all cases
    beyond_limit: int = 0            # cases not run: larger than the declared max_elements
    # Failures of other bugs, each found without the features of the failures before it:
    # [{"message", "case", "replay", "error_map", "excluded": [feature, ...]}]
    more_failures: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def describe_failure(self) -> str:
        lines = [f"{self.impl} {self.op}.{self.check} FAILED: {self.message}"]
        if self.case:
            lines.append(f"  case:   {self.case}")
        if self.replay:
            lines.append(f"  replay: {self.replay}")
        lines += [f"  {line}" for line in self.map_lines()]
        for more in self.more_failures:
            lines += [f"  {also_failed(more)}", f"    case:   {more['case']}",
                      f"    replay: {more['replay']}"]
            lines += [f"    {line}" for line in render_from_dict(more["error_map"])]
        return "\n".join(lines)

    def map_lines(self) -> list[str]:
        """The failing case's error map and, where there is one, the grown case's."""
        lines = render_from_dict(self.error_map)
        if self.grown_error_map:
            case = json.loads(self.grown_error_map["case"])
            grown = render_from_dict(self.grown_error_map)
            lines += [f"grown to {case['height']}x{case['width']} input, {grown[0]}", *grown[1:],
                      f"replay grown: {self.grown_error_map['replay']}"]
        return lines


def also_failed(more: dict) -> str:
    """The heading line of a further failure (CheckResult.more_failures)."""
    return f"also failed without {', '.join(more['excluded'])}: {more['message']}"


def replay_command(impl_spec: str, op: str, check: str, case) -> str:
    """The shell command that reruns one case; it works pasted into a shell in the folder the
    run started from (see registry.pasteable for the import path it carries)."""
    root, spec = pasteable(impl_spec)
    # Prepended to the caller's PYTHONPATH, which may be where the harness itself is found.
    prefix = f'PYTHONPATH={shlex.quote(root)}:"$PYTHONPATH" ' if root else ""
    return (prefix + "python -m conformance replay " + " ".join(shlex.quote(a) for a in (
        spec, op, check, case_to_json(case))))


def describe_exception(exc: BaseException) -> str:
    """One line for a failure: the check's own message, or where the implementation raised."""
    from conformance.checks import CheckFailure
    from conformance.ops import ContractViolation
    if isinstance(exc, (CheckFailure, ContractViolation)):
        return str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"raised {type(exc).__name__}: {exc}{where}"


def _derived_seed(op: str, check: str, tier: str = sizes.SMALL) -> int:
    """The ci profile's seed: fixed per check (and size tier), whatever else the run holds."""
    name = f"{op}.{check}" if tier != sizes.LARGE else f"{op}.{check}.{tier}"
    return zlib.crc32(name.encode())


def run_check(impl, impl_spec: str, op_name: str, check_name: str,
              profile: str = profiles.PYTEST_DEFAULT,
              seed: int | None = None, example_timeout: float | None = None,
              on_case=None) -> CheckResult:
    """Run one check; never raises for a misbehaving implementation (that is a FAILED result).

    example_timeout (seconds, main thread only) fails the check when one example runs longer;
    on_case(case_json) is called before each example, so a supervisor knows which case was
    running if the process dies.
    """
    op = OPS[op_name]
    spec = find_check(op_name, check_name)
    claimed = op.claimed(impl.capabilities)
    result = CheckResult(getattr(impl, "name", impl_spec), op_name, check_name, NOT_CLAIMED)
    start = time.perf_counter()
    if spec.fixed is not None:
        _run_fixed(impl, op, spec, claimed, result, example_timeout)
    else:
        allowed = spec.allowed(claimed)
        if allowed is not None:
            _run_property(impl, impl_spec, op, spec, allowed, profile, seed, result,
                          example_timeout, on_case)
    result.seconds = round(time.perf_counter() - start, 3)
    return result


def _run_fixed(impl, op, spec: CheckSpec, claimed, result: CheckResult,
               example_timeout=None) -> None:
    if (not claimed and spec.name != "not_claimed") or not spec.required <= claimed:
        return
    start = time.perf_counter()
    try:
        with _time_limit(example_timeout):
            outcome = spec.fixed(impl, op, claimed)
    except ExampleTimeout:
        result.status = FAILED
        result.message = f"a call ran longer than {example_timeout:g} s (time-out)"
        return
    except Exception as exc:  # noqa: BLE001
        result.status, result.message = FAILED, describe_exception(exc)
        return
    result.examples = outcome.examples
    if outcome.failures:
        result.status, result.message = FAILED, "; ".join(outcome.failures)
        # The fixed list runs whole: its first failure is known only at the end.
        result.first_failure_example = outcome.examples
        result.first_failure_seconds = round(time.perf_counter() - start, 3)
    elif outcome.examples:
        result.status = PASSED
        result.features = sorted(spec.required)   # e.g. validation, exercised by the list


def _run_property(impl, impl_spec, op, spec: CheckSpec, allowed, profile, seed,
                  result: CheckResult, example_timeout=None, on_case=None) -> None:
    features: set[str] = set()
    edges: Counter = Counter()
    state = {"failing": None, "examples": 0, "invalid": 0, "worst": 0.0}
    limit = getattr(impl.capabilities, "max_elements", None)
    limits = op.declared_limits(impl.capabilities)
    start = time.perf_counter()

    def run_one(case):
        if not sizes.within(limit, op, case):
            result.beyond_limit += 1
            reject()
        state["examples"] += 1
        state["current"] = case
        features.update(op.features_of(case))
        edges.update(op.edge_cases_of(case) | sizes.size_marks(op, case))
        if on_case:
            on_case(case_to_json(case))
        try:
            with _time_limit(example_timeout):
                ratio = spec.property(impl, op, case)
        except UnsatisfiedAssumption:
            state["invalid"] += 1
            raise
        except Exception as exc:
            state["failing"] = (case, exc)
            if result.first_failure_example is None:
                result.first_failure_example = state["examples"]
                result.first_failure_seconds = round(time.perf_counter() - start, 3)
            raise
        state["worst"] = max(state["worst"], ratio)
        _count_size(result, op, case, ratio)

    def search(allowed_now) -> None:
        """The generated tiers, then real layer shapes, on ``allowed_now``; raises the shrunk
        failure (its case in state["failing"])."""
        state["failing"] = None
        for property_ in _properties(op, spec, allowed_now, limits, profile, seed, run_one):
            property_()
        # Real layer shapes after the generated cases, so that a bug any case shows is reported
        # with a shrunk case; these catch what only a realistic size shows.
        real = profiles.real_layers(profile)
        for case in (_within(op, sizes.real_layers(op.name, allowed_now, spec.required,
                                                   spec.tier, spec.special),
                             limits, allowed_now, spec.required) if real else ()):
            if sizes.within(limit, op, case):
                run_one(case)
            else:
                result.beyond_limit += 1

    try:
        search(allowed)
        result.status = PASSED
    except ExampleTimeout:
        result.status = FAILED
        result.first_failure_example = state["examples"]
        result.first_failure_seconds = round(time.perf_counter() - start, 3)
        result.message = (f"one example ran longer than {example_timeout:g} s (time-out); an "
                          "implementation too slow for large cases can declare "
                          "Capabilities(..., max_elements=N)")
        result.case = case_to_json(state["current"])
        result.replay = replay_command(impl_spec, op.name, spec.name, state["current"])
    except Exception as exc:  # noqa: BLE001 - Hypothesis re-raises the shrunk failure
        result.status = FAILED
        case, failure = state["failing"] or (None, exc)
        found = _failure(impl_spec, op, spec, case, failure)
        result.message, result.case, result.replay = (found["message"], found["case"],
                                                      found["replay"])
        result.error_map = found["error_map"]
        mismatch = getattr(failure, "mismatch", None)
        if mismatch is not None:
            result.mismatch = asdict(mismatch)
            result.worst_ratio = mismatch.ratio
        if case is not None and result.error_map is not None:
            try:
                with _time_limit(example_timeout):
                    grown = grown_failure(spec, impl, op, case, failure.error_map.shape)
            except ExampleTimeout:
                grown = None
            if grown is not None:
                result.grown_error_map = dict(
                    grown[1].to_dict(), case=case_to_json(grown[0]),
                    replay=replay_command(impl_spec, op.name, spec.name, grown[0]))
        if case is not None:
            result.more_failures = _more_failures(search, state, impl_spec, op, spec, allowed,
                                                  case)
    result.examples = state["examples"] - state["invalid"]
    result.invalid = state["invalid"]
    if result.status == PASSED:
        result.worst_ratio = state["worst"]
    # A feature every case of this check relies on (e.g. backward) is exercised by it.
    result.features = sorted(features | spec.required)
    result.edge_cases = dict(sorted(edges.items()))


def _properties(op, spec: CheckSpec, allowed, limits, profile, seed, run_one) -> list:
    """One Hypothesis test of ``run_one`` per size tier, with the profile's settings and seed
    and, below the large tier, the record's corner cases first."""
    base = profiles.get(profile)
    runs = []
    for tier, examples in sizes.tier_runs(base.max_examples, spec.tier, op):
        property_ = settings(base, max_examples=examples)(given(
            op.strategy(allowed, spec.required, tier, spec.special, limits))(run_one))
        if tier != sizes.LARGE:
            for corner in _within(op, op.corner_cases(allowed, spec.required), limits, allowed,
                                  spec.required):
                property_ = example(corner)(property_)
        tier_seed = seed
        if seed is None and profiles.derandomized(profile):
            tier_seed = _derived_seed(op.name, spec.name, tier)
        if tier_seed is not None:
            property_ = hypothesis_seed(tier_seed)(property_)
        runs.append(property_)
    return runs


def _failure(impl_spec, op, spec: CheckSpec, case, failure) -> dict:
    """What a report shows of one shrunk failure: message, case, replay command, error map."""
    error_map = getattr(failure, "error_map", None)
    return {"message": describe_exception(failure),
            "case": None if case is None else case_to_json(case),
            "replay": None if case is None else replay_command(impl_spec, op.name, spec.name,
                                                               case),
            "error_map": None if error_map is None else error_map.to_dict()}


def distinguishing(op, spec: CheckSpec, allowed: frozenset, case) -> frozenset[str]:
    """The features of a shrunk failing case that set it apart from the simplest case the
    check could run: the optional features it uses, and the options of a choice group (dtype,
    pool mode) other than the group's first allowed one (which shrinking prefers). Excluding
    them leaves the cases where the same bug cannot show."""
    used = op.features_of(case) & allowed
    found = set()
    for feature in used - spec.required:
        group = next((g for g in op.choices if feature in g), None)
        if group is None or feature != next(f for f in group if f in allowed):
            found.add(feature)
    return frozenset(found)


def _more_failures(search, state, impl_spec, op, spec: CheckSpec, allowed, case) -> list[dict]:
    """Failures of other bugs: the search again without the distinguishing features of each
    failure found so far (cumulatively), up to MORE_ROUNDS times; it stops when no feature is
    left to exclude, no legal case is left, the search passes or a case times out."""
    found, excluded = [], set()
    for _ in range(MORE_ROUNDS):
        new = distinguishing(op, spec, allowed, case) - excluded
        if not new:
            break
        excluded |= new
        remaining = spec.allowed(allowed - excluded)
        if remaining is None:
            break
        try:
            search(remaining)
            break
        except ExampleTimeout:
            break
        except Exception as exc:  # noqa: BLE001 - the shrunk failure of this round
            case, failure = state["failing"] or (None, exc)
            if case is None:
                break
            found.append(dict(_failure(impl_spec, op, spec, case, failure),
                              excluded=sorted(excluded)))
    return found


def _within(op, cases, limits, allowed, required) -> list:
    """``cases`` moved within the declared ``limits`` (OpRecord.restrict), those that can be."""
    moved = (op.restrict(case, limits, allowed, required) for case in cases)
    return [case for case in moved if case is not None]


def _count_size(result: CheckResult, op, case, ratio: float) -> None:
    """Record a passed case in its size tier: how many, the worst error / bound, the largest."""
    tier = result.tiers.setdefault(sizes.tier_of(op, case), {"cases": 0, "worst_ratio": 0.0})
    tier["cases"] += 1
    tier["worst_ratio"] = max(tier["worst_ratio"], ratio)
    result.largest_elements = max(result.largest_elements, sizes.largest_array(op, case))
    result.longest_reduction = max(result.longest_reduction,
                                   sizes.longest_reduction(op, case))


def replay(impl, op_name: str, check_name: str, case) -> tuple[bool, str]:
    """Run one check on one case, outside Hypothesis; return (passed, description)."""
    op = OPS[op_name]
    spec = find_check(op_name, check_name)
    if spec.property is None:
        raise ValueError(f"check {check_name!r} takes no case; run certify for it")
    start = time.perf_counter()
    try:
        ratio = spec.property(impl, op, case)
    except Exception as exc:  # noqa: BLE001
        error_map = getattr(exc, "error_map", None)
        return False, "\n".join([f"{describe_exception(exc)} ({_ms(start)})"]
                                 + (render(error_map) if error_map is not None else []))
    return True, f"passed: worst error {ratio:.3g} of its bound ({_ms(start)})"


def _ms(start: float) -> str:
    return f"case ran in {1000 * (time.perf_counter() - start):.0f} ms"
