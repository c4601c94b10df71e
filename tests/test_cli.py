"""The command line: certify by name or import path, reports, replay, isolation from crashes."""
import json
import os
import subprocess
import sys
import textwrap

from tests.run_cli import ROOT, conformance, rows as rows_of


def test_certifies_an_implementation_outside_the_repo_by_import_path(tmp_path):
    (tmp_path / "my_layers.py").write_text(textwrap.dedent("""
        from conformance import Capabilities
        from conformance.impls import naive

        class MyLayers:
            name = "my_layers"
            capabilities = Capabilities({op: naive.capabilities.claimed(op)
                                         for op in ("conv2d", "pool2d")},
                                        max_elements=naive.capabilities.max_elements)
            conv2d_forward = staticmethod(naive.conv2d_forward)
            conv2d_backward = staticmethod(naive.conv2d_backward)
            pool2d_forward = staticmethod(naive.pool2d_forward)
            pool2d_backward = staticmethod(naive.pool2d_backward)

        layers = MyLayers()
    """))
    reports = tmp_path / "reports"
    done = conformance("certify", "my_layers:layers", "--profile", "dev", "--reports",
                       str(reports), cwd=tmp_path, extra_path=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "my_layers: CERTIFIED" in done.stdout
    report = json.loads((reports / "my_layers.json").read_text())
    assert report["certified"] and report["schema_version"] == 1
    assert {r["status"] for r in report["results"]} == {"passed", "not claimed"}
    assert "| conv2d | forward | passed |" in (reports / "my_layers.md").read_text()


def test_failure_prints_a_replay_command_that_reproduces_it(tmp_path):
    done = conformance("certify", "tests.corpus.conv_gradients:stride_ignored_in_grad_x",
                       "--profile", "dev", "--seed", "0", "--reports", str(tmp_path))
    assert done.returncode == 1
    assert "NOT CERTIFIED" in done.stdout and "conv2d NOT certified (failed grad_x" in done.stdout
    replay = next(line.split("replay: ", 1)[1] for line in done.stdout.splitlines()
                  if "replay: python -m conformance replay" in line and "grad_x" in line)
    args = replay.split(" ", 3)[3]
    again = subprocess.run(f"{sys.executable} -m conformance {args}", shell=True, cwd=ROOT,
                           capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert again.returncode == 1
    assert "grad_x[" in again.stdout and "> bound" in again.stdout


def test_crash_hang_and_flood_are_reported_and_the_run_goes_on(tmp_path):
    done = conformance("certify", "tests.hostile:exits_in_pool",
                       "tests.hostile:hangs_in_conv_backward", "tests.hostile:prints_megabytes",
                       "tests.hostile:returns_a_list", "--profile", "dev", "--example-timeout",
                       "2", "--reports", str(tmp_path))
    assert done.returncode == 1
    out = done.stdout
    assert len(out) < 200_000, "the implementation's output leaked into the report"
    rows = rows_of(tmp_path / "exits_in_pool.json")
    assert rows["pool2d", "forward"]["status"] == "FAILED"
    assert "exited with code 3" in rows["pool2d", "forward"]["message"]
    assert rows["pool2d", "forward"]["replay"]
    assert rows["conv2d", "forward"]["status"] == "passed"      # checks before the crash
    assert rows["pool2d", "not_claimed"]["status"] == "not claimed"  # and after it
    rows = rows_of(tmp_path / "hangs_in_conv_backward.json")
    assert "longer than 2 s (time-out)" in rows["conv2d", "grad_x"]["message"]
    assert rows["pool2d", "forward"]["status"] == "passed"
    rows = rows_of(tmp_path / "prints_megabytes.json")
    assert not [row for row in rows.values() if row["status"] == "FAILED"], rows
    assert "prints_megabytes: CERTIFIED" in out
    rows = rows_of(tmp_path / "returns_a_list.json")
    assert "must be a numpy.ndarray, got builtins.list" in rows["pool2d", "forward"]["message"]


def test_unknown_implementation_is_a_usage_error_before_any_work(tmp_path):
    done = conformance("certify", "naive", "no_such_module:thing", "--reports", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "python -m conformance certify: error: no implementation 'no_such_module:thing': no "
        "module named 'no_such_module'; expected a known name (naive, im2col_index, "
        "im2col_strided, numba), an import path package.module:object or a file path/module.py"]
    assert "== certifying" not in done.stdout      # naive, named first, was not certified


def test_every_kind_of_hostile_implementation_fails_where_it_misbehaves(tmp_path):
    hostile = ["raises", "wrong_shape", "wrong_dtype", "returns_a_tensor", "returns_nan",
               "sleeps_forever", "segfaults"]
    done = conformance("certify", *[f"tests.hostile:{name}" for name in hostile], "--profile",
                       "dev", "--example-timeout", "2", "--reports", str(tmp_path))
    assert done.returncode == 1
    expected = {
        "raises": ("conv2d", "forward", "raised RuntimeError: internal error in conv2d_forward"),
        "wrong_shape": ("pool2d", "forward", "pool2d_forward output has shape"),
        "wrong_dtype": ("conv2d", "forward", "has dtype float16, expected"),
        "returns_a_tensor": ("pool2d", "forward", "must be a numpy.ndarray, got torch.Tensor"),
        "returns_nan": ("conv2d", "forward", "got nan"),
        "sleeps_forever": ("pool2d", "forward", "longer than 2 s (time-out)"),
        "segfaults": ("pool2d", "forward", "killed by signal SIGSEGV"),
    }
    for name, (op, check, message) in expected.items():
        rows = rows_of(tmp_path / f"{name}.json")
        assert rows[op, check]["status"] == "FAILED", name
        assert message in rows[op, check]["message"], (name, rows[op, check]["message"])
        assert rows["relu", "forward"]["status"] == "passed", name   # the run went on
