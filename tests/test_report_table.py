"""The per-check table: a claimed op's unclaimed checks collapse into one row after its results,
ops claimed not at all into one row at the end, unless one of their checks failed."""
from conformance.report import Collapsed, Table, text_lines
from conformance.runner import FAILED, NOT_CLAIMED, PASSED, CheckResult


def row(op, check, status):
    return CheckResult("impl", op, check, status, examples=0 if status == NOT_CLAIMED else 5)


RESULTS = [row("conv2d", "forward", PASSED), row("conv2d", "grad_x", NOT_CLAIMED),
           row("conv2d", "grad_weight", NOT_CLAIMED), row("conv2d", "no_mutation", FAILED),
           row("pool2d", "forward", NOT_CLAIMED), row("pool2d", "not_claimed", PASSED),
           row("relu", "forward", NOT_CLAIMED), row("relu", "not_claimed", FAILED),
           row("tanh", "forward", NOT_CLAIMED), row("tanh", "not_claimed", PASSED)]


def test_rows_come_as_results_arrive_and_unclaimed_ones_collapse():
    table = Table({"conv2d"})
    shown = [table.add(r) for r in RESULTS]
    assert shown[0] == [RESULTS[0]] and shown[1] == shown[2] == [] and shown[3] == [RESULTS[3]]
    assert shown[4] == [Collapsed("conv2d", ["grad_x", "grad_weight"])]   # conv2d is done
    assert shown[8] == [RESULTS[7], Collapsed("relu", ["forward"])]   # relu's refusal failed
    assert table.finish() == [Collapsed(None, ["pool2d", "tanh"])]


def test_text_rows_of_collapsed_checks():
    table = Table({"conv2d"})
    rows = [r for result in RESULTS for r in table.add(result)] + table.finish()
    lines = text_lines(rows)
    assert lines[2] == "  conv2d                not claimed: grad_x, grad_weight"
    assert lines[-1] == "  not claimed (every check): pool2d, tanh"
    assert len(lines) == 6
