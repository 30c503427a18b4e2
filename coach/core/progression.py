"""Progression: a routine's rules that grow or step back a dose from the patient's history.

A rule reads as a therapist writes it: "when the whole dose was met in the
last 2 sessions and pain did not rise by 2 or more, add 5 s to the hold, up to
30 s; when pain rose by 2 or more, take 5 s off, down to 10 s". Before each
session the coach applies the routine's rules to that patient's earlier
sessions of the same routine; every change (or the reason for none) is said,
and recorded.

The dose a rule starts from is the one the last session was given (so a
change carries on from session to session), or the routine's own when there
is none. Only sessions at that dose count toward the next step up, so one
step needs ``after_sessions`` new sessions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from coach.core.settings import knob

if TYPE_CHECKING:
    from coach.core.routine import Routine

DoseField = Literal["hold_s", "reps", "sets"]


@dataclass(frozen=True, kw_only=True)
class ProgressionRule:
    """One progression rule of a routine.

    Attributes:
        exercise: The exercise whose dose it changes.
        dose: The dose value it changes: seconds per hold, repetitions or sets.
        add: How much to add when the patient is ready.
        up_to: Never above this.
        after_sessions: Ready when the whole dose was met in this many last
            sessions at the current dose ...
        pain_rise_below: ... and in none of them pain after the session was
            this many points or more above pain before.
        step_back: How much to take off when pain rose by ``pain_rise_below``
            or more in the last session (0: never step back).
        down_to: Never below this; 0 means the routine's own dose.
    """

    exercise: str
    dose: DoseField = "hold_s"
    add: float = knob(5.0, 0.0, 60.0, "", "added when ready")
    up_to: float = knob(30.0, 1.0, 120.0, "", "never above this")
    after_sessions: int = knob(2, 1, 10, "count", "dose met in this many last sessions")
    pain_rise_below: int = knob(2, 1, 10, "count", "and pain did not rise by this much")
    step_back: float = knob(5.0, 0.0, 60.0, "", "taken off when pain rose")
    down_to: float = knob(0.0, 0.0, 120.0, "", "never below this (0: the routine's dose)")

    def __post_init__(self) -> None:
        if not self.add > 0:
            raise ValueError("add must be more than 0")
        if self.dose != "hold_s" and (
            self.add != int(self.add)
            or self.step_back != int(self.step_back)
            or self.up_to != int(self.up_to)
        ):
            raise ValueError(f"add, step_back and up_to must be whole numbers for {self.dose}")
        if self.down_to and self.down_to > self.up_to:
            raise ValueError("down_to must not be above up_to")


_DOSE_WORDS = {"hold_s": "seconds per hold", "reps": "repetitions", "sets": "sets"}


def describe_rule(rule: ProgressionRule) -> str:
    """A rule in the words a therapist would use."""
    what = _DOSE_WORDS[rule.dose]
    sessions = "session" if rule.after_sessions == 1 else f"{rule.after_sessions} sessions"
    text = (
        f"when the whole dose was met in the last {sessions} and pain did not rise by "
        f"{rule.pain_rise_below} or more, add {_number(rule.add)} {what}, "
        f"up to {_number(rule.up_to)}"
    )
    if rule.step_back > 0:
        floor = _number(rule.down_to) if rule.down_to else "the routine's dose"
        text += (
            f"; when pain rose by {rule.pain_rise_below} or more, take "
            f"{_number(rule.step_back)} off, down to {floor}"
        )
    return text


@dataclass(frozen=True)
class ExerciseOutcome:
    """How one exercise of an earlier session went, as the progression reads it."""

    kind: str
    hold_s: float | None
    reps: int
    sets: int
    dose_met: bool

    def value(self, name: DoseField) -> float | None:
        """The prescribed value of one dose field."""
        result: float | None = getattr(self, name)
        return result


@dataclass(frozen=True)
class SessionOutcome:
    """An earlier session of the patient, as the progression reads it."""

    started_at: datetime
    routine: str
    pain_before: int | None
    pain_after: int | None
    exercises: tuple[ExerciseOutcome, ...] = ()

    @property
    def pain_rise(self) -> int | None:
        """Pain after minus pain before, when both were given."""
        if self.pain_before is None or self.pain_after is None:
            return None
        return self.pain_after - self.pain_before

    def exercise(self, kind: str) -> ExerciseOutcome | None:
        """The first entry of ``kind`` in this session, if it was done."""
        return next((e for e in self.exercises if e.kind == kind), None)


@dataclass(frozen=True)
class DoseChange:
    """What a rule did before a session, and why."""

    exercise: str
    dose: DoseField
    before: float
    after: float
    reason: str

    @property
    def changed(self) -> bool:
        """The dose is not what it was."""
        return self.after != self.before

    def to_dict(self) -> dict[str, object]:
        """As the session record keeps it."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Progression:
    """The routine to run after the rules, and every rule's decision."""

    routine: Routine
    changes: tuple[DoseChange, ...] = field(default=())

    @property
    def changed(self) -> tuple[DoseChange, ...]:
        """The decisions that changed a dose."""
        return tuple(c for c in self.changes if c.changed)


