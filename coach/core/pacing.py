"""Two clocks an exercise runs by: the stall clock and the breath pacer.

A session is never stuck in an exercise the coach cannot count. While the
person is seen in an exercise (waiting for the position, or active) the
``StallClock`` runs; progress restarts it: a repetition counted (even one
short of its hold: the coach saw the movement), a hold started, progressing
or completed. After ``SessionConfig.stall_hint_s`` without progress it calls
for a hint, and again every ``stall_hint_s`` while nothing counts; after
``stall_move_on_s`` it calls for moving on. It stands still on every frame
the person is not seen, and while the session is paused (it is not run then).

The ``BreathPacer`` paces breathing through an exercise that declares a
``Breath`` (cat-cow): the next breath when the pose asked for is reached, or
when it is time anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from coach.core.events import Event, EventKind
from coach.core.exercises.base import Breath
from coach.core.routine import SessionConfig
from coach.core.states import PoseState

# Engine events that show the exercise going forward; each restarts the stall clock.
PROGRESS_EVENTS: frozenset[EventKind] = frozenset(
    {
        EventKind.REP_COUNTED,
        EventKind.HOLD_STARTED,
        EventKind.HOLD_PROGRESS,
        EventKind.HOLD_COMPLETED,
    }
)

# Slack for sums of frame steps (0.1 + 0.1 + ... falls just short of a whole second).
_EPS_S = 1e-6


class Stall(StrEnum):
    """What the stall clock calls for."""

    HINT = "hint"  # say what the coach sees and what to change
    MOVE_ON = "move_on"  # end the exercise and go on to the next


class StallClock:
    """Time the person is seen in an exercise without progress.

    Args:
        config: ``stall_hint_s`` and ``stall_move_on_s``.
    """

    def __init__(self, config: SessionConfig) -> None:
        self._config = config
        self._seconds = 0.0
        self._hint_at_s = 0.0  # the clock when the last hint was given

    @property
    def seconds(self) -> float:
        """Seconds seen without progress."""
        return self._seconds

    def restart(self) -> None:
        """Progress: start counting again."""
        self._seconds = 0.0
        self._hint_at_s = 0.0

    def update(self, raw: Iterable[Event], present: bool, dt: float) -> Stall | None:
        """Take one frame's engine events; what is called for now, if anything."""
        if any(event.kind in PROGRESS_EVENTS for event in raw):
            self.restart()
            return None
        if not present:
            return None  # nobody seen: the clock stands still
        self._seconds += dt
        cfg = self._config
        if self._seconds + _EPS_S >= cfg.stall_move_on_s:
            return Stall.MOVE_ON
        if self._seconds - self._hint_at_s + _EPS_S >= cfg.stall_hint_s:
            self._hint_at_s = self._seconds
            return Stall.HINT
        return None


class BreathPacer:
    """Which breath to cue next, and when.

    Args:
        breath: The poses breathing in and out move toward.
        config: ``breath_min_s`` and ``breath_max_s``.
    """

    def __init__(self, breath: Breath, config: SessionConfig) -> None:
        self._breath = breath
        self._config = config
        self._next: PoseState | None = None
        self._since_s = 0.0

    def reset(self) -> None:
        """A new set: no breath cued yet."""
        self._next = None
        self._since_s = 0.0

    def first(self) -> str:
        """The breath that comes with reaching the position: in."""
        return self._toward(self._breath.inhale)

    def update(self, state: PoseState | None, dt: float) -> str | None:
        """The next breath's cue key when the cued pose is reached or it is time anyway."""
        self._since_s += dt
        cfg = self._config
        reached = state is self._next
        if (reached and self._since_s >= cfg.breath_min_s) or self._since_s >= cfg.breath_max_s:
            inhale, exhale = self._breath.inhale, self._breath.exhale
            return self._toward(exhale if self._next is inhale else inhale)
        return None

    def _toward(self, pose: PoseState) -> str:
        self._next = pose
        self._since_s = 0.0
        return "breathe_in" if pose is self._breath.inhale else "breathe_out"


__all__ = ["PROGRESS_EVENTS", "BreathPacer", "Stall", "StallClock"]
