"""Parts every exercise engine shares: settings, debouncing, form faults, tracking the person."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from coach.core.events import Event, EventKind
from coach.core.exercises.base import Hold
from coach.core.features import Features
from coach.core.settings import knob
from coach.core.states import ExerciseKind, PoseState

T = TypeVar("T")

# Common fault keys, also used by the session's camera setup.
NOT_SIDE_VIEW = "not_side_view"
BODY_NOT_IN_FRAME = "body_not_in_frame"
COMMON_FAULT_KEYS: tuple[str, ...] = (NOT_SIDE_VIEW, BODY_NOT_IN_FRAME)


@dataclass(frozen=True, kw_only=True)
class CommonConfig:
    """Settings every exercise engine shares.

    Attributes:
        lost_after_s: Nobody seen for this long counts as the pose lost; a
            shorter gap (one bad frame) changes nothing.
        start_dwell_s: The exercise's start position must be held this long
            before anything is counted.
        leave_position_s: Out of the start position this long ends the
            exercise's position (a movement under way is dropped, not counted).
        leave_grace_s: A hold paused by leaving the pose ends after this long.
        lost_end_s: A hold paused because nobody is seen ends after this long.
        fault_raise_s: A form fault must last this long before it is raised.
        fault_clear_s: A raised fault must be gone this long before it clears.
    """

    lost_after_s: float = knob(0.3, 0.0, 5.0, "s", "no person this long before the pose is lost")
    start_dwell_s: float = knob(0.3, 0.0, 10.0, "s", "hold the start position this long first")
    leave_position_s: float = knob(
        1.5, 0.2, 30.0, "s", "out of the start position this long ends it"
    )
    leave_grace_s: float = knob(1.0, 0.0, 10.0, "s", "a hold ends this long after leaving the pose")
    lost_end_s: float = knob(
        10.0, 0.5, 120.0, "s", "a hold ends this long after the person is lost"
    )
    fault_raise_s: float = knob(1.0, 0.0, 10.0, "s", "a fault must last this long to be raised")
    fault_clear_s: float = knob(1.0, 0.0, 10.0, "s", "a fault must be gone this long to clear")


class StateTracker(Protocol):
    """The debounced pose classifier, as the engines use it."""

    def update(self, features: Features, t_s: float) -> PoseState | None: ...

    def reset(self) -> None: ...


class Debounced(Generic[T]):
    """A value that changes only after a new value has lasted ``min_dwell_s``."""

    def __init__(self, initial: T, min_dwell_s: float) -> None:
        self._initial = initial
        self._min_dwell_s = min_dwell_s
        self.reset()

    @property
    def value(self) -> T:
        """The settled value."""
        return self._value

    @property
    def since_s(self) -> float | None:
        """When the settled value first appeared (None before any change)."""
        return self._since

    def reset(self) -> None:
        """Back to the initial value."""
        self._value: T = self._initial
        self._since: float | None = None
        self._candidate: T = self._initial
        self._candidate_since: float | None = None

    def update(self, raw: T, t_s: float) -> bool:
        """Offer this frame's value; True when the settled value changed."""
        if raw == self._value:
            self._candidate, self._candidate_since = self._value, None
            return False
        if raw != self._candidate or self._candidate_since is None:
            self._candidate, self._candidate_since = raw, t_s
        # The tolerance keeps frame times like 0.1 * n from missing the dwell by a rounding error.
        if t_s - self._candidate_since >= self._min_dwell_s - 1e-9:
            self._value, self._since = raw, self._candidate_since
            self._candidate_since = None
            return True
        return False

    def force(self, value: T, t_s: float) -> None:
        """Settle on ``value`` now, without a dwell."""
        self._value, self._since = value, t_s
        self._candidate, self._candidate_since = value, None


def beyond(value: float, enter: float, leave: float, active: bool) -> bool | None:
    """Hysteresis on a threshold: over ``enter`` to become true, under ``leave`` to stop.

    ``enter`` above ``leave`` tests "too high"; ``enter`` below ``leave`` tests
    "too low". NaN gives None (cannot tell).
    """
    if not math.isfinite(value):
        return None
    if enter >= leave:
        return value >= (leave if active else enter)
    return value <= (leave if active else enter)


