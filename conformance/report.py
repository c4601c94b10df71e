"""What a certification concluded, for people (text, Markdown) and machines (JSON).

The verdict for one implementation: every claimed op must pass every applicable check, and every
claimed feature must have been exercised by generated cases ("not covered" otherwise).
"""
from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from conformance import evidence
from conformance.error_map import LEGEND
from conformance.ops import OPS
from conformance.runner import FAILED, NOT_CLAIMED, PASSED, CheckResult, also_failed

SCHEMA_VERSION = 1


def claims_of(capabilities) -> dict[str, list[str]]:
    """What an implementation claims, per op, the composed network included."""
    return {name: sorted(record.claimed(capabilities)) for name, record in OPS.items()
            if record.claimed(capabilities)}


@dataclass
class OpVerdict:
    op: str
    claimed: list[str]
    exercised: list[str]
    not_covered: list[str]
    edge_cases: dict[str, int]
    failed_checks: list[str]
    limits: list[str] = field(default_factory=list)   # the declared limits it holds within

    @property
    def certified(self) -> bool:
        return bool(self.claimed) and not self.failed_checks and not self.not_covered


@dataclass
class ImplReport:
    spec: str
    name: str
    profile: str
    capabilities: dict[str, list[str]]
    results: list[CheckResult]
    seconds: float = 0.0
    code_coverage: dict | None = None      # conformance.code_coverage.summarize
    min_coverage: float | None = None      # percent required of code_coverage, or None
    max_elements: int | None = None        # the implementation's declared size limit
    limits: dict[str, list[str]] = field(default_factory=dict)  # its declared domain limits
    error: str | None = None     # why nothing could be checked, e.g. "could not import: ..."
    ops: list[OpVerdict] = field(init=False)

    def __post_init__(self):
        self.ops = [self._verdict(op) for op in OPS]

    def _verdict(self, op: str) -> OpVerdict:
        claimed = self.capabilities.get(op, [])
        limits = self.limits.get(op, []) if claimed else []
        rows = [r for r in self.results if r.op == op]
        exercised = sorted({f for r in rows for f in r.features})
        edges: dict[str, int] = {name: 0 for name in OPS[op].reachable_edge_cases(claimed, limits)}
        for r in rows:
            for name, count in r.edge_cases.items():
                edges[name] = edges.get(name, 0) + count
        return OpVerdict(op, claimed, exercised, sorted(set(claimed) - set(exercised)), edges,
                         [r.check for r in rows if r.status == FAILED], list(limits))

    @property
    def coverage_met(self) -> bool:
        """The implementation's code coverage reaches min_coverage (when one is required)."""
        if self.min_coverage is None:
            return True
        return self.code_coverage is not None and self.code_coverage["percent"] >= self.min_coverage

    @property
    def certified(self) -> bool:
        """Every claimed op certified, at least one op claimed, and enough code coverage."""
        claimed = [v for v in self.ops if v.claimed]
        return (self.error is None and bool(claimed) and all(v.certified for v in claimed)
                and self.coverage_met)

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION, "implementation": self.name, "spec": self.spec,
            "profile": self.profile, "certified": self.certified, "seconds": self.seconds,
            "error": self.error,
            "capabilities": self.capabilities, "max_elements": self.max_elements,
            "limits": self.limits,
            "sizes": evidence.size_rows(self), "code_coverage": self.code_coverage,
            "min_coverage": self.min_coverage,
            "ops": {v.op: {"claimed": v.claimed, "certified": v.certified,
                           "exercised": v.exercised, "not_covered": v.not_covered,
                           "edge_cases": v.edge_cases, "failed_checks": v.failed_checks,
                           "limited_to": v.limits}
                    for v in self.ops},
            "results": [_jsonable(r.to_dict()) for r in self.results],
        }


def _jsonable(row: dict) -> dict:
    ratio = row.get("worst_ratio")
    if isinstance(ratio, float) and not math.isfinite(ratio):
        row = dict(row, worst_ratio=str(ratio))
    return row


def ratio_text(r: CheckResult) -> str:
    if r.status == NOT_CLAIMED or (r.status == PASSED and r.worst_ratio == 0):
        return "-" if r.status == NOT_CLAIMED else "exact"
    return f"{r.worst_ratio:.3g}"


def verdict_line(report: ImplReport) -> str:
    if report.error:
        return f"{report.name}: NOT CERTIFIED: {report.error}"
    if not any(v.claimed for v in report.ops):
        return f"{report.name}: nothing certified (no feature claimed)"
    parts = []
    for v in report.ops:
        if not v.claimed:
            continue
        if v.certified:
            limited = f" (limited to: {', '.join(v.limits)})" if v.limits else ""
            parts.append(f"{v.op} certified for {', '.join(v.claimed)}{limited}")
        else:
            why = [f"failed {', '.join(v.failed_checks)}"] if v.failed_checks else []
            why += [f"not covered: {', '.join(v.not_covered)}"] if v.not_covered else []
            parts.append(f"{v.op} NOT certified ({'; '.join(why)})")
    if not report.coverage_met:
        parts.append(f"implementation code coverage below {report.min_coverage:g}%")
    status = "CERTIFIED" if report.certified else "NOT CERTIFIED"
    return f"{report.name}: {status}: " + "; ".join(parts)


