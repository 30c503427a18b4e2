"""A synthetic session played into a recorder: the events and frames a real one writes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from coach.core.events import Event, EventKind
from coach.core.routine import Routine, parse_routine
from coach.core.states import ExerciseKind

BUNDLED = Path(__file__).resolve().parents[1] / "coach" / "routines" / "back-spasm-relief.toml"

FPS = 10.0
SAFE_ANSWERS = {
    "bladder_bowel": False,
    "groin_numbness": False,
    "leg_symptoms": False,
    "night_pain": False,
    "fever_weight_loss": False,
    "fall_or_accident": False,
    "not_improving": False,
}
STARTED_AT = datetime(2026, 11, 23, 9, 30, 0)
REST_STATES = {
    ExerciseKind.CHILDS_POSE: "other",
    ExerciseKind.CAT_COW: "tabletop",
    ExerciseKind.HIP_LIFT: "bridge_down",
}


@dataclass(frozen=True)
class Step:
    """One frame of the synthetic session, and the events that happened at it."""

    t_s: float
    exercise: str | None
    state: str | None
    values: dict[str, float]
    events: tuple[Event, ...]


def bundled_routine() -> Routine:
    """The routine shipped with the coach."""
    return parse_routine(BUNDLED.read_text(encoding="utf-8"), str(BUNDLED))


def routine_variant(*replacements: tuple[str, str]) -> Routine:
    """The bundled routine with its text edited (a therapist's per-patient copy)."""
    text = BUNDLED.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, f"{old!r} not in the bundled routine"
        text = text.replace(old, new, 1)
    return parse_routine(text, "patient.toml")


def _values(kind: ExerciseKind, up: bool, phase: float) -> dict[str, float]:
    wobble = 2.0 * math.sin(phase)
    if kind is ExerciseKind.CHILDS_POSE:
        hip = 55.0 + wobble if up else 120.0 + wobble
        return {"hip": hip, "knee": 40.0 + wobble, "trunk": 10.0, "back_bend": 0.0}
    if kind is ExerciseKind.CAT_COW:
        return {"hip": 95.0, "knee": 90.0, "back_bend": 0.08 * math.sin(phase), "trunk": 5.0}
    lift = 0.15 if up else 0.01
    return {"hip": 150.0, "knee": 90.0, "hip_lift": lift + 0.005 * math.sin(phase)}


def play(routine: Routine, *, holds_short_by: int = 1, fault_at_hold: int = 1) -> Iterator[Step]:
    """Frames and events of a whole session over ``routine``.

    Each held exercise does its target count of holds, the last ``holds_short_by``
    of them too short; cat-cow does its target cycles; one form fault is raised
    in each exercise at hold (or cycle) number ``fault_at_hold``.
    """
    t = 0.0
    dt = 1.0 / FPS
    yield Step(
        t,
        None,
        None,
        {},
        (
            Event(EventKind.SESSION_STARTED, t, None, {"routine": routine.name}),
            Event(EventKind.PAIN_RATED, t, None, {"when": "before", "score": 6}),
        ),
    )
    for index, spec in enumerate(routine.exercises):
        kind = spec.kind
        name = kind.value
        t += 1.0
        yield Step(
            t,
            name,
            "other",
            _values(kind, False, t),
            (Event(EventKind.EXERCISE_STARTED, t, name, {"index": index, "set": 1}),),
        )
        target = spec.dose.reps * spec.dose.sets
        rest = REST_STATES[kind]
        for n in range(1, target + 1):
            # rest between holds / cycles
            for _ in range(int(2 * FPS)):
                t += dt
                yield Step(t, name, rest, _values(kind, False, t), ())
            if spec.dose.hold_s is None:
                cycle_events = [
                    Event(
                        EventKind.REP_COUNTED,
                        t + 3.0,
                        name,
                        {"count": n, "held_s": 0.0, "met_hold": True, "start_s": t},
                    )
                ]
                if n == fault_at_hold:
                    cycle_events.insert(
                        0, Event(EventKind.FAULT_RAISED, t + 1.0, name, {"key": "fault_a"})
                    )
                start = t
                while t < start + 3.0:
                    t += dt
                    due = tuple(e for e in cycle_events if e.t_s <= t)
                    cycle_events = [e for e in cycle_events if e.t_s > t]
                    state = "cow" if math.sin(t) < 0 else "cat"
                    yield Step(t, name, state, _values(kind, True, t), due)
                continue
            short = n > target - holds_short_by
            seconds = spec.dose.hold_s * (0.5 if short else 1.0)
            start = t
            state = "childs_pose" if kind is ExerciseKind.CHILDS_POSE else "bridge_up"
            yield Step(
                t,
                name,
                state,
                _values(kind, True, t),
                (Event(EventKind.HOLD_STARTED, t, name, {"index": n}),),
            )
            fault_pending = n == fault_at_hold
            completed_sent = False
            while t < start + seconds:
                t += dt
                events: list[Event] = []
                if fault_pending and t >= start + 1.0:
                    events.append(Event(EventKind.FAULT_RAISED, t, name, {"key": "fault_a"}))
                    fault_pending = False
                if not completed_sent and t >= start + spec.dose.hold_s:
                    events.append(
                        Event(
                            EventKind.HOLD_COMPLETED,
                            t,
                            name,
                            {"index": n, "seconds": spec.dose.hold_s, "start_s": start},
                        )
                    )
                    completed_sent = True
                yield Step(t, name, state, _values(kind, True, t), tuple(events))
            t += dt
            ended = [
                Event(
                    EventKind.HOLD_ENDED,
                    t,
                    name,
                    {
                        "index": n,
                        "seconds": round(seconds, 2),
                        "start_s": start,
                        "completed": not short,
                    },
                )
            ]
            if kind is ExerciseKind.HIP_LIFT:
                ended.append(
                    Event(
                        EventKind.REP_COUNTED,
                        t,
                        name,
                        {
                            "count": n,
                            "held_s": round(seconds, 2),
                            "met_hold": not short,
                            "start_s": start,
                        },
                    )
                )
            yield Step(
                t,
                name,
                "bridge_down" if kind is ExerciseKind.HIP_LIFT else "other",
                _values(kind, False, t),
                tuple(ended),
            )
        t += dt
        yield Step(
            t,
            name,
            "other",
            _values(kind, False, t),
            (Event(EventKind.EXERCISE_COMPLETED, t, name, {}),),
        )
    t += 1.0
    yield Step(
        t,
        None,
        None,
        {},
        (
            Event(EventKind.PAIN_RATED, t, None, {"when": "after", "score": 3}),
            Event(EventKind.SESSION_COMPLETED, t, None, {}),
        ),
    )


def all_events(routine: Routine, **kwargs: int) -> list[Event]:
    """Every event of the synthetic session, in order."""
    return [e for step in play(routine, **kwargs) for e in step.events]


def record(
    routine: Routine,
    root: Path,
    *,
    stop_after_s: float | None = None,
    name: str | None = None,
    started_at: datetime = STARTED_AT,
) -> Path:
    """Record the synthetic session into ``root``; cut it off at ``stop_after_s`` (no summary)."""
    from coach.adapters.storage import SessionRecorder
    from coach.core.record import summarize

    with SessionRecorder(root, name=name, started_at=started_at) as recorder:
        recorder.start(routine=routine, source="synthetic", started_at=started_at)
        recorder.safety(SAFE_ANSWERS, 6)
        events: list[Event] = []
        for step in play(routine):
            if stop_after_s is not None and step.t_s > stop_after_s:
                return recorder.folder
            if step.exercise is not None:
                recorder.frame(step.t_s, step.exercise, step.state, step.values)
            for event in step.events:
                recorder.event(event)
                events.append(event)
        recorder.finish(summarize(routine, events, complete=True))
        return recorder.folder
