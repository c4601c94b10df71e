"""Where a failing comparison is wrong: which elements exceed their bound, as a character grid,
and a one-line reading of the pattern (the last column, every 2nd row, one channel, ...).

An ErrorMap is small and JSON-serialisable (it travels through the worker pipe and into the JSON
report): the compared array's shape, the flat indices of the elements over their bound and, per
such element, the order of magnitude of the excess. Arrays are laid out as NumPy holds them:
the last two axes are rows and columns of a grid, the leading ones (sample and channel of NCHW,
filter and channel of a weight) index its slices.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_STORED = 4096   # over-bound elements kept per map; ``count`` says how many there were
SATURATED = 10      # level of an excess of 10^10 times or more, NaN or a zero bound
LEGEND = ("'.' within bound, digit d: over by 10^d to 10^(d+1) times, "
          "'X': 10^10 times or more (or NaN, or any error where exact equality is required)")


@dataclass
class ErrorMap:
    """The over-bound elements of one compared array.

    name: what was compared (e.g. "grad_x"); shape: its shape; over: flat C-order indices of the
    elements whose error exceeds their bound, ascending, at most MAX_STORED; levels: for each,
    floor(log10(error / bound)) clipped to 0..SATURATED; count: over-bound elements in all.
    """
    name: str
    shape: tuple[int, ...]
    over: list[int]
    levels: list[int]
    count: int

    @classmethod
    def from_ratios(cls, name: str, ratio: np.ndarray) -> ErrorMap:
        """From error / bound per element (inf where the bound is zero or the error NaN)."""
        ratio = np.asarray(ratio, np.float64)
        flat = np.flatnonzero(ratio.ravel() > 1)
        stored = flat[:MAX_STORED]
        if flat.size > MAX_STORED:
            # Past the cap, keep the worst element (NaN counts as worst) in place of the last.
            worst = int(np.argmax(np.where(np.isnan(ratio.ravel()), np.inf, ratio.ravel())))
            if worst not in stored:
                stored = np.sort(np.append(stored[:-1], worst))
        kept = ratio.ravel()[stored]
        with np.errstate(divide="ignore", invalid="ignore"):
            levels = np.where(np.isfinite(kept), np.floor(np.log10(kept)), SATURATED)
        levels = np.clip(levels, 0, SATURATED).astype(int)
        return cls(name, tuple(int(n) for n in ratio.shape), [int(i) for i in stored],
                   [int(v) for v in levels], int(flat.size))

    @classmethod
    def from_dict(cls, data: dict) -> ErrorMap:
        return cls(data["name"], tuple(data["shape"]), list(data["over"]), list(data["levels"]),
                   data["count"])

    def to_dict(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "over": list(self.over),
                "levels": list(self.levels), "count": self.count}

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def complete(self) -> bool:
        """Whether every over-bound element is stored (False past MAX_STORED)."""
        return len(self.over) == self.count

    def level_array(self) -> np.ndarray:
        """Per element: -1 within bound, else its level (0..SATURATED)."""
        levels = np.full(self.size, -1, dtype=np.int8)
        levels[np.asarray(self.over, dtype=np.int64)] = self.levels
        return levels.reshape(self.shape)

    def mask(self) -> np.ndarray:
        return self.level_array() >= 0


# --- reading the pattern --------------------------------------------------------------------

def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _plural(unit: str) -> str:
    return unit + "es" if unit.endswith("ch") else unit + "s"


def describe_indices(hit: list[int], n: int, unit: str) -> str | None:
    """Name a set of indices along an axis of length n: "the last row", "every 2nd column from
    column 1", "rows 2-4", ...; None when every index is hit."""
    hit = sorted(hit)
    units = _plural(unit)
    if len(hit) == n:
        return None
    if len(hit) == 1:
        i = hit[0]
        return f"the last {unit}" if i == n - 1 else f"the first {unit}" if i == 0 else f"{unit} {i}"
    steps = {b - a for a, b in zip(hit, hit[1:])}
    if steps == {1}:
        if hit[-1] == n - 1:
            return f"the last {len(hit)} {units}"
        if hit[0] == 0:
            return f"the first {len(hit)} {units}"
        return f"{units} {hit[0]}-{hit[-1]}"
    if hit == [0, n - 1]:
        return f"the first and last {units}"
    if len(steps) == 1:
        step = steps.pop()
        if hit[-1] + step >= n:   # the progression runs to the end of the axis
            start = f" from {unit} {hit[0]}" if hit[0] else ""
            return f"every {_ordinal(step)} {unit}{start}"
    shown = ", ".join(map(str, hit[:8])) + (", ..." if len(hit) > 8 else "")
    return f"{units} {shown}"


