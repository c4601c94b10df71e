"""Never lose a run: an implementation that crashes or hangs while being imported or warmed up is
reported as such and the run goes on; the supervising process never imports an implementation."""
import json
import os
import subprocess
import sys
import textwrap

from tests.run_cli import HOSTILE_IMPORTS, ROOT, conformance, rows

CASE_RELU = ('{"shape":[2,3],"dtype":"float64","layout":"contiguous","magnitude":0,'
             '"seed":0,"zeros":false}')


def test_import_and_warm_up_failures_are_reported_and_the_run_goes_on(tmp_path):
    reports = tmp_path / "r"
    done = conformance("certify", str(HOSTILE_IMPORTS), "tests.hostile:hangs_in_warm_up",
                       "tests.hostile:raises_in_warm_up", "--profile", "dev",
                       "--import-timeout", "5", "--warm-up-timeout", "3",
                       "--reports", str(reports))
    assert done.returncode == 1, done.stdout + done.stderr
    folder = str(HOSTILE_IMPORTS)
    expected = {
        f"{folder}/hangs_on_import.py": "import timed out after 5 s",
        f"{folder}/needs_a_missing_package.py": "could not import: raised ModuleNotFoundError: "
        "No module named 'a_package_that_is_not_installed'",
        f"{folder}/raises_on_import.py": "could not import: raised RuntimeError: module-level "
        "setup failed",
        f"{folder}/segfaults_on_import.py": "could not import: killed by signal SIGSEGV",
        "hangs_in_warm_up": "warm-up timed out after 3 s",
        "raises_in_warm_up": "could not warm up: raised RuntimeError: kernel compilation failed",
    }
    for name, error in expected.items():
        assert f"{name}: NOT CERTIFIED: {error}" in done.stdout, name
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        report = json.loads((reports / f"{stem}.json").read_text())
        assert not report["certified"] and report["error"].startswith(error), name
        assert error in (reports / f"{stem}.junit.xml").read_text()
    # The crash's stack, from faulthandler, names the line that crashed.
    assert 'segfaults_on_import.py", line 4 in <module>' in done.stdout
    # The one good module of the folder, certified after the broken ones before it.
    assert "relu_only: CERTIFIED: relu certified for" in done.stdout
    assert rows(reports / "relu_only.json")["relu", "forward"]["status"] == "passed"
    summary = (reports / "summary.md").read_text()
    assert summary.count("**not certified**") == 6 and "| relu_only | certified |" in summary
    assert "| hangs_in_warm_up | **not certified**: warm-up timed out after 3 s |" in summary


def test_a_crash_then_a_failing_restart_fails_the_checks_left(tmp_path):
    (tmp_path / "fragile.py").write_text(textwrap.dedent("""
        # Imports fine until its pool2d_forward has crashed once; then segfaults on import.
        import ctypes, os, pathlib
        from tests.corpus import Mutant

        MARK = pathlib.Path(__file__).with_name("crashed")
        if MARK.exists():
            ctypes.string_at(0)

        def _crash(x, **params):
            MARK.touch()
            os._exit(5)

        fragile = Mutant("fragile", "crashes, then cannot be imported again", (),
                         pool2d_forward=_crash)
    """))
    done = conformance("certify", str(tmp_path / "fragile.py:fragile"), "--profile", "dev",
                       "--reports", str(tmp_path / "r"))
    assert done.returncode == 1
    results = rows(tmp_path / "r" / "fragile.json")
    assert results["conv2d", "forward"]["status"] == "passed"
    assert "exited with code 5" in results["pool2d", "forward"]["message"]
    left = results["pool2d", "grad_x"]
    assert left["status"] == "FAILED" and left["message"] == (
        "not run: could not import: killed by signal SIGSEGV (restarting after an earlier check "
        "crashed)")
    assert results["network", "forward"]["status"] == "FAILED"


def test_the_supervising_process_never_imports_the_implementation(tmp_path):
    """Each import of the module records the importing process; certify's and replay's own
    processes must not be among them."""
    marks = tmp_path / "imported_by"
    (tmp_path / "marked.py").write_text(textwrap.dedent(f"""
        import os
        with open({str(marks)!r}, "a") as f:
            f.write(f"{{os.getpid()}}\\n")
        from tests.hostile_imports.relu_only import *
    """))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for args in (["certify", str(tmp_path / "marked.py"), "--profile", "dev", "--reports",
                  str(tmp_path / "r")],
                 ["replay", str(tmp_path / "marked.py"), "relu", "forward", CASE_RELU]):
        process = subprocess.Popen([sys.executable, "-m", "conformance", *args], cwd=ROOT,
                                   env=env, stdout=subprocess.PIPE, text=True)
        out, _ = process.communicate(timeout=600)
        assert process.returncode == 0, out
        importers = set(marks.read_text().split())
        assert importers and str(process.pid) not in importers, args[0]
        marks.unlink()


def test_list_survives_broken_plugins(tmp_path):
    dist = tmp_path / "broken_layers-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-layers\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[conformance.implementations]\ncrashing = segfaults_on_import\n"
        "hanging = hangs_on_import\ngone = no_such_module:layers\n")
    listed = conformance("list", "--import-timeout", "5", cwd=tmp_path,
                         extra_path=os.pathsep.join([str(tmp_path), str(HOSTILE_IMPORTS)]))
    assert listed.returncode == 0, listed.stdout + listed.stderr
    lines = listed.stdout.splitlines()
    after = {lines[i].split()[0]: lines[i + 1].strip() for i in range(0, len(lines) - 1, 2)}
    assert after["crashing"] == "cannot load: could not import: killed by signal SIGSEGV"
    assert after["hanging"] == "cannot load: import timed out after 5 s"
    assert after["gone"].startswith("cannot load: no implementation 'gone': no module named "
                                    "'no_such_module'")
    assert after["naive"].startswith("claims batchnorm2d: backward eval")
