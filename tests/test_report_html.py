"""The HTML report: self-contained, every failure with its replay command and error maps (images
with matplotlib, character grids always), rendered by a real headless Chromium; and the whole
path through ``certify``: collapsed unclaimed rows, maps in the terminal, Markdown and HTML."""
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance import html_report
from conformance.report import ImplReport
from conformance.runner import run_check
from tests.corpus import all_mutants

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
HAVE_MATPLOTLIB = html_report.have_matplotlib()
# The darkest colour of the map images (YlOrRd at its top: 10^10 times over or more).
SATURATED_RGB = (128, 0, 38)


class Elements(HTMLParser):
    """Start tags with their attributes, in document order."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag and all(
            value in a.get(key, "").split() for key, value in attrs.items())]


@pytest.fixture(scope="module")
def report() -> ImplReport:
    """Real failures: max pooling padded with zeros (a map, and the border on the grown case) and
    the stride applied twice in conv2d's input gradient (a map, and an adjoint identity)."""
    mutants = {m.name: (path, m) for path, m in all_mutants()}
    results = []
    for name, targets in (("max_pool_zero_padding", ["pool2d.forward"]),
                          ("stride_applied_twice_in_grad_x", ["conv2d.grad_x", "conv2d.adjoint",
                                                              "conv2d.forward"])):
        path, mutant = mutants[name]
        for target in targets:
            results.append(run_check(mutant, path, *target.split("."), "ci", example_timeout=5))
    claims = {"conv2d": ["backward", "float64", "stride"], "pool2d": ["float64", "max", "padding"]}
    return ImplReport("tests.corpus:two_mutants", "two_mutants", "ci", claims, results)


def test_page_is_self_contained_with_each_failure_its_replay_and_maps(report):
    page = html_report.render_html([report])
    elements = Elements(page)
    failures = elements.find("article", **{"class": "failure"})
    assert [f["id"] for f in failures] == ["two_mutants-pool2d-forward",
                                           "two_mutants-conv2d-grad_x",
                                           "two_mutants-conv2d-adjoint"]
    assert page.count("replay: <code>python -m conformance replay") == 3 + 2   # + 2 grown
    assert "the border only" in page and re.search(r"every 2nd (row|column) from", page)
    assert "<pre>    ..X.X.X." in page or "<pre>    ........\n    ........\n    XXXXXXXX" in page
    links = [a.get("src") or a.get("href") for _, a in elements.tags if "src" in a or "href" in a]
    assert all(link.startswith(("data:image/png;base64,", "#")) for link in links), links
    images = elements.find("img")
    assert len(images) == (4 if HAVE_MATPLOTLIB else 0)     # shrunk and grown, two failures
    assert elements.find("section", **{"class": "failures"})


def test_without_matplotlib_the_page_keeps_the_grids_and_says_why(report, monkeypatch):
    monkeypatch.setattr(html_report, "have_matplotlib", lambda: False)
    page = html_report.render_html([report])
    assert "<img" not in page
    assert "images need matplotlib" in page and "cnn-conformance[html]" in page
    assert "the border only" in page and "<pre>" in page


def test_sections_are_a_list_that_takes_new_report_data(report, monkeypatch):
    """Further report data (coverage of the implementation's own code, say) is one function."""
    monkeypatch.setattr(html_report, "IMPL_SECTIONS", html_report.IMPL_SECTIONS + [
        lambda r: f'<section id="extra">{len(r.results)} results</section>'])
    assert '<section id="extra">4 results</section>' in html_report.render_html([report])


def _chromium(*args, cwd):
    profile = cwd / "chromium-profile"
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install "
                    "chromium; .ci/run installs it)")
def test_page_renders_in_headless_chromium(report, tmp_path):
    page = html_report.write_html([report], tmp_path)
    url = page.as_uri()
    dom = _chromium("--dump-dom", url, cwd=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    elements = Elements(dom.stdout)
    assert len(elements.find("article", **{"class": "failure"})) == 3
    assert all(i["src"].startswith("data:image/png;base64,") for i in elements.find("img"))

    shot = tmp_path / "page.png"
    done = _chromium("--window-size=1280,2000", f"--screenshot={shot}", url, cwd=tmp_path)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if HAVE_MATPLOTLIB:
        from matplotlib.image import imread
        pixels = (imread(shot)[..., :3] * 255).round().astype(int)
        assert len({tuple(p) for p in pixels[::7, ::7].reshape(-1, 3)}) > 50
        # The map images were decoded and drawn: their darkest colour is on the screen.
        saturated = (abs(pixels - SATURATED_RGB).max(axis=-1) <= 8).sum()
        assert saturated > 500, "no error-map image visible in the screenshot"


LAST_COLUMN_ZERO = '''
from conformance import Capabilities
from conformance.impls import naive

name = "last_column_zero"
capabilities = Capabilities({"conv2d": {"float64"}})


def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
    capabilities.require("conv2d", x=x, weight=weight, bias=bias, stride=stride, padding=padding,
                         dilation=dilation, groups=groups)
    out, cache = naive.conv2d_forward(x, weight, bias, stride=stride, padding=padding,
                                      dilation=dilation, groups=groups)
    out = out.copy()
    out[..., -1] = 0.0          # the bug: the last output column is never written
    return out, cache


def conv2d_backward(grad_out, cache):
    raise NotImplementedError("conv2d: backward not claimed")
'''


def test_certify_prints_and_writes_maps_and_collapses_what_is_not_claimed(tmp_path):
    (tmp_path / "last_column_zero.py").write_text(LAST_COLUMN_ZERO)
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "certify", "last_column_zero", "--profile", "dev",
         "--reports", str(reports)], cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(tmp_path)])))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"not claimed \(every check\): batchnorm2d, dropout, flatten, linear, pool2d,", out)
    assert re.search(r"conv2d +not claimed: grad_x, grad_weight, grad_bias,", out)
    assert len(re.findall(r"not claimed", out)) <= 3, out
    assert "grown to 8x8 input, error map of out (1, 1, 8, 8): 8 of 64 over their bound; " \
           "the last column only" in out
    assert "\n      .......X\n" in out
    assert "last_column_zero: NOT CERTIFIED: conv2d NOT certified (failed forward)" in out
    markdown = (reports / "last_column_zero.md").read_text()
    assert "the last column only" in markdown and "```text" in markdown
    page = (reports / "report.html").read_text()
    assert 'id="last_column_zero-conv2d-forward"' in page and "the last column only" in page
    assert f"html: {reports / 'report.html'}" in out