def _only(text: str) -> str:
    return text if text.startswith("every") else f"{text} only"


def _read_grid(grid: np.ndarray) -> str | None:
    """A reading of a 2-D mask (rows x columns), or None when no simple pattern fits."""
    rows, cols = grid.shape
    if grid.all():
        return "every position"
    row_any, col_any = grid.any(axis=1), grid.any(axis=0)
    if np.array_equal(grid, np.outer(row_any, col_any)):    # some rows crossed with some columns
        row_text = describe_indices(np.flatnonzero(row_any).tolist(), rows, "row")
        col_text = describe_indices(np.flatnonzero(col_any).tolist(), cols, "column")
        return _only(f"{row_text}, {col_text}" if row_text and col_text else row_text or col_text)
    full_rows = np.flatnonzero(grid.all(axis=1)).tolist()
    full_cols = np.flatnonzero(grid.all(axis=0)).tolist()
    union = np.zeros_like(grid)
    union[full_rows, :] = True
    union[:, full_cols] = True
    if full_rows and full_cols and np.array_equal(union, grid):   # whole rows and whole columns
        if full_rows == [0, rows - 1] and full_cols == [0, cols - 1]:
            return "the border only"
        return (f"{describe_indices(full_rows, rows, 'row')} and "
                f"{describe_indices(full_cols, cols, 'column')} only")
    border = np.zeros_like(grid)
    border[[0, -1], :] = True
    border[:, [0, -1]] = True
    if rows >= 3 and cols >= 3 and not (grid & ~border).any():
        return "part of the border only"
    return None


def leading_labels(name: str, ndim: int) -> list[str]:
    """Names of the axes before rows and columns: (sample, channel) for 4-D arrays, (filter,
    channel) for 4-D weights, channel for 3-D arrays."""
    labels = {1: ["channel"], 2: ["filter" if "weight" in name else "sample", "channel"]}
    return labels.get(ndim - 2, [f"axis {a}" for a in range(ndim - 2)])


def read_pattern(mask: np.ndarray, name: str = "") -> str:
    """One line naming where a boolean mask (True: over bound) is set.

    1-D masks read as elements, 2-D as rows and columns, N-D as slices (sample or filter, and
    channel, for 4-D arrays) of row x column grids. A single element, everything, some channels,
    the last row or column, every s-th row or column, the border: whatever fits; otherwise the
    count.
    """
    mask = np.asarray(mask, bool)
    count, size = int(mask.sum()), mask.size
    if count == 0:
        return "no element over its bound"
    if mask.ndim == 0:
        return "a single number: no element layout"
    if count == size:
        return "every element" if size > 1 else "the only element"
    if count == 1:
        index = [int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape)]
        return f"a single element, {index}"
    if mask.ndim == 1:
        return _only(describe_indices(np.flatnonzero(mask).tolist(), size, "element"))
    lead = tuple(range(mask.ndim - 2))
    projected = mask.any(axis=lead)
    parts = []
    for axis, label in zip(lead, leading_labels(name, mask.ndim)):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        text = describe_indices(np.flatnonzero(mask.any(axis=others)).tolist(),
                                mask.shape[axis], label)
        if text:
            parts.append(text)
    where = f" in {' and '.join(parts)}" if parts else ""
    grid_text = _read_grid(projected)
    slices = [s for s in mask.reshape(-1, *mask.shape[-2:]) if s.any()]
    same = all(np.array_equal(s, projected) for s in slices)
    if grid_text is None or (grid_text == "every position" and not same):
        return f"{count} of {size} elements, no simple pattern{where}"
    return grid_text + where + ("" if same else " (not the same in every slice)")


# --- the character grid ---------------------------------------------------------------------

