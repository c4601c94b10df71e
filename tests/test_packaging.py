"""The distribution as a user installs it.

The wheel holds one top-level package, ``conformance``: the repository's impls/ and reference/
folders install as ``conformance.impls`` and ``conformance.reference``. numba is an extra, torch
a range that holds the release CI tests (.ci/tested-versions.txt).

The test marked ``install`` builds a clean virtual environment without numba (``python -m venv``,
dependencies from the package sources pip is configured with) and certifies there an
implementation written outside the repository: first from the repository on PYTHONPATH with
only the dependencies installed, then from the installed wheel. It takes about two minutes
(`tox -e install`; `-m "not install"` leaves it out).
"""
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
TESTED_VERSIONS = ROOT / ".ci" / "tested-versions.txt"
# What a build must not copy from the checkout (work products, environments, caches).
NOT_SOURCE = shutil.ignore_patterns(".git", ".tox", ".venv", ".ci-venv", ".hypothesis", "build",
                                    "dist", "reports", "*.egg-info", "__pycache__")

OUTSIDE_IMPLEMENTATION = '''
"""relu, written outside the harness's repository."""
import numpy as np

from conformance import FEATURES, Capabilities

name = "outside_layers"
capabilities = Capabilities({"relu": FEATURES["relu"]})


def _float_array(label, value):
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{label} must be a numpy.ndarray, got {type(value).__name__}")
    if value.dtype not in (np.float32, np.float64):
        raise TypeError(f"{label}.dtype must be float32 or float64, got {value.dtype}")


def relu_forward(x):
    _float_array("x", x)
    capabilities.require("relu", x=x)
    return np.where(x > 0, x, x.dtype.type(0)), (x > 0, x.dtype)


def relu_backward(grad_out, cache):
    positive, dtype = cache
    _float_array("grad_out", grad_out)
    if grad_out.shape != positive.shape or grad_out.dtype != dtype:
        raise ValueError(f"grad_out must have shape {positive.shape} and dtype {dtype}, "
                         f"got {grad_out.shape} {grad_out.dtype}")
    return np.where(positive, grad_out, dtype.type(0))
'''


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the checkout (a build writes build/ and *.egg-info into
    the folder it builds)."""
    tmp = tmp_path_factory.mktemp("wheel")
    shutil.copytree(ROOT, tmp / "source", ignore=NOT_SOURCE)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                            str(tmp / "source"), "-w", str(tmp / "dist")],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = (tmp / "dist").glob("cnn_conformance-*.whl")
    return path


def _metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode())


def test_the_wheel_holds_conformance_alone(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top_level = {name.split("/")[0] for name in names}
    dist_info = {name for name in top_level if name.endswith(".dist-info")}
    assert len(dist_info) == 1 and top_level - dist_info == {"conformance"}, sorted(top_level)
    # Every module of the three folders, impls/ and reference/ inside conformance/.
    expected = {f"conformance/{p.relative_to(ROOT / 'conformance').as_posix()}"
                for p in (ROOT / "conformance").rglob("*.py")}
    for folder in ("impls", "reference"):
        expected |= {f"conformance/{folder}/{p.relative_to(ROOT / folder).as_posix()}"
                     for p in (ROOT / folder).rglob("*.py")}
    assert {name for name in names if name.endswith(".py")} == expected


def test_numba_is_an_extra_and_torch_a_range_that_holds_the_tested_release(wheel):
    requirements = [Requirement(line) for line in _metadata(wheel).get_all("Requires-Dist")]
    required = {r.name: r for r in requirements if r.marker is None}
    extras = {r.name: str(r.marker) for r in requirements if r.marker is not None}
    assert "numba" not in required and extras["numba"] == 'extra == "numba"'
    tested = [Requirement(line) for line in TESTED_VERSIONS.read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    for pin in tested:
        (version,) = [spec.version for spec in pin.specifier if spec.operator == "=="]
        assert required[pin.name].specifier.contains(version), (pin, required[pin.name])
    assert len(required["torch"].specifier) == 2, "torch: a range, not one release"


def test_a_built_in_whose_extra_is_missing_is_left_out_by_default_and_refused_by_name(
        monkeypatch):
    from conformance import registry
    from conformance.impls import BUILTIN
    monkeypatch.setitem(registry.EXTRAS, "naive", "no_such_module")
    names, left_out = registry.default_builtins()
    assert names == [name for name in BUILTIN if name != "naive"]
    needs = "the naive built-in needs the no_such_module extra: " \
            "pip install 'cnn-conformance[no_such_module]'"
    assert left_out == {"naive": needs}
    with pytest.raises(registry.MissingExtra) as refused:
        registry.resolve("naive")
    assert str(refused.value) == needs
    assert registry.resolve("conformance.impls.naive").name == "naive"   # by import path


def _run(command: list, cwd: Path, pythonpath: list[Path] = (), timeout: float = 600):
    """``command`` as a user of the clean environment runs it: no PYTHONPATH but the one given."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(map(str, pythonpath))
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout


