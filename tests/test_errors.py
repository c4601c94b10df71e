"""Every bad input of every subcommand: one line on stderr, exit code 2, no traceback, no work."""
import json

import pytest

from tests.run_cli import HOSTILE_IMPORTS, conformance, usage_error

CONV = {"batch": 1, "channels": 1, "height": 3, "width": 1, "filters": 1, "kernel": [1, 1],
        "stride": [2, 1], "padding": [0, 0], "dilation": [1, 1], "groups": 1, "bias": False,
        "dtype": "float64", "layout": "contiguous", "magnitude": 0, "seed": 0}
RELU = {"shape": [2, 3], "dtype": "float64", "layout": "contiguous", "magnitude": 0, "seed": 0}


def _case(base, **changes):
    return json.dumps({k: v for k, v in dict(base, **changes).items() if v is not None})


@pytest.mark.parametrize("op, check, case, message", [
    ("conv2d", "grad_x", '{"batch": 1,', "CASE is not valid JSON (Expecting property name"),
    ("conv2d", "grad_x", "[1, 2]", "a case is a JSON object, got list"),
    ("conv2d", "grad_x", _case(CONV, seed=None), "missing conv2d case field(s) ['seed']"),
    ("conv2d", "grad_x", _case(CONV, colour="red"), "unknown conv2d case field(s) ['colour']"),
    ("conv2d", "grad_x", _case(CONV, batch="1"), "case field 'batch' must be int, got '1'"),
    ("conv2d", "grad_x", _case(CONV, stride=[2]), "case field 'stride' must be tuple[int, int]"),
    ("conv2d", "grad_x", _case(CONV, bias=0), "case field 'bias' must be bool, got 0"),
    ("conv2d", "grad_x", _case(CONV, dtype="float16"), "'dtype' must be 'float32' or 'float64'"),
    ("conv2d", "grad_x", _case(CONV, layout="diagonal"), "'layout' must be one of"),
    ("relu", "forward", _case(RELU, axis=1), "unknown relu case field(s) ['axis']"),
    ("conv3d", "forward", _case(CONV), "unknown op 'conv3d'; known: batchnorm2d, conv2d"),
    ("conv2d", "grad_y", _case(CONV), "unknown check 'grad_y' for conv2d"),
    ("conv2d", "error_inputs", _case(CONV), "check 'error_inputs' of conv2d runs a fixed list"),
])
def test_replay_refuses_a_bad_case_op_or_check(capsys, op, check, case, message):
    line = usage_error(capsys, "replay", "naive", op, check, case)
    assert line.startswith("python -m conformance replay: error: ") and message in line


def test_replay_refuses_an_unknown_implementation(capsys):
    line = usage_error(capsys, "replay", "no_such_module:impl", "relu", "forward", _case(RELU))
    assert "no implementation 'no_such_module:impl': no module named 'no_such_module'" in line


def test_replay_reports_an_implementation_that_cannot_be_imported_or_crashes():
    failed = conformance("replay", str(HOSTILE_IMPORTS / "raises_on_import.py"), "relu",
                         "forward", _case(RELU))
    assert failed.returncode == 1 and "could not import: raised RuntimeError" in failed.stdout
    pool = ('{"batch":1,"channels":1,"height":2,"width":2,"mode":"max","kernel":[1,1],'
            '"stride":[1,1],"padding":[0,0],"dtype":"float64","layout":"contiguous",'
            '"ties":false,"magnitude":0,"seed":0}')
    crashed = conformance("replay", "tests.hostile:segfaults", "pool2d", "forward", pool)
    assert crashed.returncode == 1
    assert ("tests.hostile:segfaults pool2d.forward: the process running it killed by signal "
            "SIGSEGV") in crashed.stdout


@pytest.mark.parametrize("args, message", [
    (["--profile", "fast"], "argument --profile: invalid choice: 'fast'"),
    (["-j", "0"], "argument -j/--jobs: expected a positive number, got '0'"),
    (["--example-timeout", "-1"], "argument --example-timeout: expected a positive number"),
    (["--import-timeout", "soon"], "argument --import-timeout: expected a positive number"),
    (["tests.hostile:no_such_thing"], "no implementation 'tests.hostile:no_such_thing': "
     "'tests.hostile' has no 'no_such_thing'"),
    ([str(HOSTILE_IMPORTS / "missing.py")], "file '" + str(HOSTILE_IMPORTS / "missing.py") +
     "' does not exist"),
    ([str(HOSTILE_IMPORTS / "*.txt")], "pattern '" + str(HOSTILE_IMPORTS / "*.txt") +
     "' holds no implementation module (*.py)"),
])
def test_certify_refuses_bad_arguments(capsys, tmp_path, args, message):
    line = usage_error(capsys, "certify", *args, "--reports", str(tmp_path / "r"))
    assert message in line
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_certify_refuses_an_empty_folder_and_a_module_name_taken_by_another(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    assert "folder '" + str(tmp_path / "empty") + "' holds no implementation module" in \
        usage_error(capsys, "certify", str(tmp_path / "empty"), "--reports", str(tmp_path))
    (tmp_path / "os.py").write_text("capabilities = None\n")
    assert "module name 'os' is taken by" in usage_error(
        capsys, "certify", str(tmp_path / "os.py"), "--reports", str(tmp_path))


def test_certify_refuses_a_reports_folder_it_cannot_write(capsys, tmp_path):
    (tmp_path / "a_file").write_text("")
    line = usage_error(capsys, "certify", "naive", "--reports", str(tmp_path / "a_file"))
    assert line.endswith(f"--reports {tmp_path / 'a_file'}: is a file, not a folder")
    line = usage_error(capsys, "certify", "naive", "--reports", str(tmp_path / "a_file" / "r"))
    assert line.endswith(f"--reports {tmp_path / 'a_file' / 'r'}: cannot write there: Not a "
                         f"directory")


def test_certify_refuses_a_record_it_could_not_write(capsys, tmp_path):
    line = usage_error(capsys, "certify", "naive", "--record", str(tmp_path / "no" / "c.json"),
                       "--reports", str(tmp_path / "r"))
    assert line.endswith(f"folder '{tmp_path / 'no'}' does not exist")
    assert not (tmp_path / "r").exists()


def test_new_refuses_a_missing_folder_an_existing_file_and_a_bad_name(capsys, tmp_path):
    assert usage_error(capsys, "new", "layers", "--path", str(tmp_path / "missing")).endswith(
        f"--path {tmp_path / 'missing'}: no such folder")
    (tmp_path / "layers.py").write_text("")
    assert "layers.py exists; choose another NAME or --path" in usage_error(
        capsys, "new", "layers", "--path", str(tmp_path))
    assert "NAME must be a Python identifier" in usage_error(
        capsys, "new", "my-layers", "--path", str(tmp_path))
    assert not (tmp_path / "missing").exists()


def test_unknown_subcommands_and_options_are_argparse_usage_errors(capsys):
    assert "invalid choice: 'certfy'" in usage_error(capsys, "certfy")
    assert "unrecognized arguments: --colour" in usage_error(capsys, "list", "--colour")
    assert "the following arguments are required: check, case" in usage_error(
        capsys, "replay", "naive", "relu")
