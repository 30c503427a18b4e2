"""Exercise engines on synthetic side-view bodies: every hold, repetition and fault event.

The body comes from ``synthetic_body`` and goes through the real feature
extractor. The pose state is scripted per stretch (a tracker that returns the
state each stretch declares), so these tests pin the engines' own rules; the
classifier has tests of its own.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pytest
from synthetic_body import POSTURES, BodyPose, Camera, Segment, blend, sequence

from coach.core.events import Event, EventKind
from coach.core.exercises import ALL_FAULT_KEYS, CONFIG_TYPES, EXERCISES, PERCEPTION, make_engine
from coach.core.exercises.cat_cow import CatCowConfig
from coach.core.exercises.childs_pose import ChildsPoseConfig
from coach.core.exercises.common import Debounced
from coach.core.exercises.hip_lift import HipLiftConfig
from coach.core.exercises.hold import HoldTimer
from coach.core.exercises.reps import SwingCycles, UpDownCounter
from coach.core.features import FeatureExtractor, Features
from coach.core.states import ExerciseKind, PoseState

K = EventKind
S = PoseState
FPS = 10.0


@dataclass(frozen=True)
class Stretch:
    """A stretch of a synthetic video and the pose state the classifier reports in it."""

    body: BodyPose | str
    seconds: float
    state: PoseState | None
    start: BodyPose | str | None = None
    lost: bool = False


class ScriptedTracker:
    """Reports the scripted state of the stretch a frame falls in; None when nobody is seen."""

    def __init__(self, stretches: Sequence[Stretch]) -> None:
        self._ends: list[tuple[float, PoseState | None]] = []
        t = 0.0
        for s in stretches:
            t += s.seconds
            self._ends.append((t, s.state))

    def update(self, features: Features, t_s: float) -> PoseState | None:
        if not features.present:
            return None
        for end, state in self._ends:
            if t_s < end - 1e-9:
                return state
        return self._ends[-1][1]

    def reset(self) -> None:
        """Nothing to forget."""


def perceived_as(kind: ExerciseKind, camera: Camera | None) -> tuple[FeatureExtractor, Camera]:
    """Features and frames as the coach takes them for ``kind``: a silhouette if it reads one."""
    perception = PERCEPTION[kind]
    camera = camera or Camera()
    if not perception.silhouette:
        camera = replace(camera, mask=False)
    return FeatureExtractor(perception=perception), camera


def play(
    kind: ExerciseKind,
    stretches: Sequence[Stretch],
    *,
    config: object | None = None,
    hold_s: float | None = None,
    camera: Camera | None = None,
    noise_px: float = 0.0,
    dropouts: Sequence[float] = (),
) -> tuple[object, list[Event]]:
    """Run an engine over the stretches; returns the engine and every event."""
    engine = make_engine(kind, config, hold_s=hold_s, tracker=ScriptedTracker(stretches))
    extractor, camera = perceived_as(kind, camera)
    events: list[Event] = []
    segments = [Segment(s.body, s.seconds, start=s.start, lost=s.lost) for s in stretches]
    for pose in sequence(segments, fps=FPS, camera=camera, noise_px=noise_px, dropouts=dropouts):
        events += engine.update(extractor.update(pose), pose.t_s)
    return engine, events


def kinds(events: Sequence[Event], *wanted: EventKind) -> list[EventKind]:
    return [e.kind for e in events if e.kind in wanted]


def of(events: Sequence[Event], kind: EventKind) -> list[Event]:
    return [e for e in events if e.kind is kind]


HOLD_KINDS = (
    K.HOLD_STARTED,
    K.HOLD_PAUSED,
    K.HOLD_RESUMED,
    K.HOLD_COMPLETED,
    K.HOLD_ENDED,
)


# --- Shared parts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "expected", "seconds"),
    [
        # Reach the pose, hold past the 3 s target, leave for longer than the grace.
        (
            [(t / 10, True) for t in range(0, 41)] + [(t / 10, False) for t in range(41, 60)],
            [K.HOLD_STARTED, K.HOLD_COMPLETED, K.HOLD_PAUSED, K.HOLD_ENDED],
            4.0,
        ),
        # Leave for less than the grace and come back: one hold, paused time not counted.
        (
            [(t / 10, True) for t in range(0, 21)]
            + [(t / 10, False) for t in range(21, 26)]
            + [(t / 10, True) for t in range(26, 31)]
            + [(t / 10, False) for t in range(31, 50)],
            [
                K.HOLD_STARTED,
                K.HOLD_PAUSED,
                K.HOLD_RESUMED,
                K.HOLD_PAUSED,
                K.HOLD_ENDED,
            ],
            2.0 + 0.4,  # short of the 3 s target: never completed
        ),
        # Lost (None) pauses without ending within lost_end_s, then resumes.
        (
            [(t / 10, True) for t in range(0, 11)]
            + [(t / 10, None) for t in range(11, 40)]
            + [(t / 10, True) for t in range(40, 46)]
            + [(t / 10, False) for t in range(46, 60)],
            [K.HOLD_STARTED, K.HOLD_PAUSED, K.HOLD_RESUMED, K.HOLD_PAUSED, K.HOLD_ENDED],
            1.0 + 0.5,
        ),
    ],
    ids=["complete-once", "pause-resume", "lost-pauses"],
)
def test_hold_timer(
    frames: list[tuple[float, bool | None]], expected: list[EventKind], seconds: float
) -> None:
    timer = HoldTimer("childs_pose", 3.0, leave_grace_s=1.0, lost_end_s=5.0)
    events: list[Event] = []
    for t, in_target in frames:
        events += timer.update(in_target, t)
    assert kinds(events, *HOLD_KINDS) == expected
    assert len(timer.holds) == 1
    assert timer.holds[0].seconds == pytest.approx(seconds, abs=0.01)
    assert kinds(events, K.HOLD_COMPLETED).count(K.HOLD_COMPLETED) <= 1


def test_hold_progress_once_a_second_until_target() -> None:
    timer = HoldTimer("hip_lift", 5.0, leave_grace_s=1.0, lost_end_s=5.0)
    events: list[Event] = []
    for i in range(0, 81):
        events += timer.update(True, i / 10)
    progress = of(events, K.HOLD_PROGRESS)
    assert [e["elapsed_s"] for e in progress] == [1.0, 2.0, 3.0, 4.0]
    assert [e["remaining_s"] for e in progress] == [4.0, 3.0, 2.0, 1.0]
    assert len(of(events, K.HOLD_COMPLETED)) == 1
    assert of(events, K.HOLD_COMPLETED)[0].t_s == pytest.approx(5.0)
    assert timer.elapsed_s == pytest.approx(8.0)


def test_lost_longer_than_lost_end_ends_the_hold() -> None:
    timer = HoldTimer("childs_pose", 30.0, leave_grace_s=1.0, lost_end_s=2.0)
    events: list[Event] = []
    for i in range(0, 11):
        events += timer.update(True, i / 10)
    for i in range(11, 40):
        events += timer.update(None, i / 10)
    assert kinds(events, *HOLD_KINDS) == [K.HOLD_STARTED, K.HOLD_PAUSED, K.HOLD_ENDED]
    assert timer.holds[0].end_s == pytest.approx(1.0)
    assert not timer.holds[0].completed


@pytest.mark.parametrize(
    ("levels", "counts"),
    [
        ([0, 0, 1, 1, 1, 1, 0, 0, 0, 0], 1),  # up, then down: one
        ([0, 1, 0, 1, 0, 1, 0, 0], 0),  # flicker shorter than the dwell: none
        ([0, 0.6, 0.6, 0.6, 0.6, 0.6, 0.0, 0.0, 0.0], 0),  # never past enter
        ([0, 1, 1, 1, 0.6, 0.6, 0.6, 1, 1, 0, 0, 0], 1),  # dips inside the hysteresis band
        ([0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0], 2),
    ],
)
def test_up_down_counter(levels: list[float], counts: int) -> None:
    counter = UpDownCounter(min_dwell_s=0.2)
    reps = [counter.update(v, 0.8, 0.4, i * 0.1) for i, v in enumerate(levels)]
    assert counter.count == counts
    assert [r.count for r in reps if r is not None] == list(range(1, counts + 1))


def test_debounced_needs_the_dwell() -> None:
    value = Debounced("a", 0.3)
    changes = [value.update(v, i * 0.1) for i, v in enumerate("abbbbab")]
    assert changes == [False, False, False, False, True, False, False]
    assert value.value == "b"


# --- Configuration -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(EXERCISES))
def test_every_threshold_has_a_default_and_a_range(kind: ExerciseKind) -> None:
    import dataclasses

    config = CONFIG_TYPES[kind]()
    for f in dataclasses.fields(config):
        meta = f.metadata
        assert {"min", "max", "unit", "help"} <= set(meta), f.name
        assert meta["min"] <= getattr(config, f.name) <= meta["max"], f.name
    config.validate()
    assert {"not_side_view", "body_not_in_frame"} <= set(ALL_FAULT_KEYS[kind])


def test_make_engine_refuses_the_wrong_config() -> None:
    with pytest.raises(TypeError, match="HipLiftConfig"):
        make_engine(ExerciseKind.HIP_LIFT, CatCowConfig(), hold_s=15.0, tracker=ScriptedTracker([]))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (HipLiftConfig(lift_up_torso=0.05, lift_down_torso=0.08), "lift_down_torso"),
        (CatCowConfig(min_cycle_s=3.0, slow_cycle_s=2.0), "slow_cycle_s"),
        (ChildsPoseConfig(heels_far_torso=0.4, heels_near_torso=0.5), "heels_near_torso"),
    ],
)
def test_validate_refuses_reversed_hysteresis(config: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config.validate()  # type: ignore[attr-defined]


# --- Child's pose --------------------------------------------------------------------------

CP = ExerciseKind.CHILDS_POSE
HIPS_UP = POSTURES["childs_pose"].with_(hip=60.0, knee=70.0)
ARMS_BACK = POSTURES["childs_pose"].with_(shoulder=40.0)


def test_childs_pose_hold_starts_completes_once_and_ends() -> None:
    engine, events = play(
        CP,
        [
            Stretch("tabletop", 1.0, S.TABLETOP),
            Stretch("childs_pose", 7.0, S.CHILDS_POSE),
            Stretch("tabletop", 3.0, S.TABLETOP),
        ],
        hold_s=5.0,
    )
    assert kinds(events, *HOLD_KINDS) == [
        K.HOLD_STARTED,
        K.HOLD_COMPLETED,
        K.HOLD_PAUSED,
        K.HOLD_ENDED,
    ]
    started = of(events, K.HOLD_STARTED)[0]
    # The hold starts once the person has settled (the stillness window).
    assert 1.0 <= started.t_s <= 1.8
    assert [e["remaining_s"] for e in of(events, K.HOLD_PROGRESS)] == [4.0, 3.0, 2.0, 1.0]
    (hold,) = engine.holds
    assert hold.completed
    assert hold.seconds == pytest.approx(8.0 - started.t_s, abs=0.15)
    assert of(events, K.HOLD_ENDED)[0]["completed"] is True


def test_childs_pose_hold_starts_once_the_head_has_settled_too() -> None:
    head_up = POSTURES["childs_pose"].with_(head_deg=POSTURES["childs_pose"].head_deg + 120.0)
    _, events = play(
        CP,
        [
            Stretch("tabletop", 1.0, S.TABLETOP),
            # Hips already still, the forehead still lowering to the mat.
            Stretch("childs_pose", 2.0, S.CHILDS_POSE, start=head_up),
            Stretch("childs_pose", 3.0, S.CHILDS_POSE),
        ],
        hold_s=30.0,
    )
    started = of(events, K.HOLD_STARTED)[0]
    assert 3.0 <= started.t_s <= 3.8


@pytest.mark.parametrize(
    ("middle", "expected"),
    [
        (
            Stretch("tabletop", 0.5, S.TABLETOP),
            [K.HOLD_STARTED, K.HOLD_PAUSED, K.HOLD_RESUMED, K.HOLD_PAUSED, K.HOLD_ENDED],
        ),
        (
            Stretch("childs_pose", 2.0, None, lost=True),
            [K.HOLD_STARTED, K.HOLD_PAUSED, K.HOLD_RESUMED, K.HOLD_PAUSED, K.HOLD_ENDED],
        ),
    ],
    ids=["leaves-briefly", "pose-lost"],
)
def test_childs_pose_pause_and_resume(middle: Stretch, expected: list[EventKind]) -> None:
    engine, events = play(
        CP,
        [
            Stretch("childs_pose", 3.0, S.CHILDS_POSE),
            middle,
            Stretch("childs_pose", 3.0, S.CHILDS_POSE),
            Stretch("tabletop", 2.0, S.TABLETOP),
        ],
        hold_s=30.0,
    )
    assert kinds(events, *HOLD_KINDS) == expected
    assert len(engine.holds) == 1
    assert engine.holds[0].seconds < 6.0
    if middle.lost:
        found_lost = kinds(events, K.POSE_LOST, K.POSE_FOUND)
        assert found_lost == [K.POSE_FOUND, K.POSE_LOST, K.POSE_FOUND]


def test_one_dropped_frame_changes_nothing() -> None:
    _, events = play(
        CP,
        [Stretch("childs_pose", 5.0, S.CHILDS_POSE), Stretch("tabletop", 2.0, S.TABLETOP)],
        hold_s=30.0,
        dropouts=(2.5,),
        noise_px=1.0,
    )
    assert kinds(events, *HOLD_KINDS) == [K.HOLD_STARTED, K.HOLD_PAUSED, K.HOLD_ENDED]
    assert not of(events, K.POSE_LOST)


@pytest.mark.parametrize(
    ("body", "key"),
    [(HIPS_UP, "hips_far_from_heels"), (ARMS_BACK, "arms_not_forward")],
)
def test_childs_pose_faults_raised_and_cleared(body: BodyPose, key: str) -> None:
    engine, events = play(
        CP,
        [
            Stretch("childs_pose", 2.0, S.CHILDS_POSE),
            Stretch(body, 3.0, S.CHILDS_POSE),
            Stretch("childs_pose", 3.0, S.CHILDS_POSE),
        ],
        hold_s=30.0,
    )
    raised = [e for e in of(events, K.FAULT_RAISED) if e["key"] == key]
    cleared = [e for e in of(events, K.FAULT_CLEARED) if e["key"] == key]
    assert len(raised) == 1 and len(cleared) == 1
    assert 3.0 <= raised[0].t_s <= 3.5  # after the one-second dwell
    assert 6.0 <= cleared[0].t_s <= 6.5
    assert key not in engine.faults
    others = {e["key"] for e in of(events, K.FAULT_RAISED)} - {key}
    assert not others


@pytest.mark.parametrize(
    ("camera", "key"),
    [
        (Camera(side_spread=0.9), "not_side_view"),
        (Camera(shift_x=900.0), "body_not_in_frame"),
    ],
)
def test_camera_faults(camera: Camera, key: str) -> None:
    engine, events = play(CP, [Stretch("childs_pose", 3.0, S.CHILDS_POSE)], camera=camera)
    assert [e["key"] for e in of(events, K.FAULT_RAISED)] == [key]
    assert key in engine.faults


# --- Cat-cow -------------------------------------------------------------------------------

CC = ExerciseKind.CAT_COW


def cycles(n: int, seconds: float = 1.5) -> list[Stretch]:
    out: list[Stretch] = []
    for _ in range(n):
        out += [Stretch("cow", seconds, S.COW), Stretch("cat", seconds, S.CAT)]
    return out


@pytest.mark.parametrize(
    ("stretches", "reps"),
    [
        (
            [
                Stretch("tabletop", 1.0, S.TABLETOP),
                *cycles(2),
                Stretch("tabletop", 1.0, S.TABLETOP),
            ],
            2,
        ),
        # Starts in cow (all fours is the start position): one cycle.
        ([*cycles(1), Stretch("tabletop", 1.0, S.TABLETOP)], 1),
        # Getting down onto the floor: a moment that looks like cat is not counted.
        (
            [
                Stretch("standing", 1.0, S.OTHER),
                Stretch("cat", 0.2, S.CAT),
                Stretch("kneeling", 1.0, S.OTHER),
                Stretch("tabletop", 1.0, S.TABLETOP),
                Stretch("cow", 1.5, S.COW),
                Stretch("tabletop", 1.0, S.TABLETOP),
            ],
            0,
        ),
        # Flicker: one frame of cat inside cow.
        (
            [
                Stretch("tabletop", 1.0, S.TABLETOP),
                Stretch("cow", 1.5, S.COW),
                Stretch("cat", 0.1, S.CAT),
                Stretch("cow", 1.5, S.COW),
            ],
            0,
        ),
        # Never on all fours (plank, bird-dog): brief cat- and cow-like moments count nothing.
        (
            [
                Stretch("plank", 1.0, S.OTHER),
                Stretch("cat", 0.2, S.CAT),
                Stretch("plank", 1.0, S.OTHER),
                Stretch("cow", 0.2, S.COW),
                Stretch("bird_dog", 1.0, S.OTHER),
                Stretch("cat", 0.2, S.CAT),
            ],
            0,
        ),
    ],
    ids=["two-cycles", "start-in-cow", "entering", "flicker", "negative"],
)
def test_cat_cow_counts(stretches: list[Stretch], reps: int) -> None:
    engine, events = play(CC, stretches)
    counted = of(events, K.REP_COUNTED)
    assert engine.reps == reps
    assert [e["count"] for e in counted] == list(range(1, reps + 1))


def test_cat_cow_too_fast_raised_then_cleared() -> None:
    engine, events = play(
        CC,
        [
            Stretch("tabletop", 1.0, S.TABLETOP),
            *cycles(2, 0.5),
            *cycles(2, 2.0),
            Stretch("tabletop", 1.0, S.TABLETOP),
        ],
    )
    assert engine.reps == 4
    assert [(e.kind, e["key"]) for e in events if e.kind in (K.FAULT_RAISED, K.FAULT_CLEARED)] == [
        (K.FAULT_RAISED, "too_fast"),
        (K.FAULT_CLEARED, "too_fast"),
    ]


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (POSTURES["tabletop"].with_(shoulder=130.0), "hands_not_under_shoulders"),
        (POSTURES["tabletop"].with_(hip=130.0), "knees_not_under_hips"),
    ],
)
def test_tabletop_faults(body: BodyPose, key: str) -> None:
    _, events = play(
        CC,
        [
            Stretch("tabletop", 1.0, S.TABLETOP),
            Stretch(body, 2.0, S.TABLETOP),
            Stretch("tabletop", 2.0, S.TABLETOP),
        ],
    )
    assert [(e.kind, e["key"]) for e in events if e.kind in (K.FAULT_RAISED, K.FAULT_CLEARED)] == [
        (K.FAULT_RAISED, key),
        (K.FAULT_CLEARED, key),
    ]


def test_cat_cow_gauge_is_the_back_bend() -> None:
    engine, _ = play(CC, [Stretch("tabletop", 1.0, S.TABLETOP), Stretch("cat", 1.0, S.CAT)])
    gauge = engine.gauge  # type: ignore[attr-defined]
    assert gauge is not None and gauge.unit == "torso"
    assert gauge.value > gauge.high  # a clear cat is past the top of the band


# --- Hip lifts -----------------------------------------------------------------------------

HL = ExerciseKind.HIP_LIFT
DOWN = "bridge_down"
UP = "bridge_up"
SMALL = blend(DOWN, UP, 0.3)  # a couple of inches: far from a full bridge
TINY = blend(DOWN, UP, 0.15)  # a start, not enough to count


def lift(
    seconds: float, body: BodyPose | str = UP, state: PoseState = S.BRIDGE_UP
) -> list[Stretch]:
    return [
        Stretch(body, 0.4, state, start=DOWN),
        Stretch(body, seconds, state),
        Stretch(DOWN, 0.6, S.BRIDGE_DOWN, start=body),
        Stretch(DOWN, 1.5, S.BRIDGE_DOWN),
    ]


def test_hip_lifts_count_each_lift_once_with_its_hold() -> None:
    engine, events = play(
        HL,
        [Stretch(DOWN, 2.0, S.BRIDGE_DOWN), *lift(3.0), *lift(1.0)],
        hold_s=2.0,
    )
    counted = of(events, K.REP_COUNTED)
    assert [e["count"] for e in counted] == [1, 2]
    assert [e["met_hold"] for e in counted] == [True, False]
    assert counted[0]["held_s"] == pytest.approx(3.2, abs=0.5)
    assert counted[1]["held_s"] == pytest.approx(1.2, abs=0.5)
    assert len(of(events, K.HOLD_COMPLETED)) == 1
    assert len(engine.holds) == 2
    assert kinds(events, K.HOLD_STARTED, K.HOLD_ENDED, K.REP_COUNTED) == [
        K.HOLD_STARTED,
        K.HOLD_ENDED,
        K.REP_COUNTED,
        K.HOLD_STARTED,
        K.HOLD_ENDED,
        K.REP_COUNTED,
    ]


@pytest.mark.parametrize(
    ("stretches", "reps"),
    [
        # A couple of inches counts, measured against the person's own resting position,
        # even while the classifier still calls it bridge_down.
        ([Stretch(DOWN, 2.0, S.BRIDGE_DOWN), *lift(2.0, SMALL, S.BRIDGE_DOWN)], 1),
        # Never lying down first (a bridge seen from the start): nothing counts.
        (
            [
                Stretch(UP, 2.0, S.BRIDGE_UP),
                Stretch(UP, 2.0, S.OTHER),
                Stretch(UP, 2.0, S.BRIDGE_UP),
            ],
            0,
        ),
        # Down dog and plank are not the start position.
        (
            [
                Stretch("down_dog", 2.0, S.OTHER),
                Stretch("plank", 2.0, S.OTHER),
                Stretch("down_dog", 2.0, S.OTHER),
            ],
            0,
        ),
        # Coming back to rest a little higher than before still ends the lift.
        (
            [
                Stretch(DOWN, 2.0, S.BRIDGE_DOWN),
                Stretch(UP, 0.4, S.BRIDGE_UP, start=DOWN),
                Stretch(UP, 2.0, S.BRIDGE_UP),
                Stretch(blend(DOWN, UP, 0.2), 0.6, S.BRIDGE_DOWN, start=UP),
                Stretch(blend(DOWN, UP, 0.2), 2.0, S.BRIDGE_DOWN),
                *lift(2.0),
            ],
            2,
        ),
        # A tiny rise is not a lift.
        ([Stretch(DOWN, 2.0, S.BRIDGE_DOWN), *lift(2.0, TINY, S.BRIDGE_DOWN)], 0),
    ],
    ids=["small-lift", "no-start-position", "negatives", "higher-rest", "tiny"],
)
def test_hip_lift_counts(stretches: list[Stretch], reps: int) -> None:
    engine, events = play(HL, stretches, hold_s=15.0)
    assert engine.reps == reps
    assert len(of(events, K.REP_COUNTED)) == reps


def test_hip_lifts_survive_noise_and_dropouts() -> None:
    engine, events = play(
        HL,
        [Stretch(DOWN, 2.0, S.BRIDGE_DOWN), *lift(2.0), *lift(2.0), *lift(2.0)],
        hold_s=15.0,
        noise_px=1.5,
        dropouts=(3.0, 5.5, 9.0),
    )
    assert engine.reps == 3
    assert len(engine.holds) == 3
    assert not of(events, K.POSE_LOST)


def test_hip_lift_pose_lost_pauses_the_hold() -> None:
    engine, events = play(
        HL,
        [
            Stretch(DOWN, 2.0, S.BRIDGE_DOWN),
            Stretch(UP, 0.4, S.BRIDGE_UP, start=DOWN),
            Stretch(UP, 2.0, S.BRIDGE_UP),
            Stretch(UP, 1.0, None, lost=True),
            Stretch(UP, 2.0, S.BRIDGE_UP),
            Stretch(DOWN, 0.6, S.BRIDGE_DOWN, start=UP),
            Stretch(DOWN, 1.5, S.BRIDGE_DOWN),
        ],
        hold_s=15.0,
    )
    assert kinds(events, *HOLD_KINDS) == [
        K.HOLD_STARTED,
        K.HOLD_PAUSED,
        K.HOLD_RESUMED,
        K.HOLD_PAUSED,
        K.HOLD_ENDED,
    ]
    assert engine.reps == 1
    assert of(events, K.REP_COUNTED)[0]["held_s"] < 4.8


@pytest.mark.parametrize(
    ("stretches", "key"),
    [
        (
            [
                Stretch(DOWN, 2.0, S.BRIDGE_DOWN),
                Stretch(TINY, 0.4, S.BRIDGE_DOWN, start=DOWN),
                Stretch(TINY, 3.0, S.BRIDGE_DOWN),
                Stretch(DOWN, 3.0, S.BRIDGE_DOWN, start=TINY),
            ],
            "lift_too_small",
        ),
        (
            [
                Stretch(DOWN, 2.0, S.BRIDGE_DOWN),
                Stretch(POSTURES[UP].with_(hip=215.0), 0.4, S.BRIDGE_UP, start=DOWN),
                Stretch(POSTURES[UP].with_(hip=215.0), 3.0, S.BRIDGE_UP),
                Stretch(UP, 3.0, S.BRIDGE_UP),
            ],
            "over_arched",
        ),
        (
            [
                Stretch(DOWN, 2.0, S.BRIDGE_DOWN),
                Stretch(POSTURES[DOWN].with_(knee=150.0), 3.0, S.BRIDGE_DOWN),
                Stretch(DOWN, 3.0, S.BRIDGE_DOWN),
            ],
            "knees_straightening",
        ),
    ],
    ids=["lift-too-small", "over-arched", "knees-straightening"],
)
def test_hip_lift_faults_raised_and_cleared(stretches: list[Stretch], key: str) -> None:
    _, events = play(HL, stretches, hold_s=15.0)
    faults = [(e.kind, e["key"]) for e in events if e.kind in (K.FAULT_RAISED, K.FAULT_CLEARED)]
    assert faults == [(K.FAULT_RAISED, key), (K.FAULT_CLEARED, key)]


def test_hip_lift_gauge_reads_the_lift() -> None:
    engine, _ = play(HL, [Stretch(DOWN, 2.0, S.BRIDGE_DOWN), Stretch(UP, 1.0, S.BRIDGE_UP)])
    gauge = engine.gauge
    assert gauge is not None and gauge.unit == "torso"
    assert gauge.value > gauge.low
    assert math.isfinite(gauge.value)


# --- With the real classifier --------------------------------------------------------------


def _moves(*steps: tuple[str, float]) -> list[Segment]:
    """Segments that move into each posture for 0.5 s, then stay for the given time."""
    out: list[Segment] = []
    previous: str | None = None
    for body, seconds in steps:
        if previous is not None:
            out.append(Segment(body, 0.5, start=previous))
        out.append(Segment(body, seconds))
        previous = body
    return out


@pytest.mark.parametrize(
    ("kind", "segments", "hold_s", "reps", "holds"),
    [
        (
            HL,
            _moves((DOWN, 2.0), (UP, 2.0), (DOWN, 1.5), (UP, 2.0), (DOWN, 1.5)),
            15.0,
            2,
            2,
        ),
        (CC, _moves(("tabletop", 1.0), ("cow", 1.5), ("cat", 1.5), ("tabletop", 1.0)), None, 1, 0),
        (CP, _moves(("tabletop", 1.0), ("childs_pose", 6.0), ("tabletop", 2.0)), 30.0, 0, 1),
        (HL, _moves(("plank", 2.0), ("down_dog", 2.0), ("plank", 2.0)), 15.0, 0, 0),
        (CC, _moves(("plank", 2.0), ("bird_dog", 2.0), ("plank", 2.0)), None, 0, 0),
    ],
    ids=["hip-lifts", "cat-cow", "childs-pose", "down-dog-as-hip-lift", "bird-dog-as-cat-cow"],
)
def test_engines_with_the_real_classifier(
    kind: ExerciseKind, segments: list[Segment], hold_s: float | None, reps: int, holds: int
) -> None:
    engine = make_engine(kind, None, hold_s=hold_s)
    extractor, camera = perceived_as(kind, None)
    t_s = 0.0
    for pose in sequence(segments, fps=FPS, camera=camera, noise_px=0.5):
        engine.update(extractor.update(pose), pose.t_s)
        t_s = pose.t_s
    engine.finish(t_s)  # type: ignore[attr-defined]
    assert engine.reps == reps
    assert len(engine.holds) == holds


# --- Swings around the person's neutral ---------------------------------------------------


def _swing(levels: Sequence[float], neutral: float = 0.0) -> int:
    counter = SwingCycles(min_swing=0.8, side_margin=0.15)
    for i, level in enumerate(levels):
        counter.update(level, i * 0.1, neutral)
    return counter.count


def _ramp(*points: float, steps: int = 10) -> list[float]:
    out: list[float] = []
    for a, b in itertools.pairwise(points):
        out += [a + (b - a) * k / steps for k in range(steps)]
    return [*out, points[-1]]


@pytest.mark.parametrize(
    ("levels", "counted"),
    [
        # A gentle cycle: half a unit each side of neutral is still a cycle.
        (_ramp(0.0, 0.5, -0.5, 0.0), 1),
        # Starting already on one side (a cat) and swinging twice.
        (_ramp(2.0, -2.0, 2.0, -2.0, 0.0), 2),
        # One side only (cow and back to neutral, twice): nothing.
        (_ramp(0.0, -2.0, 0.0, -2.0, 0.0), 0),
        # Wobbles around neutral (breathing) under the minimum swing: nothing.
        (_ramp(0.0, 0.3, -0.3, 0.3, -0.3, 0.0), 0),
        # Deep, a little back, deep again: one reach of that side, not two.
        (_ramp(0.0, -2.0, -1.0, -2.0, 1.5, 0.0), 1),
        # Slow: ten frames a step, one cycle whatever the pace.
        (_ramp(0.0, 1.0, -1.0, 0.0, steps=60), 1),
    ],
    ids=["gentle", "start-in-cat", "one-side", "wobble", "deep-twice", "slow"],
)
def test_swing_cycles(levels: list[float], counted: int) -> None:
    assert _swing(levels) == counted


def test_swing_sides_follow_the_neutral() -> None:
    # The same movement, 1.5 to 0 and back twice, is two cycles around 0.75, one-sided around 0.
    levels = _ramp(1.5, 0.0, 1.5, 0.0, 0.75)
    assert _swing(levels, neutral=0.75) == 2
    assert _swing(levels, neutral=0.0) == 0


def test_cat_cow_takes_a_still_tabletop_as_neutral() -> None:
    engine, _ = play(CC, [Stretch("tabletop", 2.0, S.TABLETOP)])
    assert engine._neutral.measured  # type: ignore[attr-defined]


def test_cat_cow_starting_in_cat_keeps_the_configured_neutral() -> None:
    engine, events = play(
        CC, [Stretch("cat", 1.5, S.TABLETOP), *cycles(1), Stretch("tabletop", 1.0, S.TABLETOP)]
    )
    assert not engine._neutral.measured  # type: ignore[attr-defined]
    assert engine.reps == 1
    depth = of(events, K.REP_COUNTED)[0]
    assert depth["cat_back_torso"] > 0 > depth["cow_back_torso"]


@pytest.mark.parametrize(
    ("levels", "counted"),
    [
        # Cow, then cat, and on the way back from the cat when the exercise ends: a cycle.
        (_ramp(0.0, -0.6, 0.0, 1.2, 0.6), 1),
        # Still deep in the cat when it ends: not yet.
        (_ramp(0.0, -0.6, 0.0, 1.2, 1.15), 0),
        # One side only, on the way back: nothing.
        (_ramp(0.0, -1.5, -0.5), 0),
    ],
    ids=["coming-back", "still-deep", "one-side"],
)
def test_a_last_reach_on_its_way_back_counts_at_the_end(levels: list[float], counted: int) -> None:
    counter = SwingCycles(min_swing=0.8, side_margin=0.15)
    for i, level in enumerate(levels):
        counter.update(level, i * 0.1, 0.0)
    assert counter.count == 0
    counter.finish()
    assert counter.count == counted


def test_cat_cow_neutral_is_the_tabletop_before_an_early_cow() -> None:
    # Onto all fours and straight into a cow: the brief tabletop is still the neutral,
    # and the cycle that follows counts.
    engine, _ = play(
        CC,
        [
            Stretch("tabletop", 0.6, S.TABLETOP),
            Stretch("cow", 1.0, S.TABLETOP),
            Stretch("cat", 1.0, S.TABLETOP),
            Stretch("tabletop", 1.0, S.TABLETOP),
        ],
    )
    assert engine._neutral.measured  # type: ignore[attr-defined]
    assert engine._neutral.values[1] < 20.0  # type: ignore[attr-defined]
    assert engine.reps == 1
