"""After a check fails, it searches again without the failing case's distinguishing features:
three independent bugs in one op give three failures, each with its own case and replay."""
import json

from conformance.html_report import render_html
from conformance.impls import naive
from conformance.ops import OPS
from conformance.report import ImplReport, render_junit, render_markdown
from conformance.runner import FAILED, PASSED, replay, run_check
from tests.corpus import EXAMPLE_TIMEOUT
from tests.corpus.pool import max_pool_zero_padding, pool_three_independent_bugs

SPEC = "tests.corpus.pool:pool_three_independent_bugs"


def _forward(impl, spec=SPEC):
    return run_check(impl, spec, "pool2d", "forward", "ci", example_timeout=EXAMPLE_TIMEOUT)


def test_three_independent_bugs_give_three_failures_each_with_its_own_case():
    result = _forward(pool_three_independent_bugs)
    assert result.status == FAILED and len(result.more_failures) == 2
    cases = [json.loads(text) for text in
             [result.case] + [more["case"] for more in result.more_failures]]
    padded, strided, averaged = cases
    assert padded["mode"] == "max" and padded["padding"] != [0, 0]
    assert strided["padding"] == [0, 0] and strided["stride"][0] != strided["stride"][1]
    assert (averaged["mode"] == "avg" and averaged["kernel"][0] != averaged["kernel"][1]
            and averaged["padding"] == [0, 0] and averaged["stride"] == [1, 1])
    assert [more["excluded"] for more in result.more_failures] == [
        ["padding"], ["padding", "rectangular_stride", "stride"]]
    for text in cases:
        passed, _ = replay(pool_three_independent_bugs, "pool2d", "forward",
                           OPS["pool2d"].case_from_json(json.dumps(text)))
        assert not passed, text
    assert len({more["replay"] for more in result.more_failures} | {result.replay}) == 3


def test_every_report_shows_each_further_failure():
    result = _forward(pool_three_independent_bugs)
    report = ImplReport(SPEC, "three_bugs", "ci", {"pool2d": ["float64", "max"]}, [result])
    for text in (result.describe_failure(), render_markdown(report), render_junit(report),
                 render_html([report])):
        assert text.count("also failed without") == 2
        for more in result.more_failures:
            assert more["case"] in text or more["case"].replace('"', "&quot;") in text
    assert json.loads(json.dumps(report.to_dict()))["results"][0]["more_failures"] == (
        result.more_failures)


def test_one_bug_gives_one_failure_and_a_correct_implementation_none():
    single = _forward(max_pool_zero_padding, "tests.corpus.pool:max_pool_zero_padding")
    assert single.status == FAILED and single.more_failures == []
    correct = _forward(naive, "naive")
    assert correct.status == PASSED and correct.more_failures == []