@pytest.mark.install
def test_a_clean_environment_without_numba_certifies_an_outside_implementation(wheel, tmp_path):
    venv, outside = tmp_path / "venv", tmp_path / "elsewhere"
    python = venv / "bin" / "python"
    outside.mkdir()
    (outside / "outside_layers.py").write_text(OUTSIDE_IMPLEMENTATION)
    _ok(_run([sys.executable, "-m", "venv", venv], cwd=tmp_path))
    install = [python, "-m", "pip", "install", "--quiet", "-c", TESTED_VERSIONS]
    dependencies = [str(r) for r in map(Requirement, _metadata(wheel).get_all("Requires-Dist"))
                    if r.marker is None]
    _ok(_run(install + dependencies, cwd=tmp_path))
    missing = _run([python, "-c", "import numba"], cwd=outside)
    assert "No module named 'numba'" in missing.stderr
    certify = [python, "-m", "conformance", "certify", "outside_layers", "--profile", "dev"]

    # From the checkout on PYTHONPATH, nothing of the harness installed.
    found = _ok(_run([python, "-c", "import conformance.impls.naive as n, "
                      "conformance.reference.torch_oracle as o; print(n.__file__, o.__file__)"],
                     cwd=outside, pythonpath=[ROOT]))
    assert found.split() == [str(ROOT / "impls" / "naive.py"),
                             str(ROOT / "reference" / "torch_oracle.py")]
    out = _ok(_run(certify + ["--reports", tmp_path / "from-checkout"], cwd=outside,
                   pythonpath=[ROOT, outside]))
    assert "outside_layers: CERTIFIED: relu certified for backward" in out

    # From the wheel.
    _ok(_run(install + [wheel], cwd=tmp_path))
    for generic in ("impls", "reference"):
        absent = _run([python, "-c", f"import {generic}"], cwd=outside)
        assert f"No module named '{generic}'" in absent.stderr
    out = _ok(_run(certify + ["--reports", tmp_path / "from-wheel"], cwd=outside,
                   pythonpath=[outside]))
    assert "outside_layers: CERTIFIED: relu certified for backward" in out
    from_wheel = _ok(_run([python, "-c", "import conformance; print(conformance.__file__)"],
                          cwd=outside))
    assert from_wheel.startswith(str(venv)), from_wheel
    out = _ok(_run([python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--pyargs",
                    "conformance", "--impl", "outside_layers"], cwd=outside, pythonpath=[outside]))
    assert " passed" in out and "failed" not in out

    # The numba built-in says what it needs; certify without names leaves it out and
    # certifies the other built-ins.
    needs = "the numba built-in needs the numba extra: pip install 'cnn-conformance[numba]'"
    refused = _run([python, "-m", "conformance", "certify", "numba"], cwd=outside)
    assert refused.returncode == 2 and refused.stderr.strip().splitlines() == [
        f"python -m conformance certify: error: {needs}"]
    everything = _run([python, "-m", "conformance", "certify", "--profile", "dev", "--reports",
                       tmp_path / "built-ins"], cwd=outside)
    assert f"note: numba left out: {needs}" in everything.stdout
    for name in ("naive", "im2col_index", "im2col_strided"):
        assert f"\n{name}: CERTIFIED: " in everything.stdout
    assert "certifying numba" not in everything.stdout and everything.returncode == 0

    # The command the message gives installs the extra into this environment.
    _ok(_run(install + ["cnn-conformance[numba]"], cwd=tmp_path))
    listed = _ok(_run([python, "-m", "conformance", "list"], cwd=outside))
    numba_lines = listed.split("\nnumba ")[1].splitlines()
    assert numba_lines[1].strip().startswith("claims "), listed
