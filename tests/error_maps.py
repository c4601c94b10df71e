"""Assertions on the error maps a failed check carries (used by the corpus tests)."""
import json
import re

from conformance.error_map import ErrorMap, render
from conformance.runner import FAILED, CheckResult


def decoded_map(data: dict, where: str) -> ErrorMap:
    """The map decodes, renders, and draws its over-bound elements."""
    found = ErrorMap.from_dict(json.loads(json.dumps(data)))
    lines = render(found)
    assert found.count >= 1 and lines[0].startswith(f"error map of {found.name} "), where
    if found.shape:
        grid = "".join(lines[1:])
        assert re.search(r"[0-9X]", grid), f"{where}: no over-bound element drawn"
    return found


def maps_of(result: CheckResult, where: str) -> dict[str, ErrorMap]:
    """{"shrunk": map[, "grown": map]} of a result: a failure that compared arrays carries a map
    with its worst element on it (and a grown one only on a case grown to 8x8 at least); any
    other result carries none."""
    if result.status != FAILED or result.mismatch is None:
        assert result.error_map is None, where
        return {}
    assert result.error_map is not None, f"{where}: a mismatch without an error map"
    found = decoded_map(result.error_map, where)
    if found.shape:
        assert found.mask()[tuple(result.mismatch["index"])], \
            f"{where}: the worst element is not on the map"
    maps = {"shrunk": found}
    if result.grown_error_map:
        maps["grown"] = decoded_map(result.grown_error_map, f"{where} (grown)")
        assert json.loads(result.grown_error_map["case"])["height"] >= 8
    return maps
