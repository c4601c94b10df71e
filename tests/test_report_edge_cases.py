"""The coverage line's "edge cases never hit": the edge cases a run within the claims and the
declared limits could have reached and did not, never those out of its reach."""
from conformance.ops import OPS
from conformance.report import ImplReport, render_summary
from conformance.runner import PASSED, CheckResult

CLAIMED = ["backward", "float64", "stride"]


def never_hit(limits=(), hits=()):
    result = CheckResult("impl", "conv2d", "forward", PASSED, examples=5,
                         features=CLAIMED, edge_cases={edge: 1 for edge in hits})
    report = ImplReport("impl", "impl", "dev", {"conv2d": CLAIMED}, [result],
                        limits={"conv2d": list(limits)} if limits else {})
    line = next(line for line in render_summary(report).splitlines()
                if line.startswith("  conv2d coverage:"))
    return line.split("edge cases never hit: ", 1)[1].split(", ") if "never hit" in line else []


def test_edge_cases_the_claims_cannot_reach_are_not_reported_missing():
    missed = never_hit()
    assert "stride does not divide" in missed and "magnitude 2^20" in missed
    for unreachable in ("depthwise (groups = channels)", "window entirely in padding",
                        "last window reaches into padding"):
        assert unreachable not in missed
    assert missed == [edge for edge in OPS["conv2d"].edge_cases if edge in missed]


def test_an_edge_case_a_declared_limit_rules_out_is_not_reported_missing():
    assert "stride does not divide" not in never_hit(limits=["exact_division"])
    assert "stride above kernel" in never_hit(limits=["exact_division"])


def test_edge_cases_that_were_hit_are_not_reported():
    reachable = OPS["conv2d"].reachable_edge_cases(CLAIMED)
    assert never_hit(hits=reachable) == []
    assert never_hit(hits=reachable[1:]) == [reachable[0]]
