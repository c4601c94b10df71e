"""The user's workflow: scaffold, claim, implement, certify; plug-ins; reports; the CI gate."""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[1]

FORWARD = '''
    @staticmethod
    def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
        if x.ndim != 4:
            raise ValueError(f"x must be 4-D (N, C, H, W), got shape {x.shape}")
        if weight.ndim != 4 or weight.shape[1] * groups != x.shape[1]:
            raise ValueError(f"weight must be (F, C // groups, KH, KW), got {weight.shape}")
        if weight.shape[2] > x.shape[2] or weight.shape[3] > x.shape[3]:
            raise ValueError(f"weight: kernel {weight.shape[2:]} exceeds x {x.shape[2:]}: empty output")
        CAPABILITIES.require("conv2d", x=x, weight=weight, bias=bias, stride=stride,
                             padding=padding, dilation=dilation, groups=groups)
        windows = np.lib.stride_tricks.sliding_window_view(x, weight.shape[2:], axis=(2, 3))
        return np.einsum("nchwij,fcij->nfhw", windows, weight), None
'''


def conformance(*args, cwd, extra_path=None, timeout=600):
    path = os.pathsep.join(filter(None, [str(ROOT), extra_path]))
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=cwd,
                          env=dict(os.environ, PYTHONPATH=path), capture_output=True, text=True,
                          timeout=timeout)


def test_scaffold_claim_implement_certify(tmp_path):
    done = conformance("new", "my_impl", "--path", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    module = tmp_path / "my_impl.py"
    certify = ("certify", "my_impl:implementation", "--reports", str(tmp_path / "reports"))

    first = conformance(*certify, cwd=tmp_path, extra_path=str(tmp_path))
    assert first.returncode == 1
    assert "my_impl: nothing certified (no feature claimed)" in first.stdout
    assert re.search(r"not claimed \(every check\): batchnorm2d, conv2d, dropout,", first.stdout)

    module.write_text(module.read_text().replace(
        "CAPABILITIES = Capabilities({})",
        'CAPABILITIES = Capabilities({"conv2d": {"float64", "validation"}})'))
    claimed = conformance(*certify, cwd=tmp_path, extra_path=str(tmp_path))
    assert claimed.returncode == 1
    assert "my_impl conv2d.forward FAILED: raised NotImplementedError: conv2d_forward" in claimed.stdout
    assert '"batch":1,"channels":1,"height":1,"width":1' in claimed.stdout   # shrunk
    assert re.search(r"conv2d +not claimed: grad_x,", claimed.stdout)     # no backward claimed

    text = module.read_text()
    start = text.index("    @staticmethod\n    def conv2d_forward")
    end = text.index("    @staticmethod\n    def conv2d_backward")
    module.write_text(text[:start] + FORWARD.lstrip("\n") + "\n" + text[end:])
    started = time.perf_counter()
    implemented = conformance(*certify, cwd=tmp_path, extra_path=str(tmp_path))
    assert implemented.returncode == 0, implemented.stdout
    assert "my_impl: CERTIFIED: conv2d certified for float64, validation" in implemented.stdout
    assert time.perf_counter() - started < 60


def test_plugins_are_listed_and_certified_by_name(tmp_path):
    (tmp_path / "plugged.py").write_text(
        "from conformance.impls.naive import *\nname = 'plugged'\n")
    dist = tmp_path / "plugged_layers-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plugged-layers\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[conformance.implementations]\nplugged = plugged\n")
    listed = conformance("list", cwd=tmp_path, extra_path=str(tmp_path))
    assert "plugged          plugged" in listed.stdout
    assert "plug-in from plugged-layers" in listed.stdout
    assert "naive            conformance.impls.naive          built-in" in listed.stdout
    done = conformance("certify", "plugged", "--profile", "dev", "--reports", str(tmp_path / "r"),
                       cwd=tmp_path, extra_path=str(tmp_path))
    assert done.returncode == 0 and "plugged: CERTIFIED" in done.stdout


def test_reports_junit_summary_and_gate(tmp_path):
    record = tmp_path / "certified.json"
    record.write_text(json.dumps({"schema_version": 1, "implementations": {
        "kernel_flipped": {"conv2d": ["float64"]}, "naive": {"pool2d": ["max"]}}}))
    done = conformance("certify", "naive", "tests.corpus.conv_forward:kernel_flipped",
                       "--profile", "dev", "--reports", str(tmp_path / "r"), "--gate",
                       str(record), cwd=ROOT)
    assert done.returncode == 1
    assert "GATE: kernel_flipped: conv2d was certified for float64; now failed forward" \
        in done.stdout
    assert "GATE: naive" not in done.stdout
    junit = ElementTree.parse(tmp_path / "r" / "kernel_flipped.junit.xml").getroot()
    failed = [c.get("name") for c in junit if c.find("failure") is not None]
    assert "forward" in failed and junit.get("failures") == str(len(failed))
    summary = (tmp_path / "r" / "summary.md").read_text()
    assert "| naive | certified |" in summary and "| kernel_flipped | **not certified** |" in summary

    widened = conformance("certify", "naive", "--profile", "dev", "--reports",
                          str(tmp_path / "r"), "--record", str(record), cwd=ROOT)
    assert widened.returncode == 0, widened.stdout
    data = json.loads(record.read_text())["implementations"]
    assert "ties" in data["naive"]["pool2d"] and data["kernel_flipped"] == {"conv2d": ["float64"]}


def test_replay_takes_under_a_second():
    case = ('{"batch":1,"channels":1,"height":3,"width":1,"filters":1,"kernel":[1,1],'
            '"stride":[2,1],"padding":[0,0],"dilation":[1,1],"groups":1,"bias":false,'
            '"dtype":"float64","layout":"contiguous","magnitude":0,"seed":0}')
    done = conformance("replay", "tests.corpus.conv_gradients:stride_ignored_in_grad_x",
                       "conv2d", "grad_x", case, cwd=ROOT)
    assert done.returncode == 1 and "grad_x[0, 0, 1, 0]" in done.stdout
    # The case itself takes milliseconds; start-up and imports (torch: 0.8 s) take the rest.
    assert int(re.search(r"case ran in (\d+) ms", done.stdout).group(1)) < 1000


def _outcomes(junit: Path) -> dict[str, str]:
    root = ElementTree.parse(junit).getroot()
    return {case.get("name"): ("failed" if case.find("failure") is not None else
                               "skipped" if case.find("skipped") is not None else "passed")
            for case in root.iter("testcase")}


def test_xdist_gives_the_same_results_as_a_serial_run(tmp_path):
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
            "conformance", "--impl", "tests.corpus.conv_forward:kernel_flipped",
            "--conformance-profile", "ci", "-k", "conv2d or pool2d"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name, extra in (("serial", []), ("parallel", ["-n", "2"])):
        subprocess.run(args + extra + [f"--junitxml={tmp_path / name}.xml"], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=600)
    serial, parallel = _outcomes(tmp_path / "serial.xml"), _outcomes(tmp_path / "parallel.xml")
    assert serial == parallel
    assert serial["test_conformance[tests.corpus.conv_forward:kernel_flipped-conv2d-forward]"] \
        == "failed"
    assert "passed" in serial.values() and "skipped" in serial.values()
