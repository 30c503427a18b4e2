"""Doubles for session tests: synthetic features, a scripted engine and a small routine."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from coach.core.events import Event, EventKind
from coach.core.exercises.base import Gauge, Hold
from coach.core.features import FeatureConfig, Features
from coach.core.landmarks import NUM_LANDMARKS, Side
from coach.core.pose import Pose
from coach.core.routine import CueSettings, Dose, ExerciseSpec, Routine
from coach.core.states import ExerciseKind, PoseState

FRAME = (640, 480)

SESSION_CUES = {
    "welcome": "Welcome to {title}.",
    "safety_stop": "Please contact a clinician.",
    "safety_stop_urgent": "Get medical help urgently.",
    "setup_move_back": "Move the laptop further away.",
    "setup_turn_sideways": "Turn sideways to the camera.",
    "setup_come_into_view": "Come into view.",
    "setup_ok": "Good, I can see you.",
    "pose_lost": "I can't see you.",
    "rest": "Rest for {seconds} seconds.",
    "paused": "Paused.",
    "resumed": "Resumed.",
    "skipped": "Skipping.",
    "stopped": "Stopped.",
    "done": "All done.",
    "pain_worse": "Stop and rest.",
    "stall_move_on": "Let's leave {title} and move on.",
}

HOLD_CUES = {
    "get_into_position": "Get into position.",
    "in_position": "In position.",
    "hold_start": "Hold for {seconds} seconds.",
    "hold_countdown": "{remaining} to go.",
    "hold_done": "Hold done.",
    "rep_counted": "That's {count} of {target}.",
    "relax": "Relax.",
    "hips_far": "Sit back toward your heels.",
    "stall_in_position": "I see you in position; hold for {seconds} seconds.",
    "stall_out_of_position": "I can't see you in position yet.",
    "stall_tabletop": "I see you on all fours.",
}

CAT_COW_CUES = {
    "get_into_position": "Hands and knees.",
    "in_position": "Good.",
    "breathe_in": "Breathe in.",
    "breathe_out": "Breathe out.",
    "rep_counted": "{count}.",
    "relax": "Relax.",
    "stall_in_position": "I see you on all fours; move your back.",
    "stall_cow": "I see your back sagging; round it up.",
}


def spec(
    kind: ExerciseKind,
    *,
    hold_s: float | None = None,
    reps: int = 1,
    sets: int = 1,
    rest_s: float = 0.0,
    intro: str = "Short intro.",
) -> ExerciseSpec:
    cues = CAT_COW_CUES if kind is ExerciseKind.CAT_COW else HOLD_CUES
    return ExerciseSpec(
        kind=kind,
        title=kind.value.replace("_", " ").title(),
        intro=intro,
        dose=Dose(hold_s=hold_s, reps=reps, reps_max=reps, sets=sets, rest_s=rest_s),
        thresholds=None,
        cues=MappingProxyType(dict(cues)),
    )


def routine(*exercises: ExerciseSpec, countdown_every_s: float = 2.0) -> Routine:
    return Routine(
        name="test",
        title="Test routine",
        notes="",
        exercises=tuple(exercises),
        cues=CueSettings(cooldown_s=8.0, max_age_s=3.0, countdown_every_s=countdown_every_s),
        session_cues=MappingProxyType(dict(SESSION_CUES)),
        classifier=None,  # type: ignore[arg-type]
        camera=FeatureConfig(),
        source="<test>",
        text="",
    )


def _pose(t_s: float) -> Pose:
    norm = np.zeros((NUM_LANDMARKS, 5))
    norm[:, 0] = np.linspace(0.2, 0.8, NUM_LANDMARKS)
    norm[:, 1] = 0.5
    norm[:, 3:] = 1.0
    return Pose.from_normalized(t_s, norm, np.zeros((NUM_LANDMARKS, 3)), FRAME)


def features(
    t_s: float,
    *,
    present: bool = True,
    whole_body: bool = True,
    side_view: bool = True,
    empty: bool = False,
) -> Features:
    """Features of one frame with only the flags the session reads set."""
    pose = Pose.empty(t_s, FRAME) if empty else _pose(t_s)
    values = {"hip": 60.0}
    return Features(
        t_s=t_s,
        present=present and not empty,
        side=None if empty else Side.LEFT,
        values=values,
        raw=values,
        visibility=0.0 if empty else 1.0,
        side_view=side_view and not empty,
        whole_body=whole_body and not empty,
        torso_px=math.nan if empty else 100.0,
        pose=pose,
    )


Script = Callable[[float], PoseState | None]


def timeline(*steps: tuple[float, PoseState | None]) -> Script:
    """A state script: each step's state holds from its time until the next step."""

    def state_at(t_s: float) -> PoseState | None:
        current: PoseState | None = None
        for start, state in steps:
            if t_s + 1e-9 >= start:
                current = state
        return current

    return state_at


