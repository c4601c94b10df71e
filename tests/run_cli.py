"""Running the command line as a user does: ``python -m conformance ...`` in a fresh interpreter,
or ``main`` in this process for the arguments that must fail before any work."""
import json
import os
import subprocess
import sys
from pathlib import Path

from conformance.cli import main

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_IMPORTS = ROOT / "tests" / "hostile_imports"


def conformance(*args, cwd=ROOT, extra_path=None, timeout=600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), extra_path])))
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def usage_error(capsys, *args) -> str:
    """Run ``main(args)``, which must refuse them: exit code 2 and exactly one line on stderr
    (argparse's own usage errors: its usage and one error line). Returns the error line."""
    try:
        code = main(list(args))
    except SystemExit as exit_:       # argparse
        code = exit_.code
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert code == 2, (code, captured.out, captured.err)
    assert "Traceback" not in captured.err + captured.out
    assert lines and lines[-1].startswith("python -m conformance"), captured.err
    assert ": error: " in lines[-1]
    if not lines[0].startswith("usage:"):
        assert len(lines) == 1, captured.err
    return lines[-1]


def rows(report_path: Path) -> dict:
    """{(op, check): result row} of a JSON report."""
    report = json.loads(report_path.read_text())
    return {(r["op"], r["check"]): r for r in report["results"]}
