"""Body features on synthetic poses: side choice, view and framing checks, angles, back bend."""

from __future__ import annotations

import math

import numpy as np
import pytest
from synthetic_body import render

from coach.core.features import (
    BACK_BEND,
    HIP_LIFT,
    SIGNALS,
    TRUNK,
    FeatureConfig,
    FeatureExtractor,
    back_bend,
    in_frame,
    joint_angles,
    nearer_side,
)
from coach.core.landmarks import NUM_LANDMARKS, SIDE_LANDMARKS, Joint, Side
from coach.core.pose import Pose

SIZE = (1280, 720)

# On all fours, seen from the person's left, head to the right of the image.
ALL_FOURS = {
    Joint.EAR: (880.0, 320.0),
    Joint.SHOULDER: (800.0, 350.0),
    Joint.ELBOW: (800.0, 430.0),
    Joint.WRIST: (800.0, 500.0),
    Joint.HIP: (500.0, 350.0),
    Joint.KNEE: (500.0, 500.0),
    Joint.ANKLE: (300.0, 500.0),
    Joint.HEEL: (290.0, 490.0),
    Joint.FOOT: (260.0, 505.0),
}
# Standing and facing the camera: left and right are far apart across the image.
FRONTAL_LEFT = {
    Joint.EAR: (700.0, 120.0),
    Joint.SHOULDER: (740.0, 200.0),
    Joint.ELBOW: (770.0, 300.0),
    Joint.WRIST: (780.0, 390.0),
    Joint.HIP: (700.0, 420.0),
    Joint.KNEE: (700.0, 560.0),
    Joint.ANKLE: (700.0, 690.0),
    Joint.HEEL: (700.0, 700.0),
    Joint.FOOT: (705.0, 710.0),
}


def make_pose(
    left: dict[Joint, tuple[float, float]],
    right: dict[Joint, tuple[float, float]] | None = None,
    *,
    vis_left: float = 0.95,
    vis_right: float = 0.4,
    t_s: float = 0.0,
    size: tuple[int, int] = SIZE,
    mask: np.ndarray | None = None,
) -> Pose:
    """A pose from the pixel positions of each side's joints.

    Without ``right``, the far side sits a few pixels behind the near one,
    as it does in a side view.
    """
    if right is None:
        right = {j: (x + 8.0, y - 4.0) for j, (x, y) in left.items()}
    width, height = size
    norm = np.zeros((NUM_LANDMARKS, 5))
    norm[:, 0] = left[Joint.SHOULDER][0] / width  # face landmarks near the shoulder
    norm[:, 1] = left[Joint.SHOULDER][1] / height
    norm[:, 3:] = 0.9
    for side, points, vis in ((Side.LEFT, left, vis_left), (Side.RIGHT, right, vis_right)):
        for joint, (x, y) in points.items():
            i = int(SIDE_LANDMARKS[side][joint])
            norm[i] = (x / width, y / height, 0.0, vis, vis)
    return Pose.from_normalized(t_s, norm, np.zeros((NUM_LANDMARKS, 3)), size, mask)


def mirrored(points: dict[Joint, tuple[float, float]]) -> dict[Joint, tuple[float, float]]:
    return {j: (SIZE[0] - x, y) for j, (x, y) in points.items()}


# ---------------------------------------------------------------- side choice


@pytest.mark.parametrize(
    ("vis_left", "vis_right", "expected"),
    [(0.95, 0.4, Side.LEFT), (0.3, 0.9, Side.RIGHT), (0.8, 0.79, Side.LEFT)],
)
def test_nearer_side_is_the_more_visible_one(vis_left, vis_right, expected):
    pose = make_pose(ALL_FOURS, vis_left=vis_left, vis_right=vis_right)
    assert nearer_side(pose) is expected


# (left visibility, right visibility) per frame, and the side chosen with and
# without a switching margin.
SIDE_SEQUENCE = [(0.9, 0.5), (0.9, 0.95), (0.6, 0.95), (0.9, 0.85), (0.99, 0.8)]
L, R = Side.LEFT, Side.RIGHT


@pytest.mark.parametrize(
    ("margin", "expected"),
    [
        (0.1, [L, L, R, R, L]),  # small wins of the far side are ignored
        (0.0, [L, R, R, L, L]),  # without hysteresis the side flickers
    ],
)
def test_side_choice_has_hysteresis(margin, expected):
    extractor = FeatureExtractor(FeatureConfig(side_switch_margin=margin))
    chosen = [
        extractor.update(make_pose(ALL_FOURS, vis_left=vl, vis_right=vr, t_s=i / 30)).side
        for i, (vl, vr) in enumerate(SIDE_SEQUENCE)
    ]
    assert chosen == expected


