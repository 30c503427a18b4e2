"""Body features the exercises are judged on, computed from one pose.

All lengths are divided by the torso length (shoulder to hip on the side
nearer the camera), so the same rule holds for a child and an adult, near or
far from the camera.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from coach.core.geometry import angle_deg, distance, height_above_line, incline_deg
from coach.core.landmarks import (
    ANGLE_TABLE,
    BODY_JOINTS,
    SIDE_LANDMARKS,
    SIDE_VOTE_JOINTS,
    Joint,
    Landmark,
    Side,
)
from coach.core.pose import Pose
from coach.core.smoothing import OneEuroConfig, SignalSmoother


@dataclass(frozen=True, kw_only=True)
class FeatureConfig:
    """How features are taken from a pose.

    Attributes:
        min_visibility: A joint below this visibility counts as not seen.
        side_switch_margin: The far side must beat the near side's mean
            visibility by this much before the coach switches sides, so the
            chosen side does not flicker when both are seen equally well.
        side_view_max_ratio: Largest left-right shoulder (and hip) distance,
            as a fraction of the torso length, that still counts as a side
            view. Seen from the front, shoulders are about a torso length apart.
        frame_margin: Fraction of the frame's size a joint must be inside the
            edge to count as in frame.
        back_samples: Points along the trunk at which the back's height is
            measured on the silhouette.
        rebuild_side_view: When the camera is not side-on, measure the body
            on a side view rebuilt from the world landmarks.
        max_view_turn_deg: The side view is rebuilt for a camera up to this
            far round from the side (toward the head, the feet, the front or
            the back); further round, the coach asks for a better view.
        smoothing: One Euro filter applied to angles and heights.
    """

    min_visibility: float = 0.5
    side_switch_margin: float = 0.1
    side_view_max_ratio: float = 0.5
    frame_margin: float = 0.0
    back_samples: int = 15
    rebuild_side_view: bool = True
    max_view_turn_deg: float = 80.0
    smoothing: OneEuroConfig = field(default_factory=OneEuroConfig)

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_visibility <= 1.0:
            raise ValueError(f"min_visibility must be in 0..1, got {self.min_visibility}")
        if not 0.0 <= self.side_switch_margin <= 1.0:
            raise ValueError(f"side_switch_margin must be in 0..1, got {self.side_switch_margin}")
        if not 0.0 < self.side_view_max_ratio <= 2.0:
            raise ValueError(
                f"side_view_max_ratio must be in (0, 2], got {self.side_view_max_ratio}"
            )
        if not 0.0 <= self.frame_margin < 0.5:
            raise ValueError(f"frame_margin must be in [0, 0.5), got {self.frame_margin}")
        if not 0.0 <= self.max_view_turn_deg <= 90.0:
            raise ValueError(f"max_view_turn_deg must be in 0..90, got {self.max_view_turn_deg}")
        if self.back_samples < 5:
            raise ValueError(f"back_samples must be 5 or more, got {self.back_samples}")


@dataclass(frozen=True, kw_only=True)
class Perception:
    """What is measured on each frame beyond the 33 landmarks.

    Each exercise asks for what it reads; a session or an analysis of several
    exercises asks for what any of them needs (``a | b``).

    Attributes:
        silhouette: The person's segmentation mask from the pose model and
            the back's outline measured on it (``BACK_BEND``). Both cost time
            on every frame, so only exercises that judge the back's curve
            ask for them.
    """

    silhouette: bool = False

    def __or__(self, other: Perception) -> Perception:
        return Perception(silhouette=self.silhouette or other.silhouette)


LANDMARKS_ONLY = Perception()
WITH_SILHOUETTE = Perception(silhouette=True)


# Names of the scalar signals in Features.values, beside the joint angles.
TRUNK = "trunk"  # incline of shoulder-hip above horizontal, degrees
HEAD_HEIGHT = "head_height"  # ear above the shoulder-hip line, torso lengths
HIP_LIFT = "hip_lift"  # hip above the shoulder-ankle line, torso lengths
HIP_LIFT_KNEE = "hip_lift_knee"  # hip above the shoulder-knee line, torso lengths
SIDE_VIEW_RATIO = "side_view_ratio"  # left-right shoulder distance, torso lengths
HEAD_PITCH = "head_pitch"  # shoulder-ear against the trunk line, degrees, + raised, - tucked
BACK_BEND = "back_bend"  # bow of the back's outline between its ends, torso lengths
HEAD_PITCH_3D = "head_pitch_3d"  # HEAD_PITCH from the metric world landmarks, degrees

SIGNALS: tuple[str, ...] = (
    *ANGLE_TABLE,
    TRUNK,
    HEAD_HEIGHT,
    HIP_LIFT,
    HIP_LIFT_KNEE,
    SIDE_VIEW_RATIO,
    HEAD_PITCH,
    BACK_BEND,
    HEAD_PITCH_3D,
)


@dataclass(frozen=True)
class Features:
    """What the coach knows about the body in one frame.

    Attributes:
        t_s: Time of the frame in seconds.
        present: A person was found and the near side's body joints are seen.
        side: The side of the body nearer the camera, or None with no person.
        values: Smoothed signals by name: the joint angles of ``ANGLE_TABLE``
            in degrees, and the ``SIGNALS`` above. NaN where unknown.
        raw: The same signals before smoothing.
        visibility: Mean visibility of the near side's body joints.
        side_view: The camera sees the body well enough from the side to
            judge it: side-on, or up to ``max_view_turn_deg`` round from the
            side, where a side view is rebuilt from the world landmarks.
        whole_body: Shoulder, hip, knee and ankle of the near side are in frame.
        torso_px: Shoulder-to-hip length on the near side, in pixels.
        pose: The pose the features came from.
        view: The pose the body is measured on: ``pose`` itself when the
            camera sees the body from the side, otherwise a side view rebuilt
            from the metric world landmarks (see ``side_view_pose``).
    """

    t_s: float
    present: bool
    side: Side | None
    values: Mapping[str, float]
    raw: Mapping[str, float]
    visibility: float
    side_view: bool
    whole_body: bool
    torso_px: float
    pose: Pose
    view: Pose | None = None

    def __getitem__(self, name: str) -> float:
        return self.values.get(name, math.nan)

    def point(self, joint: Joint) -> np.ndarray:
        """Pixel position of a joint on the near side (NaN with no person)."""
        if self.side is None:
            return np.array([math.nan, math.nan])
        return self.measured.point(SIDE_LANDMARKS[self.side][joint])

    @property
    def measured(self) -> Pose:
        """The pose the body is measured on (``view``, or ``pose`` when there is none)."""
        return self.view if self.view is not None else self.pose


def side_visibility(pose: Pose, side: Side) -> float:
    """Mean visibility of one side's main joints."""
    visibility = pose.visibility
    table = SIDE_LANDMARKS[side]
    return sum(float(visibility[int(table[j])]) for j in SIDE_VOTE_JOINTS) / len(SIDE_VOTE_JOINTS)