class FaultBook:
    """Form faults by key: raised after a condition lasts, cleared after it is gone."""

    def __init__(self, exercise: ExerciseKind, raise_s: float, clear_s: float) -> None:
        self._exercise = exercise
        self._raise_s = raise_s
        self._clear_s = clear_s
        self._gates: dict[str, Debounced[bool]] = {}
        self._first: dict[str, float] = {}

    @property
    def active(self) -> frozenset[str]:
        """Keys of the faults raised now."""
        return frozenset(key for key, gate in self._gates.items() if gate.value)

    def is_active(self, key: str) -> bool:
        """Whether one fault is raised now."""
        gate = self._gates.get(key)
        return gate is not None and gate.value

    def reset(self) -> None:
        """Forget every fault."""
        self._gates.clear()

    def update(self, key: str, condition: bool | None, t_s: float) -> list[Event]:
        """Offer one fault's condition this frame (None: cannot tell, keep as is)."""
        if condition is None:
            return []
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = _FaultGate(self._raise_s, self._clear_s)
        if not gate.update(condition, t_s):
            return []
        kind = EventKind.FAULT_RAISED if gate.value else EventKind.FAULT_CLEARED
        return [Event(kind, t_s, self._exercise.value, {"key": key})]

    def judge_now(self, key: str, condition: bool, t_s: float) -> list[Event]:
        """Raise or clear a fault at once, for faults judged on a whole movement."""
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = _FaultGate(self._raise_s, self._clear_s)
        if gate.value == condition:
            return []
        gate.force(condition, t_s)
        kind = EventKind.FAULT_RAISED if condition else EventKind.FAULT_CLEARED
        return [Event(kind, t_s, self._exercise.value, {"key": key})]

    def clear_all(self, t_s: float, keys: Iterable[str] | None = None) -> list[Event]:
        """Clear faults at once (the person left the exercise)."""
        events = []
        for key in sorted(self.active if keys is None else set(keys) & self.active):
            self._gates[key].reset()
            events.append(Event(EventKind.FAULT_CLEARED, t_s, self._exercise.value, {"key": key}))
        return events


class _FaultGate(Debounced[bool]):
    """A boolean with one dwell to turn on and another to turn off."""

    def __init__(self, raise_s: float, clear_s: float) -> None:
        super().__init__(False, raise_s)
        self._raise_s = raise_s
        self._clear_s = clear_s

    def update(self, raw: bool, t_s: float) -> bool:
        self._min_dwell_s = self._clear_s if self.value else self._raise_s
        return super().update(raw, t_s)


class Presence:
    """Tracks the classifier's state, the person being seen, and the common camera faults.

    A person missing for less than ``lost_after_s`` keeps the last state, so
    one bad frame changes nothing; longer, the pose is lost (``state`` None).
    """

    def __init__(
        self,
        exercise: ExerciseKind,
        tracker: StateTracker,
        config: CommonConfig,
        faults: FaultBook,
    ) -> None:
        self._exercise = exercise
        self._tracker = tracker
        self._config = config
        self._faults = faults
        self.reset()

    @property
    def state(self) -> PoseState | None:
        """The pose state now; None while the pose is lost."""
        return None if self._lost else self._state

    @property
    def lost(self) -> bool:
        """Nobody has been seen for ``lost_after_s`` or more."""
        return self._lost

    def reset(self) -> None:
        """Forget the person."""
        self._tracker.reset()
        self._state: PoseState | None = None
        self._reported: PoseState | None = None
        self._lost = True
        self._missing_since: float | None = None

    def update(self, features: Features, t_s: float) -> list[Event]:
        """Take one frame; return state changes, pose lost/found and camera faults."""
        events: list[Event] = []
        ex = self._exercise.value
        raw = self._tracker.update(features, t_s)
        if features.present:
            self._missing_since = None
            # The classifier may need a moment to settle after a gap: keep the last state.
            if raw is not None or self._state is None:
                self._state = raw
            if self._lost and self._state is not None:
                self._lost = False
                events.append(Event(EventKind.POSE_FOUND, t_s, ex))
            events += self._faults.update(NOT_SIDE_VIEW, not features.side_view, t_s)
            events += self._faults.update(BODY_NOT_IN_FRAME, not features.whole_body, t_s)
        else:
            if self._missing_since is None:
                self._missing_since = t_s
            if not self._lost and t_s - self._missing_since >= self._config.lost_after_s:
                self._lost = True
                events.append(Event(EventKind.POSE_LOST, t_s, ex))
        now = self.state
        if now != self._reported:
            events.append(
                Event(
                    EventKind.STATE_CHANGED,
                    t_s,
                    ex,
                    {"from": _name(self._reported), "to": _name(now)},
                )
            )
            self._reported = now
        return events


