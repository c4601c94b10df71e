"""One self-contained HTML page per certification run (``report.html``): a summary of every
implementation certified, then per implementation its verdict, failures (message, replay command,
error maps drawn as images and as character grids), the per-check table and coverage.

Images are PNGs embedded as data URIs, drawn with matplotlib (the ``html`` extra:
``pip install cnn-conformance[html]``); without it the page still has every character grid and
says that images need the extra. The page loads nothing from anywhere.
"""
from __future__ import annotations

import base64
import importlib.util
import io
import json
from html import escape
from pathlib import Path

import numpy as np

from conformance import evidence
from conformance import report as reports
from conformance.error_map import LEGEND, SATURATED, ErrorMap, heading, leading_labels, render
from conformance.runner import FAILED, CheckResult, also_failed

MAX_PANELS = 12     # slices drawn per map; the character grid notes the rest
NO_MATPLOTLIB = ("Error maps are shown as character grids only: images need matplotlib "
                 "(<code>pip install cnn-conformance[html]</code>).")

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1, h2, h3 { line-height: 1.2; } h2 { border-bottom: 2px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #ccc; padding: .2em .6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: #17692a; } .FAILED { color: #b00020; font-weight: bold; } .skipped { color: #777; }
.certified { background: #e5f5e8; } .not-certified { background: #fbe4e7; }
.verdict { padding: .5em .8em; border-radius: 4px; }
article.failure { border-left: 4px solid #b00020; padding: .2em 1em; margin: 1em 0; background: #fafafa; }
pre { background: #f1f1f1; padding: .5em; overflow-x: auto; font-size: 13px; line-height: 1.15; }
code { font-size: 13px; } .map img { display: block; margin: .4em 0; max-width: 100%; }
.note { color: #555; font-size: 14px; } .wide { overflow-x: auto; font-size: 13px; }
"""


def have_matplotlib() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def _image(error_map: ErrorMap) -> str | None:
    """The map as a PNG data URI (one panel per slice, colour = order of magnitude of the
    excess), or None without matplotlib or for a 0-d map."""
    if not have_matplotlib():
        return None
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure
    shape = error_map.shape
    if not shape:
        return None
    levels = error_map.level_array()
    panels = levels.reshape(-1, *shape[-2:]) if len(shape) >= 2 else levels.reshape(1, 1, -1)
    lead = shape[:-2] if len(shape) >= 2 else ()
    shown = sorted(sorted(range(len(panels)), key=lambda i: not (panels[i] >= 0).any())[:MAX_PANELS])
    columns = min(len(shown), 6)
    rows = -(-len(shown) // columns)
    height, width = panels.shape[1:]
    cell = min(0.35, 3.0 / max(height, width))
    figure = Figure(figsize=(columns * max(1.6, width * cell) + 1.6,
                             max(1.8, rows * (height * cell + 0.5))), dpi=100)
    colours = ListedColormap(["#e8e8e8"] + [
        tuple(c) for c in colormaps["YlOrRd"](np.linspace(0.25, 1.0, SATURATED + 1))])
    norm = BoundaryNorm(np.arange(-1.5, SATURATED + 1), colours.N)
    image = None
    for k, i in enumerate(shown):
        axes = figure.add_subplot(rows, columns, k + 1)
        image = axes.imshow(panels[i], cmap=colours, norm=norm, interpolation="nearest",
                            aspect="equal")
        axes.set_xticks([])
        axes.set_yticks([])
        if max(height, width) <= 40:    # cell borders, so single elements can be counted
            axes.set_xticks(np.arange(-0.5, width), minor=True)
            axes.set_yticks(np.arange(-0.5, height), minor=True)
            axes.grid(which="minor", color="white", linewidth=0.6)
            axes.tick_params(which="minor", length=0)
        if lead and len(panels) > 1:
            index = np.unravel_index(i, lead)
            axes.set_title(", ".join(f"{label} {j}" for label, j in zip(
                leading_labels(error_map.name, len(shape)), index)), fontsize=9)
    bar = figure.colorbar(image, ax=figure.axes, ticks=[-1, 0, 5, SATURATED],
                          fraction=0.05, pad=0.02)
    bar.ax.set_yticklabels(["within", "1x", "1e5x", ">=1e10x"], fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _map_block(error_map: ErrorMap, title: str, replay: str | None = None) -> str:
    image = _image(error_map)
    parts = [f'<div class="map"><p><b>{escape(title)}</b> {escape(heading(error_map))}</p>']
    if image:
        parts.append(f'<img alt="{escape(heading(error_map))}" src="{image}">')
    parts.append(f"<pre>{escape(chr(10).join(render(error_map)[1:]) or '(a single number)')}"
                 "</pre>")
    if replay:
        parts.append(f"<p>replay: <code>{escape(replay)}</code></p>")
    return "".join(parts) + "</div>"


def _failure(report: reports.ImplReport, r: CheckResult) -> str:
    parts = [f'<article class="failure" id="{_id(report.name, r.op, r.check)}">',
             f"<h4>{escape(r.op)}.{escape(r.check)}</h4>", f"<p>{escape(r.message)}</p>"]
    if r.case:
        parts.append(f"<p>case: <code>{escape(r.case)}</code></p>")
    if r.replay:
        parts.append(f"<p>replay: <code>{escape(r.replay)}</code></p>")
    if r.error_map:
        parts.append(_map_block(ErrorMap.from_dict(r.error_map), "Failing case."))
    if r.grown_error_map:
        case = json.loads(r.grown_error_map["case"])
        parts.append(_map_block(ErrorMap.from_dict(r.grown_error_map),
                                f"The same configuration grown to {case['height']}x"
                                f"{case['width']}.", r.grown_error_map["replay"]))
    for more in r.more_failures:
        parts += [f'<p class="more">{escape(also_failed(more))}</p>',
                  f"<p>case: <code>{escape(more['case'])}</code></p>",
                  f"<p>replay: <code>{escape(more['replay'])}</code></p>"]
        if more["error_map"]:
            parts.append(_map_block(ErrorMap.from_dict(more["error_map"]), "Its case."))
    return "".join(parts) + "</article>"


def _id(*names: str) -> str:
    return "-".join("".join(c if c.isalnum() else "_" for c in n) for n in names)


def verdict_section(report: reports.ImplReport) -> str:
    kind = "certified" if report.certified else "not-certified"
    return (f'<p class="verdict {kind}">{escape(reports.verdict_line(report))}</p>'
            f'<p class="note">implementation <code>{escape(report.spec)}</code>, profile '
            f"<code>{escape(report.profile)}</code>, {report.seconds:.1f} s</p>")


def failures_section(report: reports.ImplReport) -> str:
    failures = [r for r in report.results if r.status == FAILED]
    if not failures:
        return ""
    note = f'<p class="note">Error maps: {escape(LEGEND)}.</p>'
    if any(r.error_map for r in failures) and not have_matplotlib():
        note += f'<p class="note">{NO_MATPLOTLIB}</p>'
    return (f'<section class="failures" id="{_id("failures", report.name)}">'
            f"<h3>Failures ({len(failures)})</h3>{note}"
            + "".join(_failure(report, r) for r in failures) + "</section>")


def checks_section(report: reports.ImplReport) -> str:
    rows = []
    for row in reports.table_rows(report):
        if isinstance(row, CheckResult):
            rows.append(f"<tr><td>{escape(row.op)}</td><td>{escape(row.check)}</td>"
                        f'<td class="{row.status}">{escape(row.status)}</td>'
                        f'<td class="num">{row.examples}</td>'
                        f'<td class="num">{escape(reports.ratio_text(row))}</td>'
                        f'<td class="num">{row.seconds:.2f}</td></tr>')
        else:
            what = (escape(", ".join(row.names)), "every check") if row.op is None else \
                (escape(row.op), escape(", ".join(row.names)))
            rows.append(f"<tr><td>{what[0]}</td><td>{what[1]}</td>"
                        '<td class="skipped">not claimed</td><td></td><td></td><td></td></tr>')
    return ("<h3>Checks</h3><table><tr><th>op</th><th>check</th><th>status</th><th>cases</th>"
            "<th>worst error / bound</th><th>time (s)</th></tr>" + "".join(rows) + "</table>")


def coverage_section(report: reports.ImplReport) -> str:
    rows = []
    for v in report.ops:
        if not v.claimed:
            continue
        edges = ", ".join(f"{escape(k)} ({n})" for k, n in v.edge_cases.items()) or "-"
        rows.append(f"<tr><td>{escape(v.op)}</td><td>{escape(', '.join(v.claimed))}</td>"
                    f"<td>{escape(', '.join(v.not_covered) or 'none')}</td><td>{edges}</td></tr>")
    if not rows:
        return ""
    return ("<h3>Coverage</h3><table><tr><th>op</th><th>claimed</th><th>not covered</th>"
            "<th>edge cases hit (count)</th></tr>" + "".join(rows) + "</table>")


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def sizes_section(report: reports.ImplReport) -> str:
    rows = []
    for row in evidence.size_rows(report):
        small = row["tiers"].get("small", {"cases": 0, "worst_ratio": 0.0})
        large = row["tiers"].get("large", {"cases": 0, "worst_ratio": 0.0})
        rows.append([row["op"], small["cases"], f"{small['worst_ratio']:.3g}", large["cases"],
                     f"{large['worst_ratio']:.3g}", f"{row['largest_elements']:,}",
                     f"{row['longest_reduction']:,}"])
    if not rows:
        return ""
    limit = evidence.limit_line(report)
    return ("<h3>Sizes</h3>" + _table(
        ["op", "small: cases", "small: worst", "large: cases", "large: worst", "largest array",
         "longest reduction"], rows) + (f'<p class="note">The {escape(limit)}.</p>' if limit else ""))


def code_coverage_section(report: reports.ImplReport) -> str:
    data = report.code_coverage
    if data is None:
        return ""
    rows = [[name, f"{f['percent']}%", ", ".join(f["never_called"]) or "-",
             f["missing_lines"] or "-",
             ", ".join(f["missing_branches"]) or "-", f["unmeasured_lines"] or "-"]
            for name, f in data["files"].items()]
    return (f"<h3>Code not exercised</h3><p>{data['percent']}% of the implementation's lines and "
            "branches were executed by the checks (coverage.py). Not measured: bodies compiled "
            "by Numba and warm-up functions.</p>" + _table(
                ["file", "executed", "functions never called", "lines not executed",
                 "branches not taken", "not measured"],
                rows))


# The parts of one implementation's section, in order: each takes an ImplReport and returns HTML
# ("" to leave it out). A new kind of report data gets a function here.
IMPL_SECTIONS = [verdict_section, failures_section, checks_section, coverage_section,
                 sizes_section, code_coverage_section]


def _verdict_class(v: reports.OpVerdict) -> str:
    return "skipped" if not v.claimed else "certified" if v.certified else "not-certified"


def _summary(done: list[reports.ImplReport]) -> str:
    ops = [v.op for v in done[0].ops] if done else []
    head = "".join(f"<th>{escape(op)}</th>" for op in ops)
    rows = []
    for report in done:
        cells = [f'<td class="{_verdict_class(v)}">{escape(reports.op_summary(v))}</td>'
                 for v in report.ops]
        kind = "certified" if report.certified else "not-certified"
        rows.append(f'<tr><td><a href="#{_id("impl", report.name)}">{escape(report.name)}</a>'
                    f'</td><td class="{kind}">{kind.replace("-", " ")}</td>{"".join(cells)}</tr>')
    return (f'<div class="wide"><table><tr><th>implementation</th><th>verdict</th>{head}</tr>'
            + "".join(rows) + "</table></div>")


def render_html(done: list[reports.ImplReport]) -> str:
    """The page for the implementations certified in one run."""
    body = [f"<h1>Conformance report</h1>{_summary(done)}"]
    for report in done:
        body.append(f'<section class="implementation" id="{_id("impl", report.name)}">'
                    f"<h2>{escape(report.name)}</h2>"
                    + "".join(section(report) for section in IMPL_SECTIONS) + "</section>")
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            "<title>Conformance report</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")


def write_html(done: list[reports.ImplReport], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "report.html"
    path.write_text(render_html(done))
    return path
