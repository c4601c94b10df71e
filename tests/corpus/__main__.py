"""``python -m tests.corpus``: the kill report of the buggy-implementation corpus.

For each mutant, runs the checks its entry says must catch it (``ci`` profile, a per-example
time-out of EXAMPLE_TIMEOUT seconds), and prints whether each caught it, after how many examples
and seconds, and at which size: the largest input array of the shrunk failing case and the
roundings behind one output element. Exits 1 when any mutant survives any of its checks.
"""
import statistics
import sys
import time

from conformance.ops import OPS
from conformance.runner import FAILED, run_check
from tests.corpus import EXAMPLE_TIMEOUT, all_mutants


def case_size(op: str, case_json: str | None) -> str:
    """E.g. "x 17x16x33x33 = 296208 elements, 145 terms per output element" for a failing case:
    its largest input array and the roundings behind one output element (the op record's
    terms); "-" without a case (the fixed checks run no generated case)."""
    if not case_json:
        return "-"
    record = OPS[op]
    case = record.case_from_json(case_json)
    name, array = max(case.arrays().items(), key=lambda item: item[1].size)
    elements = "element" if array.size == 1 else "elements"
    size = f"{name} {'x'.join(map(str, array.shape))} = {array.size} {elements}"
    terms = record.terms(case)["out"]
    return f"{size}, {terms} terms per output element" if terms else size


def main() -> int:
    rows, survivors = [], []
    started = time.perf_counter()
    print(f"{'mutant':<42} {'check':<36} {'result':<8} {'examples':>8} {'seconds':>8}  caught at")
    for path, mutant in all_mutants():
        firsts = []
        for target in mutant.caught_by:
            op, check = target.split(".")
            result = run_check(mutant, path, op, check, "ci", example_timeout=EXAMPLE_TIMEOUT)
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
