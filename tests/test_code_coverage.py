"""Implementation code coverage: lines no case reached are reported, warm-up and compiled code
are not counted, and --min-coverage fails a certification that falls short."""
import json
import subprocess
import sys
import textwrap

import pytest

from conformance.code_coverage import Measurement, _ranges, _unmeasured_ranges, summarize

IMPLEMENTATION = '''
import numpy as np

from conformance import Capabilities
from conformance.impls import im2col_strided

name = "partly_covered"
capabilities = Capabilities({"relu": {"float64", "backward", "validation"}})
warm_up_calls = []


def relu_forward(x):
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a floating-point numpy array, got {type(x).__name__}")
    capabilities.require("relu", x=x)
    if x.size > 10**9:
        raise MemoryError("a path no case reaches")
    return im2col_strided.relu_forward(x)


def relu_backward(grad_out, cache):
    return im2col_strided.relu_backward(grad_out, cache)


def warm_up():
    warm_up_calls.append(1)


def _clipped_relu(x):
    """A helper no claimed op calls."""
    return np.clip(x, 0, 6)
'''


def _write(tmp_path):
    package = tmp_path / "mylayers"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "impl.py").write_text(IMPLEMENTATION)
    return package / "impl.py"


def _certify(tmp_path, *options):
    env_path = f"{tmp_path}:{':'.join(sys.path)}"
    completed = subprocess.run(
        [sys.executable, "-m", "conformance", "certify", "mylayers.impl", "--profile", "dev",
         "--reports", str(tmp_path / "reports"), *options],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": env_path,
                                                           "PATH": "/usr/bin:/bin"})
    report = json.loads((tmp_path / "reports" / "partly_covered.json").read_text())
    return completed, report


def test_lines_no_case_reached_are_reported(tmp_path):
    source = _write(tmp_path)
    unreached = 1 + source.read_text().splitlines().index(
        '        raise MemoryError("a path no case reaches")')
    completed, report = _certify(tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    files = report["code_coverage"]["files"]
    assert "mylayers/impl.py" in files
    impl = files["mylayers/impl.py"]
    helper = 2 + source.read_text().splitlines().index("def _clipped_relu(x):")
    assert impl["missing_lines"] == f"{unreached}, {helper + 1}"   # the helper's body
    assert f"{unreached - 1}->{unreached}" in impl["missing_branches"]
    assert impl["percent"] < 100
    assert impl["never_called"] == ["_clipped_relu"]
    # warm_up ran (it is called) but is not measured: neither executed nor missing.
    warm_up_line = 1 + source.read_text().splitlines().index("def warm_up():")
    assert impl["unmeasured_lines"] == f"{warm_up_line}-{warm_up_line + 1}"
    assert "implementation code:" in completed.stdout and "mylayers/impl.py" in completed.stdout
    markdown = (tmp_path / "reports" / "partly_covered.md").read_text()
    assert "## Code not exercised" in markdown and f"| {unreached}, {helper + 1} |" in markdown
    page = (tmp_path / "reports" / "report.html").read_text()
    assert "<h3>Code not exercised</h3>" in page and f"<td>{unreached}, {helper + 1}</td>" in page
    assert "<h3>Sizes</h3>" in page


def test_min_coverage_fails_a_certification_below_it(tmp_path):
    _write(tmp_path)
    completed, report = _certify(tmp_path, "--min-coverage", "100")
    assert completed.returncode == 1
    assert not report["certified"]
    assert "implementation code coverage below 100%" in completed.stdout
    completed, report = _certify(tmp_path, "--min-coverage", "50")
    assert completed.returncode == 0 and report["certified"], completed.stdout + completed.stderr


def test_numba_compiled_bodies_are_found(tmp_path):
    pytest.importorskip("numba")
    (tmp_path / "jitted.py").write_text(textwrap.dedent('''
        from numba import njit

        @njit(cache=False)
        def double(x):
            return 2 * x

        def wrap(function):
            def call(*args):
                return function(*args)
            return call

        triple = wrap(njit(lambda x: 3 * x))
        '''))
    sys.path.insert(0, str(tmp_path))
    try:
        import jitted  # noqa: F401
        found = sorted(_unmeasured_ranges(str(tmp_path.resolve())))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("jitted", None)
    assert [(first, last) for _, first, last in found] == [(4, 6), (13, 13)]


def test_nothing_measured_gives_no_section(tmp_path):
    assert summarize(str(tmp_path)) is None
    assert Measurement("no_such_module_anywhere", str(tmp_path)).coverage is None


def test_line_ranges_read_like_a_coverage_report():
    assert _ranges([9, 3, 4, 5, 12, 13]) == "3-5, 9, 12-13"
    assert _ranges([]) == ""
