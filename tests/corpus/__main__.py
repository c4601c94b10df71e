"""``python -m tests.corpus``: the kill report of the buggy-implementation corpus.

For each mutant, runs the checks its entry says must catch it (``ci`` profile, 5 s per-example
time-out), and prints whether each caught it, after how many examples and seconds, and at which
size: the largest input array of the shrunk failing case and, where the op has one, the length
of its reductions. Exits 1 when any mutant survives any of its checks.
"""
import math
import statistics
import sys
import time

from conformance.cases import Conv2dCase, LayerCase, NetworkCase, Pool2dCase, case_from_json
from conformance.runner import FAILED, run_check
from tests.corpus import all_mutants


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}es" if noun.endswith("s") else f"{n} {noun}s"


def _inputs_and_reduction(case) -> tuple[dict[str, tuple[int, ...]], str]:
    """The input arrays' shapes of a case, and what one output element reduces over."""
    if isinstance(case, Conv2dCase):
        products = case.channels // case.groups * math.prod(case.kernel)
        return {"x": case.x_shape, "weight": case.weight_shape}, _count(products, "product")
    if isinstance(case, Pool2dCase):
        return {"x": case.x_shape}, f"{math.prod(case.kernel)}-element windows"
    if isinstance(case, NetworkCase):
        shape = (case.batch, case.channels, case.size, case.size)
        return {"x": shape}, _count(case.classes, "class")
    if isinstance(case, LayerCase):
        if case.op == "linear":
            return ({"x": case.shape, "weight": (case.out_features, case.shape[1])},
                    _count(case.shape[1], "product"))
        if case.op == "softmax_cross_entropy":
            return {"logits": case.shape}, _count(case.shape[1], "class")
        if case.op == "softmax":
            return {"x": case.shape}, _count(case.shape[case.axis], "class")
        return {"x": case.shape}, ""
    return {}, ""


def case_size(op: str, case_json: str | None) -> str:
    """E.g. "x 17x16x33x33 = 296208 elements, 144 products" for a failing case; "-" without one
    (the fixed checks run no generated case)."""
    if not case_json:
        return "-"
    shapes, reduction = _inputs_and_reduction(case_from_json(op, case_json))
    if not shapes:
        return "-"
    name, shape = max(shapes.items(), key=lambda item: math.prod(item[1]))
    size = f"{name} {'x'.join(map(str, shape))} = {_count(math.prod(shape), 'element')}"
    return f"{size}, {reduction}" if reduction else size


def main() -> int:
    rows, survivors = [], []
    started = time.perf_counter()
    print(f"{'mutant':<42} {'check':<36} {'result':<8} {'examples':>8} {'seconds':>8}  caught at")
    for path, mutant in all_mutants():
        firsts = []
        for target in mutant.caught_by:
            op, check = target.split(".")
            result = run_check(mutant, path, op, check, "ci", example_timeout=5)
            caught = result.status == FAILED
            if not caught:
                survivors.append(f"{mutant.name} survived {target}")
            elif result.first_failure_seconds is not None:
                firsts.append(result.first_failure_seconds)
            print(f"{mutant.name:<42} {target:<36} {'caught' if caught else 'MISSED':<8} "
                  f"{result.first_failure_example or '-':>8} "
                  f"{result.first_failure_seconds if caught else result.seconds:>8}  "
                  f"{case_size(op, result.case) if caught else '-'}", flush=True)
        rows.append(min(firsts) if firsts else None)
    detected = [t for t in rows if t is not None]
    killed = len(rows) - len({s.split()[0] for s in survivors})
    print(f"\nkill rate: {killed}/{len(rows)} mutants ({100 * killed / len(rows):.0f}%), "
          f"{len(survivors)} check(s) missed; {time.perf_counter() - started:.0f} s in all")
    if detected:
        q = statistics.quantiles(detected, n=10)
        print(f"time to first failure (fastest check per mutant): median "
              f"{statistics.median(detected):.3f} s, 90th percentile {q[-1]:.3f} s, "
              f"max {max(detected):.3f} s")
    for line in survivors:
        print(f"SURVIVED: {line}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
