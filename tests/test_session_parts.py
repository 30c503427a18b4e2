"""The session's parts on their own: set-up guide, cue writer, stall clock and breath pacer."""

from __future__ import annotations

import pytest
from session_helpers import features, routine, spec

from coach.core.cue_writer import CueWriter, Place
from coach.core.cues import Priority
from coach.core.events import Event, EventKind
from coach.core.exercises.base import Breath
from coach.core.pacing import BreathPacer, Stall, StallClock
from coach.core.routine import SessionConfig
from coach.core.setup_guide import SetupGuide
from coach.core.states import ExerciseKind, PoseState

CONFIG = SessionConfig(words_per_s=2.0, utterance_s=0.0, stall_hint_s=5.0, stall_move_on_s=16.0)
ROUTINE = routine(spec(ExerciseKind.CHILDS_POSE, hold_s=20.0, reps=3, sets=2))


def test_the_cue_writer_fills_texts_from_where_the_session_is() -> None:
    cues = CueWriter(ROUTINE, CONFIG)
    cues.place = Place(0, 2)
    [said] = cues.exercise("hold_start", 1.0)
    assert said.kind is EventKind.CUE and said.exercise == "childs_pose"
    assert said.data == {"key": "hold_start", "text": "Hold for 20 seconds.", "priority": 2}
    assert cues.exercise("no_such_text", 1.0) == []
    [moved] = cues.session("no_such_text", 2.0, fallback="skipped")
    assert (moved["key"], moved["text"]) == ("no_such_text", "Skipping.")
    [fault] = cues.fault("hips_far", 3.0)
    assert fault["priority"] == int(Priority.FORM)


def test_the_cue_writer_estimates_how_long_the_coach_talks() -> None:
    cues = CueWriter(ROUTINE, CONFIG)
    cues.session("welcome", 0.0, title="Test")  # "Welcome to Test." is 3 words: 1.5 s
    assert cues.talking(1.4) and not cues.talking(1.5)
    assert cues.just_said("welcome", 0.0) and not cues.just_said("welcome", 0.1)
    assert cues.shown(5.0) == "Welcome to Test." and cues.shown(5.1) is None


def test_the_setup_guide_names_a_lasting_problem_then_ends_when_the_view_is_right() -> None:
    cues = CueWriter(ROUTINE, CONFIG)
    guide = SetupGuide(CONFIG, cues)
    guide.start(0.0)
    said: list[Event] = []
    for i in range(51):
        t = i / 10
        seen = features(t, side_view=t >= 2.0)
        said += guide.update(seen, t)
        if guide.done:
            break
    kinds = [(e.kind.value, e.data.get("key")) for e in said]
    assert kinds == [
        ("setup_hint", "turn_sideways"),
        ("cue", "setup_turn_sideways"),
        ("setup_done", None),
        ("cue", "setup_ok"),
    ]
    # Right from 2 s, steady by 3 s, and over once the hint is said (5 words at 2 a second).
    assert said[0].t_s == pytest.approx(1.0) and said[2].t_s == pytest.approx(3.5)


def test_the_stall_clock_hints_repeats_and_moves_on_only_while_the_person_is_seen() -> None:
    clock = StallClock(CONFIG)
    progress = [Event(EventKind.HOLD_STARTED, 0.0, "childs_pose")]
    calls: list[tuple[float, Stall]] = []
    for i in range(1, 201):
        t = round(i / 10, 1)
        seen = not 7.0 < t <= 9.0  # out of sight for 2 s: the clock stands still
        stall = clock.update(progress if t == 1.0 else [], seen, 0.1)
        if stall is not None:
            calls.append((t, stall))
    hints = [(6.0, Stall.HINT), (13.0, Stall.HINT), (18.0, Stall.HINT)]
    assert calls[:4] == [*hints, (19.0, Stall.MOVE_ON)]


def test_the_breath_pacer_waits_for_the_pose_asked_for_within_its_limits() -> None:
    config = SessionConfig(breath_min_s=2.0, breath_max_s=4.0)
    pacer = BreathPacer(Breath(inhale=PoseState.COW, exhale=PoseState.CAT), config)
    assert pacer.first() == "breathe_in"
    assert pacer.update(PoseState.COW, 1.0) is None  # reached, but too soon
    assert pacer.update(PoseState.COW, 1.0) == "breathe_out"
    assert pacer.update(PoseState.TABLETOP, 3.9) is None
    assert pacer.update(PoseState.TABLETOP, 0.1) == "breathe_in"  # time anyway
