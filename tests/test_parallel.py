"""Many implementations at once: ``certify -j 2`` gives the verdicts of a serial run in readable
per-implementation blocks, and the pytest form gives the same outcomes over xdist workers."""
import json
import os
import subprocess
import sys
from xml.etree import ElementTree

from tests.run_cli import HOSTILE_IMPORTS, ROOT, conformance

IMPLEMENTATIONS = [str(HOSTILE_IMPORTS / "relu_only.py"), str(HOSTILE_IMPORTS /
                   "raises_on_import.py"), "tests.hostile:raises_in_warm_up",
                   "tests.corpus.activations:relu_grad_one_at_zero"]


def _verdicts(reports) -> dict:
    """{name: (certified, error, {op: failed checks})} from the JSON reports of a run."""
    found = {}
    for path in reports.glob("*.json"):
        report = json.loads(path.read_text())
        found[report["implementation"]] = (report["certified"], report["error"], {
            op: v["failed_checks"] for op, v in report["ops"].items()})
    return found


def _blocks(stdout: str) -> list[list[str]]:
    """The output split at each "== certifying" line."""
    blocks = []
    for line in stdout.splitlines():
        if line.startswith("== certifying"):
            blocks.append([])
        if blocks:
            blocks[-1].append(line)
    return blocks


def test_parallel_certification_gives_the_serial_verdicts_in_whole_blocks(tmp_path):
    runs = {}
    for name, jobs in (("serial", "1"), ("parallel", "2")):
        done = conformance("certify", *IMPLEMENTATIONS, "-j", jobs, "--profile", "dev",
                           "--seed", "0", "--reports", str(tmp_path / name))
        assert done.returncode == 1, done.stdout + done.stderr
        runs[name] = done.stdout
    serial, parallel = _verdicts(tmp_path / "serial"), _verdicts(tmp_path / "parallel")
    assert serial == parallel and len(serial) == 4
    assert serial["relu_only"][0] and "at_zero" in serial["relu_grad_one_at_zero"][2]["relu"]
    assert ((tmp_path / "serial" / "summary.md").read_text() ==
            (tmp_path / "parallel" / "summary.md").read_text())
    assert "certifying 4 implementations, 2 at a time" in runs["parallel"]
    # Each implementation's output is one block: its header, its rows, its verdict, its reports.
    blocks = _blocks(runs["parallel"])
    assert sorted(block[0] for block in blocks) == sorted(
        f"== certifying {spec} (profile dev)" for spec in IMPLEMENTATIONS)
    for block in blocks:
        verdict_at = [i for i, line in enumerate(block) if "CERTIFIED: " in line]
        reports_at = [i for i, line in enumerate(block) if line.startswith("reports: ")]
        assert len(verdict_at) == len(reports_at) == 1 and verdict_at[0] < reports_at[0]
        assert all(not line or line.startswith(("summary: ", "html: "))
                   for line in block[reports_at[0] + 1:])


def _outcomes(junit) -> dict[str, str]:
    root = ElementTree.parse(junit).getroot()
    return {case.get("name"): ("failed" if case.find("failure") is not None else
                               "error" if case.find("error") is not None else
                               "skipped" if case.find("skipped") is not None else "passed")
            for case in root.iter("testcase")}


def test_the_pytest_form_spreads_implementations_over_xdist_workers(tmp_path):
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
            "conformance", "--conformance-profile", "ci", "-k", "relu- or sigmoid-",
            "--impl", "naive", "--impl", "tests.corpus.activations:relu_grad_one_at_zero",
            "--impl", IMPLEMENTATIONS[1]]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = {"serial": ["-n", "0"], "checks_spread": ["-n", "2"],
            "implementations_spread": ["-n", "2", "--dist", "loadgroup"]}
    for name, extra in runs.items():
        done = subprocess.run(args + extra + [f"--junitxml={tmp_path / name}.xml"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert (tmp_path / f"{name}.xml").exists(), done.stdout + done.stderr
    serial = _outcomes(tmp_path / "serial.xml")
    for name in runs:
        assert _outcomes(tmp_path / f"{name}.xml") == serial, name
    assert serial["test_conformance[naive-relu-forward]"] == "passed"
    assert serial["test_conformance[tests.corpus.activations:relu_grad_one_at_zero-relu-at_zero]"] \
        == "failed"
    assert serial["test_conformance[naive-relu-not_claimed]"] == "skipped"
    broken = [outcome for test, outcome in serial.items() if "raises_on_import" in test]
    assert set(broken) == {"failed"}      # every relu and sigmoid check, as many as naive's:
    assert len(broken) == sum(test.startswith("test_conformance[naive-") for test in serial)
    failure = ElementTree.parse(tmp_path / "serial.xml").getroot().find(
        ".//testcase[@name='test_conformance[" + IMPLEMENTATIONS[1] + "-relu-forward]']/failure")
    assert failure.get("message") == (f"Failed: {IMPLEMENTATIONS[1]}: could not import: raised "
                                      f"RuntimeError: module-level setup failed at "
                                      f"{IMPLEMENTATIONS[1]}:2")


def test_implementations_sharing_a_name_are_reported_under_their_specs(capsys):
    from conformance.cli import _names
    from conformance.worker import Probe
    names = _names([Probe("naive", name="naive"),
                    Probe("conformance.impls.naive", name="naive"),
                    Probe("tests/x.py", error="could not import: ..."),
                    Probe("tests.corpus.pool:max_pool_zero_padding", name="max_pool_zero_padding")])
    assert names == {"naive": "naive", "conformance.impls.naive": "conformance.impls.naive",
                     "tests/x.py": "tests/x.py",
                     "tests.corpus.pool:max_pool_zero_padding": "max_pool_zero_padding"}
    assert capsys.readouterr().out == ("note: naive, conformance.impls.naive are all named "
                                       "'naive'; reported under their specs\n")