def _cut(n: int, limit: int) -> tuple[list[int], bool]:
    """Indices shown along an axis of length n: all, or the first and last limit // 2."""
    if n <= limit:
        return list(range(n)), False
    half = limit // 2
    return list(range(half)) + [-1] + list(range(n - half, n)), True


def _char(level: int) -> str:
    return "." if level < 0 else "X" if level >= SATURATED else str(level)


def _grid_lines(levels: np.ndarray, max_rows: int, max_cols: int) -> tuple[list[str], bool]:
    rows, cut_rows = _cut(levels.shape[0], max_rows)
    cols, cut_cols = _cut(levels.shape[1], max_cols)
    lines = []
    for r in rows:
        if r < 0:
            lines.append("~" * len(cols))
        else:
            lines.append("".join("~" if c < 0 else _char(levels[r, c]) for c in cols))
    return lines, cut_rows or cut_cols


def _slice_label(index: tuple[int, ...], name: str, ndim: int) -> str:
    """"n0 c1" for sample 0, channel 1 (f for a weight's filter)."""
    short = {"sample": "n", "channel": "c", "filter": "f"}
    return " ".join(f"{short.get(label, label)}{i}"
                    for label, i in zip(leading_labels(name, ndim), index))


def heading(error_map: ErrorMap) -> str:
    """One line: what was compared, how many elements are over, and the reading."""
    text = (f"error map of {error_map.name} {tuple(error_map.shape)}: {error_map.count} of "
            f"{error_map.size} over their bound; {read_pattern(error_map.mask(), error_map.name)}")
    if not error_map.complete:
        text += f" (only the first {len(error_map.over)} stored)"
    return text


def render(error_map: ErrorMap, max_slices: int = 12, max_rows: int = 16, max_cols: int = 32,
           width: int = 96) -> list[str]:
    """The map as text lines: the heading, then one grid per slice, side by side.

    Slices are the leading axes (e.g. [n, c] of NCHW); with more than max_slices, those with
    over-bound elements come first and the rest are counted. Grids taller or wider than the
    limits show their first and last rows/columns around a line of '~'. Every cut is noted.
    """
    shape = error_map.shape
    if len(shape) == 0:
        return [heading(error_map)]
    levels = error_map.level_array()
    grids = levels.reshape(-1, *shape[-2:]) if len(shape) >= 2 else levels.reshape(1, 1, -1)
    lead = shape[:-2] if len(shape) >= 2 else ()
    order = sorted(range(len(grids)), key=lambda i: not (grids[i] >= 0).any())
    notes = []
    if len(grids) > max_slices:
        left = order[max_slices:]
        notes.append(f"{len(left)} more slices not shown, "
                     f"{sum((grids[i] >= 0).any() for i in left)} of them with elements over")
    blocks, cut = [], False
    for i in sorted(order[:max_slices]):
        lines, was_cut = _grid_lines(grids[i], max_rows, max_cols)
        cut |= was_cut
        if len(grids) > 1:
            index = tuple(int(j) for j in np.unravel_index(i, lead))
            lines = [_slice_label(index, error_map.name, len(shape))] + lines
        blocks.append(lines)
    if cut:
        notes.append(f"grids cut to their first and last {max_rows // 2} rows and "
                     f"{max_cols // 2} columns where larger; '~' marks the cut")
    return [heading(error_map)] + _side_by_side(blocks, width) + [f"    ({n})" for n in notes]


def _side_by_side(blocks: list[list[str]], width: int) -> list[str]:
    """Blocks of lines placed left to right, wrapping to a new band past ``width``."""
    lines, band, used = [], [], 0
    for block in blocks + [None]:
        block_width = max(map(len, block)) if block else 0
        if band and (block is None or used + block_width + 3 > width):
            height = max(map(len, band))
            widths = [max(map(len, b)) for b in band]
            for row in range(height):
                lines.append("    " + "   ".join(
                    (b[row] if row < len(b) else "").ljust(w) for b, w in zip(band, widths)).rstrip())
            band, used = [], 0
        if block is not None:
            band.append(block)
            used += block_width + 3
    return lines


def render_from_dict(data: dict | None) -> list[str]:
    """render() of a map carried as a dict (CheckResult.error_map); nothing for None."""
    return render(ErrorMap.from_dict(data)) if data else []
