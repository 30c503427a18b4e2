"""What every exercise engine offers the session, the overlay and the recorder,
and what every exercise module declares about its exercise."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from coach.core.events import Event
from coach.core.features import LANDMARKS_ONLY, Features, Perception
from coach.core.states import ExerciseKind, PoseState

if TYPE_CHECKING:
    from coach.core.exercises.common import StateTracker


@dataclass(frozen=True)
class Hold:
    """One stay in the exercise's target pose."""

    start_s: float
    end_s: float
    seconds: float  # time in the pose, pauses excluded
    completed: bool  # the prescribed hold time was reached


@dataclass(frozen=True)
class Gauge:
    """The measure that matters right now, and the band it should be in (for the overlay).

    Its name for people is the exercise's ``gauge`` text in the catalogue.
    """

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


@dataclass(frozen=True)
class KeySignal:
    """The measure that shows how an exercise went, and where its target band comes from.

    The band mirrors the one the engine shows on screen (its ``Gauge``): the
    edges are the named fields of the exercise's thresholds. Its names for
    people are the exercise's ``plot`` texts in the catalogue.

    Attributes:
        name: Column of the frame table (a ``Features.values`` signal).
        unit: "deg" or "torso".
        low_field: Threshold field giving the bottom of the band, or None (no bottom).
        high_field: Threshold field giving the top of the band, or None (no top).
        fallback: Column to plot when ``name`` was never measured (no band then).
        above_rest: The engine judges the signal as a rise above the resting
            position (frames in ``rest_state``), so the plot does too.
        rest_state: Pose state of the resting position.
        rest_percentile: Without frames in ``rest_state``, the frames at or
            under this percentile of the signal are taken as the rest.
        beyond: The target is to reach past both edges (cat-cow: cow below,
            cat above) rather than to stay inside the band.
    """

    name: str
    unit: str
    low_field: str | None
    high_field: str | None
    fallback: str | None = None
    above_rest: tuple[str, ...] = ()
    rest_state: str | None = None
    rest_percentile: float = 10.0
    beyond: bool = False


class Counting(StrEnum):
    """How an exercise's dose is counted."""

    HOLDS = "holds"  # each completed hold counts (child's pose)
    HELD_REPS = "held_reps"  # repetitions, each held at the top for the prescribed time
    REPS = "reps"  # repetitions without a hold (cat-cow cycles, pelvic tilts)

    @property
    def held(self) -> bool:
        """The dose names seconds per hold."""
        return self is not Counting.REPS


@dataclass(frozen=True)
class Breath:
    """How the session paces breathing through an exercise.

    Attributes:
        inhale: The pose that breathing in moves toward (cat-cow: cow, the back arched).
        exhale: The pose that breathing out moves toward (cat-cow: cat, the back rounded).
    """

    inhale: PoseState
    exhale: PoseState


EngineFactory = Callable[[Any, "float | None", "StateTracker"], ExerciseEngine]


@dataclass(frozen=True, kw_only=True)
class ExerciseInfo:
    """Everything the coach knows about one exercise, declared once by its module.

    Attributes:
        kind: Its name in routines, records and the command line.
        title: Its name for people, e.g. "Hip lifts".
        config_type: The dataclass of its thresholds (every field has a
            default and a safe range).
        build: Makes its engine from (thresholds, seconds per hold, pose tracker).
        states: The pose states it is done in (start and target positions).
        fault_keys: The form faults its engine raises; each needs a cue text.
        cue_keys: The cue keys beside the common ones it needs a text for.
        counting: How its dose is counted.
        unit: What the dose counts, in words: "holds", "cycles", "lifts".
        dose_word: One repetition in a dose description, e.g. "slow cycle".
        breath: The poses the session paces breath cues toward (in toward
            one, out toward the other), or None when it paces no breathing.
        key_signal: The measure for the overlay gauge, the record and the
            report's plot.
        dose: The clinical default dose, as a routine's ``[exercises.dose]``
            table writes it; a routine names only what it changes.
        perception: What it reads from every frame beyond the landmarks (the
            silhouette for the back's curve costs a mask per frame).
    """

    kind: ExerciseKind
    title: str
    config_type: type
    build: EngineFactory
    states: tuple[PoseState, ...]
    fault_keys: tuple[str, ...]
    cue_keys: tuple[str, ...] = ()
    counting: Counting
    unit: str
    dose_word: str = "repetition"
    breath: Breath | None = None
    key_signal: KeySignal
    dose: Mapping[str, float]
    perception: Perception = LANDMARKS_ONLY
