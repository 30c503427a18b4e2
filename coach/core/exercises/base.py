"""What every exercise engine offers the session, the overlay and the recorder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from coach.core.events import Event
from coach.core.features import Features
from coach.core.states import ExerciseKind, PoseState


@dataclass(frozen=True)
class Hold:
    """One stay in the exercise's target pose."""

    start_s: float
    end_s: float
    seconds: float  # time in the pose, pauses excluded
    completed: bool  # the prescribed hold time was reached


@dataclass(frozen=True)
class Gauge:
    """The measure that matters right now, and the band it should be in (for the overlay)."""

    name: str  # e.g. "hip angle", "hip lift"
    value: float
    low: float
    high: float
    unit: str  # "deg" or "torso"


class ExerciseEngine(Protocol):
    """An exercise's state machine: one verb, ``update``, and read-only state."""

    @property
    def kind(self) -> ExerciseKind: ...

    @property
    def state(self) -> PoseState | None:
        """The debounced pose state, or None while no pose is seen."""
        ...

    @property
    def reps(self) -> int:
        """Repetitions (cat-cow cycles, hip lifts) counted so far."""
        ...

    @property
    def holds(self) -> tuple[Hold, ...]:
        """Holds that have ended, in order."""
        ...

    @property
    def hold_elapsed_s(self) -> float:
        """Seconds in the current hold (0 when not holding)."""
        ...

    @property
    def in_position(self) -> bool:
        """The person is in the exercise's starting position, so counting can begin."""
        ...

    @property
    def faults(self) -> frozenset[str]:
        """Keys of the form faults active now."""
        ...

    @property
    def gauge(self) -> Gauge | None:
        """The measure to show on screen, or None when not known."""
        ...

    def update(self, features: Features, t_s: float) -> list[Event]:
        """Take one frame's features; return what happened."""
        ...

    def finish(self, t_s: float) -> list[Event]:
        """The exercise is over: end a hold or repetition still under way."""
        ...

    def reset(self) -> None:
        """Start again, as if new."""
        ...