def _number(value: float) -> str:
    return f"{value:g}"


def decide(
    rule: ProgressionRule, prescribed: float, history: Sequence[SessionOutcome]
) -> DoseChange:
    """One rule's decision: the dose to give next, from the routine's dose and the history.

    Args:
        rule: The rule.
        prescribed: The routine's own value of the dose field.
        history: The patient's earlier sessions of this routine, oldest first.
    """
    done = [(s, e) for s in history if (e := s.exercise(rule.exercise)) is not None]
    done = [(s, e) for s, e in done if e.value(rule.dose) is not None]
    floor = rule.down_to or prescribed
    if not done:
        return DoseChange(rule.exercise, rule.dose, prescribed, prescribed, "no earlier session")
    last_session, last = done[-1]
    current = float(last.value(rule.dose) or prescribed)
    rise = last_session.pain_rise
    if rule.step_back > 0 and rise is not None and rise >= rule.pain_rise_below:
        after = max(floor, current - rule.step_back)
        return DoseChange(
            rule.exercise,
            rule.dose,
            current,
            after,
            f"pain rose by {rise} in the last session: step back"
            + ("" if after < current else f" (already at the lowest, {_number(floor)})"),
        )
    at_dose = []
    for session, entry in reversed(done):
        if entry.value(rule.dose) != current:
            break
        at_dose.append((session, entry))
    recent = at_dose[: rule.after_sessions]
    if len(recent) < rule.after_sessions:
        reason = f"{len(recent)} of {rule.after_sessions} sessions at this dose so far"
        return DoseChange(rule.exercise, rule.dose, current, current, reason)
    missed = sum(1 for _, e in recent if not e.dose_met)
    if missed:
        return DoseChange(
            rule.exercise,
            rule.dose,
            current,
            current,
            f"dose not met in {missed} of the last {rule.after_sessions} sessions",
        )
    rose = [r for s, _ in recent if (r := s.pain_rise) is not None and r >= rule.pain_rise_below]
    if rose:
        return DoseChange(
            rule.exercise, rule.dose, current, current, f"pain rose by {max(rose)} after a session"
        )
    after = min(rule.up_to, current + rule.add)
    if after <= current:
        return DoseChange(
            rule.exercise, rule.dose, current, current, f"at the top of {_number(rule.up_to)}"
        )
    return DoseChange(
        rule.exercise,
        rule.dose,
        current,
        after,
        f"dose met in the last {rule.after_sessions} sessions without a pain rise",
    )


def apply_progression(routine: Routine, history: Sequence[SessionOutcome]) -> Progression:
    """The routine with its progression rules applied to the patient's earlier sessions.

    Only sessions of the same routine count; each rule changes the dose of
    every entry of its exercise in the routine.
    """
    mine = sorted((s for s in history if s.routine == routine.name), key=lambda s: s.started_at)
    exercises = list(routine.exercises)
    changes: list[DoseChange] = []
    for rule in routine.progression:
        indices = [i for i, spec in enumerate(exercises) if spec.kind == rule.exercise]
        if not indices:
            continue
        own = getattr(exercises[indices[0]].dose, rule.dose)
        if own is None:
            continue
        change = decide(rule, float(own), mine)
        changes.append(change)
        value: float | int = change.after if rule.dose == "hold_s" else int(change.after)
        for i in indices:
            spec = exercises[i]
            values: dict[str, Any] = {rule.dose: value}
            if rule.dose == "reps":
                values["reps_max"] = max(spec.dose.reps_max, int(value))
            exercises[i] = dataclasses.replace(spec, dose=dataclasses.replace(spec.dose, **values))
    return Progression(dataclasses.replace(routine, exercises=tuple(exercises)), tuple(changes))
