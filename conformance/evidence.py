"""Report sections on what the checks reached: case sizes per tier and the implementation's code.

``size_rows`` summarises, per claimed op, how many passed cases each size tier had, the worst
error as a fraction of its bound in each (so a reader sees the bounds hold where reductions are
thousands of products long), the largest array and the longest reduction; ``coverage_lines``
renders the code-coverage section (see conformance.code_coverage).
"""
from __future__ import annotations


def size_rows(report) -> list[dict]:
    """[{op, tiers: {tier: {cases, worst_ratio}}, largest_elements, longest_reduction,
    beyond_limit}] for each claimed op with generated cases."""
    rows = []
    for verdict in report.ops:
        results = [r for r in report.results if r.op == verdict.op and r.tiers]
        if not verdict.claimed or not results:
            continue
        tiers: dict[str, dict] = {}
        for r in results:
            for tier, seen in r.tiers.items():
                total = tiers.setdefault(tier, {"cases": 0, "worst_ratio": 0.0})
                total["cases"] += seen["cases"]
                total["worst_ratio"] = max(total["worst_ratio"], seen["worst_ratio"])
        rows.append({"op": verdict.op, "tiers": dict(sorted(tiers.items(), reverse=True)),
                     "largest_elements": max(r.largest_elements for r in results),
                     "longest_reduction": max(r.longest_reduction for r in results),
                     "beyond_limit": sum(r.beyond_limit for r in results)})
    return rows


def _tiers(row) -> str:
    return "; ".join(f"{tier} {t['cases']} cases, worst {t['worst_ratio']:.3g}"
                     for tier, t in row["tiers"].items())


def domain_limits(verdict) -> str | None:
    """What an op's declared limits confine its certificate to, or None without limits."""
    if not verdict.limits:
        return None
    from conformance.ops import OPS
    record = OPS[verdict.op]
    return "limited to " + "; ".join(f"{name}: {record.limits[name].description}"
                                     for name in verdict.limits) + (
        " (cases outside these limits are not run)")


def limit_line(report) -> str | None:
    if report.max_elements is None:
        return None
    skipped = sum(r.beyond_limit for r in report.results)
    return (f"certificate holds up to {report.max_elements:,} elements per array (declared "
            f"max_elements; {skipped} larger cases not run)")


def size_lines_text(report) -> list[str]:
    lines = [f"  {row['op']} sizes: {_tiers(row)}; largest array {row['largest_elements']:,} "
             f"elements, longest reduction {row['longest_reduction']:,} products"
             for row in size_rows(report)]
    limit = limit_line(report)
    return lines + ([f"  {limit}"] if limit else [])


def size_lines_markdown(report) -> list[str]:
    rows = size_rows(report)
    if not rows:
        return []
    lines = ["", "## Sizes", "",
             "Passed cases per size tier with the worst error as a fraction of its bound "
             "(large: an array past 4,096 elements or a reduction past 1,024 products).", "",
             "| op | small: cases | small: worst | large: cases | large: worst | largest array "
             "| longest reduction |", "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        small = row["tiers"].get("small", {"cases": 0, "worst_ratio": 0.0})
        large = row["tiers"].get("large", {"cases": 0, "worst_ratio": 0.0})
        lines.append(f"| {row['op']} | {small['cases']} | {small['worst_ratio']:.3g} | "
                     f"{large['cases']} | {large['worst_ratio']:.3g} | "
                     f"{row['largest_elements']:,} | {row['longest_reduction']:,} |")
    limit = limit_line(report)
    return lines + (["", f"The {limit}."] if limit else [])


def coverage_summary(report) -> str | None:
    """One line for the terminal: the percentage and what fell short."""
    data = report.code_coverage
    if data is None:
        return None
    short = [name for name, f in data["files"].items() if f["percent"] < 100]
    line = (f"  implementation code: {data['percent']}% of lines and branches executed in "
            f"{len(data['files'])} file(s)")
    if short:
        line += "; not exercised in " + ", ".join(
            f"{name} ({data['files'][name]['percent']}%)" for name in short)
    if report.min_coverage is not None:
        line += (f"; required {report.min_coverage:g}%: "
                 + ("met" if report.coverage_met else "NOT MET"))
    return line


def coverage_lines_markdown(report) -> list[str]:
    data = report.code_coverage
    if data is None:
        return []
    lines = ["", "## Code not exercised", "",
             f"{data['percent']}% of the implementation's lines and branches were executed by "
             "the checks (coverage.py). Not measured: bodies compiled by Numba (invisible to "
             "coverage.py; the lines that call them show which ran) and warm-up functions.", "",
             "| file | executed | functions never called | lines not executed | branches not "
             "taken | not measured |", "|---|---:|---|---|---|---|"]
    for name, f in data["files"].items():
        lines.append(f"| {name} | {f['percent']}% | {', '.join(f['never_called']) or '-'} | "
                     f"{f['missing_lines'] or '-'} | "
                     f"{', '.join(f['missing_branches']) or '-'} | {f['unmeasured_lines'] or '-'} |")
    return lines