HOLD_TARGET = {
    ExerciseKind.CHILDS_POSE: PoseState.CHILDS_POSE,
    ExerciseKind.HIP_LIFT: PoseState.BRIDGE_UP,
}
# The scripted engine is in position as soon as its script shows one of these.
START_STATES = {
    ExerciseKind.CHILDS_POSE: frozenset({PoseState.CHILDS_POSE, PoseState.TABLETOP}),
    ExerciseKind.CAT_COW: frozenset({PoseState.TABLETOP, PoseState.CAT, PoseState.COW}),
    ExerciseKind.HIP_LIFT: frozenset({PoseState.BRIDGE_DOWN, PoseState.BRIDGE_UP}),
}


@dataclass
class FakeEngine:
    """An engine that takes its pose state from a script and times holds like the real ones."""

    kind: ExerciseKind
    hold_s: float | None
    script: Script
    fault_script: Callable[[float], frozenset[str]] = lambda t: frozenset()
    updates: list[tuple[float, bool]] = field(default_factory=list)
    resets: int = 0

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._state: PoseState | None = None
        self._reps = 0
        self._holds: list[Hold] = []
        self._holding = False
        self._elapsed = 0.0
        self._start = 0.0
        self._completed = False
        self._last_t: float | None = None
        self._last_whole = 0
        self._seen: set[PoseState] = set()
        self._faults: frozenset[str] = frozenset()
        self.resets += 1

    @property
    def state(self) -> PoseState | None:
        return self._state

    @property
    def in_position(self) -> bool:
        return self._state in START_STATES[self.kind]

    @property
    def reps(self) -> int:
        return self._reps

    @property
    def holds(self) -> tuple[Hold, ...]:
        return tuple(self._holds)

    @property
    def hold_elapsed_s(self) -> float:
        return self._elapsed if self._holding else 0.0

    @property
    def faults(self) -> frozenset[str]:
        return self._faults

    @property
    def gauge(self) -> Gauge | None:
        return Gauge(60.0, 40.0, 80.0, "deg")

    def update(self, feats: Features, t_s: float) -> list[Event]:
        self.updates.append((t_s, feats.present))
        dt = 0.0 if self._last_t is None else t_s - self._last_t
        self._last_t = t_s
        name = self.kind.value
        events: list[Event] = []
        state = self.script(t_s) if feats.present else None
        if state != self._state:
            events.append(
                Event(
                    EventKind.STATE_CHANGED,
                    t_s,
                    name,
                    {"from": self._state and self._state.value, "to": state and state.value},
                )
            )
        previous, self._state = self._state, state
        faults = self.fault_script(t_s) if feats.present else frozenset()
        for key in sorted(faults - self._faults):
            events.append(Event(EventKind.FAULT_RAISED, t_s, name, {"key": key}))
        for key in sorted(self._faults - faults):
            events.append(Event(EventKind.FAULT_CLEARED, t_s, name, {"key": key}))
        self._faults = faults
        if self.kind is ExerciseKind.CAT_COW:
            if state in (PoseState.CAT, PoseState.COW) and state != previous:
                self._seen.add(state)
                if self._seen == {PoseState.CAT, PoseState.COW}:
                    self._reps += 1
                    self._seen = {state}
                    events.append(Event(EventKind.REP_COUNTED, t_s, name, {"count": self._reps}))
            return events
        target = HOLD_TARGET[self.kind]
        if state is None:  # nobody seen: the hold pauses
            return events
        if state is target:
            if not self._holding:
                self._holding, self._elapsed, self._start = True, 0.0, t_s
                self._completed, self._last_whole = False, 0
                events.append(
                    Event(EventKind.HOLD_STARTED, t_s, name, {"index": len(self._holds) + 1})
                )
            else:
                self._elapsed += dt
            assert self.hold_s is not None
            whole = int(self._elapsed + 1e-9)
            if whole > self._last_whole:
                self._last_whole = whole
                events.append(
                    Event(
                        EventKind.HOLD_PROGRESS,
                        t_s,
                        name,
                        {
                            "index": len(self._holds) + 1,
                            "elapsed_s": whole,
                            "remaining_s": max(0.0, self.hold_s - whole),
                        },
                    )
                )
            if not self._completed and self._elapsed + 1e-9 >= self.hold_s:
                self._completed = True
                events.append(
                    Event(
                        EventKind.HOLD_COMPLETED,
                        t_s,
                        name,
                        {
                            "index": len(self._holds) + 1,
                            "seconds": self._elapsed,
                            "start_s": self._start,
                        },
                    )
                )
        elif self._holding:
            events += self._end_hold(t_s)
        return events

    def finish(self, t_s: float) -> list[Event]:
        return self._end_hold(t_s) if self._holding else []

    def _end_hold(self, t_s: float) -> list[Event]:
        name = self.kind.value
        events: list[Event] = []
        hold = Hold(self._start, t_s, self._elapsed, self._completed)
        self._holds.append(hold)
        self._holding = False
        events.append(
            Event(
                EventKind.HOLD_ENDED,
                t_s,
                name,
                {
                    "index": len(self._holds),
                    "seconds": hold.seconds,
                    "start_s": hold.start_s,
                    "completed": hold.completed,
                },
            )
        )
        if self.kind is ExerciseKind.HIP_LIFT:
            self._reps += 1
            events.append(
                Event(
                    EventKind.REP_COUNTED,
                    t_s,
                    name,
                    {
                        "count": self._reps,
                        "held_s": hold.seconds,
                        "met_hold": hold.completed,
                        "start_s": hold.start_s,
                    },
                )
            )
        return events


