"""Hypothesis strategies for legal op configurations.

A record draws its cases through ``Draw``: each choice is a Hypothesis draw, restricted to the
features the case may use (``allowed``, normally the implementation's claims intersected with
what the check needs) and the ones it must use (``required``), so a case never relies on a
feature the implementation did not claim. Sizes come from the record's ranges for the tier
(conformance/sizes.py).

Shrinking goes towards the simplest case: batch 1, one channel, 1x1 kernel, stride 1, no padding,
float64, contiguous, seed 0.
"""
from __future__ import annotations

from hypothesis import assume, strategies as st

from conformance.layouts import LAYOUTS
from conformance.ops.base import DTYPES
from conformance.sizes import LARGE, MAGNITUDES, MAX_ELEMENTS, SEEDS, Range, largest_array


class Draw:
    """The choices a record's ``draw_case`` makes, as Hypothesis draws."""

    def __init__(self, draw, allowed: frozenset, required: frozenset):
        self._draw = draw
        self.allowed = allowed
        self.required = required

    def integer(self, bounds: Range) -> int:
        return self._draw(st.integers(bounds.low, bounds.high))

    def choice(self, options):
        return self._draw(st.sampled_from(options))

    def flag(self) -> bool:
        return self._draw(st.booleans())

    def shape(self, extent: Range, rank: Range) -> tuple[int, ...]:
        """rank.low to rank.high axes, each of a length in ``extent``."""
        return tuple(self._draw(st.lists(st.integers(extent.low, extent.high),
                                         min_size=rank.low, max_size=rank.high)))

    def uses(self, feature: str) -> bool:
        """Whether the case uses an optional feature: always when required, never when not
        allowed, otherwise drawn."""
        if feature in self.required:
            return True
        return feature in self.allowed and self.flag()

    def dtype(self) -> str:
        return self.choice([d for d in DTYPES if d in self.allowed])

    def layout(self) -> str:
        if "noncontiguous" in self.required:
            return self.choice(LAYOUTS[1:])
        return self.choice(LAYOUTS) if "noncontiguous" in self.allowed else "contiguous"

    def pair(self, feature: str | None, bounds: Range, rectangular: str) -> tuple[int, int]:
        """A (rows, cols) pair: (low, low) unless ``feature`` is allowed (None: always
        allowed); equal entries unless the feature ``rectangular`` is allowed."""
        if feature is not None and feature not in self.allowed:
            return (bounds.low, bounds.low)
        rows = self.integer(bounds)
        cols = self.integer(bounds) if rectangular in self.allowed else rows
        return (rows, cols)

    def magnitude(self) -> int:
        """Power-of-two scale of x (sizes.MAGNITUDES)."""
        return self.choice(MAGNITUDES)

    def input_size(self, extent: int, padding: int, extra: Range) -> int:
        """A size for which the padded input holds at least one window (size + 2p >= extent),
        up to extra.high more."""
        smallest = max(1, extent - 2 * padding)
        return self.integer(Range(smallest + extra.low, smallest + extra.high))

    def seed(self) -> int:
        return self.integer(SEEDS)

    def size(self, candidates, fits=lambda value: True, at_least: int = 1) -> int:
        """One of ``candidates`` (at least ``at_least``) for which ``fits`` holds; the smallest
        legal value when none fits. Shrinks towards the smallest candidate."""
        legal = [v for v in candidates if v >= at_least]
        return self.choice([v for v in legal if fits(v)] or legal[:1] or [at_least])

    def sized_pair(self, feature: str | None, candidates, rectangular: str) -> tuple[int, int]:
        """A (rows, cols) pair of ``candidates``, like ``pair``."""
        if feature is not None and feature not in self.allowed:
            return (candidates[0], candidates[0])
        rows = self.size(candidates)
        return (rows, self.size(candidates) if rectangular in self.allowed else rows)


@st.composite
def cases(draw, record, allowed: frozenset, required: frozenset, tier: str, special,
          limits: frozenset = frozenset()):
    """Cases of ``record`` (see OpRecord.strategy), moved within ``limits`` (the limits an
    implementation declares: OpRecord.restrict); a case no move brings within them is
    rejected."""
    choices = Draw(draw, allowed, required)
    if tier == LARGE:
        case = record.draw_large_case(choices, special)
    else:
        case = record.draw_case(choices, record.sizes[tier], special)
    case = record.restrict(case, limits, allowed, required)
    # A move within the limits may grow an array ('same' padding does): keep the tier's cap.
    assume(case is not None and (tier != LARGE or largest_array(record, case) <= MAX_ELEMENTS))
    return case
