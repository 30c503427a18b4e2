"""Repetition counters: up-and-down movements and cycles through phases.

Both debounce with a minimum dwell, so noise around a threshold or one
misread frame never counts; thresholds come with hysteresis from the caller.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from coach.core.exercises.common import Debounced, beyond

P = TypeVar("P", bound=Hashable)


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


class CycleCounter(Generic[P]):
    """Counts cycles through phases: one cycle when every phase has been reached, in any order.

    A phase is reached when it has lasted ``min_dwell_s``. After a count the
    next cycle must reach every phase anew. A cycle's length is the time
    between reaching the same phase twice: the sum of its last two half-cycles
    (doubled for the very first, when only one is known).
    """

    def __init__(self, phases: frozenset[P], min_dwell_s: float) -> None:
        self._phases = phases
        self._phase: Debounced[P | None] = Debounced(None, min_dwell_s)
        self.reset()

    @property
    def count(self) -> int:
        """Cycles counted."""
        return self._count

    def reset(self) -> None:
        """Nothing reached, nothing counted."""
        self._phase.reset()
        self._count = 0
        self._seen: set[P] = set()
        self._reaches: list[float] = []
        self._last: P | None = None
        self._cycle_start: float | None = None

    def abandon(self) -> None:
        """Forget the phases of a cycle under way (the person left the position)."""
        self._phase.reset()
        self._seen.clear()
        self._reaches.clear()
        self._last = None
        self._cycle_start = None

    def update(self, phase: P | None, t_s: float) -> tuple[P | None, Rep | None]:
        """Take this frame's phase (None between phases).

        Returns the phase newly reached this frame (or None) and the cycle
        completed by it (or None).
        """
        raw = phase if phase in self._phases else None
        if not self._phase.update(raw, t_s):
            return None, None
        reached = self._phase.value
        if reached is None or reached == self._last:
            return None, None
        at = self._phase.since_s if self._phase.since_s is not None else t_s
        self._last = reached
        self._reaches.append(at)
        if not self._seen:
            self._cycle_start = at
        self._seen.add(reached)
        if self._seen != set(self._phases):
            return reached, None
        self._count += 1
        if len(self._reaches) >= 3:
            seconds = at - self._reaches[-3]
        else:
            seconds = 2.0 * (at - self._reaches[-2])
        start = self._cycle_start if self._cycle_start is not None else at
        self._seen.clear()
        return reached, Rep(count=self._count, start_s=start, end_s=at, seconds=seconds)
