"""Pose states on a synthetic side-view body: every rule, hysteresis, dwell and lost poses."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from synthetic_body import POSTURES, BodyPose, Camera, Segment, empty, render, sequence

from coach.core.classify import (
    BodyLayout,
    ClassifierConfig,
    PoseClassifier,
    body_layout,
    classify_frame,
    decide,
)
from coach.core.features import FeatureExtractor
from coach.core.landmarks import Side
from coach.core.pose import Pose
from coach.core.states import PoseState

CONFIG = ClassifierConfig()
CAMERAS = {
    "left side, head right": Camera(),
    "right side, head left": Camera(head_right=False, near=Side.RIGHT),
}


def _state(body: BodyPose | str, camera: Camera | None = None) -> PoseState | None:
    return classify_frame(FeatureExtractor().update(render(body, 0.0, camera)), CONFIG)


def _variant(name: str, **changes: float | bool) -> BodyPose:
    return POSTURES[name].with_(**changes)


POSTURE_STATES = [
    ("childs_pose", PoseState.CHILDS_POSE),
    ("tabletop", PoseState.TABLETOP),
    ("cat", PoseState.CAT),
    ("cow", PoseState.COW),
    ("bridge_down", PoseState.BRIDGE_DOWN),
    ("bridge_up", PoseState.BRIDGE_UP),
    ("standing", PoseState.OTHER),
    ("kneeling", PoseState.OTHER),
    ("supine", PoseState.OTHER),
    ("prone", PoseState.OTHER),
    ("plank", PoseState.OTHER),
    ("down_dog", PoseState.OTHER),
    ("bird_dog", PoseState.OTHER),
]


@pytest.mark.parametrize("camera", CAMERAS.values(), ids=CAMERAS.keys())
@pytest.mark.parametrize(("posture", "expected"), POSTURE_STATES)
def test_each_posture_gets_its_state_from_either_side(
    posture: str, expected: PoseState, camera: Camera
) -> None:
    assert _state(posture, camera) is expected


RULES = [
    # Child's pose: knees and hips deeply bent, sitting back, head low.
    ("child's pose with arms by the sides", _variant("childs_pose", shoulder=20), "childs_pose"),
    ("knees not bent enough for child's pose", _variant("childs_pose", knee=95), "other"),
    ("kneeling upright is not child's pose", "kneeling", "other"),
    (
        "lying on the back hugging the knees",
        BodyPose(trunk_deg=0, hip=45, knee=40, shoulder=30, belly_down=False),
        "other",
    ),
    # All fours: cat is a rounded back and a tucked chin, cow a sag and a lifted head; either
    # part can carry it, and a little of one alone stays tabletop.
    ("chin a little tucked on a flat back", _variant("tabletop", head_deg=-35), "tabletop"),
    ("chin tucked hard, back flat", _variant("tabletop", head_deg=-80), "cat"),
    ("head a little lifted on a flat back", _variant("tabletop", head_deg=30), "tabletop"),
    ("rounded back with the head lifted", _variant("cat", head_deg=40), "tabletop"),
    ("sagging back with the head tucked", _variant("cow", head_deg=-50), "tabletop"),
    ("hands far ahead of the shoulders", _variant("tabletop", shoulder=150), "other"),
    ("legs straight: a plank, not all fours", _variant("tabletop", knee=178, hip=178), "other"),
    # Bridge: on the back with knees up; up when the hips leave the floor.
    ("hips lifted a little", _variant("bridge_down", hip=160, trunk_deg=-18), "bridge_up"),
    ("face down with the knees bent", _variant("bridge_down", belly_down=True), "other"),
    ("lying flat with straight legs", "supine", "other"),
]


@pytest.mark.parametrize(("body", "expected"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_rules(body: BodyPose | str, expected: str) -> None:
    assert _state(body) is PoseState(expected)


SIGNS = [
    # (posture, sign of back_bend, sign of head_pitch): rounded/tucked is +/-.
    ("cat", 1, -1),
    ("cow", -1, 1),
]


@pytest.mark.parametrize(("posture", "bend_sign", "pitch_sign"), SIGNS)
def test_back_bend_and_head_pitch_signs(posture: str, bend_sign: int, pitch_sign: int) -> None:
    features = FeatureExtractor().update(render(posture))
    assert features["back_bend"] * bend_sign > 0.05
    assert features["head_pitch"] * pitch_sign > 30.0
    flat = FeatureExtractor().update(render("tabletop"))
    assert abs(flat["back_bend"]) < 0.02
    assert abs(flat["head_pitch"]) < 5.0


def test_nobody_seen_is_none_not_a_state() -> None:
    features = FeatureExtractor().update(empty(0.0))
    assert body_layout(features) is None
    assert classify_frame(features, CONFIG) is None
    assert PoseClassifier(CONFIG).update(features, 0.0) is None


def _layout(**values: float) -> BodyLayout:
    tabletop = body_layout(FeatureExtractor().update(render("tabletop")))
    assert tabletop is not None
    return dataclasses.replace(tabletop, **values)


HYSTERESIS = [
    # (measurement, current state, expected): a value between the enter and leave limits
    # keeps whatever state the person is in.
    ({"back_bend": 0.03, "head_pitch_deg": -37.0}, PoseState.CAT, PoseState.CAT),
    ({"back_bend": 0.03, "head_pitch_deg": -37.0}, PoseState.TABLETOP, PoseState.TABLETOP),
    ({"back_bend": 0.0, "head_pitch_deg": -37.0}, PoseState.CAT, PoseState.TABLETOP),
    ({"back_bend": -0.1, "head_pitch_deg": 27.0}, PoseState.COW, PoseState.COW),
    ({"back_bend": -0.1, "head_pitch_deg": 27.0}, PoseState.TABLETOP, PoseState.TABLETOP),
    ({"trunk_deg": 40.0}, PoseState.TABLETOP, PoseState.TABLETOP),
    ({"trunk_deg": 40.0}, PoseState.OTHER, PoseState.OTHER),
    ({"trunk_deg": 45.0}, PoseState.TABLETOP, PoseState.OTHER),
]


@pytest.mark.parametrize(("values", "current", "expected"), HYSTERESIS)
def test_hysteresis_keeps_the_current_state_near_a_limit(
    values: dict[str, float], current: PoseState, expected: PoseState
) -> None:
    assert decide(_layout(**values), CONFIG, current) is expected


def _run(segments: list[Segment], **kwargs: object) -> list[PoseState | None]:
    extractor = FeatureExtractor()
    classifier = PoseClassifier(CONFIG)
    return [
        classifier.update(extractor.update(pose), pose.t_s)
        for pose in sequence(segments, **kwargs)  # type: ignore[arg-type]
    ]


def test_a_new_state_is_taken_after_the_dwell() -> None:
    states = _run([Segment("tabletop", 1.0), Segment("cat", 1.0)])
    fps = 30
    assert states[0] is None  # nothing settled before the dwell
    assert states[fps - 1] is PoseState.TABLETOP
    changed = next(i for i, s in enumerate(states) if s is PoseState.CAT)
    dwell_frames = round(CONFIG.min_dwell_s * fps)
    assert fps + dwell_frames - 2 <= changed <= fps + dwell_frames + 6  # + smoothing lag
    assert states[-1] is PoseState.CAT


def test_a_short_flicker_is_ignored() -> None:
    segments = [Segment("tabletop", 1.0), Segment("cat", 0.1), Segment("tabletop", 1.0)]
    states = _run(segments)
    assert set(states[15:]) == {PoseState.TABLETOP}


def test_noise_does_not_flicker_the_state() -> None:
    states = _run([Segment("cat", 3.0)], noise_px=2.0, seed=3)
    assert set(states[10:]) == {PoseState.CAT}


def test_lost_pose_is_none_at_once_and_the_state_returns() -> None:
    states = _run(
        [
            Segment("bridge_down", 1.0),
            Segment("bridge_down", 0.5, lost=True),
            Segment("bridge_down", 1.0),
        ]
    )
    assert states[29] is PoseState.BRIDGE_DOWN
    assert states[30:45] == [None] * 15
    assert states[-1] is PoseState.BRIDGE_DOWN


def test_since_and_reset() -> None:
    extractor = FeatureExtractor()
    classifier = PoseClassifier(CONFIG)
    for pose in sequence([Segment("childs_pose", 1.0)], t0_s=2.0):
        classifier.update(extractor.update(pose), pose.t_s)
    assert classifier.state is PoseState.CHILDS_POSE
    assert classifier.since_s == pytest.approx(2.0)
    classifier.reset()
    assert classifier.state is None
    assert classifier.since_s is None


def test_every_setting_has_a_default_inside_its_range() -> None:
    for f in dataclasses.fields(ClassifierConfig):
        meta = f.metadata
        assert {"min", "max", "unit", "help"} <= set(meta), f.name
        assert meta["min"] <= f.default <= meta["max"], f.name
        assert meta["unit"] in {"deg", "torso", "s", "units"}, f.name
    with pytest.raises(ValueError, match="min_dwell_s"):
        ClassifierConfig(min_dwell_s=-1.0)
    with pytest.raises(ValueError, match="fours_min_hip_deg"):
        ClassifierConfig(fours_min_hip_deg=110.0, fours_max_hip_deg=105.0)


def test_lower_limits_change_the_decision() -> None:
    """The limits come from the config, not from the code."""
    strict = ClassifierConfig(cat_min_flex=6.0)
    features = FeatureExtractor().update(render("cat"))
    assert classify_frame(features, CONFIG) is PoseState.CAT
    assert classify_frame(features, strict) is PoseState.TABLETOP
    assert math.isfinite(features["back_bend"])


def _rolled(pose: Pose, degrees: float) -> Pose:
    """The pose as a camera rolled by ``degrees`` sees it (the whole picture turned)."""
    turn = math.radians(degrees)
    centre = np.array(pose.image_size, dtype=np.float64) / 2.0
    rotation = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    xy = (np.asarray(pose.xy, dtype=np.float64) - centre) @ rotation.T + centre
    return dataclasses.replace(pose, xy=xy.astype(np.float32), mask=None)


@pytest.mark.parametrize("body", ["bridge_down", "tabletop", "childs_pose"])
@pytest.mark.parametrize("degrees", [-15.0, 15.0])
def test_a_tilted_camera_is_levelled_on_the_floor_line(body: str, degrees: float) -> None:
    pose = _rolled(render(body), degrees)
    assert classify_frame(FeatureExtractor().update(pose), CONFIG) is PoseState(body)


def test_knees_dropped_to_one_side_are_a_lying_twist_not_a_bridge() -> None:
    from coach.core.landmarks import Landmark

    pose = render("bridge_down")
    world = np.zeros((len(pose.xy), 3))
    world[:, :2] = (pose.xy - pose.xy[[23, 24]].mean(axis=0)) / 400.0
    for mark in Landmark:
        if mark.name.startswith(("LEFT_", "RIGHT_")):
            world[int(mark), 2] = -0.1 if mark.name.startswith("LEFT_") else 0.1
    upright = dataclasses.replace(pose, world=world.astype(np.float32))
    assert classify_frame(FeatureExtractor().update(upright), CONFIG) is PoseState.BRIDGE_DOWN
    for knee in (Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE):
        world[int(knee), 2] += 0.5  # both knees fall toward the floor on one side
    twisted = dataclasses.replace(pose, world=world.astype(np.float32))
    assert classify_frame(FeatureExtractor().update(twisted), CONFIG) is not PoseState.BRIDGE_DOWN


def _childs_layout(**values: float | bool) -> BodyLayout:
    childs = body_layout(FeatureExtractor().update(render("childs_pose")))
    assert childs is not None
    return dataclasses.replace(childs, **values)


def test_a_child_s_pose_sits_back_on_either_leg() -> None:
    # The near leg guessed open (as from the front), the other folded under the hips.
    guessed = {"knee_deg": 120.0, "hip_heel": 1.6}
    assert decide(_childs_layout(**guessed, folded_knee_deg=40.0, folded_hip_heel=0.5), CONFIG) is (
        PoseState.CHILDS_POSE
    )
    assert decide(
        _childs_layout(**guessed, folded_knee_deg=110.0, folded_hip_heel=1.5), CONFIG
    ) is (PoseState.OTHER)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # A rebuilt side view reads the fold more open than the picture: allowed for there only.
        ({"knee_deg": 68.0, "folded_knee_deg": 68.0, "rebuilt": True}, PoseState.CHILDS_POSE),
        ({"knee_deg": 68.0, "folded_knee_deg": 68.0, "rebuilt": False}, PoseState.OTHER),
        ({"hip_heel": 1.15, "folded_hip_heel": 1.15, "rebuilt": True}, PoseState.CHILDS_POSE),
        ({"hip_heel": 1.15, "folded_hip_heel": 1.15, "rebuilt": False}, PoseState.OTHER),
        # Beyond the allowance it is not a child's pose, rebuilt or not.
        ({"knee_deg": 80.0, "folded_knee_deg": 80.0, "rebuilt": True}, PoseState.OTHER),
        # The head must still be low and the trunk flat: the allowance is for the fold only.
        ({"head_drop": -0.4, "rebuilt": True}, PoseState.OTHER),
        ({"trunk_deg": 50.0, "rebuilt": True}, PoseState.OTHER),
    ],
)
def test_child_s_pose_on_a_rebuilt_side_view(
    values: dict[str, float | bool], expected: PoseState
) -> None:
    assert decide(_childs_layout(**values), CONFIG) is expected
