"""Plane geometry and the pixel scaling of landmarks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coach.core.features import joint_angles
from coach.core.geometry import angle_deg, distance, height_above_line, incline_deg
from coach.core.landmarks import NUM_LANDMARKS, SIDE_LANDMARKS, Joint, Side
from coach.core.pose import Pose


def pose_from_pixels(points: dict[Joint, tuple[float, float]], size: tuple[int, int]) -> Pose:
    """A pose whose left-side joints sit at the given pixels; the rest at the frame's centre."""
    width, height = size
    norm = np.zeros((NUM_LANDMARKS, 5))
    norm[:, 0], norm[:, 1], norm[:, 3:] = 0.5, 0.5, 1.0
    for joint, (x, y) in points.items():
        index = int(SIDE_LANDMARKS[Side.LEFT][joint])
        norm[index, 0], norm[index, 1] = x / width, y / height
    return Pose.from_normalized(0.0, norm, np.zeros((NUM_LANDMARKS, 3)), size)


@pytest.mark.parametrize(
    ("a", "vertex", "c", "expected"),
    [
        ((1, 0), (0, 0), (0, 1), 90.0),
        ((1, 0), (0, 0), (-1, 0), 180.0),
        ((1, 0), (0, 0), (2, 0), 0.0),
        ((1, 0), (0, 0), (1, 1), 45.0),
        ((3, 4), (0, 0), (-4, 3), 90.0),
        ((10, 10), (5, 5), (5, 15), 45.0),
    ],
)
def test_angle_deg(a, vertex, c, expected):
    assert angle_deg(np.array(a), np.array(vertex), np.array(c)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("a", "vertex", "c"),
    [
        ((0, 0), (0, 0), (1, 1)),  # a side of zero length
        ((1, 1), (0, 0), (0, 0)),
        ((math.nan, 0), (0, 0), (1, 1)),  # a joint the model did not place
    ],
)
def test_angle_deg_is_nan_when_undefined(a, vertex, c):
    assert math.isnan(angle_deg(np.array(a), np.array(vertex), np.array(c)))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ((0, 0), (10, 0), 0.0),  # lying flat
        ((10, 0), (0, 0), 0.0),  # flat, head the other way
        ((0, 10), (0, 0), 90.0),  # upright
        ((0, 0), (10, 10), 45.0),
        ((0, 0), (-10, -10), 45.0),
    ],
)
def test_incline_deg_ignores_direction(start, end, expected):
    assert incline_deg(np.array(start), np.array(end)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((5, -3), 3.0),  # above the line (y grows downward)
        ((5, 4), -4.0),  # below
        ((20, 0), 0.0),  # on its extension
    ],
)
def test_height_above_line_is_positive_toward_the_top(point, expected):
    for start, end in (((0, 0), (10, 0)), ((10, 0), (0, 0))):  # either direction
        h = height_above_line(np.array(point), np.array(start), np.array(end))
        assert h == pytest.approx(expected)


def test_height_above_degenerate_line_is_nan():
    assert math.isnan(height_above_line(np.array([1, 1]), np.array([2, 2]), np.array([2, 2])))


def test_distance():
    assert distance(np.array([0, 0]), np.array([3, 4])) == pytest.approx(5.0)


# A knee bent to exactly 90 degrees on screen, thigh and shin both diagonal.
KNEE_90 = {
    Joint.HIP: (800.0, 300.0),
    Joint.KNEE: (1000.0, 500.0),
    Joint.ANKLE: (1200.0, 300.0),
}


def test_angles_on_a_16_9_frame_are_right_only_after_pixel_scaling():
    size = (1920, 1080)
    pose = pose_from_pixels(KNEE_90, size)
    assert joint_angles(pose, Side.LEFT)["knee"] == pytest.approx(90.0, abs=1e-3)

    # The same angle taken on the normalized fractions is wrong: x and y are
    # fractions of different lengths, so diagonal limbs are squashed.
    fractions = {j: np.array([x / size[0], y / size[1]]) for j, (x, y) in KNEE_90.items()}
    naive = angle_deg(fractions[Joint.HIP], fractions[Joint.KNEE], fractions[Joint.ANKLE])
    assert naive == pytest.approx(2 * math.degrees(math.atan((200 / 1920) / (200 / 1080))))
    assert abs(naive - 90.0) > 25.0


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720), (1440, 1080), (1300, 1300)])
def test_the_same_body_gives_the_same_angle_on_any_frame_shape(size):
    pose = pose_from_pixels(KNEE_90, size)
    assert joint_angles(pose, Side.LEFT)["knee"] == pytest.approx(90.0, abs=1e-3)


def test_pose_keeps_pixels_and_is_read_only():
    pose = pose_from_pixels(KNEE_90, (1920, 1080))
    knee = pose.point(SIDE_LANDMARKS[Side.LEFT][Joint.KNEE])
    assert knee == pytest.approx([1000.0, 500.0], abs=1e-3)
    with pytest.raises(ValueError):
        pose.xy[0, 0] = 1.0