def test_features_are_measured_on_the_near_side():
    # The right side is nearer and kneels with the knee bent to 45 degrees.
    right = dict(ALL_FOURS)
    right[Joint.ANKLE] = (500.0 + 150.0, 500.0 - 150.0)
    features = FeatureExtractor().update(make_pose(ALL_FOURS, right, vis_left=0.3, vis_right=0.9))
    assert features.side is Side.RIGHT
    assert features.raw["knee"] == pytest.approx(45.0, abs=0.1)


# ------------------------------------------------------------ view and frame


@pytest.mark.parametrize(
    ("pose", "side_view"),
    [
        (make_pose(ALL_FOURS), True),
        (make_pose(mirrored(ALL_FOURS)), True),
        (
            make_pose(
                FRONTAL_LEFT,
                {j: (SIZE[0] - x, y) for j, (x, y) in FRONTAL_LEFT.items()},
                vis_right=0.95,
            ),
            False,
        ),
    ],
    ids=["side-view", "side-view-mirrored", "frontal"],
)
def test_side_view_check(pose, side_view):
    features = FeatureExtractor().update(pose)
    assert features.side_view is side_view
    ratio = features.raw["side_view_ratio"]
    assert (ratio <= FeatureConfig().side_view_max_ratio) is side_view


def shifted(points, joint, xy):
    out = dict(points)
    out[joint] = xy
    return out


@pytest.mark.parametrize(
    ("points", "margin", "inside"),
    [
        (ALL_FOURS, 0.0, True),
        (shifted(ALL_FOURS, Joint.ANKLE, (-20.0, 500.0)), 0.0, False),  # feet cut off left
        (shifted(ALL_FOURS, Joint.SHOULDER, (800.0, 730.0)), 0.0, False),  # below the frame
        (shifted(ALL_FOURS, Joint.ANKLE, (1260.0, 500.0)), 0.0, True),  # near the edge
        (shifted(ALL_FOURS, Joint.ANKLE, (1260.0, 500.0)), 0.05, False),  # ... inside a margin
        (shifted(ALL_FOURS, Joint.WRIST, (1400.0, 500.0)), 0.0, True),  # wrists do not count
    ],
)
def test_whole_body_in_frame(points, margin, inside):
    pose = make_pose(points)
    assert in_frame(pose, Side.LEFT, margin) is inside
    features = FeatureExtractor(FeatureConfig(frame_margin=margin)).update(pose)
    assert features.whole_body is inside


# -------------------------------------------------------------------- angles


def test_signals_of_a_pose_on_all_fours():
    features = FeatureExtractor().update(make_pose(ALL_FOURS))
    assert features.present
    assert set(SIGNALS) <= set(features.values)
    expected = {"hip": 90.0, "knee": 90.0, "shoulder": 90.0, "elbow": 180.0, TRUNK: 0.0}
    for name, value in expected.items():
        assert features.raw[name] == pytest.approx(value, abs=1e-3), name
    assert features.raw[HIP_LIFT] > 0  # hips above the shoulder-ankle line
    assert features.torso_px == pytest.approx(300.0)
    assert math.isnan(features.raw[BACK_BEND])  # no silhouette asked for


def test_empty_pose_restarts_the_filters():
    extractor = FeatureExtractor()
    extractor.update(make_pose(ALL_FOURS, t_s=0.0))
    lost = extractor.update(Pose.empty(0.033, SIZE))
    assert not lost.present and lost.side is None
    assert all(math.isnan(v) for v in lost.values.values())
    bent = shifted(ALL_FOURS, Joint.KNEE, (560.0, 500.0))
    back = extractor.update(make_pose(bent, t_s=0.066))
    # The first frame after the gap passes unsmoothed, not blended with the old one.
    assert back.values["hip"] == pytest.approx(back.raw["hip"])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_visibility": 1.5},
        {"side_switch_margin": -0.1},
        {"side_view_max_ratio": 0.0},
        {"frame_margin": 0.5},
        {"back_samples": 3},
    ],
)
def test_feature_config_refuses_impossible_values(kwargs):
    with pytest.raises(ValueError):
        FeatureConfig(**kwargs)


# ---------------------------------------------------------------- back bend