def nearer_side(pose: Pose, current: Side | None = None, margin: float = 0.0) -> Side:
    """The side facing the camera, by visibility; keeps ``current`` unless beaten by ``margin``."""
    left = side_visibility(pose, Side.LEFT)
    right = side_visibility(pose, Side.RIGHT)
    if current is Side.LEFT and right <= left + margin:
        return Side.LEFT
    if current is Side.RIGHT and left <= right + margin:
        return Side.RIGHT
    return Side.LEFT if left > right else Side.RIGHT


def joint_angles(pose: Pose, side: Side) -> dict[str, float]:
    """Every angle of ``ANGLE_TABLE`` on one side, in degrees."""
    table = SIDE_LANDMARKS[side]
    return {
        name: angle_deg(pose.point(table[a]), pose.point(table[b]), pose.point(table[c]))
        for name, (a, b, c) in ANGLE_TABLE.items()
    }


def side_view_ratio(pose: Pose, torso_px: float) -> float:
    """Left-right distance of shoulders and hips as a fraction of the torso length."""
    if not torso_px > 0:
        return math.nan
    shoulders = distance(pose.point(Landmark.LEFT_SHOULDER), pose.point(Landmark.RIGHT_SHOULDER))
    hips = distance(pose.point(Landmark.LEFT_HIP), pose.point(Landmark.RIGHT_HIP))
    return max(shoulders, hips) / torso_px