def result_line(r: CheckResult) -> str:
    return (f"  {r.op:<21} {r.check:<18} {r.status:<11} {r.examples:>5} "
            f"{ratio_text(r):>11} {r.seconds:>7.2f}s")


TEXT_HEADER = f"  {'op':<21} {'check':<18} {'status':<11} {'cases':>5} {'worst/bound':>11} {'time':>8}"


@dataclass
class Collapsed:
    """Checks that did not run because nothing they need is claimed, in one row: ``names`` are
    the checks of ``op``, or, with op None, ops claimed not at all (every check)."""
    op: str | None
    names: list[str]


class Table:
    """The per-check table, fed one result at a time in plan order (so it can be printed while a
    certification runs). A claimed op's rows come as they arrive, its "not claimed" checks
    collapse into one row after its last result; ops not claimed at all collapse into one row at
    the end (unless one of their checks failed: then their rows are shown)."""

    def __init__(self, claimed_ops):
        self.claimed_ops = set(claimed_ops)
        self.op: str | None = None
        self.rows: list[CheckResult] = []
        self.unclaimed_ops: list[str] = []

    def add(self, r: CheckResult) -> list:
        """Rows (CheckResult or Collapsed) ready to show after this result."""
        shown = self._close() if r.op != self.op else []
        self.op = r.op
        self.rows.append(r)
        if r.op in self.claimed_ops and r.status != NOT_CLAIMED:
            shown.append(r)
        return shown

    def finish(self) -> list:
        shown = self._close()
        self.op = None
        if self.unclaimed_ops:
            shown.append(Collapsed(None, self.unclaimed_ops))
            self.unclaimed_ops = []
        return shown

    def _close(self) -> list:
        rows, self.rows = self.rows, []
        if not rows:
            return []
        skipped = [r.check for r in rows if r.status == NOT_CLAIMED]
        if self.op in self.claimed_ops:
            return [Collapsed(self.op, skipped)] if skipped else []
        if not any(r.status == FAILED for r in rows):
            self.unclaimed_ops.append(self.op)
            return []
        return [r for r in rows if r.status != NOT_CLAIMED] + (
            [Collapsed(self.op, skipped)] if skipped else [])


def table_rows(report: ImplReport) -> list:
    """The report's rows as Table gives them: CheckResult or Collapsed."""
    table = Table(report.capabilities)
    return [row for r in report.results for row in table.add(r)] + table.finish()


def text_lines(rows: list) -> list[str]:
    lines = []
    for row in rows:
        if isinstance(row, CheckResult):
            lines.append(result_line(row))
        elif row.op is None:
            lines += textwrap.wrap("not claimed (every check): " + ", ".join(row.names), 96,
                                   initial_indent="  ", subsequent_indent="    ")
        else:
            lines += textwrap.wrap(f"{row.op:<21} not claimed: " + ", ".join(row.names), 96,
                                   initial_indent="  ", subsequent_indent=" " * 24)
    return lines


def render_text(report: ImplReport) -> str:
    lines = [f"{report.name} ({report.spec}), profile {report.profile}, {report.seconds:.1f} s",
             TEXT_HEADER] + text_lines(table_rows(report))
    return "\n".join(lines) + "\n" + render_summary(report)


def render_summary(report: ImplReport) -> str:
    """Coverage, failures with their replay commands and error maps, and the verdict."""
    lines = []
    for v in report.ops:
        if v.claimed and not report.error:
            missed = [name for name, n in v.edge_cases.items() if n == 0]
            lines.append(f"  {v.op} coverage: {len(v.exercised)}/{len(v.claimed)} claimed features "
                         f"exercised" + (f"; NOT COVERED: {', '.join(v.not_covered)}"
                                         if v.not_covered else "")
                         + (f"; edge cases never hit: {', '.join(missed)}" if missed else ""))
            limited = evidence.domain_limits(v)
            if limited:
                lines.append(f"  {v.op} {limited}")
    lines += evidence.size_lines_text(report)
    coverage = evidence.coverage_summary(report)
    if coverage:
        lines.append(coverage)
    failures = [r for r in report.results if r.status == FAILED]
    if failures:
        lines.append("")
        if any(r.error_map for r in failures):
            lines.append(f"error maps: {LEGEND}")
        lines += [r.describe_failure() for r in failures]
    lines.append(verdict_line(report))
    return "\n".join(lines)