def _name(state: PoseState | None) -> str | None:
    return None if state is None else state.value


class Position:
    """Whether the person is in the exercise's start position, with entry dwell and exit grace."""

    def __init__(
        self,
        start: Callable[[PoseState | None], bool],
        stay: Callable[[PoseState | None], bool],
        config: CommonConfig,
    ) -> None:
        self._start = start
        self._stay = stay
        self._config = config
        self.reset()

    @property
    def ready(self) -> bool:
        """The start position has been reached and not left."""
        return self._ready

    def reset(self) -> None:
        """Not in position."""
        self._ready = False
        self._start_since: float | None = None
        self._out_since: float | None = None

    def update(self, state: PoseState | None, t_s: float, *, keep: bool = False) -> bool | None:
        """Take the pose state (None while lost); True when ready starts, False when it ends.

        ``keep`` holds the position through states that would end it (the
        engine knows the person is mid-movement).
        """
        cfg = self._config
        if state is None:  # lost: neither in nor out
            return None
        if not self._ready:
            if self._start(state):
                if self._start_since is None:
                    self._start_since = t_s
                if t_s - self._start_since >= cfg.start_dwell_s:
                    self._ready, self._out_since = True, None
                    return True
            else:
                self._start_since = None
            return None
        if self._stay(state) or keep:
            self._out_since = None
            return None
        if self._out_since is None:
            self._out_since = t_s
        if t_s - self._out_since >= cfg.leave_position_s:
            self.reset()
            return False
        return None


class Stillness:
    """Whether a signal has stayed within a band over a recent window."""

    def __init__(self, window_s: float, band: float) -> None:
        self._window_s = window_s
        self._band = band
        self._samples: deque[tuple[float, float]] = deque()

    def reset(self) -> None:
        """Forget the history."""
        self._samples.clear()

    def update(self, value: float, t_s: float) -> bool:
        """Take one sample; True when the window is full and its range is within the band."""
        if not math.isfinite(value):
            self._samples.clear()
            return False
        self._samples.append((t_s, value))
        while len(self._samples) > 1 and t_s - self._samples[1][0] >= self._window_s:
            self._samples.popleft()
        if t_s - self._samples[0][0] < self._window_s:
            return False
        values = [v for _, v in self._samples]
        return max(values) - min(values) <= self._band


class EngineBase:
    """What every exercise engine shares: whether the person is seen, in which
    pose state, and the form faults active now."""

    def __init__(self, config: CommonConfig, classifier: StateTracker) -> None:
        self._faults = FaultBook(self.kind, config.fault_raise_s, config.fault_clear_s)
        self._presence = Presence(self.kind, classifier, config, self._faults)

    @property
    def kind(self) -> ExerciseKind:
        """The exercise; each engine names its own."""
        raise NotImplementedError

    @property
    def state(self) -> PoseState | None:
        """The debounced pose state, or None while no pose is seen."""
        return self._presence.state

    @property
    def faults(self) -> frozenset[str]:
        """Form faults active now."""
        return self._faults.active

    def _reset_shared(self) -> None:
        self._presence.reset()
        self._faults.reset()


class CountedEngineBase(EngineBase):
    """An engine that counts repetitions and times no hold."""

    @property
    def holds(self) -> tuple[Hold, ...]:
        """Repetitions are counted, not held."""
        return ()

    @property
    def hold_elapsed_s(self) -> float:
        """Repetitions are counted, not held."""
        return 0.0