def in_frame(pose: Pose, side: Side, margin: float = 0.0) -> bool:
    """Whether the near side's shoulder, hip, knee and ankle lie inside the frame."""
    width, height = pose.image_size
    ids = [int(SIDE_LANDMARKS[side][j]) for j in BODY_JOINTS]
    pts = pose.xy[ids]
    if not np.isfinite(pts).all():
        return False
    lo_x, hi_x = margin * width, (1.0 - margin) * width
    lo_y, hi_y = margin * height, (1.0 - margin) * height
    return bool(
        (pts[:, 0] >= lo_x).all()
        and (pts[:, 0] <= hi_x).all()
        and (pts[:, 1] >= lo_y).all()
        and (pts[:, 1] <= hi_y).all()
    )


def head_pitch(pose: Pose, side: Side) -> float:
    """How far the head is raised above the line of the trunk, in degrees.

    The angle between the hip-to-shoulder direction and the shoulder-to-ear
    direction: about 0 with the head in line with the back, positive when
    the head is lifted toward the back (cow), negative when the chin is
    tucked toward the chest (cat).
    """
    table = SIDE_LANDMARKS[side]
    shoulder = pose.point(table[Joint.SHOULDER]).astype(np.float64)
    hip = pose.point(table[Joint.HIP]).astype(np.float64)
    ear = pose.point(table[Joint.EAR]).astype(np.float64)
    bend = 180.0 - angle_deg(ear, shoulder, hip)
    rise = height_above_line(ear, shoulder, hip)
    if not (math.isfinite(bend) and math.isfinite(rise)):
        return math.nan
    return bend if rise >= 0 else -bend


def flexion_units(
    bend: float,
    head: float,
    *,
    back_unit: float,
    head_unit: float,
    neutral_back: float,
    neutral_head: float,
) -> float:
    """The back's flexion in units: rounded, chin tucked (+, cat); sagging, head lifted (-, cow).

    The back bend (torso lengths) over ``back_unit`` plus the head's tuck
    (degrees below ``neutral_head``) over ``head_unit``, each from its
    neutral. Either part carries it alone, so a cycle with the head kept
    level still shows, and so does one with no silhouette; NaN when neither
    part is known.
    """
    parts = []
    if math.isfinite(bend):
        parts.append((bend - neutral_back) / back_unit)
    if math.isfinite(head):
        parts.append(-(head - neutral_head) / head_unit)
    return sum(parts) if parts else math.nan


def _middle(world: np.ndarray, left: Landmark, right: Landmark) -> np.ndarray:
    middle: np.ndarray = (world[int(left)] + world[int(right)]) / 2.0
    return middle


def head_pitch_3d(pose: Pose) -> float:
    """How far the head is raised above the line of the trunk, from the world landmarks.

    The same measure as ``head_pitch`` (+ lifted toward the back, - tucked
    toward the chest), taken in the body's own mid-plane: the trunk (hips to
    shoulders) and the neck (shoulders to ears, both sides' middles) are
    projected onto the plane across the left-right axis. The world landmarks
    are metric and centred on the hips, so the angle does not shrink when the
    camera looks at the person from the head or the feet end, as the one on
    the image does.
    """
    world = np.asarray(pose.world, dtype=np.float64)
    if world.shape[0] <= int(Landmark.RIGHT_HIP) or not np.isfinite(world).all():
        return math.nan
    lateral = (world[int(Landmark.LEFT_SHOULDER)] - world[int(Landmark.RIGHT_SHOULDER)]) + (
        world[int(Landmark.LEFT_HIP)] - world[int(Landmark.RIGHT_HIP)]
    )
    shoulders = _middle(world, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER)
    trunk = shoulders - _middle(world, Landmark.LEFT_HIP, Landmark.RIGHT_HIP)
    neck = _middle(world, Landmark.LEFT_EAR, Landmark.RIGHT_EAR) - shoulders
    norm = float(np.linalg.norm(lateral))
    if not norm > 0:
        return math.nan
    lateral /= norm
    trunk = trunk - np.dot(trunk, lateral) * lateral
    neck = neck - np.dot(neck, lateral) * lateral
    length = float(np.linalg.norm(trunk))
    if not (length > 0 and np.linalg.norm(neck) > 0):
        return math.nan
    along = trunk / length
    # The back faces along left x up (y grows downward in the world frame as
    # in the image, and the frame is right-handed).
    (a0, a1, a2), (l0, l1, l2) = along.tolist(), lateral.tolist()
    back = np.array([a1 * l2 - a2 * l1, a2 * l0 - a0 * l2, a0 * l1 - a1 * l0])  # along x lateral
    return math.degrees(math.atan2(float(np.dot(neck, back)), float(np.dot(neck, along))))


