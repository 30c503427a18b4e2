"""The hold timer: how long the person stays in the target pose, pauses excluded."""

from __future__ import annotations

import math
from enum import StrEnum

from coach.core.events import Event, EventKind
from coach.core.exercises.base import Hold


class HoldPhase(StrEnum):
    """Where a hold is.

    IDLE -> HOLDING when the target pose is reached; HOLDING -> PAUSED when
    the person leaves it or is lost; PAUSED -> HOLDING when they come back
    within the grace; PAUSED -> IDLE when the grace runs out (the hold ends).
    """

    IDLE = "idle"
    HOLDING = "holding"
    PAUSED = "paused"


class HoldTimer:
    """Times stays in a target pose and emits the hold events.

    Args:
        exercise: The exercise the events belong to.
        target_s: Prescribed hold in seconds; None when there is none.
        leave_grace_s: A hold paused because the person left the pose ends
            after this long out of it.
        lost_end_s: A hold paused because nobody is seen ends after this long.
    """

    def __init__(
        self,
        exercise: str,
        target_s: float | None,
        *,
        leave_grace_s: float,
        lost_end_s: float,
    ) -> None:
        self._exercise = exercise
        self._target_s = target_s
        self._leave_grace_s = leave_grace_s
        self._lost_end_s = lost_end_s
        self.reset()

    @property
    def phase(self) -> HoldPhase:
        """Idle, holding or paused."""
        return self._phase

    @property
    def elapsed_s(self) -> float:
        """Seconds in the current hold, pauses excluded (0 when idle)."""
        return self._elapsed if self._phase is not HoldPhase.IDLE else 0.0

    @property
    def holds(self) -> tuple[Hold, ...]:
        """Holds that have ended, in order."""
        return tuple(self._holds)

    @property
    def started(self) -> int:
        """How many holds have started."""
        return self._index

    def reset(self) -> None:
        """No hold, none recorded."""
        self._phase = HoldPhase.IDLE
        self._holds: list[Hold] = []
        self._index = 0
        self._elapsed = 0.0
        self._start_s = 0.0
        self._last_s = 0.0
        self._completed = False
        self._paused_at = 0.0
        self._left_since: float | None = None

    def update(self, in_target: bool | None, t_s: float) -> list[Event]:
        """Take one frame: in the target pose (True), out of it (False), or lost (None)."""
        if self._phase is HoldPhase.IDLE:
            if in_target:
                return self._start(t_s)
            return []
        if self._phase is HoldPhase.HOLDING:
            if in_target:
                return self._advance(t_s)
            self._phase = HoldPhase.PAUSED
            # Time since the last frame in the pose is not counted: the person left in between.
            self._paused_at = self._last_s
            self._left_since = t_s if in_target is False else None
            return [self._event(EventKind.HOLD_PAUSED, t_s, elapsed_s=round(self._elapsed, 3))]
        # Paused.
        if in_target:
            self._phase = HoldPhase.HOLDING
            self._last_s = t_s
            self._left_since = None
            return [self._event(EventKind.HOLD_RESUMED, t_s, elapsed_s=round(self._elapsed, 3))]
        if in_target is False and self._left_since is None:
            self._left_since = t_s
        left_long = self._left_since is not None and t_s - self._left_since >= self._leave_grace_s
        lost_long = t_s - self._paused_at >= self._lost_end_s
        if left_long or lost_long:
            return self.end(t_s)
        return []

    def end(self, t_s: float) -> list[Event]:
        """End the current hold now (the exercise moves on); nothing when idle."""
        if self._phase is HoldPhase.IDLE:
            return []
        end_s = self._paused_at if self._phase is HoldPhase.PAUSED else t_s
        if self._phase is HoldPhase.HOLDING:
            self._elapsed += max(0.0, t_s - self._last_s)
        hold = Hold(
            start_s=self._start_s,
            end_s=end_s,
            seconds=self._elapsed,
            completed=self._completed,
        )
        self._holds.append(hold)
        self._phase = HoldPhase.IDLE
        return [
            self._event(
                EventKind.HOLD_ENDED,
                t_s,
                seconds=round(hold.seconds, 3),
                start_s=round(hold.start_s, 3),
                completed=hold.completed,
            )
        ]

    def _start(self, t_s: float) -> list[Event]:
        self._phase = HoldPhase.HOLDING
        self._index += 1
        self._elapsed = 0.0
        self._start_s = self._last_s = t_s
        self._completed = False
        self._left_since = None
        return [self._event(EventKind.HOLD_STARTED, t_s)]

    def _advance(self, t_s: float) -> list[Event]:
        before = self._elapsed
        self._elapsed += max(0.0, t_s - self._last_s)
        self._last_s = t_s
        events: list[Event] = []
        target = self._target_s
        # One progress event per whole second, for countdown cues, until the target is reached.
        for second in range(math.floor(before) + 1, math.floor(self._elapsed) + 1):
            if target is not None and second >= target:
                break
            remaining = None if target is None else round(target - second, 3)
            events.append(
                self._event(
                    EventKind.HOLD_PROGRESS, t_s, elapsed_s=float(second), remaining_s=remaining
                )
            )
        if target is not None and not self._completed and self._elapsed >= target:
            self._completed = True
            events.append(
                self._event(
                    EventKind.HOLD_COMPLETED,
                    t_s,
                    seconds=round(self._elapsed, 3),
                    start_s=round(self._start_s, 3),
                )
            )
        return events

    def _event(self, kind: EventKind, t_s: float, **data: object) -> Event:
        return Event(kind, t_s, self._exercise, {"index": self._index, **data})
