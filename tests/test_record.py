"""The session summary: prescribed dose against achieved, from events alone."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from records_helpers import all_events, bundled_routine, routine_variant

from coach.core.events import Event, EventKind
from coach.core.exercises import KEY_SIGNALS, kinds
from coach.core.record import (
    FrameTable,
    HistoryRow,
    summarize,
    target_band,
    weekly_adherence,
)
from coach.core.routine import Routine
from coach.core.states import ExerciseKind

CP, CC, HL = "childs_pose", "cat_cow", "hip_lift"


@pytest.fixture(scope="module")
def routine() -> Routine:
    return bundled_routine()


def ev(kind: EventKind, t_s: float, exercise: str | None = None, **data: Any) -> Event:
    return Event(kind, t_s, exercise, data)


def by_kind(summary: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(e for e in summary["exercises"] if e["kind"] == kind)


# (case, holds_short_by, expected (achieved toward dose, met) per exercise)
WHOLE_SESSIONS = [
    ("one hold short in each held exercise", 1, {CP: (2, False), CC: (5, True), HL: (4, False)}),
    ("every hold reached", 0, {CP: (3, True), CC: (5, True), HL: (5, True)}),
    ("two holds short", 2, {CP: (1, False), CC: (5, True), HL: (3, False)}),
]


@pytest.mark.parametrize(
    ("case", "short", "expected"), WHOLE_SESSIONS, ids=[c[0] for c in WHOLE_SESSIONS]
)
def test_whole_session_prescribed_against_achieved(
    routine: Routine, case: str, short: int, expected: dict[str, tuple[int, bool]]
) -> None:
    summary = summarize(routine, all_events(routine, holds_short_by=short), complete=True)
    assert summary["completed"] is True
    assert summary["routine"] == routine.name
    assert summary["pain"] == {"before": 6, "after": 3, "change": -3}
    assert summary["duration_s"] > 0
    for spec in routine.exercises:
        entry = by_kind(summary, spec.kind.value)
        done, met = expected[spec.kind.value]
        assert entry["prescribed"]["reps"] == spec.dose.reps
        assert entry["prescribed"]["hold_s"] == spec.dose.hold_s
        assert entry["achieved"]["reps_toward_dose"] == done, case
        assert entry["achieved"]["dose_met"] is met
        assert entry["completed"] is True
        assert entry["skipped"] is False
        assert entry["ended"] == "completed"
        assert entry["faults"][0]["key"] == "fault_a"
        assert entry["faults"][0]["count"] == 1
    holds = by_kind(summary, CP)["achieved"]["holds"]
    assert [h["completed"] for h in holds] == [True] * (3 - short) + [False] * short
    assert holds[0]["seconds"] == pytest.approx(30.0)
    if short:
        assert holds[-1]["seconds"] == pytest.approx(15.0)
    lifts = by_kind(summary, HL)["achieved"]
    assert lifts["reps_counted"] == 5
    json.dumps(summary)  # JSON-ready


@pytest.mark.parametrize("cut", [3, 10, -1])
def test_a_cut_off_session_is_incomplete_and_keeps_what_happened(
    routine: Routine, cut: int
) -> None:
    events = all_events(routine)
    if cut < 0:  # just before the last exercise starts
        last = routine.exercises[-1].kind.value
        cut = next(
            i
            for i, e in enumerate(events)
            if e.kind is EventKind.EXERCISE_STARTED and e.exercise == last
        )
    events = events[:cut]
    summary = summarize(routine, events, complete=False)
    assert summary["completed"] is False
    assert summary["pain"]["after"] is None
    started = [e["started"] for e in summary["exercises"]]
    assert started[0] is True
    assert started[-1] is False  # never reached the last exercise
    assert not summary["exercises"][-1]["achieved"]["holds"]
    assert summary["session_completed_event"] is False


# (case, events, checks on the child's pose entry or the summary)
def _cp_events(*more: Event) -> list[Event]:
    return [ev(EventKind.EXERCISE_STARTED, 1.0, CP, index=0, set=1), *more]


SMALL_CASES: list[tuple[str, list[Event], dict[str, Any]]] = [
    (
        "a hold cut off by the end of the recording",
        _cp_events(
            ev(EventKind.HOLD_STARTED, 2.0, CP, index=1),
            ev(EventKind.HOLD_PROGRESS, 14.0, CP, index=1, elapsed_s=12.0, remaining_s=18.0),
        ),
        {"holds": [(12.0, False, True)], "toward": 0},
    ),
    (
        "a hold that reached its time, then the recording ended",
        _cp_events(
            ev(EventKind.HOLD_STARTED, 2.0, CP, index=1),
            ev(EventKind.HOLD_COMPLETED, 32.0, CP, index=1, seconds=30.0, start_s=2.0),
        ),
        {"holds": [(30.0, True, True)], "toward": 1},
    ),
    (
        "the same fault twice and another once",
        _cp_events(
            ev(EventKind.FAULT_RAISED, 3.0, CP, key="hips_high"),
            ev(EventKind.FAULT_CLEARED, 4.0, CP, key="hips_high"),
            ev(EventKind.FAULT_RAISED, 5.5, CP, key="arms_back"),
            ev(EventKind.FAULT_RAISED, 9.0, CP, key="hips_high"),
        ),
        {"faults": [("hips_high", 2, 3.0), ("arms_back", 1, 5.5)]},
    ),
    (
        "skipped, in a record from before skips gave a reason",
        _cp_events(ev(EventKind.EXERCISE_SKIPPED, 4.0, CP)),
        {"skipped": True, "completed": False, "ended": "skipped", "no_progress_s": None},
    ),
    (
        "skipped by the person",
        _cp_events(ev(EventKind.EXERCISE_SKIPPED, 4.0, CP, index=0, set=1, reason="user")),
        {"skipped": True, "completed": False, "ended": "skipped", "no_progress_s": None},
    ),
    (
        "moved on by the coach after 60 s in which nothing counted",
        _cp_events(
            ev(EventKind.STALL_HINT, 21.0, CP, key="stall_in_position", seconds=20.0),
            ev(EventKind.STALL_HINT, 41.0, CP, key="stall_in_position", seconds=40.0),
            ev(
                EventKind.EXERCISE_SKIPPED,
                61.0,
                CP,
                index=0,
                set=1,
                reason="no_progress",
                no_progress_s=60.0,
                state="tabletop",
                in_position=True,
            ),
        ),
        {
            "skipped": False,
            "completed": False,
            "ended": "no_progress",
            "no_progress_s": 60.0,
            "stall_hints": 2,
        },
    ),
    (
        "cut off during the exercise",
        _cp_events(ev(EventKind.HOLD_STARTED, 2.0, CP, index=1)),
        {"ended": None, "stall_hints": 0},
    ),
    (
        "paused twice",
        _cp_events(
            ev(EventKind.PAUSED, 2.0),
            ev(EventKind.RESUMED, 5.0),
            ev(EventKind.PAUSED, 7.0),
            ev(EventKind.RESUMED, 8.0),
        ),
        {"pauses": 2, "session_pauses": (2, 4.0)},
    ),
    (
        "a safety stop before any exercise",
        [
            ev(EventKind.PAIN_RATED, 0.0, when="before", score=8),
            ev(EventKind.SAFETY_STOP, 0.5, flags=["night_pain"]),
            ev(EventKind.SESSION_STOPPED, 0.6, reason="safety"),
        ],
        {"safety": {"stop": True, "flags": ["night_pain"]}, "stopped": "safety", "started": False},
    ),
    (
        "a second set stays with its exercise",
        _cp_events(
            ev(EventKind.HOLD_STARTED, 2.0, CP, index=1),
            ev(EventKind.HOLD_ENDED, 33.0, CP, index=1, seconds=31.0, start_s=2.0, completed=True),
            ev(EventKind.EXERCISE_STARTED, 40.0, CP, index=0, set=2),
            ev(EventKind.HOLD_STARTED, 41.0, CP, index=1),
            ev(EventKind.HOLD_ENDED, 72.0, CP, index=1, seconds=31.0, start_s=41.0, completed=True),
        ),
        {"toward": 2, "sets_started": 2},
    ),
]


@pytest.mark.parametrize(("case", "events", "want"), SMALL_CASES, ids=[c[0] for c in SMALL_CASES])
def test_small_event_lists(
    routine: Routine, case: str, events: list[Event], want: dict[str, Any]
) -> None:
    summary = summarize(routine, events, complete=False)
    entry = by_kind(summary, CP)
    if "holds" in want:
        got = [
            (h["seconds"], h["completed"], h.get("unfinished", False))
            for h in entry["achieved"]["holds"]
        ]
        assert got == want["holds"], case
    if "toward" in want:
        assert entry["achieved"]["reps_toward_dose"] == want["toward"]
    if "faults" in want:
        assert [(f["key"], f["count"], f["first_s"]) for f in entry["faults"]] == want["faults"]
    keys = ("skipped", "completed", "ended", "no_progress_s", "stall_hints")
    for key in (*keys, "pauses", "sets_started", "started"):
        if key in want:
            assert entry[key] == want[key], key
    if "session_pauses" in want:
        count, seconds = want["session_pauses"]
        assert summary["pauses"] == {"count": count, "seconds": seconds}
    if "safety" in want:
        assert summary["safety"] == want["safety"]
        assert summary["stopped"] == want["stopped"]


def test_an_exercise_that_appears_twice_gets_its_own_entries(routine: Routine) -> None:
    cp = routine.exercises[0]
    twice = dataclasses.replace(routine, exercises=(cp, routine.exercises[1], cp))
    events = [
        ev(EventKind.EXERCISE_STARTED, 1.0, CP, index=0, set=1),
        ev(EventKind.HOLD_STARTED, 2.0, CP, index=1),
        ev(EventKind.HOLD_ENDED, 33.0, CP, index=1, seconds=31.0, start_s=2.0, completed=True),
        ev(EventKind.EXERCISE_COMPLETED, 34.0, CP),
        ev(EventKind.EXERCISE_STARTED, 40.0, CC, index=1, set=1),
        ev(EventKind.REP_COUNTED, 44.0, CC, count=1, held_s=0.0, met_hold=True, start_s=40.0),
        ev(EventKind.EXERCISE_STARTED, 50.0, CP, index=2, set=1),
        ev(EventKind.HOLD_STARTED, 51.0, CP, index=1),
        ev(EventKind.HOLD_ENDED, 60.0, CP, index=1, seconds=9.0, start_s=51.0, completed=False),
    ]
    first, middle, last = summarize(twice, events, complete=False)["exercises"]
    assert first["achieved"]["holds_completed"] == 1 and first["completed"]
    assert middle["achieved"]["reps_counted"] == 1
    assert [h["seconds"] for h in last["achieved"]["holds"]] == [9.0]
    assert last["started_s"] == 50.0


def test_the_assigned_routine_sets_the_prescription() -> None:
    patient = routine_variant(("hold_s = 30", "hold_s = 20"), ("reps = 3", "reps = 2"))
    events = [
        ev(EventKind.EXERCISE_STARTED, 1.0, CP, index=0, set=1),
        ev(EventKind.HOLD_STARTED, 2.0, CP, index=1),
        ev(EventKind.HOLD_ENDED, 23.0, CP, index=1, seconds=21.0, start_s=2.0, completed=True),
        ev(EventKind.HOLD_STARTED, 25.0, CP, index=2),
        ev(EventKind.HOLD_ENDED, 46.0, CP, index=2, seconds=21.0, start_s=25.0, completed=True),
    ]
    entry = by_kind(summarize(patient, events, complete=False), CP)
    assert entry["prescribed"]["hold_s"] == 20.0
    assert entry["prescribed"]["target"] == 2
    assert entry["achieved"]["dose_met"] is True


@pytest.mark.parametrize("kind", list(kinds()))
def test_the_band_fields_exist_in_the_engine_configs(routine: Routine, kind: ExerciseKind) -> None:
    from coach.core.exercises import CONFIG_TYPES

    names = {f.name for f in dataclasses.fields(CONFIG_TYPES[kind])}
    signal = KEY_SIGNALS[kind]
    for edge in (signal.low_field, signal.high_field):
        assert edge is None or edge in names, f"{kind.value}: no threshold named {edge}"
    spec = next((s for s in routine.exercises if s.kind is kind), None)
    thresholds = CONFIG_TYPES[kind]() if spec is None else spec.thresholds
    low, high = target_band(kind, thresholds)
    assert low is not None or high is not None
    if low is not None and high is not None:
        assert low < high


BAND_CASES = [
    ("only a top edge", ExerciseKind.CHILDS_POSE, {"gauge_hip_max_deg": 45.0}, (None, 45.0)),
    (
        "both edges, from a mapping",
        ExerciseKind.HIP_LIFT,
        {"lift_up_torso": 0.05, "gauge_high_torso": 0.4, "lift_dwell_s": 0.3},
        (0.05, 0.4),
    ),
    (
        "edges given upside down",
        ExerciseKind.CAT_COW,
        {"gauge_cow_torso": 0.1, "gauge_cat_torso": -0.1},
        (-0.1, 0.1),
    ),
    ("nothing about the signal", ExerciseKind.CAT_COW, {"phase_dwell_s": 0.3}, (None, None)),
]


@pytest.mark.parametrize(
    ("case", "kind", "values", "band"), BAND_CASES, ids=[c[0] for c in BAND_CASES]
)
def test_target_band_from_thresholds(
    case: str, kind: ExerciseKind, values: dict[str, float], band: tuple[float | None, float | None]
) -> None:
    assert target_band(kind, values) == band


def test_hip_lift_is_judged_above_the_resting_position() -> None:
    import numpy as np

    from coach.core.record import rise_above_rest

    table = FrameTable(
        np.arange(5.0),
        (HL,) * 5,
        ("bridge_down", "bridge_down", "bridge_up", "bridge_up", "other"),
        {
            "hip_lift": np.array([0.02, 0.04, 0.23, np.nan, 0.1]),
            "hip_lift_knee": np.array([0.10, 0.10, 0.30, 0.25, np.nan]),
        },
    )
    rise = rise_above_rest(table, KEY_SIGNALS[ExerciseKind.HIP_LIFT])
    assert rise == pytest.approx([-0.005, 0.005, 0.2, 0.15, 0.07])
    # No state recorded: the lowest tenth of each signal stands in for the rest.
    no_state = FrameTable(
        np.arange(5.0), (HL,) * 5, (None,) * 5, {"hip_lift": np.array([0.3, 0.0, 0.5, 0.1, 0.2])}
    )
    assert rise_above_rest(no_state, KEY_SIGNALS[ExerciseKind.HIP_LIFT]) == pytest.approx(
        [0.3, 0.0, 0.5, 0.1, 0.2]
    )
    unknown = FrameTable(np.arange(2.0), (HL,) * 2, (None,) * 2, {})
    assert np.isnan(rise_above_rest(unknown, KEY_SIGNALS[ExerciseKind.HIP_LIFT])).all()


def test_weekly_adherence_counts_empty_weeks() -> None:
    def row(day: str, complete: bool) -> HistoryRow:
        return HistoryRow("f", datetime.fromisoformat(day), "r", "", "", complete, (), None, None)

    rows = [
        row("2026-11-02T09:00", True),  # Monday, week 45
        row("2026-11-08T20:00", False),  # Sunday, same week
        row("2026-11-18T09:00", True),  # week 47; week 46 empty
    ]
    weeks = weekly_adherence(rows)
    assert [(w.week, w.sessions, w.completed) for w in weeks] == [
        ("2026-W45", 2, 1),
        ("2026-W46", 0, 0),
        ("2026-W47", 1, 1),
    ]
    assert weekly_adherence([]) == []


def test_frame_table_select() -> None:
    import numpy as np

    table = FrameTable(
        np.array([0.0, 1.0, 2.0, 3.0]),
        (CP, CP, CC, CC),
        ("other", "childs_pose", "cat", "cow"),
        {"hip": np.array([100.0, 60.0, 95.0, 96.0])},
    )
    picked = table.select(CC, start_s=2.5)
    assert list(picked.t_s) == [3.0]
    assert picked.state == ("cow",)
    assert np.isnan(table.column("hip_lift")).all()


@pytest.mark.slow
def test_summary_is_pure(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys, coach.core.record; "
        "bad = [m for m in ('cv2', 'mediapipe', 'pyttsx3', 'matplotlib') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