def knee_sway_deg(pose: Pose) -> float:
    """How far the thighs swing out of the body's mid-plane, from the world landmarks, in degrees.

    The angle between the line from the middle of the hips to the middle of
    the knees and the body's mid-plane: near 0 with the knees pointing up in
    a bridge or forward on all fours, large when both knees drop to one side
    (a lying twist). NaN without world landmarks.
    """
    world = np.asarray(pose.world, dtype=np.float64)
    if world.shape[0] <= int(Landmark.RIGHT_KNEE) or not np.isfinite(world).all():
        return math.nan
    lateral = world[int(Landmark.LEFT_HIP)] - world[int(Landmark.RIGHT_HIP)]
    thigh = _middle(world, Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE) - _middle(
        world, Landmark.LEFT_HIP, Landmark.RIGHT_HIP
    )
    norms = float(np.linalg.norm(lateral)) * float(np.linalg.norm(thigh))
    if not norms > 0:
        return math.nan
    across = abs(float(np.dot(lateral, thigh))) / norms
    return math.degrees(math.asin(min(1.0, across)))


def side_view_pose(pose: Pose) -> tuple[Pose, float] | None:
    """The pose as a camera square to the body's side would see it, from the world landmarks.

    The metric world landmarks (centred on the hips, y down as in the image)
    are turned about the vertical by the smaller angle that points the
    body's left-right axis along the camera's line of sight, projected
    straight onto the image plane, and scaled and placed so that the torso
    keeps its length and the hips their place in the frame. A laptop that
    stands at the head end, the feet end or at three quarters then gives the
    same angles and heights as one square to the side. Returns the rebuilt
    pose and the turn in degrees (0 for a camera square to the side, 90 for
    one in front or behind); None without usable world landmarks.
    """
    world = np.asarray(pose.world, dtype=np.float64)
    if pose.is_empty or not np.isfinite(world).all():
        return None
    lateral = (world[int(Landmark.LEFT_SHOULDER)] - world[int(Landmark.RIGHT_SHOULDER)]) + (
        world[int(Landmark.LEFT_HIP)] - world[int(Landmark.RIGHT_HIP)]
    )
    if math.hypot(lateral[0], lateral[2]) < 0.5 * float(np.linalg.norm(lateral)):
        return None  # hips and shoulders one above the other: no turn about the vertical helps
    # The turn that leaves no left-right component across the image.
    turn = math.atan2(-lateral[0], lateral[2])
    if turn > math.pi / 2:
        turn -= math.pi
    elif turn <= -math.pi / 2:
        turn += math.pi
    cos, sin = math.cos(turn), math.sin(turn)
    x = cos * world[:, 0] + sin * world[:, 2]
    z = -sin * world[:, 0] + cos * world[:, 2]
    turned = np.stack([x, world[:, 1]], axis=1)
    hips = [int(Landmark.LEFT_HIP), int(Landmark.RIGHT_HIP)]
    shoulders = [int(Landmark.LEFT_SHOULDER), int(Landmark.RIGHT_SHOULDER)]
    xy = np.asarray(pose.xy, dtype=np.float64)
    torso_px = float(np.linalg.norm(xy[shoulders].mean(axis=0) - xy[hips].mean(axis=0)))
    torso_m = float(np.linalg.norm(turned[shoulders].mean(axis=0) - turned[hips].mean(axis=0)))
    if not (torso_px > 0 and torso_m > 0):
        return None
    scale = torso_px / torso_m
    # Seen from the side, the trunk is longer on the image than at an angle:
    # scale by the turned torso so that lengths in torso lengths stay true.
    placed = xy[hips].mean(axis=0) + scale * (turned - turned[hips].mean(axis=0))
    rebuilt = Pose(
        t_s=pose.t_s,
        xy=placed.astype(np.float32),
        z=(z * scale).astype(np.float32),
        world=pose.world,
        visibility=pose.visibility,
        presence=pose.presence,
        image_size=pose.image_size,
        mask=None,
    )
    return rebuilt, math.degrees(turn)


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    height, width = image.shape
    x = np.clip(x, 0.0, width - 1.001)
    y = np.clip(y, 0.0, height - 1.001)
    x0 = np.floor(x).astype(int)
    y0 = np.floor(y).astype(int)
    fx = x - x0
    fy = y - y0
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    return np.asarray(top * (1 - fy) + bottom * fy)


