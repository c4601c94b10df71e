"""Meta-tests of the regression gate: it fails on what was certified and no longer is, and the
record only ever widens."""
import json

import pytest

from conformance import gate
from conformance.report import ImplReport
from conformance.runner import FAILED, PASSED, CheckResult


def _report(name, claims, failed=()):
    """A certification of ``name`` claiming ``claims`` {op: features}, every claimed feature
    exercised by a forward check, which failed for the ops in ``failed``."""
    results = [CheckResult(name, op, "forward", FAILED if op in failed else PASSED, examples=1,
                           features=sorted(features)) for op, features in claims.items()]
    return ImplReport(name, name, "ci", {op: sorted(f) for op, f in claims.items()}, results)


@pytest.fixture
def record(tmp_path):
    path = tmp_path / "certified.json"
    path.write_text(json.dumps({"schema_version": 1, "implementations": {
        "mine": {"relu": ["float64", "noncontiguous"]}}}))
    return path


def test_gate_passes_what_still_holds_and_ignores_unrecorded_implementations(record):
    reports = [_report("mine", {"relu": {"float64", "noncontiguous", "float32"}}),
               _report("other", {"relu": {"float64"}}, failed={"relu"})]
    assert gate.regressions(gate.load(record), reports) == []


def test_gate_fails_on_a_dropped_claim_and_on_a_failed_op(record):
    dropped = gate.regressions(gate.load(record), [_report("mine", {"relu": {"float64"}})])
    assert dropped == ["mine: relu no longer claims noncontiguous"]
    failed = gate.regressions(gate.load(record), [
        _report("mine", {"relu": {"float64", "noncontiguous"}}, failed={"relu"})])
    assert failed == ["mine: relu was certified for float64, noncontiguous; now failed forward"]
    gone = gate.regressions(gate.load(record), [_report("mine", {"tanh": {"float64"}})])
    assert gone == ["mine: relu no longer claims float64, noncontiguous",
                    "mine: relu was certified for float64, noncontiguous; now not certified"]


def test_record_refuses_to_narrow_and_leaves_the_file_unchanged(record):
    before = record.read_text()
    with pytest.raises(ValueError, match="refusing to narrow"):
        gate.record(record, [_report("mine", {"relu": {"float64"}})])
    assert record.read_text() == before


def test_record_widens_and_adds_implementations(record):
    changes = gate.record(record, [_report("mine", {"relu": {"float64", "noncontiguous"},
                                                    "tanh": {"float32"}}),
                                   _report("new", {"sigmoid": {"float64"}})])
    assert len(changes) == 2
    assert gate.load(record) == {"mine": {"relu": ["float64", "noncontiguous"],
                                          "tanh": ["float32"]},
                                 "new": {"sigmoid": ["float64"]}}


def test_record_of_another_schema_is_refused(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"schema_version": 0, "implementations": {}}))
    with pytest.raises(ValueError, match="schema_version must be 1"):
        gate.load(path)


def _conv_report(limits):
    claims = {"conv2d": {"float64", "stride"}}
    report = _report("mine", claims)
    return ImplReport("mine", "mine", "ci", report.capabilities, report.results,
                      limits={"conv2d": sorted(limits)})


def test_a_limit_added_narrows_the_certificate_and_one_removed_widens_it(tmp_path):
    path = tmp_path / "certified.json"
    gate.record(path, [_conv_report({"square_input"})])
    assert gate.load(path) == {"mine": {"conv2d": ["float64", "limit:square_input", "stride"]}}
    narrowed = gate.regressions(gate.load(path), [_conv_report({"square_input", "batch_one"})])
    assert narrowed == ["mine: conv2d is now limited to batch_one"]
    with pytest.raises(ValueError, match="refusing to narrow"):
        gate.record(path, [_conv_report({"square_input", "batch_one"})])
    assert gate.regressions(gate.load(path), [_conv_report(set())]) == []
    gate.record(path, [_conv_report(set())])
    assert gate.load(path) == {"mine": {"conv2d": ["float64", "stride"]}}


def test_a_record_may_say_rectangular_for_every_rectangular_feature(tmp_path):
    path = tmp_path / "certified.json"
    path.write_text(json.dumps({"schema_version": 1, "implementations": {
        "mine": {"pool2d": ["float64", "max", "stride", "rectangular"]}}}))
    assert gate.load(path)["mine"]["pool2d"] == [
        "float64", "max", "rectangular_kernel", "rectangular_stride", "stride"]
    path.write_text(json.dumps({"schema_version": 1, "implementations": {
        "mine": {"pool2d": ["float64", "limit:same_padding"]}}}))
    with pytest.raises(gate.RecordError, match=r"unknown pool2d features \['limit:same_padding'\]"):
        gate.load(path)