def back_mask(bump_px: float, scale: float = 1.0) -> np.ndarray:
    """A silhouette on all fours whose back rises ``bump_px`` mid-trunk (negative sags)."""
    width, height = SIZE
    mask = np.zeros((round(height * scale), round(width * scale)), dtype=np.float32)
    shoulder_x, hip_x, line_y = ALL_FOURS[Joint.SHOULDER][0], ALL_FOURS[Joint.HIP][0], 350.0
    for col in range(mask.shape[1]):
        x = col / scale
        if not 450.0 <= x <= 850.0:
            continue
        along = (x - hip_x) / (shoulder_x - hip_x)
        rise = bump_px * math.sin(math.pi * along) if 0.0 <= along <= 1.0 else 0.0
        top = line_y - 50.0 - rise
        mask[round(top * scale) : round(450.0 * scale), col] = 1.0
    return mask


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_back_bend_tells_a_rounded_back_from_a_sagging_one(scale):
    values = {
        name: back_bend(make_pose(ALL_FOURS, mask=back_mask(bump, scale)), Side.LEFT)
        for name, bump in (("rounded", 40.0), ("flat", 0.0), ("sagging", -30.0))
    }
    assert values["rounded"] > 0.02
    assert abs(values["flat"]) < 0.01
    assert values["sagging"] < -0.01
    assert values["rounded"] > values["flat"] > values["sagging"]


def test_back_bend_is_the_same_at_any_mask_size():
    full = back_bend(make_pose(ALL_FOURS, mask=back_mask(40.0, 1.0)), Side.LEFT)
    small = back_bend(make_pose(ALL_FOURS, mask=back_mask(40.0, 0.25)), Side.LEFT)
    assert small == pytest.approx(full, abs=0.015)


def test_back_bend_is_unknown_without_a_silhouette():
    assert math.isnan(back_bend(make_pose(ALL_FOURS), Side.LEFT))
    empty = np.zeros((SIZE[1], SIZE[0]), dtype=np.float32)
    assert math.isnan(back_bend(make_pose(ALL_FOURS, mask=empty), Side.LEFT))


def _in_3d(pose: Pose, turn_deg: float) -> Pose:
    """The pose with a real depth (left side toward the camera), filmed ``turn_deg`` round."""
    from coach.core.landmarks import Landmark

    world = np.zeros((len(pose.xy), 3))
    world[:, :2] = (pose.xy - pose.xy[[23, 24]].mean(axis=0)) / 400.0
    for mark in Landmark:
        if mark.name.startswith(("LEFT_", "RIGHT_")):
            world[int(mark), 2] = -0.1 if mark.name.startswith("LEFT_") else 0.1
    turn = np.radians(turn_deg)
    turned = world.copy()
    turned[:, 0] = np.cos(turn) * world[:, 0] + np.sin(turn) * world[:, 2]
    turned[:, 2] = -np.sin(turn) * world[:, 0] + np.cos(turn) * world[:, 2]
    centre = pose.xy[[23, 24]].mean(axis=0)
    return Pose(
        t_s=pose.t_s,
        xy=(centre + 400.0 * turned[:, :2]).astype(np.float32),
        z=(400.0 * turned[:, 2]).astype(np.float32),
        world=turned.astype(np.float32),
        visibility=pose.visibility,
        presence=pose.presence,
        image_size=pose.image_size,
    )


@pytest.mark.parametrize("turn_deg", [0.0, 30.0, -45.0, 60.0])
def test_side_view_rebuilt_from_the_world_landmarks(turn_deg: float) -> None:
    from coach.core.features import side_view_pose

    side = _in_3d(render("bridge_down"), 0.0)
    seen = _in_3d(render("bridge_down"), turn_deg)
    found = side_view_pose(seen)
    assert found is not None
    rebuilt, turn = found
    assert abs(turn) == pytest.approx(abs(turn_deg), abs=1.0)
    want = joint_angles(side, Side.LEFT)
    got = joint_angles(rebuilt, Side.LEFT)
    for name in ("hip", "knee"):
        assert got[name] == pytest.approx(want[name], abs=1.0), name
    if abs(turn_deg) >= 45:
        # Seen at an angle, the image itself bends the angles; the rebuilt view does not.
        raw = joint_angles(seen, Side.LEFT)
        assert abs(raw["knee"] - want["knee"]) > 2.0


def test_the_extractor_measures_an_oblique_body_on_the_rebuilt_side_view() -> None:
    seen = _in_3d(render("bridge_down"), 60.0)
    features = FeatureExtractor().update(seen)
    assert features.side_view  # judged, on the rebuilt side view
    assert features.view is not None and features.measured is features.view
    side = FeatureExtractor().update(_in_3d(render("bridge_down"), 0.0))
    assert side.view is None
    assert features.raw["knee"] == pytest.approx(side.raw["knee"], abs=1.0)


def test_a_camera_in_front_of_the_body_asks_for_a_better_view() -> None:
    seen = _in_3d(render("bridge_down"), 85.0)
    features = FeatureExtractor().update(seen)
    assert not features.side_view and features.view is None