# Walk step along the outline's normal, in mask pixels. The edge itself is
# placed between two samples by linear interpolation, so a one-pixel step
# finds it as precisely as a finer one at a quarter of the cost.
_OUTLINE_STEP_PX = 1.0


def back_outline(
    pose: Pose, side: Side, samples: int = 15, span: tuple[float, float] = (0.1, 0.9)
) -> tuple[np.ndarray, np.ndarray] | None:
    """Height of the silhouette's upper edge above the shoulder-hip line, in torso lengths.

    Samples the trunk at ``samples`` fractions of the way from shoulder to
    hip; at each one, walks up across the line (from half a torso below it
    to a torso above it) and keeps the last point inside the person, to a
    fraction of a mask pixel. Returns the fractions and the heights (NaN
    where no edge was found), or None without a mask.
    """
    mask = pose.mask
    if mask is None or mask.ndim != 2 or mask.size == 0:
        return None
    scale = mask.shape[1] / pose.image_size[0]
    table = SIDE_LANDMARKS[side]
    shoulder = pose.point(table[Joint.SHOULDER]).astype(np.float64) * scale
    hip = pose.point(table[Joint.HIP]).astype(np.float64) * scale
    trunk = hip - shoulder
    torso = math.hypot(trunk[0], trunk[1])
    if not (torso >= 4.0 and np.isfinite(trunk).all()):
        return None
    normal = np.array([trunk[1], -trunk[0]]) / torso
    if normal[1] > 0:  # point up the image, toward the back when on all fours
        normal = -normal
    step = _OUTLINE_STEP_PX
    # A rounded back lifts the belly off the joint line too, so the walk
    # starts below the line rather than on it.
    offsets = np.arange(-0.5 * torso, 1.0 * torso + step, step)
    fractions = np.linspace(span[0], span[1], samples)
    bases = shoulder[None, :] + fractions[:, None] * trunk[None, :]
    probes = bases[:, None, :] + offsets[None, :, None] * normal[None, None, :]
    rows, cols = mask.shape
    in_image = (
        (probes[..., 0] >= 0)
        & (probes[..., 0] <= cols - 1)
        & (probes[..., 1] >= 0)
        & (probes[..., 1] <= rows - 1)
    )
    # Only the sampled pixels are read: converting the whole mask each frame
    # would cost more than the rest of the features together.
    level = _bilinear(mask, probes[..., 0], probes[..., 1])
    level[~in_image] = 0.0
    inside = level >= 0.5
    heights = np.full(samples, np.nan)
    for i in range(samples):
        hits = np.flatnonzero(inside[i])
        if hits.size == 0 or hits[-1] == offsets.size - 1:
            continue  # never on the body, or still on it at the top: no edge
        k = int(hits[-1])
        a, b = level[i, k], level[i, k + 1]
        cross = (a - 0.5) / (a - b) if a != b else 0.0
        heights[i] = (offsets[k] + cross * step) / torso
    return fractions, heights


def back_bend(pose: Pose, side: Side, samples: int = 15) -> float:
    """How far the back's outline bows up (+) or sags (-) between shoulders and hips.

    Fits a parabola to the silhouette's upper edge along the trunk (see
    ``back_outline``) and returns the height of its middle above the straight
    line joining its two ends, in torso lengths. Measured on the outline
    itself, so it does not depend on where the model puts the shoulder and
    hip inside the body: a rounded back (cat) is positive, a sagging back
    (cow) negative, a flat back near 0. NaN without a mask or when under
    70% of the outline is found.
    """
    outline = back_outline(pose, side, samples)
    if outline is None:
        return math.nan
    fractions, heights = outline
    found = np.isfinite(heights)
    if found.mean() < 0.7:
        return math.nan
    curve = np.polyfit(fractions[found], heights[found], 2)
    lo, hi = fractions[0], fractions[-1]
    middle = np.polyval(curve, (lo + hi) / 2.0)
    chord = (np.polyval(curve, lo) + np.polyval(curve, hi)) / 2.0
    return float(middle - chord)