def _markdown_row(row) -> str:
    if isinstance(row, CheckResult):
        return (f"| {row.op} | {row.check} | {row.status} | {row.examples} | {ratio_text(row)} | "
                f"{row.seconds:.2f} |")
    if row.op is None:
        return f"| {', '.join(row.names)} | every check | not claimed | | | |"
    return f"| {row.op} | {', '.join(row.names)} | not claimed | | | |"


def render_markdown(report: ImplReport) -> str:
    lines = [f"# Conformance report: {report.name}", "",
             f"- implementation: `{report.spec}`", f"- profile: `{report.profile}`",
             f"- verdict: **{'certified' if report.certified else 'not certified'}**",
             f"- time: {report.seconds:.1f} s", "",
             "| op | check | status | cases | worst error / bound | time (s) |",
             "|---|---|---|---:|---:|---:|"]
    lines += [_markdown_row(row) for row in table_rows(report)]
    lines += ["", "## Coverage", ""]
    for v in report.ops:
        if not v.claimed:
            continue
        lines.append(f"- {v.op}: claimed {', '.join(v.claimed)}; not covered: "
                     f"{', '.join(v.not_covered) or 'none'}")
        lines.append("  - edge cases hit: " + ", ".join(f"{k} ({n})" for k, n in
                                                       v.edge_cases.items()))
        limited = evidence.domain_limits(v)
        if limited:
            lines.append(f"  - {limited}")
    unclaimed = [v.op for v in report.ops if not v.claimed]
    if unclaimed:
        lines.append(f"- not claimed: {', '.join(unclaimed)}")
    lines += evidence.size_lines_markdown(report)
    lines += evidence.coverage_lines_markdown(report)
    failures = [r for r in report.results if r.status == FAILED]
    if failures:
        lines += ["", "## Failures", ""]
        if any(r.error_map for r in failures):
            lines += [f"Error maps: {LEGEND}.", ""]
        for r in failures:
            lines += [f"### {r.op}.{r.check}", "", r.message, ""]
            if r.case:
                lines += [f"- case: `{r.case}`"]
            if r.replay:
                lines += [f"- replay: `{r.replay}`"]
            if r.error_map:
                lines += ["", "```text", *r.map_lines(), "```"]
            for more in r.more_failures:
                lines += ["", f"- {also_failed(more)}", f"  - case: `{more['case']}`",
                          f"  - replay: `{more['replay']}`"]
            lines.append("")
    lines += ["", verdict_line(report), ""]
    return "\n".join(lines)


def render_junit(report: ImplReport) -> str:
    """JUnit XML: one testcase per op x check; failures carry the message, case and replay."""
    suite = ElementTree.Element("testsuite", name=f"conformance.{report.name}", tests=str(
        len(report.results)), failures=str(sum(r.status == FAILED for r in report.results)),
        skipped=str(sum(r.status == NOT_CLAIMED for r in report.results)),
        time=f"{report.seconds:.3f}")
    if report.error:
        case = ElementTree.SubElement(suite, "testcase", classname=report.name, name="start")
        ElementTree.SubElement(case, "failure", message=report.error).text = report.error
        suite.set("tests", str(len(report.results) + 1))
        suite.set("failures", str(int(suite.get("failures")) + 1))
    for r in report.results:
        case = ElementTree.SubElement(suite, "testcase", classname=f"{report.name}.{r.op}",
                                      name=r.check, time=f"{r.seconds:.3f}")
        if r.status == FAILED:
            failure = ElementTree.SubElement(case, "failure", message=r.message[:500])
            failure.text = r.describe_failure()
        elif r.status == NOT_CLAIMED:
            ElementTree.SubElement(case, "skipped", message="not claimed")
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _stem(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def write_reports(report: ImplReport, directory: Path) -> list[Path]:
    """NAME.md, NAME.json and NAME.junit.xml under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = _stem(report.name)
    paths = {directory / f"{stem}.md": render_markdown(report),
             directory / f"{stem}.json": json.dumps(report.to_dict(), indent=2) + "\n",
             directory / f"{stem}.junit.xml": render_junit(report)}
    for path, text in paths.items():
        path.write_text(text)
    return list(paths)


def op_summary(v: OpVerdict) -> str:
    """One op's cell of a summary: not claimed, certified, or FAILED and what failed."""
    if not v.claimed:
        return "not claimed"
    if v.certified:
        return "certified"
    return "FAILED " + ", ".join(v.failed_checks + [f"not covered: {f}" for f in v.not_covered])


def render_summary_matrix(reports: list[ImplReport]) -> str:
    """One row per implementation, one column per op: certified, failing checks, not claimed."""
    ops = list(OPS)
    lines = ["# Conformance summary", "", "| implementation | verdict | " + " | ".join(ops) + " |",
             "|---|---|" + "---|" * len(ops)]
    for report in reports:
        cells = [op_summary(v) for v in report.ops]
        verdict = "certified" if report.certified else "**not certified**"
        if report.error:
            cells, verdict = ["-"] * len(ops), f"**not certified**: {report.error}"
        lines.append(f"| {report.name} | {verdict} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