class Scripts:
    """Per-exercise state scripts, handed to the session as its engine factory."""

    def __init__(
        self,
        scripts: dict[ExerciseKind, Script],
        faults: dict[ExerciseKind, Callable[[float], frozenset[str]]] | None = None,
    ) -> None:
        self._scripts = scripts
        self._faults = faults or {}
        self.engines: list[FakeEngine] = []

    def __call__(self, spec: ExerciseSpec, routine: Routine) -> FakeEngine:
        engine = FakeEngine(
            spec.kind,
            spec.dose.hold_s,
            self._scripts[spec.kind],
            self._faults.get(spec.kind, lambda t: frozenset()),
        )
        self.engines.append(engine)
        return engine


def kinds(events: Sequence[Event]) -> list[str]:
    """Event kinds, CUE events shown as ``cue:<key>``, engine details left out."""
    skip = {
        EventKind.STATE_CHANGED,
        EventKind.HOLD_PROGRESS,
        EventKind.FAULT_CLEARED,
    }
    out = []
    for e in events:
        if e.kind in skip:
            continue
        out.append(f"cue:{e['key']}" if e.kind is EventKind.CUE else e.kind.value)
    return out


def cue_keys(events: Sequence[Event]) -> list[str]:
    return [e["key"] for e in events if e.kind is EventKind.CUE]


def unattended(source: Path, out: Path, voice: Path) -> list[str]:
    """``coach run`` options for a recorded video with nobody there: every answer given,
    no window, the voice written as WAV files to ``voice`` and the record to ``out``."""
    return [
        *("--source", str(source), "--headless", "--no-realtime"),
        *("--answers", "no", "--pain-before", "4", "--pain-after", "3"),
        *("--voice-to", str(voice), "--out", str(out)),
    ]


def write_bundled_with_doses(
    folder: Path, doses: Mapping[str, Mapping[str, object]], *, name: str | None = None
) -> Path:
    """A therapist's short routine: the bundled one with these doses and short spoken texts.

    A short welcome and controls text leave more of a clip for the exercises
    (the intros stay as bundled). The file is checked to be a valid routine.
    """
    from coach.adapters.routine_store import open_routine

    lines = [
        'extends = "back-spasm-relief"',
        f'name = "{name or "test-routine"}"',
        'session_cues = { welcome = "Hello.", controls = "Sit up to pause." }',
    ]
    for kind, dose in doses.items():
        inline = ", ".join(f"{key} = {value}" for key, value in dose.items())
        lines += ["[[exercises]]", f'kind = "{kind}"', f"dose = {{ {inline} }}"]
    path = folder / "test-routine.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    open_routine(str(path))  # valid, or fail here
    return path
