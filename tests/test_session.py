"""The session controller, frame by frame, with a scripted engine."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from typing import Any

import pytest
from session_helpers import (
    FakeEngine,
    Scripts,
    cue_keys,
    features,
    kinds,
    routine,
    spec,
    timeline,
)

from coach.core.events import Event, EventKind
from coach.core.features import Features
from coach.core.record import summarize
from coach.core.safety import all_clear, assess
from coach.core.session import OverlayView, Phase, SessionConfig, SessionController, fill
from coach.core.states import ExerciseKind, PoseState

CHILD = ExerciseKind.CHILDS_POSE
CATCOW = ExerciseKind.CAT_COW
HIP = ExerciseKind.HIP_LIFT
P = PoseState

FPS = 10.0
# Speech this quick barely delays anything, so the timings below are the session's own.
CONFIG = SessionConfig(words_per_s=50.0, utterance_s=0.0, intro_extra_s=1.0)


def make_controller(*args: Any, **kwargs: Any) -> SessionController:
    """A session controller with the quick speech estimate above."""
    kwargs.setdefault("config", CONFIG)
    return SessionController(*args, **kwargs)


def drive(
    ctrl: SessionController,
    until_s: float,
    *,
    start_s: float = 0.0,
    frame: Callable[[float], Features] = features,
    commands: dict[float, Callable[[SessionController, float], list[Event]]] | None = None,
    phases: list[Phase] | None = None,
) -> list[Event]:
    """Feed frames at FPS from ``start_s`` to ``until_s``; run commands at their times."""
    events: list[Event] = []
    pending = dict(sorted((commands or {}).items()))
    n = round((until_s - start_s) * FPS)
    for i in range(n + 1):
        t = round(start_s + i / FPS, 6)
        for when in [w for w in pending if w <= t + 1e-9]:
            events += pending.pop(when)(ctrl, t)
        events += ctrl.update(frame(t), t)
        if phases is not None and (not phases or phases[-1] is not ctrl.phase):
            phases.append(ctrl.phase)
    return events


def child_session(**dose: float) -> tuple[SessionController, Scripts]:
    scripts = Scripts(
        {
            CHILD: timeline(
                (0.0, P.TABLETOP), (4.0, P.CHILDS_POSE), (8.0, P.TABLETOP), (9.0, P.CHILDS_POSE)
            )
        }
    )
    ctrl = make_controller(routine(spec(CHILD, hold_s=3.0, reps=2, **dose)), engine_factory=scripts)
    return ctrl, scripts


def test_phases_and_events_in_order_for_one_exercise() -> None:
    ctrl, _ = child_session()
    phases: list[Phase] = []
    events = drive(ctrl, 15.0, phases=phases)
    assert phases == [Phase.SETUP, Phase.INTRO, Phase.WAIT_POSITION, Phase.ACTIVE, Phase.DONE]
    assert kinds(events) == [
        "session_started",
        "cue:welcome",
        "setup_done",
        "cue:setup_ok",
        "exercise_started",
        "cue:intro",
        "in_position",
        "cue:in_position",
        "hold_started",
        "cue:hold_start",
        "cue:hold_countdown",
        "hold_completed",
        "cue:hold_done",
        "hold_ended",
        "hold_started",
        "cue:hold_start",
        "cue:hold_countdown",
        "hold_completed",
        "cue:hold_done",
        "hold_ended",  # the hold still under way ends with the exercise
        "exercise_completed",
        "session_completed",
        "cue:done",
    ]
    completed = next(e for e in events if e.kind is EventKind.EXERCISE_COMPLETED)
    assert completed["holds"] == 2 and completed.exercise == "childs_pose"
    cues = {e["key"]: e for e in events if e.kind is EventKind.CUE}
    assert cues["welcome"]["text"] == "Welcome to Test routine."
    assert cues["hold_start"]["text"] == "Hold for 3 seconds."
    assert cues["hold_countdown"]["text"] == "2 to go."
    assert cues["intro"]["text"] == "Short intro."
    assert cues["done"]["priority"] == 2
    # Updates after the end do nothing.
    assert ctrl.update(features(20.0), 20.0) == []


@pytest.mark.parametrize(
    ("frame_flags", "hint"),
    [
        ({"empty": True}, "come_into_view"),
        ({"whole_body": False}, "move_back"),
        ({"side_view": False}, "turn_sideways"),
        ({"present": False}, "come_into_view"),
        ({"whole_body": False, "side_view": False}, "move_back"),
    ],
)
def test_setup_names_what_to_change_then_starts(frame_flags: dict[str, bool], hint: str) -> None:
    ctrl, _ = child_session()
    events = drive(ctrl, 5.0, frame=lambda t: features(t, **frame_flags))
    hints = [e["key"] for e in events if e.kind is EventKind.SETUP_HINT]
    assert hints == [hint]  # said once after the delay, not every frame
    assert cue_keys(events) == ["welcome", f"setup_{hint}"]
    assert ctrl.phase is Phase.SETUP
    assert ctrl.view.title == "Camera set-up"
    # The hint comes back if the problem lasts.
    later = drive(
        ctrl,
        5.0 + CONFIG.setup_hint_repeat_s,
        start_s=5.1,
        frame=lambda t: features(t, **frame_flags),
    )
    assert [e["key"] for e in later if e.kind is EventKind.SETUP_HINT] == [hint]
    # Once the view is right for long enough, the first exercise begins.
    t0 = 5.2 + CONFIG.setup_hint_repeat_s
    done = drive(ctrl, t0 + 2.0, start_s=t0)
    assert "setup_done" in kinds(done)
    assert ctrl.phase is Phase.INTRO


def test_a_brief_problem_is_not_named() -> None:
    ctrl, _ = child_session()
    events = drive(ctrl, 3.0, frame=lambda t: features(t, side_view=not 0.5 <= t < 1.0))
    assert not [e for e in events if e.kind is EventKind.SETUP_HINT]
    assert "setup_done" in kinds(events)


def test_a_lost_person_pauses_the_hold_and_is_cued_once() -> None:
    scripts = Scripts({CHILD: timeline((0.0, P.CHILDS_POSE))})
    ctrl = make_controller(routine(spec(CHILD, hold_s=5.0)), engine_factory=scripts)
    gone = (5.0, 8.0)
    events = drive(ctrl, 14.0, frame=lambda t: features(t, present=not gone[0] <= t < gone[1]))
    started = next(e for e in events if e.kind is EventKind.HOLD_STARTED)
    completed = next(e for e in events if e.kind is EventKind.HOLD_COMPLETED)
    # The three seconds away do not count toward the hold.
    assert completed.t_s - started.t_s == pytest.approx(5.0 + 3.0, abs=0.15)
    assert cue_keys(events).count("pose_lost") == 1
    lost_cue = next(e for e in events if e.kind is EventKind.CUE and e["key"] == "pose_lost")
    assert lost_cue.t_s == pytest.approx(gone[0] + CONFIG.lost_after_s, abs=0.15)
    # Never treated as out of position: the hold ends only with the exercise.
    done = next(e for e in events if e.kind is EventKind.EXERCISE_COMPLETED)
    ended = [e for e in events if e.kind is EventKind.HOLD_ENDED]
    assert [e.t_s for e in ended] == [done.t_s]
    assert ended[0]["seconds"] == pytest.approx(5.0, abs=0.15)
    assert ctrl.phase is Phase.DONE


def test_view_shows_lost_while_the_person_is_away() -> None:
    scripts = Scripts({CHILD: timeline((0.0, P.CHILDS_POSE))})
    ctrl = make_controller(routine(spec(CHILD, hold_s=30.0)), engine_factory=scripts)
    drive(ctrl, 5.0)
    assert ctrl.phase is Phase.ACTIVE and not ctrl.view.lost
    drive(ctrl, 7.0, start_s=5.1, frame=lambda t: features(t, present=False))
    assert ctrl.view.lost and ctrl.phase is Phase.ACTIVE
    drive(ctrl, 7.5, start_s=7.1)
    assert not ctrl.view.lost


def test_pause_freezes_the_hold_and_resume_carries_on() -> None:
    scripts = Scripts({CHILD: timeline((0.0, P.CHILDS_POSE))})
    ctrl = make_controller(routine(spec(CHILD, hold_s=5.0)), engine_factory=scripts)
    events = drive(
        ctrl,
        14.0,
        commands={5.0: SessionController.pause, 8.0: SessionController.resume},
    )
    started = next(e for e in events if e.kind is EventKind.HOLD_STARTED)
    completed = next(e for e in events if e.kind is EventKind.HOLD_COMPLETED)
    assert completed.t_s - started.t_s == pytest.approx(8.0, abs=0.15)
    assert "paused" in kinds(events) and "resumed" in kinds(events)
    assert cue_keys(events).count("paused") == 1 and cue_keys(events).count("resumed") == 1
    # While paused nothing is said, even though nobody is "seen" by the engine.
    paused = [e for e in events if 5.0 < e.t_s < 8.0 and e.kind is EventKind.CUE]
    assert paused == []
    assert (5.5, False) in scripts.engines[0].updates


def test_pause_twice_and_resume_without_pause_do_nothing() -> None:
    ctrl, _ = child_session()
    drive(ctrl, 1.0)
    assert len(ctrl.pause(1.1)) == 2
    assert ctrl.pause(1.2) == []
    assert ctrl.view.paused
    assert len(ctrl.resume(1.3)) == 2
    assert ctrl.resume(1.4) == []
    assert not ctrl.view.paused
    assert kinds(ctrl.toggle_pause(1.5))[0] == "paused"
    assert kinds(ctrl.toggle_pause(1.6))[0] == "resumed"


def test_pause_freezes_the_rest_timer() -> None:
    scripts = Scripts({CHILD: timeline((0.0, P.CHILDS_POSE)), HIP: timeline((0.0, P.BRIDGE_DOWN))})
    ctrl = make_controller(
        routine(spec(CHILD, hold_s=2.0, rest_s=4.0), spec(HIP, hold_s=5.0)),
        engine_factory=scripts,
    )
    events = drive(
        ctrl, 30.0, commands={7.0: SessionController.pause, 17.0: SessionController.resume}
    )
    rest = next(e for e in events if e.kind is EventKind.REST_STARTED)
    assert rest["seconds"] == 4.0
    rest_cue = next(e for e in events if e.kind is EventKind.CUE and e["key"] == "rest")
    assert rest_cue["text"] == "Rest for 4 seconds."
    second = [e for e in events if e.kind is EventKind.EXERCISE_STARTED][1]
    assert second.exercise == "hip_lift"
    paused_s = 10.0
    assert second.t_s - rest.t_s == pytest.approx(4.0 + paused_s, abs=0.15)


@pytest.mark.parametrize(
    ("skip_at", "expected_after"),
    [
        (0.5, ["setup_done", "exercise_started"]),  # skips the camera set-up
        (1.5, ["exercise_skipped", "cue:skipped", "exercise_started"]),  # intro
        # active: the hold under way is ended and kept
        (3.5, ["hold_ended", "exercise_skipped", "cue:skipped", "exercise_started"]),
    ],
)
def test_skip_moves_on(skip_at: float, expected_after: list[str]) -> None:
    scripts = Scripts({CHILD: timeline((0.0, P.CHILDS_POSE)), HIP: timeline((0.0, P.BRIDGE_DOWN))})
    ctrl = make_controller(
        routine(spec(CHILD, hold_s=20.0), spec(HIP, hold_s=5.0)), engine_factory=scripts
    )
    drive(ctrl, skip_at - 0.1)
    events = ctrl.skip(skip_at)
    assert kinds(events) == expected_after
    started = [e for e in events if e.kind is EventKind.EXERCISE_STARTED]
    expected_index = 0 if skip_at < 1.0 else 1
    assert started[0]["index"] == expected_index
    assert ctrl.phase is Phase.INTRO


def test_skipping_the_last_exercise_completes_and_skip_during_rest_ends_the_rest() -> None:
    scripts = Scripts({CHILD: timeline((0.0, P.CHILDS_POSE)), HIP: timeline((0.0, P.BRIDGE_DOWN))})
    ctrl = make_controller(
        routine(spec(CHILD, hold_s=2.0, rest_s=30.0), spec(HIP, hold_s=5.0)),
        engine_factory=scripts,
    )
    drive(ctrl, 7.0)
    assert ctrl.phase is Phase.REST
    assert kinds(ctrl.skip(7.1)) == ["exercise_started"]
    assert ctrl.current is not None and ctrl.current.kind is HIP
    assert kinds(ctrl.skip(7.2)) == [
        "exercise_skipped",
        "cue:skipped",
        "session_completed",
        "cue:done",
    ]
    assert ctrl.done and ctrl.skip(7.3) == []


def test_skip_while_paused_resumes() -> None:
    ctrl, _ = child_session()
    drive(ctrl, 3.5)
    ctrl.pause(3.6)
    events = ctrl.skip(3.7)
    assert kinds(events)[:2] == ["resumed", "exercise_skipped"]
    assert not ctrl.paused


@pytest.mark.parametrize(
    ("stop_at", "phase"),
    [
        (0.5, Phase.SETUP),
        (2.0, Phase.INTRO),
        (5.0, Phase.ACTIVE),
        (7.5, Phase.REST),
    ],
)
def test_stop_is_safe_in_every_phase(stop_at: float, phase: Phase) -> None:
    scripts = Scripts(
        {
            CHILD: timeline((0.0, P.TABLETOP), (4.0, P.CHILDS_POSE)),
            HIP: timeline((0.0, P.BRIDGE_DOWN)),
        }
    )
    ctrl = make_controller(
        routine(spec(CHILD, hold_s=2.0, rest_s=10.0), spec(HIP, hold_s=5.0)),
        engine_factory=scripts,
    )
    drive(ctrl, stop_at - 0.1)
    assert ctrl.phase is phase
    events = ctrl.stop(stop_at, "user")
    # A hold under way when the person stops is ended and kept for the record.
    ended = ["hold_ended"] if phase is Phase.ACTIVE else []
    assert kinds(events) == [*ended, "session_stopped", "cue:stopped"]
    stopped = events[len(ended) :]
    assert stopped[0]["reason"] == "user"
    assert stopped[1]["priority"] == 3  # urgent: said before anything waiting
    assert ctrl.done
    assert ctrl.stop(stop_at + 0.1) == []
    assert ctrl.update(features(stop_at + 0.2), stop_at + 0.2) == []
    assert ctrl.pause(stop_at + 0.3) == [] and ctrl.skip(stop_at + 0.3) == []


def test_stop_while_paused() -> None:
    ctrl, _ = child_session()
    drive(ctrl, 3.0)
    ctrl.pause(3.1)
    assert kinds(ctrl.stop(3.2, "video ended")) == ["session_stopped", "cue:stopped"]
    assert not ctrl.view.paused and ctrl.view.phase is Phase.DONE


@pytest.mark.parametrize(
    ("yes", "cue", "urgent"),
    [
        ("bladder_bowel", "safety_stop_urgent", ["bladder_bowel"]),
        ("groin_numbness", "safety_stop_urgent", ["groin_numbness"]),
        ("night_pain", "safety_stop", []),
        ("fall_or_accident", "safety_stop", []),
    ],
)
def test_a_red_flag_means_no_exercises(yes: str, cue: str, urgent: list[str]) -> None:
    answers = all_clear() | {yes: True}
    scripts = Scripts({CHILD: timeline((0.0, P.CHILDS_POSE))})
    ctrl = make_controller(
        routine(spec(CHILD, hold_s=2.0)), safety=assess(answers), engine_factory=scripts
    )
    events = ctrl.start(0.0) + drive(ctrl, 10.0)
    assert kinds(events) == ["session_started", "safety_stop", f"cue:{cue}", "session_stopped"]
    assert events[1]["flags"] == [yes] and events[1]["urgent"] == urgent
    assert events[3]["reason"] == "safety"
    assert ctrl.done and scripts.engines == []


def test_advisory_flag_does_not_stop_and_is_said() -> None:
    answers = all_clear() | {"not_improving": True}
    base = routine(spec(CHILD, hold_s=2.0))
    advice = {**base.session_cues, "pain_not_improving": "Please see a clinician."}
    ctrl = make_controller(
        dataclasses.replace(base, session_cues=advice),
        safety=assess(answers),
        engine_factory=Scripts({CHILD: timeline((0.0, P.CHILDS_POSE))}),
    )
    events = ctrl.start(0.0)
    assert cue_keys(events) == ["welcome", "pain_not_improving"]
    assert ctrl.phase is Phase.SETUP


def test_cat_cow_is_paced_by_breath_and_counts_cycles() -> None:
    # Setup 1 s, intro about 1.8 s: the wait starts near 2.8 s.
    script = timeline(
        (0.0, P.TABLETOP),
        (4.0, P.COW),
        (7.0, P.CAT),
        (10.0, P.COW),
        (13.0, P.CAT),
        (16.0, P.COW),
    )
    scripts = Scripts({CATCOW: script})
    ctrl = make_controller(routine(spec(CATCOW, reps=4)), engine_factory=scripts)
    events = drive(ctrl, 20.0)
    breath = [e for e in events if e.kind is EventKind.CUE and e["key"].startswith("breathe")]
    keys = [e["key"] for e in breath]
    assert keys[:4] == ["breathe_in", "breathe_out", "breathe_in", "breathe_out"]
    # The first breath comes with the position (2.3 s). Each next one waits until the
    # pose asked for is reached (cow 4 s, cat 7 s, cow 10 s, cat 13 s) and the breath
    # has lasted its minimum.
    assert breath[0].t_s == pytest.approx(2.3)
    times = [e.t_s for e in breath[1:5]]
    assert times == pytest.approx([4.8, 7.3, 10.0, 13.0], abs=0.05)
    reps = [e for e in events if e.kind is EventKind.REP_COUNTED]
    assert [e["count"] for e in reps] == [1, 2, 3, 4]
    assert "rep_counted" in cue_keys(events)
    assert ctrl.done


def test_breath_cues_keep_a_steady_pace_when_the_pose_is_not_seen_changing() -> None:
    scripts = Scripts({CATCOW: timeline((0.0, P.TABLETOP))})
    ctrl = make_controller(routine(spec(CATCOW, reps=2)), engine_factory=scripts)
    events = drive(ctrl, 20.0)
    breath = [e for e in events if e.kind is EventKind.CUE and e["key"].startswith("breathe")]
    gaps = [b.t_s - a.t_s for a, b in itertools.pairwise(breath)]
    assert len(breath) >= 4
    assert all(g == pytest.approx(CONFIG.breath_max_s, abs=0.15) for g in gaps)
    assert ctrl.phase is Phase.ACTIVE


def test_hip_lifts_count_only_lifts_that_met_the_hold() -> None:
    script = timeline(
        (0.0, P.BRIDGE_DOWN),
        (4.0, P.BRIDGE_UP),
        (5.0, P.BRIDGE_DOWN),  # a short lift: not toward the dose
        (6.0, P.BRIDGE_UP),
        (9.5, P.BRIDGE_DOWN),
        (10.5, P.BRIDGE_UP),
        (14.0, P.BRIDGE_DOWN),
    )
    scripts = Scripts({HIP: script})
    ctrl = make_controller(routine(spec(HIP, hold_s=3.0, reps=2)), engine_factory=scripts)
    events = drive(ctrl, 16.0)
    counted = [e for e in events if e.kind is EventKind.CUE and e["key"] == "rep_counted"]
    assert [e["text"] for e in counted] == ["That's 1 of 2.", "That's 2 of 2."]
    completed = next(e for e in events if e.kind is EventKind.EXERCISE_COMPLETED)
    assert completed["reps"] == 3  # the engine's own count, every lift
    assert ctrl.done


def test_view_during_a_hold() -> None:
    scripts = Scripts({CHILD: timeline((0.0, P.CHILDS_POSE)), HIP: timeline((0.0, P.BRIDGE_DOWN))})
    ctrl = make_controller(
        routine(spec(CHILD, hold_s=10.0, reps=3), spec(HIP, hold_s=5.0)), engine_factory=scripts
    )
    events = drive(ctrl, 6.0)
    view = ctrl.view
    assert isinstance(view, OverlayView)
    assert view.phase is Phase.ACTIVE
    assert view.title == "Childs Pose"
    assert view.count_text == "0 / 3"
    started = next(e for e in events if e.kind is EventKind.HOLD_STARTED)
    assert view.timer_text == f"{math.ceil(10.0 - (6.0 - started.t_s) - 1e-6)} s"
    assert view.progress == "exercise 1 of 2"
    assert view.gauge is not None and view.gauge.low < view.gauge.high
    assert view.state == "childs_pose"
    assert view.cue_text == "8 to go."  # the last cue, a countdown every 2 s
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.paused = True  # type: ignore[misc]


def test_sets_rest_between_and_skip_the_second_intro() -> None:
    scripts = Scripts({CHILD: timeline((0.0, P.CHILDS_POSE))})
    ctrl = make_controller(
        routine(spec(CHILD, hold_s=2.0, sets=2, rest_s=3.0)), engine_factory=scripts
    )
    events = drive(ctrl, 20.0)
    starts = [e for e in events if e.kind is EventKind.EXERCISE_STARTED]
    assert [e["set"] for e in starts] == [1, 2]
    assert cue_keys(events).count("intro") == 1
    assert kinds(events).count("rest_started") == 1
    completed = next(e for e in events if e.kind is EventKind.EXERCISE_COMPLETED)
    assert completed["sets"] == 2 and completed["holds"] == 2
    assert scripts.engines[0].resets >= 2  # the engine starts each set afresh


def test_form_faults_become_the_exercise_cue_texts() -> None:
    scripts = Scripts(
        {CHILD: timeline((0.0, P.CHILDS_POSE))},
        faults={
            CHILD: lambda t: frozenset(
                {"hips_far"} if 4.0 <= t < 5.0 else {"not_side_view"} if 6.0 <= t < 7.0 else set()
            )
        },
    )
    ctrl = make_controller(routine(spec(CHILD, hold_s=20.0)), engine_factory=scripts)
    events = drive(ctrl, 8.0)
    faults = {e["key"]: e for e in events if e.kind is EventKind.CUE and e["priority"] == 1}
    assert faults["hips_far"]["text"] == "Sit back toward your heels."
    # A camera fault the exercise has no text for uses the set-up text.
    assert faults["not_side_view"]["text"] == "Turn sideways to the camera."


@pytest.mark.parametrize(
    ("before", "after", "worse"),
    [(3, 6, True), (3, 5, True), (3, 4, False), (5, 2, False)],
)
def test_pain_after_sharply_worse_is_urgent(before: int, after: int, worse: bool) -> None:
    ctrl, _ = child_session()
    first = ctrl.rate_pain("before", before, 0.0)
    assert kinds(first) == ["pain_rated"] and first[0]["score"] == before
    events = ctrl.rate_pain("after", after, 30.0)
    assert ("cue:pain_worse" in kinds(events)) is worse


@pytest.mark.parametrize(("when", "score"), [("during", 3), ("after", 11), ("before", -1)])
def test_pain_rating_is_checked(when: str, score: int) -> None:
    ctrl, _ = child_session()
    with pytest.raises(ValueError):
        ctrl.rate_pain(when, score, 0.0)


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("{remaining} seconds", {"remaining": 20}, "20 seconds"),
        ("Well {unknown}", {}, "Well {unknown}"),
        ("broken {", {}, "broken {"),
    ],
)
def test_fill(text: str, values: dict[str, object], expected: str) -> None:
    assert fill(text, values) == expected


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        SessionConfig(breath_min_s=6.0, breath_max_s=5.0)
    with pytest.raises(ValueError):
        SessionConfig(lost_after_s=-1.0)


def test_the_intro_waits_for_the_welcome_and_lasts_as_long_as_it_is_spoken() -> None:
    config = SessionConfig()
    intro = " ".join(["word"] * 30)
    ctrl = SessionController(
        routine(spec(CHILD, hold_s=2.0, intro=intro)),
        config=config,
        engine_factory=Scripts({CHILD: timeline((0.0, P.CHILDS_POSE))}),
    )
    phases: list[Phase] = []
    events = drive(ctrl, 20.0, phases=phases)
    cues = {e["key"]: e for e in events if e.kind is EventKind.CUE}
    welcome_ends = ctrl.speech_s(cues["welcome"]["text"])
    setup_ends = max(cues["setup_ok"].t_s, welcome_ends) + ctrl.speech_s(cues["setup_ok"]["text"])
    assert cues["intro"].t_s == pytest.approx(setup_ends, abs=0.1)
    in_position = next(e for e in events if e.kind is EventKind.IN_POSITION)
    waiting = in_position.t_s - cues["intro"].t_s
    # The wait starts on the next frame and the position is seen on the one after.
    assert waiting == pytest.approx(ctrl.speech_s(intro) + config.intro_extra_s, abs=0.25)
    assert Phase.DONE in phases


def test_waiting_reminds_how_to_get_into_position() -> None:
    scripts = Scripts({CHILD: timeline((0.0, P.OTHER))})
    # No stall hint within this test (see the stall tests for how the two share time).
    quiet = dataclasses.replace(CONFIG, stall_hint_s=60.0, stall_move_on_s=120.0)
    ctrl = make_controller(routine(spec(CHILD, hold_s=2.0)), engine_factory=scripts, config=quiet)
    events = drive(ctrl, 3.0 + 2.5 * CONFIG.position_repeat_s)
    reminders = [e for e in events if e.kind is EventKind.CUE and e["key"] == "get_into_position"]
    assert len(reminders) == 2
    assert reminders[1].t_s - reminders[0].t_s == pytest.approx(CONFIG.position_repeat_s, abs=0.15)
    assert ctrl.phase is Phase.WAIT_POSITION


def test_a_second_set_starts_with_how_to_get_into_position() -> None:
    scripts = Scripts({CHILD: timeline((0.0, P.CHILDS_POSE))})
    ctrl = make_controller(
        routine(spec(CHILD, hold_s=2.0, sets=2, rest_s=1.0)), engine_factory=scripts
    )
    events = drive(ctrl, 10.0)
    second = [e for e in events if e.kind is EventKind.EXERCISE_STARTED][1]
    after = [e for e in events if e.t_s >= second.t_s]
    assert cue_keys(after)[0] == "get_into_position"


def test_pacing_comes_from_the_routine_when_not_given() -> None:
    scripts = Scripts({CHILD: timeline((0.0, P.CHILDS_POSE))})
    paced = dataclasses.replace(
        routine(spec(CHILD, hold_s=30.0)),
        session=dataclasses.replace(CONFIG, lost_after_s=3.0),
    )
    ctrl = SessionController(paced, safety=assess(all_clear()), engine_factory=scripts)
    gone = 5.0
    events = drive(ctrl, 12.0, frame=lambda t: features(t, present=t < gone))
    lost_cue = next(e for e in events if e.kind is EventKind.CUE and e["key"] == "pose_lost")
    assert lost_cue.t_s == pytest.approx(gone + 3.0, abs=0.15)


class _ReadyAt(FakeEngine):
    """A scripted engine that is in position only from ``READY_AT_S`` on."""

    @property
    def in_position(self) -> bool:
        return self._last_t is not None and self._last_t >= READY_AT_S


READY_AT_S = 6.0


def test_the_wait_ends_when_the_engine_is_ready_not_on_the_state_alone() -> None:
    def factory(spec_: Any, routine_: Any) -> FakeEngine:
        return _ReadyAt(spec_.kind, spec_.dose.hold_s, timeline((0.0, P.BRIDGE_DOWN)))

    ctrl = make_controller(routine(spec(HIP, hold_s=5.0)), engine_factory=factory)
    events = drive(ctrl, 9.0)
    ready = next(e for e in events if e.kind is EventKind.IN_POSITION)
    assert ready.t_s == pytest.approx(READY_AT_S, abs=0.15)


# ------------------------------------------------------- nothing counts: hint, move on
# A hint after 5 s without progress, another 5 s later, and the move-on at 15 s.
STALL = dataclasses.replace(CONFIG, stall_hint_s=5.0, stall_move_on_s=15.0)
# The wait for the position starts at 2.2 s (set-up 1 s, intro 0.04 s spoken + 1 s), and
# its first frame is 2.3 s. A person in position there starts the clock afresh at 2.3 s.
WAIT_S = 2.2


def stall_controller(
    *specs: Any, script: Any = None, **kw: Any
) -> tuple[SessionController, Scripts]:
    scripts = Scripts(script)
    ctrl = make_controller(routine(*specs), engine_factory=scripts, config=STALL, **kw)
    return ctrl, scripts


def cue_times(events: list[Event], prefix: str) -> list[tuple[float, str]]:
    return [
        (round(e.t_s, 6), e["key"])
        for e in events
        if e.kind is EventKind.CUE and e["key"].startswith(prefix)
    ]


# (case, exercise, state it never leaves, hint key, seen in position, clock start)
NEVER_COUNTS = [
    ("child's pose never reached", CHILD, P.OTHER, "stall_out_of_position", False, WAIT_S),
    ("child's pose, kneeling, never folds", CHILD, P.TABLETOP, "stall_tabletop", True, 2.3),
    ("cat-cow on all fours, back still", CATCOW, P.TABLETOP, "stall_in_position", True, 2.3),
    ("cat-cow stuck in cow", CATCOW, P.COW, "stall_cow", True, 2.3),
    ("cat-cow not on all fours", CATCOW, P.BRIDGE_DOWN, "stall_out_of_position", False, WAIT_S),
    ("hip lifts lying down, hips never up", HIP, P.BRIDGE_DOWN, "stall_in_position", True, 2.3),
    ("hip lifts on all fours", HIP, P.TABLETOP, "stall_tabletop", False, WAIT_S),
]


@pytest.mark.parametrize(
    ("case", "kind", "state", "hint", "in_position", "clock_s"),
    NEVER_COUNTS,
    ids=[c[0] for c in NEVER_COUNTS],
)
def test_when_nothing_counts_the_coach_says_what_it_sees_then_moves_on(
    case: str, kind: ExerciseKind, state: PoseState, hint: str, in_position: bool, clock_s: float
) -> None:
    hold = None if kind is CATCOW else 10.0
    ctrl, _ = stall_controller(
        spec(kind, hold_s=hold, reps=2), script={kind: timeline((0.0, state))}
    )
    events = drive(ctrl, 30.0)
    hint_at, move_on_at = clock_s + 5.0, clock_s + 15.0
    assert cue_times(events, "stall_") == [
        (round(hint_at, 6), hint),
        (round(hint_at + 5.0, 6), hint),  # repeated every stall_hint_s, not every frame
        (round(move_on_at, 6), "stall_move_on"),
    ]
    hints = [e for e in events if e.kind is EventKind.STALL_HINT]
    assert [(h["key"], h["state"], h["in_position"]) for h in hints] == [
        (hint, state.value, in_position)
    ] * 2
    assert [h["seconds"] for h in hints] == [5.0, 10.0]
    at_end = [e for e in events if e.t_s == pytest.approx(move_on_at)]
    assert kinds(at_end) == [
        "exercise_skipped",
        "cue:stall_move_on",
        "session_completed",
        "cue:done",
    ]
    moved = at_end[0]
    assert moved.exercise == kind.value
    assert dict(moved.data) == {
        "index": 0,
        "set": 1,
        "reason": "no_progress",
        "no_progress_s": 15.0,
        "state": state.value,
        "in_position": in_position,
    }
    said = {e["key"]: e["text"] for e in events if e.kind is EventKind.CUE}
    assert said["stall_move_on"] == f"Let's leave {spec(kind).title} and move on."
    if hint == "stall_in_position" and hold is not None:
        assert said[hint] == "I see you in position; hold for 10 seconds."
    assert ctrl.done


# (case, exercise, script with some progress, time of the last progress)
PROGRESS_THEN_NOTHING = [
    (
        "a hold that progressed, then ended short",
        CHILD,
        timeline((0.0, P.TABLETOP), (6.0, P.CHILDS_POSE), (20.0, P.TABLETOP)),
        19.0,  # the last whole second of the hold
    ),
    (
        "a cycle counted",
        CATCOW,
        timeline((0.0, P.TABLETOP), (4.0, P.COW), (7.0, P.CAT), (9.0, P.TABLETOP)),
        7.0,
    ),
    (
        "a lift counted short of its hold",
        HIP,
        timeline((0.0, P.BRIDGE_DOWN), (5.0, P.BRIDGE_UP), (7.5, P.BRIDGE_DOWN)),
        7.5,
    ),
]


@pytest.mark.parametrize(
    ("case", "kind", "script", "last_progress_s"),
    PROGRESS_THEN_NOTHING,
    ids=[c[0] for c in PROGRESS_THEN_NOTHING],
)
def test_progress_restarts_the_stall_clock(
    case: str, kind: ExerciseKind, script: Any, last_progress_s: float
) -> None:
    hold = None if kind is CATCOW else 30.0
    ctrl, _ = stall_controller(spec(kind, hold_s=hold, reps=3), script={kind: script})
    events = drive(ctrl, 40.0)
    times = [t for t, _ in cue_times(events, "stall_")]
    expected = [last_progress_s + 5.0, last_progress_s + 10.0, last_progress_s + 15.0]
    assert times == pytest.approx(expected, abs=1e-6)
    moved = next(e for e in events if e.kind is EventKind.EXERCISE_SKIPPED)
    assert moved["reason"] == "no_progress" and moved["no_progress_s"] == 15.0


def test_a_hold_under_way_is_ended_and_kept_when_the_coach_moves_on() -> None:
    # Folded into the pose but the hold never progresses: an engine whose clock is stuck.
    class Stuck(FakeEngine):
        def update(self, feats: Features, t_s: float) -> list[Event]:
            events = super().update(feats, t_s)
            return [e for e in events if e.kind is not EventKind.HOLD_PROGRESS]

    scripts = timeline((0.0, P.TABLETOP), (3.0, P.CHILDS_POSE))

    def factory(spec_: Any, routine_: Any) -> FakeEngine:
        return Stuck(spec_.kind, 1000.0, scripts)

    ctrl = make_controller(
        routine(spec(CHILD, hold_s=100.0), spec(HIP, hold_s=5.0)),
        engine_factory=factory,
        config=STALL,
    )
    moved_at = 3.0 + 15.0  # the hold started at 3 s
    events = drive(ctrl, moved_at)
    at_end = [e for e in events if e.t_s == pytest.approx(moved_at)]
    assert kinds(at_end)[:4] == [
        "hold_ended",
        "exercise_skipped",
        "cue:stall_move_on",
        "exercise_started",
    ]
    assert at_end[0]["seconds"] == pytest.approx(15.0)
    assert ctrl.phase is Phase.INTRO and ctrl.current is not None and ctrl.current.kind is HIP


def test_pause_and_a_person_out_of_view_stop_the_stall_clock() -> None:
    script = {CATCOW: timeline((0.0, P.TABLETOP))}
    paused, _ = stall_controller(spec(CATCOW, reps=2), script=script)
    events = drive(
        paused, 30.0, commands={4.0: SessionController.pause, 10.0: SessionController.resume}
    )
    # In position at 2.3 s; the frame step during which the pause began is not counted.
    assert cue_times(events, "stall_")[0] == (pytest.approx(7.3 + 6.1), "stall_in_position")

    away, _ = stall_controller(spec(CATCOW, reps=2), script=script)
    gone = (4.0, 9.0)
    events = drive(away, 30.0, frame=lambda t: features(t, present=not gone[0] <= t < gone[1]))
    assert cue_times(events, "stall_")[0] == (pytest.approx(7.3 + 5.0), "stall_in_position")


def test_a_person_who_left_the_mat_is_waited_for_not_moved_past() -> None:
    ctrl, _ = stall_controller(spec(CATCOW, reps=2), script={CATCOW: timeline((0.0, P.TABLETOP))})
    # Twice the stall move-on, and still short of leaving the mat (which ends the session).
    events = drive(ctrl, 30.0, frame=lambda t: features(t, present=t < 4.0))
    assert cue_keys(events).count("pose_lost") == 1
    assert cue_times(events, "stall_") == []
    assert ctrl.phase is Phase.ACTIVE and ctrl.view.lost


def test_the_stall_hint_takes_the_place_of_a_position_reminder() -> None:
    config = dataclasses.replace(
        CONFIG, position_repeat_s=4.0, stall_hint_s=6.0, stall_move_on_s=15.0
    )
    ctrl = make_controller(
        routine(spec(CHILD, hold_s=2.0)),
        engine_factory=Scripts({CHILD: timeline((0.0, P.OTHER))}),
        config=config,
    )
    events = drive(ctrl, WAIT_S + 14.0)
    said = [
        (round(e.t_s - WAIT_S, 6), e["key"])
        for e in events
        if e.kind is EventKind.CUE and e["key"] in ("get_into_position", "stall_out_of_position")
    ]
    # A reminder 4 s into the wait, the hint at 6 s; the next reminder 4 s after the hint.
    assert said == [
        (4.0, "get_into_position"),
        (6.0, "stall_out_of_position"),
        (10.0, "get_into_position"),
        (12.0, "stall_out_of_position"),
    ]


@pytest.mark.parametrize(
    ("kind", "state", "hint"),
    [
        (HIP, P.OTHER, ("stall_out_of_position", "Get into position.")),
        (CATCOW, P.TABLETOP, None),  # in position, and no text for it: only the record says
    ],
)
def test_without_stall_texts_the_coach_falls_back_on_texts_every_routine_has(
    kind: ExerciseKind, state: PoseState, hint: tuple[str, str] | None
) -> None:
    bare = spec(kind, hold_s=None if kind is CATCOW else 5.0)
    bare = dataclasses.replace(
        bare, cues={k: v for k, v in bare.cues.items() if not k.startswith("stall_")}
    )
    base = routine(bare)
    cues = {k: v for k, v in base.session_cues.items() if k != "stall_move_on"}
    ctrl = make_controller(
        dataclasses.replace(base, session_cues=cues),
        engine_factory=Scripts({kind: timeline((0.0, state))}),
        config=STALL,
    )
    events = drive(ctrl, 20.0)
    said = [(e["key"], e["text"]) for e in events if e.kind is EventKind.CUE]
    stall = [s for s in said if s[0].startswith("stall_")]
    assert stall == [*([hint] * 2 if hint else []), ("stall_move_on", "Skipping.")]
    recorded = [e["key"] for e in events if e.kind is EventKind.STALL_HINT]
    assert recorded == [hint[0] if hint else None] * 2
    assert ctrl.done


def test_a_persons_skip_says_so() -> None:
    ctrl, _ = child_session()
    drive(ctrl, 3.5)
    skipped = next(e for e in ctrl.skip(3.6) if e.kind is EventKind.EXERCISE_SKIPPED)
    assert skipped["reason"] == "user"


def test_a_patient_on_the_floor_finishes_the_routine_without_touching_the_keyboard() -> None:
    """Engines that never count: every exercise is hinted at, then left, and the routine ends."""
    scripts = Scripts(
        {
            CHILD: timeline((0.0, P.TABLETOP)),
            CATCOW: timeline((0.0, P.TABLETOP)),
            HIP: timeline((0.0, P.OTHER)),
        }
    )
    the_routine = routine(
        spec(CHILD, hold_s=30.0, reps=3, rest_s=5.0),
        spec(CATCOW, reps=5, sets=2, rest_s=5.0),
        spec(HIP, hold_s=15.0, reps=5),
    )
    ctrl = make_controller(the_routine, engine_factory=scripts, config=STALL)
    phases: list[Phase] = []
    events = drive(ctrl, 120.0, phases=phases)  # no commands: nobody touches a key
    assert ctrl.done and phases[-1] is Phase.DONE
    assert not {"paused", "resumed", "session_stopped"} & set(kinds(events))
    assert kinds(events)[-2:] == ["session_completed", "cue:done"]
    moved = [e for e in events if e.kind is EventKind.EXERCISE_SKIPPED]
    assert [(e.exercise, e["reason"], e["no_progress_s"]) for e in moved] == [
        (kind.value, "no_progress", 15.0) for kind in (CHILD, CATCOW, HIP)
    ]
    # Each exercise: the hint is said twice, then the coach says it moves on.
    starts = [i for i, e in enumerate(events) if e.kind is EventKind.EXERCISE_STARTED]
    hints = ["stall_tabletop", "stall_in_position", "stall_out_of_position"]
    for (start, end), hint in zip(itertools.pairwise([*starts, len(events)]), hints, strict=True):
        stall = [k for k in cue_keys(events[start:end]) if k.startswith("stall_")]
        assert stall == [hint, hint, "stall_move_on"]
    # The move-on ends the whole exercise, sets not begun included; no rest after it.
    assert [e.exercise for e in events if e.kind is EventKind.EXERCISE_STARTED] == [
        "childs_pose",
        "cat_cow",
        "hip_lift",
    ]
    assert "rest_started" not in kinds(events)
    # The record says why each exercise ended.
    summary = summarize(the_routine, events, complete=True)
    assert [
        (e["ended"], e["no_progress_s"], e["stall_hints"], e["skipped"])
        for e in summary["exercises"]
    ] == [("no_progress", 15.0, 2, False)] * 3
