"""Progression rules on synthetic histories: the dose grows and steps back exactly as written."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from records_helpers import bundled_routine, record
from rich.console import Console

from coach.adapters.routine_store import routine_text
from coach.adapters.storage import load_session
from coach.core.progression import (
    ExerciseOutcome,
    ProgressionRule,
    SessionOutcome,
    apply_progression,
)
from coach.core.record import session_outcome
from coach.core.routine import Routine, parse_routine, resolved_toml
from coach.errors import RoutineError

# "When every hold was met in the last 2 sessions and pain did not rise by 2 or more,
# add 5 s to the hold, up to 30 s; when pain rose, step back 5 s, not below 10 s."
RULES = """\
extends = "back-spasm-relief"
name = "anna-progress"
patient = "anna-k"

[[progression]]
exercise = "hip_lift"
dose = "hold_s"
add = 5
up_to = 30
after_sessions = 2
pain_rise_below = 2
step_back = 5
down_to = 10

[[progression]]
exercise = "cat_cow"
dose = "reps"
add = 1
up_to = 8
after_sessions = 1
step_back = 1
"""
START = datetime(2026, 11, 2, 18, 0)


def routine() -> Routine:
    return parse_routine(RULES, "anna.toml", resolve=routine_text)


def session(day: int, hold_s: float, reps: int, met: bool, pain: tuple[int, int]) -> SessionOutcome:
    return SessionOutcome(
        started_at=START + timedelta(days=day),
        routine="anna-progress",
        pain_before=pain[0],
        pain_after=pain[1],
        exercises=(
            ExerciseOutcome("childs_pose", 30.0, 3, 1, True),
            ExerciseOutcome("cat_cow", None, reps, 1, met),
            ExerciseOutcome("hip_lift", hold_s, 5, 1, met),
        ),
    )


# Each session as it goes: whether the whole dose was met, pain before and after; and
# the hold and cat-cow cycles the rules must prescribe for it.
RUN = [
    (True, (4, 3), 15.0, 5),  # no history: the routine's own dose
    (True, (4, 4), 15.0, 6),  # one session at 15 s: not yet; cat-cow after one
    (True, (3, 3), 20.0, 7),  # two sessions met at 15 s, no pain rise: +5 s
    (False, (3, 3), 20.0, 8),  # one at 20 s so far (cat-cow had met the last one)
    (True, (3, 3), 20.0, 8),  # the dose was missed in one of the last two: stay; missed
    (True, (3, 4), 20.0, 8),  # cat-cow at the top of 8
    (True, (3, 6), 25.0, 8),  # two met at 20 s, pain +1 only: +5 s; but this one rises by 3
    (True, (4, 4), 20.0, 7),  # pain rose by 3 last time: step back both
    (True, (4, 4), 20.0, 8),  # one at 20 s since the step back; cat-cow met: +1
    (True, (4, 4), 25.0, 8),
    (True, (4, 4), 25.0, 8),
    (True, (4, 4), 30.0, 8),
    (True, (4, 4), 30.0, 8),
    (True, (4, 4), 30.0, 8),  # the top: 30 s
    (True, (2, 9), 30.0, 8),  # pain +7 ...
    (True, (5, 5), 25.0, 7),  # ... steps back
]


def test_the_dose_changes_across_a_run_of_sessions_exactly_as_written() -> None:
    base = routine()
    history: list[SessionOutcome] = []
    got = []
    for day, (met, pain, _, _) in enumerate(RUN):
        result = apply_progression(base, history)
        hip = next(s for s in result.routine.exercises if s.kind == "hip_lift")
        cat = next(s for s in result.routine.exercises if s.kind == "cat_cow")
        assert hip.dose.hold_s is not None
        got.append((hip.dose.hold_s, cat.dose.reps))
        assert cat.dose.reps_max >= cat.dose.reps
        history.append(session(day, hip.dose.hold_s, cat.dose.reps, met, pain))
    assert got == [(hold, reps) for *_, hold, reps in RUN]


def test_each_decision_says_why() -> None:
    base = routine()
    history = [session(0, 15.0, 5, True, (4, 3)), session(1, 15.0, 5, True, (4, 4))]
    up = apply_progression(base, history).changes[0]
    assert (up.before, up.after, up.changed) == (15.0, 20.0, True)
    assert up.reason == "dose met in the last 2 sessions without a pain rise"
    history.append(session(2, 20.0, 6, True, (2, 5)))
    down = apply_progression(base, history).changes[0]
    assert (down.before, down.after) == (20.0, 15.0)
    assert down.reason == "pain rose by 3 in the last session: step back"
    history = [session(0, 10.0, 5, True, (2, 5))]
    floor = apply_progression(base, history).changes[0]
    assert (floor.before, floor.after) == (10.0, 10.0)
    assert "already at the lowest, 10" in floor.reason
    assert apply_progression(base, []).changes[0].reason == "no earlier session"


def test_only_the_same_routine_counts() -> None:
    other = [
        dataclasses.replace(session(d, 15.0, 5, True, (3, 3)), routine="other") for d in (0, 1)
    ]
    result = apply_progression(routine(), other)
    assert not result.changed


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('exercise = "plank"', "is not an exercise of this routine"),
        ('exercise = "cat_cow"\ndose = "hold_s"', "cat_cow is not held"),
        ('exercise = "hip_lift"\nup_to = 300', "up_to: 300 is outside the allowed range"),
        ('exercise = "hip_lift"\nup_to = 2\ndown_to = 1', "outside the safe range of hold_s"),
        ('exercise = "hip_lift"\ndose = "reps"\nup_to = 40', "outside the safe range of reps"),
        ('exercise = "hip_lift"\ndose = "reps"\nadd = 1.5', "whole numbers"),
        ('exercise = "hip_lift"\nadd = 0', "add must be more than 0"),
        ('exercise = "hip_lift"\nafter_sessions = 0', "after_sessions: 0 is outside"),
        ('exercise = "hip_lift"\nwhen = "always"', "unknown key 'when'"),
    ],
)
def test_every_rule_value_keeps_its_range_and_its_refusal(rule: str, message: str) -> None:
    text = 'extends = "back-spasm-relief"\nname = "x"\n[[progression]]\n' + rule + "\n"
    with pytest.raises(RoutineError) as info:
        parse_routine(text, "x.toml", resolve=routine_text)
    assert "progression[0]" in str(info.value) and message in str(info.value)


def test_the_rules_are_kept_with_the_resolved_routine() -> None:
    again = parse_routine(resolved_toml(routine()), "record/routine.toml")
    assert again.progression == routine().progression
    assert again.progression[0] == ProgressionRule(
        exercise="hip_lift", add=5, up_to=30, after_sessions=2, step_back=5, down_to=10
    )


def test_the_coach_reads_the_patients_records_says_what_changed_and_records_why(
    tmp_path: Path,
) -> None:
    from coach.app.session_loop import _progress

    rules = dataclasses.replace(bundled_routine(), name="anna-progress", patient="anna-k")
    rules = dataclasses.replace(
        rules,
        progression=(
            ProgressionRule(exercise="childs_pose", add=5, up_to=40, after_sessions=1),
            ProgressionRule(exercise="cat_cow", dose="reps", add=2, up_to=9, after_sessions=1),
        ),
    )
    folder = record(rules, tmp_path, started_at=datetime(2026, 11, 20, 9, 0))
    outcome = session_outcome(load_session(folder))
    assert outcome is not None and outcome.routine == "anna-progress"
    child, cat = outcome.exercise("childs_pose"), outcome.exercise("cat_cow")
    # The synthetic session holds child's pose 2 of 3 times and does every cat-cow cycle.
    assert child is not None and (child.hold_s, child.dose_met) == (30.0, False)
    assert cat is not None and (cat.reps, cat.dose_met) == (5, True)
    console = Console(record=True, width=200)
    progressed, changes = _progress(rules, tmp_path, console)
    said = console.export_text()
    assert [(c.before, c.after) for c in changes] == [(30.0, 30.0), (5.0, 7.0)]
    assert "Child's pose hold_s 30 -> 30 (kept: dose not met in 1 of the last 1 sessions)" in said
    assert "Cat-cow reps 5 -> 7 (changed: dose met in the last 1 sessions" in said
    assert progressed.exercises[1].dose.reps == 7 and progressed.exercises[1].dose.reps_max == 10
    assert progressed.session_cues["welcome"].endswith(
        "Cat-cow: today we do 7, up from 5. Well done."
    )
    # Another patient's records are not read at all.
    _, changes = _progress(dataclasses.replace(rules, patient="bob"), tmp_path, console)
    assert {c.reason for c in changes} == {"no earlier session"}


def test_history_shows_the_dose_over_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_history import run

    base = dataclasses.replace(bundled_routine(), patient="anna-k")
    for day, hold in ((16, 15.0), (18, 15.0), (20, 20.0)):
        exercises = tuple(
            dataclasses.replace(s, dose=dataclasses.replace(s.dose, hold_s=hold))
            if s.kind == "hip_lift"
            else s
            for s in base.exercises
        )
        routine = dataclasses.replace(base, exercises=exercises)
        record(routine, tmp_path, started_at=datetime(2026, 11, day, 9, 0))
    run(monkeypatch, "history", str(tmp_path))
    out = capsys.readouterr().out
    table = out[out.index("Dose over time") :]
    rows = [line for line in table.splitlines() if "2026-11-" in line]
    assert len(rows) == 3
    assert "15 s x 5" in rows[0] and "15 s x 5" in rows[1] and "*" not in rows[1]
    assert "20 s x 5 *" in rows[2]
    assert all("30 s x 3" in row for row in rows)  # child's pose unchanged


def test_routine_show_prints_the_rules_in_words(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from coach.app.cli import app

    path = tmp_path / "anna-progress.toml"
    path.write_text(RULES, encoding="utf-8")
    result = CliRunner().invoke(app, ["routine", "show", str(path)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert (
        "Hip lifts: when the whole dose was met in the last 2 sessions and pain did not rise "
        "by 2 or more, add 5 seconds per hold, up to 30; when pain rose by 2 or more, take 5 "
        "off, down to 10" in out
    )
    assert "Cat-cow: when the whole dose was met in the last session" in out
