"""Repetition counters: up-and-down movements, and swings to both sides of a neutral.

Up-and-down movements debounce with a minimum dwell and take their
thresholds with hysteresis from the caller; swings need a minimum swing
between turning points, so noise around a threshold never counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from coach.core.exercises.common import Debounced, beyond


@dataclass(frozen=True)
class Rep:
    """One counted repetition."""

    count: int  # the running count, 1-based
    start_s: float  # when the movement reached its goal (up, or the first phase)
    end_s: float  # when it was counted
    seconds: float  # how long one repetition took


class UpDownCounter:
    """Counts movements that go up past ``enter`` and come back down past ``leave``.

    One repetition is counted when the level, having been up for at least
    ``min_dwell_s``, has been back down for ``min_dwell_s``.
    """

    def __init__(self, min_dwell_s: float) -> None:
        self._up = Debounced(False, min_dwell_s)
        self._count = 0
        self._up_since: float | None = None
        self._last_end: float | None = None

    @property
    def count(self) -> int:
        """Repetitions counted."""
        return self._count

    @property
    def is_up(self) -> bool:
        """The movement is at its goal now."""
        return self._up.value

    def reset(self) -> None:
        """Down, nothing counted."""
        self._up.reset()
        self._count = 0
        self._up_since = None
        self._last_end = None

    def abandon(self) -> None:
        """Drop a movement under way without counting it (the person left the position)."""
        self._up.reset()
        self._up_since = None

    def finish(self, t_s: float) -> Rep | None:
        """Count a movement that is up now as if it came down at ``t_s`` (the exercise ends)."""
        if not self._up.value:
            return None
        self._up.force(False, t_s)
        return self._counted(t_s)

    def update(self, level: float, enter: float, leave: float, t_s: float) -> Rep | None:
        """Take this frame's level; a ``Rep`` when one was completed."""
        raw = beyond(level, enter, leave, self._up.value)
        if raw is None:
            return None
        if not self._up.update(raw, t_s):
            return None
        since = self._up.since_s if self._up.since_s is not None else t_s
        if self._up.value:
            self._up_since = since
            return None
        return self._counted(since)

    def _counted(self, since: float) -> Rep:
        start = self._up_since if self._up_since is not None else since
        self._count += 1
        seconds = since - (self._last_end if self._last_end is not None else start)
        self._last_end = since
        self._up_since = None
        return Rep(count=self._count, start_s=start, end_s=since, seconds=seconds)


class SwingSide(StrEnum):
    """Which side of the person's neutral a swing's turning point lies on."""

    HIGH = "high"
    LOW = "low"


@dataclass(frozen=True)
class TurningPoint:
    """A confirmed extreme of a swinging signal."""

    value: float
    t_s: float
    side: SwingSide | None  # None: within the margin of neutral


class SwingCycles:
    """Counts cycles of a signal swinging to both sides of a neutral level and back.

    A side is reached when the signal goes beyond the neutral by
    ``side_margin``; its turning point (the furthest the signal went) is
    confirmed once the signal comes back toward neutral past that margin, or
    turns back by ``min_swing`` on the way. A cycle is counted when the
    latest turning points on both sides, in either order, lie ``min_swing``
    apart: a wobble smaller than that is never a cycle, however slow, and a
    movement that leaves neutral to one side only and comes back counts
    nothing. Going to one side twice in a row (deep, a little back, deep
    again) is one reach of that side.
    """

    def __init__(self, min_swing: float, side_margin: float) -> None:
        self._min_swing = min_swing
        self._side_margin = side_margin
        self.reset()

    @property
    def count(self) -> int:
        """Cycles counted."""
        return self._count

    def reset(self) -> None:
        """Nothing seen, nothing counted."""
        self._count = 0
        self._reaches: list[float] = []
        self.abandon()

    def abandon(self) -> None:
        """Forget the swing under way (the person left the position); the count stays."""
        self._peak: TurningPoint | None = None
        self._last: dict[SwingSide, TurningPoint] = {}
        self._first_s: float | None = None
        self._prev_side: SwingSide | None = None
        self._latest = math.nan

    def finish(self) -> Rep | None:
        """The cycle completed by a last reach already on its way back when the exercise ends.

        The signal must have come back from that reach by at least the side
        margin: a person ending on the way back from their cat has done the
        cycle, one still deep in it when the time runs out has not.
        """
        peak = self._peak
        if peak is None or peak.side is None or not math.isfinite(self._latest):
            return None
        if abs(self._latest - peak.value) < self._side_margin:
            return None
        self._peak = None
        return self._take(peak)

    def update(
        self, value: float, t_s: float, neutral: float
    ) -> tuple[TurningPoint | None, Rep | None]:
        """Take this frame's value; the turning point it confirms and the cycle it completes."""
        if not math.isfinite(value):
            return None, None
        self._latest = value
        offset = value - neutral
        side = (
            SwingSide.HIGH
            if offset >= self._side_margin
            else SwingSide.LOW
            if offset <= -self._side_margin
            else None
        )
        here = TurningPoint(value, t_s, side)
        peak = self._peak
        if peak is not None and side is peak.side:
            if _further(here, peak):
                self._peak = here
                return None, None
            if abs(value - peak.value) < self._min_swing:
                return None, None
        # No peak yet, or the peak is confirmed: the signal came back toward
        # neutral past the margin, or turned back by the minimum swing. A new
        # peak starts here on whatever side the signal is now.
        self._peak = here if side is not None else None
        if peak is None:
            return None, None
        return peak, self._take(peak)

    def _take(self, point: TurningPoint) -> Rep | None:
        assert point.side is not None
        if point.side is self._prev_side:
            # Another turning point of the same excursion: it reaches nothing new.
            kept = self._last.get(point.side)
            if kept is not None and _further(point, kept):
                self._last[point.side] = point
            return None
        self._prev_side = point.side
        if not self._last:
            self._first_s = point.t_s
        self._last[point.side] = point
        self._reaches = [*self._reaches[-2:], point.t_s]
        if len(self._last) < 2:
            return None
        high, low = self._last[SwingSide.HIGH], self._last[SwingSide.LOW]
        if high.value - low.value < self._min_swing:
            return None
        self._count += 1
        if len(self._reaches) >= 3:
            seconds = point.t_s - self._reaches[-3]
        else:
            seconds = 2.0 * (point.t_s - self._reaches[-2])
        start = self._first_s if self._first_s is not None else point.t_s
        self._last.clear()
        return Rep(count=self._count, start_s=start, end_s=point.t_s, seconds=seconds)


def _further(point: TurningPoint, than: TurningPoint) -> bool:
    """Whether ``point`` lies further out on its side than ``than``."""
    if point.side is SwingSide.HIGH:
        return point.value > than.value
    return point.value < than.value
