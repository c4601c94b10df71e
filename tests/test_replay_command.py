"""A printed replay command works pasted into a shell: it carries the import path of an
implementation that lives outside the repository and outside site-packages."""
import os
import subprocess
import sys

import pytest

WRONG_RELU = '''
import numpy as np

from conformance import Capabilities

capabilities = Capabilities({"relu": {"float64"}})


def relu_forward(x):
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a floating-point numpy array, got {type(x).__name__}")
    capabilities.require("relu", x=x)
    return np.abs(x), None      # wrong: |x|, not max(x, 0)
'''


def _harness_path() -> str:
    return os.pathsep.join(p for p in sys.path if p)


@pytest.mark.parametrize("style", ["package", "file"])
def test_replay_line_runs_when_pasted(tmp_path, style):
    elsewhere, run_dir = tmp_path / "elsewhere", tmp_path / "run"
    (elsewhere / "mylayers").mkdir(parents=True)
    run_dir.mkdir()
    (elsewhere / "mylayers" / "__init__.py").write_text("")
    (elsewhere / "mylayers" / "wrong_relu.py").write_text(WRONG_RELU)
    spec = "mylayers.wrong_relu" if style == "package" else "../elsewhere/mylayers/wrong_relu.py"
    path = f"{elsewhere}{os.pathsep}{_harness_path()}" if style == "package" else _harness_path()
    certify = subprocess.run(
        [sys.executable, "-m", "conformance", "certify", spec, "--profile", "dev",
         "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, cwd=run_dir, env={"PYTHONPATH": path, "PATH": os.defpath})
    assert certify.returncode == 1, certify.stdout + certify.stderr
    line = next(line.split("replay: ", 1)[1] for line in certify.stdout.splitlines()
                if "replay: " in line and " relu forward " in line)
    # Pasted into a shell that knows only where the harness is, not where the implementation is.
    pasted = subprocess.run(
        line.replace("python -m conformance", f"{sys.executable} -m conformance", 1),
        shell=True, capture_output=True, text=True, cwd=run_dir,
        env={"PATH": os.defpath, "PYTHONPATH": _harness_path()})
    assert "no module named" not in pasted.stdout + pasted.stderr, line
    assert pasted.returncode == 1, pasted.stdout + pasted.stderr
    assert "forward" in pasted.stdout + pasted.stderr
