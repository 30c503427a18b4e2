"""Which pose the person is in: child's pose, tabletop, cat, cow, bridge down or up, or other.

The rules are what a physical therapist checks from the side, on the side of
the body nearer the camera, in image space with "up" toward the top of the
frame and every length in torso lengths (shoulder to hip):

- child's pose: knees and hips deeply bent, hips back toward the heels, the
  trunk low, the head no higher than the hips and the knees on the floor
  (lying on the back hugging the knees is not child's pose);
- all fours (tabletop, cat, cow): trunk near horizontal, thighs and arms
  near vertical (knees under hips, hands under shoulders), hips and knees
  bent about a right angle. Cat is a back rounded up with the chin tucked,
  cow a back sagging with the head lifted; a flat back is tabletop;
- bridge: lying on the back with the shoulders on the floor, knees bent and
  pointing up, feet flat below them, face up and the head resting level with
  the shoulders (not curled up as in a crunch, not below them as in a wheel).
  ``bridge_up`` when the hips are lifted off the line from the shoulders to
  the feet (or to the knees); small lifts against the person's own resting
  position are left to the hip-lift engine.

Angles and the back's bend come smoothed from the features; the heights
between joints are taken from the frame's landmarks.

``PoseClassifier`` adds hysteresis (once in a state, each of its limits is
relaxed a little before the state is left) and a minimum dwell (a new state
must last before it is taken), so noise does not flicker the state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from coach.core.features import (
    BACK_BEND,
    HEAD_PITCH,
    HIP_LIFT,
    HIP_LIFT_KNEE,
    TRUNK,
    Features,
    flexion_units,
    knee_sway_deg,
)
from coach.core.geometry import angle_deg, distance, incline_deg
from coach.core.landmarks import SIDE_LANDMARKS, Joint, Landmark, Side
from coach.core.settings import knob
from coach.core.states import PoseState


@dataclass(frozen=True, kw_only=True)
class ClassifierConfig:
    """Limits of every pose state and how the state is debounced.

    Each field's metadata gives its possible range (``min``, ``max``), its
    ``unit`` and a one-line ``help``. Lengths are in torso lengths, heights
    are measured toward the top of the frame.
    """

    # Child's pose.
    childs_max_knee_deg: float = knob(
        60.0, 20.0, 120.0, "deg", "knees bent at least this deeply (hip-knee-ankle)"
    )
    childs_max_hip_deg: float = knob(
        90.0, 30.0, 130.0, "deg", "hips folded at least this deeply (shoulder-hip-knee)"
    )
    childs_max_trunk_deg: float = knob(
        45.0, 10.0, 80.0, "deg", "trunk at most this steep above the horizontal"
    )
    childs_max_hip_heel: float = knob(
        0.9, 0.3, 2.0, "torso", "hips at most this far from the ankles (sitting back)"
    )
    childs_min_head_drop: float = knob(
        -0.25, -1.0, 1.0, "torso", "ear at least this far below the hip (head low)"
    )
    childs_max_knee_rise: float = knob(
        0.0, -0.5, 0.5, "torso", "knee at most this far above the hip (knees on the floor)"
    )
    childs_view_slack_deg: float = knob(
        10.0, 0.0, 45.0, "deg", "child's pose angle limits relax this much on a rebuilt side view"
    )
    childs_view_slack_torso: float = knob(
        0.3, 0.0, 0.6, "torso", "child's pose length limits relax this much on a rebuilt side view"
    )
    # All fours: tabletop, cat and cow.
    fours_max_trunk_deg: float = knob(
        35.0, 10.0, 60.0, "deg", "trunk at most this steep above the horizontal"
    )
    fours_min_hip_deg: float = knob(60.0, 30.0, 120.0, "deg", "hip angle at least this")
    fours_max_hip_deg: float = knob(140.0, 100.0, 170.0, "deg", "hip angle at most this")
    fours_min_knee_deg: float = knob(45.0, 20.0, 110.0, "deg", "knee angle at least this")
    fours_max_knee_deg: float = knob(135.0, 100.0, 170.0, "deg", "knee angle at most this")
    fours_max_thigh_tilt_deg: float = knob(
        40.0, 10.0, 70.0, "deg", "thigh at most this far from vertical (knee under hip)"
    )
    fours_max_arm_tilt_deg: float = knob(
        35.0, 10.0, 70.0, "deg", "shoulder-wrist at most this far from vertical"
    )
    fours_min_arm_drop: float = knob(
        0.5, 0.1, 1.5, "torso", "wrist at least this far below the shoulder"
    )
    fours_max_hip_lift: float = knob(
        0.6, 0.2, 2.0, "torso", "hip at most this far above the shoulder-ankle line"
    )
    fours_max_knee_lift: float = knob(
        0.25, -0.5, 1.0, "torso", "knee at most this far above the other ankle (knees down)"
    )
    flex_back_torso: float = knob(0.1, 0.02, 0.5, "torso", "back bend worth one flexion unit")
    flex_head_deg: float = knob(40.0, 10.0, 120.0, "deg", "head tuck worth one flexion unit")
    flex_neutral_back_torso: float = knob(-0.04, -0.3, 0.3, "torso", "back bend of a flat back")
    flex_neutral_head_deg: float = knob(5.0, -60.0, 60.0, "deg", "head pitch in line with the back")
    cat_min_flex: float = knob(
        1.95, 0.3, 6.0, "units", "back rounded and chin tucked at least this much for cat"
    )
    cow_max_flex: float = knob(
        -1.3, -6.0, -0.3, "units", "back sagging and head lifted at least this much for cow"
    )
    # Bridge (lying on the back, knees bent).
    bridge_min_knee_deg: float = knob(20.0, 0.0, 90.0, "deg", "knee angle at least this")
    bridge_max_knee_sway_deg: float = knob(
        55.0, 10.0, 90.0, "deg", "knees at most this far to one side (not a lying twist)"
    )
    bridge_min_hip_deg: float = knob(
        85.0, 40.0, 130.0, "deg", "hips open at least this (not hugging the knees)"
    )
    bridge_max_knee_deg: float = knob(
        130.0, 90.0, 170.0, "deg", "knees bent at least this much (hip-knee-ankle)"
    )
    bridge_min_shin_rise: float = knob(
        0.3, 0.0, 1.0, "torso", "knee at least this far above the ankle (feet flat, knees up)"
    )
    bridge_max_shoulder_rise: float = knob(
        0.45, 0.1, 1.5, "torso", "shoulder at most this far above the ankle (shoulders down)"
    )
    bridge_min_hip_rise: float = knob(
        -0.1, -0.5, 0.5, "torso", "hip at least this far above the shoulder"
    )
    bridge_min_head_rise: float = knob(
        -0.1, -0.5, 0.3, "torso", "ear at least this far above the shoulder (head on the floor)"
    )
    bridge_max_head_rise: float = knob(
        0.35, 0.1, 1.0, "torso", "ear at most this far above the shoulder (head not curled up)"
    )
    bridge_max_trunk_deg: float = knob(
        65.0, 20.0, 85.0, "deg", "trunk at most this steep above the horizontal"
    )
    bridge_min_face_up: float = knob(
        -0.05, -0.5, 0.5, "torso", "nose at least this far above the ear (face up)"
    )
    up_min_hip_lift: float = knob(
        0.25, 0.05, 1.0, "torso", "hip above the shoulder-ankle line for bridge_up"
    )
    up_min_hip_lift_knee: float = knob(
        -0.15, -0.5, 0.5, "torso", "or hip above the shoulder-knee line for bridge_up"
    )
    # Debouncing.
    hysteresis_deg: float = knob(
        8.0, 0.0, 30.0, "deg", "angle limits relax this much once a state is reached"
    )
    hysteresis_torso: float = knob(
        0.04, 0.0, 0.3, "torso", "length limits relax this much once a state is reached"
    )
    hysteresis_flex: float = knob(
        0.3, 0.0, 2.0, "units", "flexion limits relax this much once a state is reached"
    )
    max_roll_deg: float = knob(
        20.0, 0.0, 45.0, "deg", "a camera tilted up to this much is levelled on the floor line"
    )
    min_dwell_s: float = knob(0.2, 0.0, 5.0, "s", "a new state must last this long")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            low, high = f.metadata["min"], f.metadata["max"]
            if not (isinstance(value, int | float) and low <= value <= high):
                raise ValueError(
                    f"{f.name} must be in {low}..{high} {f.metadata['unit']}, got {value!r}"
                )
        pairs = (
            ("fours_min_hip_deg", "fours_max_hip_deg"),
            ("fours_min_knee_deg", "fours_max_knee_deg"),
            ("bridge_min_knee_deg", "bridge_max_knee_deg"),
        )
        for low_name, high_name in pairs:
            if getattr(self, low_name) >= getattr(self, high_name):
                raise ValueError(f"{low_name} must be below {high_name}")


@dataclass(frozen=True)
class BodyLayout:
    """The measurements the pose states are decided on, for one frame.

    Angles in degrees, lengths in torso lengths, heights toward the top of
    the frame (positive when the first-named point is higher).
    """

    hip_deg: float
    knee_deg: float
    trunk_deg: float
    head_pitch_deg: float
    back_bend: float
    hip_lift: float
    hip_lift_knee: float
    thigh_tilt_deg: float  # hip-knee from vertical, 0 with the knee under the hip
    arm_tilt_deg: float  # shoulder-wrist from vertical, 0 with the hand under the shoulder
    arm_drop: float  # wrist below shoulder
    knee_lift: float  # knee above the far side's ankle (a leg lifted off the floor)
    shin_rise: float  # knee above ankle
    knee_rise: float  # knee above hip
    shoulder_rise: float  # shoulder above ankle
    hip_rise: float  # hip above shoulder
    head_drop: float  # ear below hip
    face_up: float  # nose above ear
    head_rise: float  # ear above shoulder
    hip_heel: float  # hip to ankle distance
    knee_sway_deg: float  # thighs out of the body's mid-plane (3D), degrees
    folded_knee_deg: float = math.nan  # knee angle of the more bent leg
    folded_hip_heel: float = math.nan  # hip to ankle distance of the leg whose heel is nearer
    rebuilt: bool = False  # measured on a side view rebuilt from the world landmarks


def _tilt_from_vertical(top: np.ndarray, bottom: np.ndarray) -> float:
    dx = abs(float(bottom[0]) - float(top[0]))
    dy = float(bottom[1]) - float(top[1])  # image rows grow downward
    if dx == 0 and dy == 0:
        return math.nan
    return math.degrees(math.atan2(dx, dy))


def body_layout(features: Features, roll_deg: float = 0.0) -> BodyLayout | None:
    """The measurements of one frame, or None when nobody is seen.

    ``roll_deg`` turns the image's "up" by that many degrees first, for a
    camera that is not level (see ``level_candidates``).
    """
    if not features.present or features.side is None:
        return None
    torso = features.torso_px
    if not (math.isfinite(torso) and torso > 0):
        return None
    turn = math.radians(roll_deg)
    cos, sin = math.cos(turn), math.sin(turn)

    def level(point: np.ndarray) -> np.ndarray:
        x, y = float(point[0]), float(point[1])
        return np.array([cos * x + sin * y, -sin * x + cos * y])

    shoulder = level(features.point(Joint.SHOULDER))
    hip = level(features.point(Joint.HIP))
    knee = level(features.point(Joint.KNEE))
    ankle = level(features.point(Joint.ANKLE))
    wrist = level(features.point(Joint.WRIST))
    ear = level(features.point(Joint.EAR))
    nose = level(features.measured.point(Landmark.NOSE))
    far = SIDE_LANDMARKS[Side.RIGHT if features.side is Side.LEFT else Side.LEFT]
    far_ankle = level(features.measured.point(far[Joint.ANKLE]))
    # Both legs, measured as they are (rolling the picture changes neither).
    legs = [
        [features.measured.point(table[j]) for j in (Joint.HIP, Joint.KNEE, Joint.ANKLE)]
        for table in SIDE_LANDMARKS.values()
    ]

    def above(a: np.ndarray, b: np.ndarray) -> float:
        return (float(b[1]) - float(a[1])) / torso

    trunk = features[TRUNK] if roll_deg == 0.0 else incline_deg(shoulder, hip)
    return BodyLayout(
        hip_deg=features["hip"],
        knee_deg=features["knee"],
        trunk_deg=trunk,
        head_pitch_deg=features[HEAD_PITCH],
        back_bend=features[BACK_BEND],
        hip_lift=features[HIP_LIFT],
        hip_lift_knee=features[HIP_LIFT_KNEE],
        thigh_tilt_deg=_tilt_from_vertical(hip, knee),
        arm_tilt_deg=_tilt_from_vertical(shoulder, wrist),
        arm_drop=above(shoulder, wrist),
        knee_lift=above(knee, far_ankle),
        shin_rise=above(knee, ankle),
        knee_rise=above(knee, hip),
        shoulder_rise=above(shoulder, ankle),
        hip_rise=above(hip, shoulder),
        head_drop=above(hip, ear),
        face_up=above(nose, ear),
        head_rise=above(ear, shoulder),
        hip_heel=float(np.hypot(*(hip - ankle))) / torso,
        knee_sway_deg=knee_sway_deg(features.pose),
        folded_knee_deg=_least(*(angle_deg(h, k, a) for h, k, a in legs)),
        folded_hip_heel=_least(*(distance(h, a) / torso for h, _, a in legs)),
        rebuilt=features.view is not None,
    )


# Where each family of poses touches the floor: the line between these two
# joints lies along it (shoulders and feet on the back, hands and knees on all
# fours and in child's pose).
_FLOOR_LINES: tuple[tuple[Joint, Joint, frozenset[PoseState]], ...] = (
    (Joint.SHOULDER, Joint.ANKLE, frozenset({PoseState.BRIDGE_DOWN, PoseState.BRIDGE_UP})),
    (
        Joint.WRIST,
        Joint.KNEE,
        frozenset({PoseState.TABLETOP, PoseState.CAT, PoseState.COW, PoseState.CHILDS_POSE}),
    ),
)


def level_candidates(
    features: Features, max_roll_deg: float
) -> list[tuple[float, frozenset[PoseState]]]:
    """Camera rolls that would lay each family's floor line level, within ``max_roll_deg``.

    A laptop on an uneven surface tilts the picture; the floor the person
    lies or kneels on then runs at an angle across it. Each family of poses
    names two joints that rest on the floor: if the line between them is
    tilted by at most ``max_roll_deg``, that tilt is a candidate roll to undo.
    """
    out = []
    for a, b, family in _FLOOR_LINES:
        start, end = features.point(a), features.point(b)
        dx, dy = float(end[0] - start[0]), float(end[1] - start[1])
        if not (math.isfinite(dx) and math.isfinite(dy)) or dx == 0.0:
            continue
        roll = math.degrees(math.atan(dy / dx))
        if 0.5 <= abs(roll) <= max_roll_deg:
            out.append((roll, family))
    return out


class _Limits:
    """Checks values against limits, each relaxed by the hysteresis when ``relaxed``."""

    def __init__(self, config: ClassifierConfig, relaxed: bool) -> None:
        self._deg = config.hysteresis_deg if relaxed else 0.0
        self._torso = config.hysteresis_torso if relaxed else 0.0
        self._flex = config.hysteresis_flex if relaxed else 0.0

    def _slack(self, unit: str) -> float:
        return {"deg": self._deg, "units": self._flex}.get(unit, self._torso)

    def at_most(self, value: float, limit: float, unit: str) -> bool:
        return math.isfinite(value) and value <= limit + self._slack(unit)

    def at_least(self, value: float, limit: float, unit: str) -> bool:
        return math.isfinite(value) and value >= limit - self._slack(unit)

    def within(self, value: float, low: float, high: float, unit: str) -> bool:
        return self.at_least(value, low, unit) and self.at_most(value, high, unit)


_FOURS = (PoseState.TABLETOP, PoseState.CAT, PoseState.COW)
_BRIDGE = (PoseState.BRIDGE_DOWN, PoseState.BRIDGE_UP)


def _childs_pose(b: BodyLayout, c: ClassifierConfig, lim: _Limits) -> bool:
    # Either leg may be the folded one the person sits back on: seen from the
    # front or at an angle, the near leg is often the one the model guesses.
    # A side view rebuilt from the world landmarks reads a folded body more
    # open than the picture does (on side-on photos of child's pose, up to
    # about 20 degrees at the knee and 0.3 torso from hip to heel), so those
    # two limits allow for that. The hip limit, well above any child's pose,
    # is what keeps all fours out, and stays.
    deg = c.childs_view_slack_deg if b.rebuilt else 0.0
    torso = c.childs_view_slack_torso if b.rebuilt else 0.0
    knee = _least(b.knee_deg, b.folded_knee_deg)
    reach = _least(b.hip_heel, b.folded_hip_heel)
    return (
        lim.at_most(knee, c.childs_max_knee_deg + deg, "deg")
        and lim.at_most(b.hip_deg, c.childs_max_hip_deg, "deg")
        and lim.at_most(b.trunk_deg, c.childs_max_trunk_deg, "deg")
        and lim.at_most(reach, c.childs_max_hip_heel + torso, "torso")
        and lim.at_least(b.head_drop, c.childs_min_head_drop, "torso")
        and lim.at_most(b.knee_rise, c.childs_max_knee_rise, "torso")
    )


def _least(*values: float) -> float:
    """The smallest finite value, NaN when there is none."""
    finite = [v for v in values if math.isfinite(v)]
    return min(finite) if finite else math.nan


def _all_fours(b: BodyLayout, c: ClassifierConfig, lim: _Limits) -> bool:
    return (
        lim.at_most(b.trunk_deg, c.fours_max_trunk_deg, "deg")
        and lim.within(b.hip_deg, c.fours_min_hip_deg, c.fours_max_hip_deg, "deg")
        and lim.within(b.knee_deg, c.fours_min_knee_deg, c.fours_max_knee_deg, "deg")
        and lim.at_most(b.thigh_tilt_deg, c.fours_max_thigh_tilt_deg, "deg")
        and lim.at_most(b.arm_tilt_deg, c.fours_max_arm_tilt_deg, "deg")
        and lim.at_least(b.arm_drop, c.fours_min_arm_drop, "torso")
        and not b.knee_lift > c.fours_max_knee_lift
        and not b.hip_lift > c.fours_max_hip_lift
    )


def flexion(b: BodyLayout, c: ClassifierConfig) -> float:
    """Back rounded and chin tucked (+, cat) or back sagging and head lifted (-, cow), in units.

    Either part carries it alone: a mild cat with the head only a little
    tucked is a cat, and so is a full tuck over a flat-looking back.
    """
    return flexion_units(
        b.back_bend,
        b.head_pitch_deg,
        back_unit=c.flex_back_torso,
        head_unit=c.flex_head_deg,
        neutral_back=c.flex_neutral_back_torso,
        neutral_head=c.flex_neutral_head_deg,
    )


def _cat(b: BodyLayout, c: ClassifierConfig, lim: _Limits) -> bool:
    return lim.at_least(flexion(b, c), c.cat_min_flex, "units")


def _cow(b: BodyLayout, c: ClassifierConfig, lim: _Limits) -> bool:
    return lim.at_most(flexion(b, c), c.cow_max_flex, "units")


def _bridge(b: BodyLayout, c: ClassifierConfig, lim: _Limits) -> bool:
    return (
        lim.within(b.knee_deg, c.bridge_min_knee_deg, c.bridge_max_knee_deg, "deg")
        and lim.at_least(b.hip_deg, c.bridge_min_hip_deg, "deg")
        and not b.knee_sway_deg > c.bridge_max_knee_sway_deg
        and lim.at_least(b.shin_rise, c.bridge_min_shin_rise, "torso")
        and lim.at_most(b.shoulder_rise, c.bridge_max_shoulder_rise, "torso")
        and lim.at_least(b.hip_rise, c.bridge_min_hip_rise, "torso")
        and lim.at_most(b.trunk_deg, c.bridge_max_trunk_deg, "deg")
        and lim.at_least(b.face_up, c.bridge_min_face_up, "torso")
        and lim.within(b.head_rise, c.bridge_min_head_rise, c.bridge_max_head_rise, "torso")
    )


def _bridge_up(b: BodyLayout, c: ClassifierConfig, lim: _Limits) -> bool:
    return lim.at_least(b.hip_lift, c.up_min_hip_lift, "torso") or lim.at_least(
        b.hip_lift_knee, c.up_min_hip_lift_knee, "torso"
    )


def decide(
    layout: BodyLayout, config: ClassifierConfig, current: PoseState | None = None
) -> PoseState:
    """The pose state of one frame's measurements.

    Args:
        layout: The frame's measurements.
        config: The limits.
        current: The state the person is in now; its limits (and those of
            its family: all fours, bridge) are relaxed by the hysteresis so
            that a value hovering at a limit does not flip the state.
    """
    strict = _Limits(config, relaxed=False)
    loose = _Limits(config, relaxed=True)

    def lim(*states: PoseState) -> _Limits:
        return loose if current in states else strict

    def fours_state() -> PoseState:
        if _cat(layout, config, lim(PoseState.CAT)):
            return PoseState.CAT
        if _cow(layout, config, lim(PoseState.COW)):
            return PoseState.COW
        return PoseState.TABLETOP

    def bridge_state() -> PoseState:
        if _bridge_up(layout, config, lim(PoseState.BRIDGE_UP)):
            return PoseState.BRIDGE_UP
        return PoseState.BRIDGE_DOWN

    # The current family first, with relaxed limits: that is the hysteresis.
    if current is PoseState.CHILDS_POSE and _childs_pose(layout, config, loose):
        return PoseState.CHILDS_POSE
    if current in _FOURS and _all_fours(layout, config, loose):
        return fours_state()
    if current in _BRIDGE and _bridge(layout, config, loose):
        return bridge_state()
    if _childs_pose(layout, config, strict):
        return PoseState.CHILDS_POSE
    if _all_fours(layout, config, strict):
        return fours_state()
    if _bridge(layout, config, strict):
        return bridge_state()
    return PoseState.OTHER


def classify_frame(features: Features, config: ClassifierConfig) -> PoseState | None:
    """The pose state of one frame on its own; None when nobody is seen."""
    layout = body_layout(features)
    if layout is None:
        return None
    return decide_levelled(features, layout, config)


def decide_levelled(
    features: Features,
    layout: BodyLayout,
    config: ClassifierConfig,
    current: PoseState | None = None,
) -> PoseState:
    """The state as the image shows it; failing that, as a level camera would show it.

    Only when the picture as it is fits no exercise state, each family's
    floor line is laid level in turn (a tilt of at most ``max_roll_deg``),
    and a state of that family is taken if the levelled body fits it.
    """
    seen = decide(layout, config, current)
    if seen is not PoseState.OTHER:
        return seen
    for roll, family in level_candidates(features, config.max_roll_deg):
        levelled = body_layout(features, roll)
        if levelled is None:
            continue
        state = decide(levelled, config, current)
        if state in family:
            return state
    return seen


class PoseClassifier:
    """The pose state frame by frame, with hysteresis and a minimum dwell.

    A state different from the current one is taken only after it has been
    seen in every frame for ``min_dwell_s``. When nobody is seen the state
    is None at once (the coach pauses; it is never "out of position"), and
    the first state after that needs the dwell again.
    """

    def __init__(self, config: ClassifierConfig | None = None) -> None:
        self._config = config or ClassifierConfig()
        self.reset()

    @property
    def state(self) -> PoseState | None:
        """The settled state, or None while nobody is seen."""
        return self._state

    @property
    def since_s(self) -> float | None:
        """When the settled state was first seen (before the dwell), or None."""
        return self._since if self._state is not None else None

    def reset(self) -> None:
        """Forget the state, as at the start."""
        self._state: PoseState | None = None
        self._candidate: PoseState | None = None
        self._candidate_since: float = 0.0
        self._since: float = 0.0

    def update(self, features: Features, t_s: float) -> PoseState | None:
        """Take one frame at time ``t_s``; returns the settled state."""
        layout = body_layout(features)
        if layout is None:
            self._state = None
            self._candidate = None
            return None
        seen = decide_levelled(features, layout, self._config, self._state)
        if seen is self._state:
            self._candidate = None
            return self._state
        if seen is not self._candidate:
            self._candidate, self._candidate_since = seen, t_s
        if t_s - self._candidate_since >= self._config.min_dwell_s:
            self._state, self._since, self._candidate = seen, self._candidate_since, None
        return self._state