def raw_signals(
    pose: Pose, side: Side, back_samples: int = 15, *, with_mask: bool = True
) -> tuple[dict[str, float], float]:
    """Every signal of ``SIGNALS`` for one side, unsmoothed, and the torso length in pixels."""
    table = SIDE_LANDMARKS[side]
    shoulder = pose.point(table[Joint.SHOULDER])
    hip = pose.point(table[Joint.HIP])
    torso = distance(shoulder, hip)
    values = joint_angles(pose, side)

    def per_torso(length: float) -> float:
        return length / torso if torso > 0 else math.nan

    values[TRUNK] = incline_deg(shoulder, hip)
    values[HEAD_HEIGHT] = per_torso(height_above_line(pose.point(table[Joint.EAR]), shoulder, hip))
    values[HIP_LIFT] = per_torso(height_above_line(hip, shoulder, pose.point(table[Joint.ANKLE])))
    knee = pose.point(table[Joint.KNEE])
    values[HIP_LIFT_KNEE] = per_torso(height_above_line(hip, shoulder, knee))
    values[SIDE_VIEW_RATIO] = side_view_ratio(pose, torso)
    values[HEAD_PITCH] = head_pitch(pose, side)
    values[BACK_BEND] = back_bend(pose, side, back_samples) if with_mask else math.nan
    values[HEAD_PITCH_3D] = head_pitch_3d(pose)
    return values, torso


class FeatureExtractor:
    """Turns each pose into features, keeping the chosen side and the filters between frames.

    Args:
        config: How features are taken.
        perception: What is measured beyond the landmarks; by default the
            back's outline on every pose that carries a mask.
    """

    def __init__(
        self, config: FeatureConfig | None = None, *, perception: Perception = WITH_SILHOUETTE
    ) -> None:
        self._config = config or FeatureConfig()
        self._smoother = SignalSmoother(self._config.smoothing)
        self._side: Side | None = None
        self.perception = perception

    @property
    def perception(self) -> Perception:
        """What is measured beyond the landmarks, from the next pose on."""
        return self._perception

    @perception.setter
    def perception(self, perception: Perception) -> None:
        self._perception = perception

    @property
    def side(self) -> Side | None:
        """The side currently judged as nearer the camera."""
        return self._side

    def reset(self) -> None:
        """Forget the chosen side and restart the filters."""
        self._smoother.reset()
        self._side = None

    def update(self, pose: Pose) -> Features:
        """Features of one pose; an empty pose gives features with ``present`` False."""
        cfg = self._config
        if pose.is_empty:
            nan_values = {name: math.nan for name in SIGNALS}
            # Feeding NaN restarts every filter, so the first frame after the
            # person comes back is not blended with one from before they left.
            self._smoother.update(nan_values, pose.t_s)
            return Features(
                t_s=pose.t_s,
                present=False,
                side=None,
                values=nan_values,
                raw=nan_values,
                visibility=0.0,
                side_view=False,
                whole_body=False,
                torso_px=math.nan,
                pose=pose,
            )
        self._side = nearer_side(pose, self._side, cfg.side_switch_margin)
        raw, torso = raw_signals(
            pose, self._side, cfg.back_samples, with_mask=self._perception.silhouette
        )
        visibility = side_visibility(pose, self._side)
        ratio = raw[SIDE_VIEW_RATIO]
        side_on = bool(math.isfinite(ratio) and ratio <= cfg.side_view_max_ratio)
        turned = None if side_on or not cfg.rebuild_side_view else side_view_pose(pose)
        view = None
        if turned is not None and abs(turned[1]) <= cfg.max_view_turn_deg:
            view = turned[0]
            # The body's angles and heights from the rebuilt side view; the
            # back's outline and the camera checks stay on the real image.
            rebuilt, torso = raw_signals(view, self._side, cfg.back_samples, with_mask=False)
            raw = {**rebuilt, BACK_BEND: raw[BACK_BEND], SIDE_VIEW_RATIO: ratio}
        return Features(
            t_s=pose.t_s,
            present=visibility >= cfg.min_visibility and torso > 0,
            side=self._side,
            values=self._smoother.update(raw, pose.t_s),
            raw=raw,
            visibility=visibility,
            side_view=side_on or view is not None,
            whole_body=in_frame(pose, self._side, cfg.frame_margin),
            torso_px=torso,
            pose=pose,
            view=view,
        )
