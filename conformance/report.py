"""What a certification concluded, for people (text, Markdown) and machines (JSON).

The verdict for one implementation: every claimed op must pass every applicable check, and every
claimed feature must have been exercised by generated cases ("not covered" otherwise).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from conformance.ops import OPS
from conformance.runner import FAILED, NOT_CLAIMED, PASSED, CheckResult

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
    error: str | None = None     # why nothing could be checked, e.g. "could not import: ..."
    ops: list[OpVerdict] = field(init=False)

    def __post_init__(self):
        self.ops = [self._verdict(op) for op in OPS]

    def _verdict(self, op: str) -> OpVerdict:
        claimed = self.capabilities.get(op, [])
        rows = [r for r in self.results if r.op == op]
        exercised = sorted({f for r in rows for f in r.features})
        edges: dict[str, int] = {name: 0 for name in OPS[op].edge_cases}
        for r in rows:
            for name, count in r.edge_cases.items():
                edges[name] = edges.get(name, 0) + count
        return OpVerdict(op, claimed, exercised, sorted(set(claimed) - set(exercised)), edges,
                         [r.check for r in rows if r.status == FAILED])

    @property
    def certified(self) -> bool:
        """Every claimed op certified, and at least one op claimed."""
        claimed = [v for v in self.ops if v.claimed]
        return self.error is None and bool(claimed) and all(v.certified for v in claimed)

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION, "implementation": self.name, "spec": self.spec,
            "profile": self.profile, "certified": self.certified, "seconds": self.seconds,
            "error": self.error,
            "capabilities": self.capabilities,
            "ops": {v.op: {"claimed": v.claimed, "certified": v.certified,
                           "exercised": v.exercised, "not_covered": v.not_covered,
                           "edge_cases": v.edge_cases, "failed_checks": v.failed_checks}
                    for v in self.ops},
            "results": [_jsonable(r.to_dict()) for r in self.results],
        }


def _jsonable(row: dict) -> dict:
    ratio = row.get("worst_ratio")
    if isinstance(ratio, float) and not math.isfinite(ratio):
        row = dict(row, worst_ratio=str(ratio))
    return row


def _ratio(r: CheckResult) -> str:
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
            parts.append(f"{v.op} certified for {', '.join(v.claimed)}")
        else:
            why = [f"failed {', '.join(v.failed_checks)}"] if v.failed_checks else []
            why += [f"not covered: {', '.join(v.not_covered)}"] if v.not_covered else []
            parts.append(f"{v.op} NOT certified ({'; '.join(why)})")
    status = "CERTIFIED" if report.certified else "NOT CERTIFIED"
    return f"{report.name}: {status}: " + "; ".join(parts)


def result_line(r: CheckResult) -> str:
    return (f"  {r.op:<21} {r.check:<18} {r.status:<11} {r.examples:>5} "
            f"{_ratio(r):>11} {r.seconds:>7.2f}s")


TEXT_HEADER = f"  {'op':<21} {'check':<18} {'status':<11} {'cases':>5} {'worst/bound':>11} {'time':>8}"


def render_text(report: ImplReport) -> str:
    lines = [f"{report.name} ({report.spec}), profile {report.profile}, {report.seconds:.1f} s",
             TEXT_HEADER]
    lines += [result_line(r) for r in report.results]
    return "\n".join(lines) + "\n" + render_summary(report)


def render_summary(report: ImplReport) -> str:
    """Coverage, failures with their replay commands, and the verdict."""
    lines = []
    for v in report.ops:
        if v.claimed and not report.error:
            missed = [name for name, n in v.edge_cases.items() if n == 0]
            lines.append(f"  {v.op} coverage: {len(v.exercised)}/{len(v.claimed)} claimed features "
                         f"exercised" + (f"; NOT COVERED: {', '.join(v.not_covered)}"
                                         if v.not_covered else "")
                         + (f"; edge cases never hit: {', '.join(missed)}" if missed else ""))
    failures = [r for r in report.results if r.status == FAILED]
    if failures:
        lines.append("")
        lines += [r.describe_failure() for r in failures]
    lines.append(verdict_line(report))
    return "\n".join(lines)


def render_markdown(report: ImplReport) -> str:
    lines = [f"# Conformance report: {report.name}", "",
             f"- implementation: `{report.spec}`", f"- profile: `{report.profile}`",
             f"- verdict: **{'certified' if report.certified else 'not certified'}**",
             f"- time: {report.seconds:.1f} s", "",
             "| op | check | status | cases | worst error / bound | time (s) |",
             "|---|---|---|---:|---:|---:|"]
    lines += [f"| {r.op} | {r.check} | {r.status} | {r.examples} | {_ratio(r)} | {r.seconds:.2f} |"
              for r in report.results]
    lines += ["", "## Coverage", ""]
    for v in report.ops:
        if not v.claimed:
            lines.append(f"- {v.op}: not claimed")
            continue
        lines.append(f"- {v.op}: claimed {', '.join(v.claimed)}; not covered: "
                     f"{', '.join(v.not_covered) or 'none'}")
        lines.append("  - edge cases hit: " + ", ".join(f"{k} ({n})" for k, n in
                                                       v.edge_cases.items()))
    failures = [r for r in report.results if r.status == FAILED]
    if failures:
        lines += ["", "## Failures", ""]
        for r in failures:
            lines += [f"### {r.op}.{r.check}", "", r.message, ""]
            if r.case:
                lines += [f"- case: `{r.case}`"]
            if r.replay:
                lines += [f"- replay: `{r.replay}`"]
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


def render_summary_matrix(reports: list[ImplReport]) -> str:
    """One row per implementation, one column per op: certified, failing checks, not claimed."""
    ops = list(OPS)
    lines = ["# Conformance summary", "", "| implementation | verdict | " + " | ".join(ops) + " |",
             "|---|---|" + "---|" * len(ops)]
    for report in reports:
        cells = []
        for v in report.ops:
            if not v.claimed:
                cells.append("not claimed")
            elif v.certified:
                cells.append("certified")
            else:
                cells.append("FAILED " + ", ".join(v.failed_checks + [
                    f"not covered: {f}" for f in v.not_covered]))
        verdict = "certified" if report.certified else "**not certified**"
        if report.error:
            cells, verdict = ["-"] * len(ops), f"**not certified**: {report.error}"
        lines.append(f"| {report.name} | {verdict} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
