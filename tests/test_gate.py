"""The gate is strict and found wrong before any work; the record is written atomically; exit codes
0 (certified), 1 (not certified) and 2 (usage or configuration error)."""
import json
import os
import stat

import pytest

from conformance import gate
from tests.run_cli import HOSTILE_IMPORTS, ROOT, conformance

RELU_ONLY = str(HOSTILE_IMPORTS / "relu_only.py")
RAISES = str(HOSTILE_IMPORTS / "raises_on_import.py")
RELU = ["backward", "float32", "float64", "noncontiguous", "validation"]


def _record(path, implementations, schema_version=1):
    path.write_text(json.dumps({"schema_version": schema_version,
                                "implementations": implementations}))
    return path


@pytest.mark.parametrize("content, message", [
    ("{", "not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2"),
    ("[]", "expected a JSON object, got list"),
    ('{"schema_version": 2, "implementations": {}}', "schema_version must be 1, got 2"),
    ('{"implementations": {}}', "schema_version must be 1, got None"),
    ('{"schema_version": 1}', "'implementations' must be an object"),
    ('{"schema_version": 1, "implementations": {"naive": ["conv2d"]}}',
     "implementation 'naive' must map ops to feature lists, got list"),
    ('{"schema_version": 1, "implementations": {"naive": {"conv3d": []}}}',
     "implementation 'naive': unknown op 'conv3d'"),
    ('{"schema_version": 1, "implementations": {"naive": {"conv2d": "float64"}}}',
     "implementation 'naive': conv2d must be a list of feature names, got 'float64'"),
    ('{"schema_version": 1, "implementations": {"naive": {"conv2d": ["float16"]}}}',
     "implementation 'naive': unknown conv2d features ['float16']"),
])
def test_a_malformed_record_is_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "certified.json"
    path.write_text(content)
    with pytest.raises(gate.RecordError) as error:
        gate.load(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)
    assert "\n" not in str(error.value)


def test_the_committed_record_is_valid():
    record = gate.load(ROOT / "certified.json")
    assert set(record) == {"naive", "im2col_index", "im2col_strided", "numba"}
    assert record["naive"]["network"] == ["backward", "float64"]


def test_a_missing_or_unreadable_record_is_an_error(tmp_path):
    with pytest.raises(gate.RecordError, match="no such record"):
        gate.load(tmp_path / "missing.json")
    assert gate.load(tmp_path / "missing.json", missing_ok=True) == {}
    with pytest.raises(gate.RecordError, match="cannot read the record: Is a directory"):
        gate.load(tmp_path)


def test_the_record_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    path = _record(tmp_path / "certified.json", {"naive": {"relu": ["float64"]}})
    os.chmod(path, 0o644)
    before = path.read_bytes()

    def crash(source, destination):
        raise OSError("disk full")
    monkeypatch.setattr(gate.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        gate.write_atomically(path, "half a record")
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["certified.json"]       # no temporary file left behind
    monkeypatch.undo()
    gate.write_atomically(path, "new\n")
    assert path.read_text() == "new\n" and stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["certified.json"]


def test_record_writability_is_checked_before_the_run(tmp_path):
    gate.check_writable(tmp_path / "new.json")       # a new record in an existing folder: fine
    with pytest.raises(gate.RecordError, match="does not exist"):
        gate.check_writable(tmp_path / "missing" / "certified.json")
    with pytest.raises(gate.RecordError, match="is a folder"):
        gate.check_writable(tmp_path)
    (tmp_path / "corrupt.json").write_text("{")
    with pytest.raises(gate.RecordError, match="not valid JSON"):
        gate.check_writable(tmp_path / "corrupt.json")


def test_a_missing_gate_record_stops_the_run_before_any_work(tmp_path):
    done = conformance("certify", "naive", "--gate", str(tmp_path / "missing.json"),
                       "--reports", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"python -m conformance certify: error: {tmp_path / 'missing.json'}: no such record "
        f"(create one with certify --record {tmp_path / 'missing.json'})"]
    assert done.stdout == "" and not (tmp_path / "r").exists()


def test_an_implementation_the_gate_does_not_know_stops_the_run_before_certification(tmp_path):
    record = _record(tmp_path / "certified.json", {"naive": {"relu": ["float64"]}})
    done = conformance("certify", "naive", RELU_ONLY, "--gate", str(record),
                       "--reports", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"python -m conformance certify: error: --gate {record}: the record does not know "
        f"relu_only; record it first (certify relu_only --record {record}) or leave it out of "
        f"the run"]
    assert "== certifying" not in done.stdout and not (tmp_path / "r" / "naive.json").exists()


def test_exit_codes_0_then_1_under_the_gate_and_an_atomic_record(tmp_path):
    record = tmp_path / "certified.json"
    recorded = conformance("certify", RELU_ONLY, "--profile", "dev", "--record", str(record),
                           "--reports", str(tmp_path / "r"))
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert json.loads(record.read_text()) == {"schema_version": 1, "implementations": {
        "relu_only": {"relu": RELU}}}
    assert sorted(os.listdir(tmp_path)) == ["certified.json", "r"]

    passed = conformance("certify", RELU_ONLY, "--profile", "dev", "--gate", str(record),
                         "--reports", str(tmp_path / "r"))
    assert passed.returncode == 0 and f"gate {record}: passed" in passed.stdout

    _record(record, {"relu_only": {"relu": RELU, "sigmoid": ["float64"]}, RAISES: {
        "relu": ["float64"]}})
    failed = conformance("certify", RELU_ONLY, RAISES, "--profile", "dev", "--gate", str(record),
                         "--reports", str(tmp_path / "r"))
    assert failed.returncode == 1
    assert "GATE: relu_only: sigmoid no longer claims float64" in failed.stdout
    assert (f"GATE: {RAISES}: relu was certified for float64; now could not import: raised "
            f"RuntimeError: module-level setup failed") in failed.stdout
    assert f"gate {record}: FAILED" in failed.stdout

    before = record.read_bytes()
    narrowed = conformance("certify", RELU_ONLY, "--profile", "dev", "--record", str(record),
                           "--reports", str(tmp_path / "r"))
    assert narrowed.returncode == 1 and "refusing to narrow the record" in narrowed.stdout
    assert record.read_bytes() == before
