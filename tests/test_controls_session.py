"""A session run by the body alone: synthetic bodies, real features, a scripted engine."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest
from control_helpers import floor_session
from session_helpers import SESSION_CUES, Scripts, cue_keys, routine, spec, timeline
from synthetic_body import Camera, Segment, sequence

from coach.core.controls import ControlsConfig
from coach.core.events import Event, EventKind
from coach.core.features import FeatureExtractor
from coach.core.record import summarize
from coach.core.routine import Routine
from coach.core.session import Phase, SessionConfig, SessionController
from coach.core.states import ExerciseKind, PoseState

CHILD = ExerciseKind.CHILDS_POSE
CATCOW = ExerciseKind.CAT_COW
FPS = 10.0
CONFIG = SessionConfig(words_per_s=50.0, utterance_s=0.0, intro_extra_s=1.0)
CAM = Camera(mask=False)
CONTROLS_TEXT = "Sit up to pause; hands up to go on."


def with_controls_text(base: Routine) -> Routine:
    cues = dict(SESSION_CUES) | {"controls": CONTROLS_TEXT}
    return Routine(**{**base.__dict__, "session_cues": MappingProxyType(cues)})


def body_session() -> tuple[SessionController, list[Event]]:
    """Child's pose never reached; the person pauses, resumes, pauses, skips, then leaves."""
    poses = floor_session(FPS, CAM)
    scripts = Scripts(
        {CHILD: timeline((0.0, PoseState.OTHER)), CATCOW: timeline((0.0, PoseState.OTHER))}
    )
    ctrl = SessionController(
        with_controls_text(routine(spec(CHILD, hold_s=5.0), spec(CATCOW, reps=2))),
        config=CONFIG,
        engine_factory=scripts,
    )
    extractor = FeatureExtractor()
    events: list[Event] = []
    for pose in poses:
        events += ctrl.update(extractor.update(pose), pose.t_s)
        if ctrl.done:
            break
    return ctrl, events


@pytest.fixture(scope="module")
def session() -> tuple[SessionController, list[Event]]:
    return body_session()


def test_the_body_pauses_resumes_skips_and_stops(
    session: tuple[SessionController, list[Event]],
) -> None:
    ctrl, events = session
    used = [
        (e["command"], e["by"], e["gesture"]) for e in events if e.kind is EventKind.CONTROL_USED
    ]
    assert used == [
        ("pause", "body", "sit_up_still"),
        ("resume", "body", "both_hands_up"),
        ("pause", "body", "sit_up_still"),
        ("skip", "body", "one_hand_up"),
        ("stop", "body", "left_mat"),
    ]
    flow = [
        e.kind.value
        for e in events
        if e.kind
        in (
            EventKind.PAUSED,
            EventKind.RESUMED,
            EventKind.EXERCISE_SKIPPED,
            EventKind.EXERCISE_STARTED,
            EventKind.SESSION_STOPPED,
        )
    ]
    assert flow == [
        "exercise_started",
        "paused",
        "resumed",
        "paused",
        "resumed",
        "exercise_skipped",
        "exercise_started",
        "session_stopped",
    ]
    skipped = next(e for e in events if e.kind is EventKind.EXERCISE_SKIPPED)
    assert skipped.exercise == "childs_pose" and skipped["reason"] == "user"
    assert ctrl.phase is Phase.DONE


def test_each_control_comes_when_its_gesture_is_complete(
    session: tuple[SessionController, list[Event]],
) -> None:
    _, events = session
    used = [e for e in events if e.kind is EventKind.CONTROL_USED]
    pause, resume, pause2, skip, _ = used
    assert pause.t_s - pause["since_s"] == pytest.approx(5.0, abs=0.15)
    assert 6.5 <= pause["since_s"] <= 7.5  # still from about when the trunk came up
    assert resume.t_s - resume["since_s"] == pytest.approx(2.0, abs=0.15)
    assert pause2.t_s > resume.t_s + 5.0
    assert skip.t_s - skip["since_s"] == pytest.approx(2.0, abs=0.15)


def test_leaving_ends_the_session_when_the_person_was_last_seen(
    session: tuple[SessionController, list[Event]],
) -> None:
    ctrl, events = session
    stopped = next(e for e in events if e.kind is EventKind.SESSION_STOPPED)
    last_seen = max(e.t_s for e in events if e.kind is EventKind.CONTROL_USED)
    assert stopped["reason"] == "left_mat"
    tabletop_end = next(
        e for e in events if e.kind is EventKind.CONTROL_USED and e["command"] == "skip"
    )
    assert stopped.t_s == last_seen and stopped.t_s > tabletop_end.t_s
    # The 30 s of waiting are not session time in the record.
    summary = summarize(ctrl.routine, events, complete=False)
    assert summary["stopped"] == "left_mat"
    assert summary["duration_s"] == pytest.approx(stopped.t_s, abs=0.01)
    assert summary["pauses"]["count"] == 2
    assert summary["exercises"][0]["skipped"] is True


def test_the_controls_are_said_after_the_welcome(
    session: tuple[SessionController, list[Event]],
) -> None:
    _, events = session
    keys = cue_keys(events)
    assert keys[:2] == ["welcome", "controls"]
    said = next(e for e in events if e.kind is EventKind.CUE and e["key"] == "controls")
    assert said["text"] == CONTROLS_TEXT


def test_keys_are_recorded_as_controls_too() -> None:
    ctrl = SessionController(routine(spec(CHILD, hold_s=5.0)), config=CONFIG)
    ctrl.start(0.0)
    used = ctrl.command("pause", 1.0)
    assert [e.kind for e in used][:2] == [EventKind.CONTROL_USED, EventKind.PAUSED]
    assert used[0].data == {"command": "pause", "by": "key"}
    assert [e.kind for e in ctrl.command("pause", 2.0)][:2] == [
        EventKind.CONTROL_USED,
        EventKind.RESUMED,
    ]
    assert ctrl.command("resume", 3.0) == []  # nothing to resume: nothing recorded
    stop = ctrl.command("stop", 4.0)
    assert stop[0].data == {"command": "stop", "by": "key"}
    assert next(e for e in stop if e.kind is EventKind.SESSION_STOPPED)["reason"] == "user"
    with pytest.raises(ValueError, match="unknown command"):
        ctrl.command("jump", 5.0)


def test_the_screen_shows_a_control_building_up() -> None:
    scripts = Scripts({CHILD: timeline((0.0, PoseState.OTHER))})
    ctrl = SessionController(
        routine(spec(CHILD, hold_s=5.0)), config=CONFIG, engine_factory=scripts
    )
    extractor = FeatureExtractor()
    plan = [
        Segment("childs_pose", 6.0),
        Segment("kneeling", 1.0, start="childs_pose"),
        Segment("kneeling", 3.0),
    ]
    for pose in sequence(plan, fps=FPS, camera=CAM):
        ctrl.update(extractor.update(pose), pose.t_s)
    assert ctrl.view.control_text == "Keep still to pause: 2 s"


def test_the_handout_gives_the_floor_controls_in_the_coachs_words() -> None:
    from coach.adapters.handout import render_handout
    from coach.adapters.routine_store import DEFAULT_ROUTINE, open_routine

    routine = open_routine(DEFAULT_ROUTINE)
    page = render_handout(routine)
    assert "Controlling the coach from the mat" in page
    assert "raise both hands above your head to carry on" in page
    off = dataclasses.replace(
        routine,
        session=dataclasses.replace(routine.session, controls=ControlsConfig(enabled=False)),
    )
    assert "Controlling the coach from the mat" not in render_handout(off)
