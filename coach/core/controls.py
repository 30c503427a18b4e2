"""Hands-free control from the floor: the body pauses, resumes, skips and stops.

The person is on a mat, out of reach of the keyboard. The coach already sees
the body, so it reads four controls from it, none of which the exercises
contain:

- **pause**: sit or kneel up from the exercise and keep still for
  ``pause_after_s``. Only once the person has been seen down on the floor in
  the exercise: kneeling up before child's pose, or sitting while the coach
  talks, never pauses.
- **resume**: while paused, raise one hand above the head and hold it there
  for ``gesture_hold_s``.
- **skip**: while paused, raise both hands above the head and hold them
  there for ``gesture_hold_s``. Gestures count only while paused and sitting
  or kneeling up, so reaching up on all fours, or arms swept overhead on the
  way into child's pose, do nothing.
- **stop**: leave the mat (out of sight) for ``leave_after_s``
  (``leave_paused_after_s`` while paused). The stop is dated to when the
  person was last seen, so the wait does not count as session time.

Every position is judged relative to the body: the trunk's rise is the angle
of hips-to-shoulders above the horizontal, both on the image and in the
model's metric world landmarks (which must agree, so a body lying along the
camera's line of sight is not taken for one sitting up); a hand is raised
when the wrist is above the top of the head by a fraction of the torso
length, on the image and in the world landmarks alike; stillness is movement
measured in torso lengths. None of it depends on the side the camera sees or
the way the person faces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from coach.core.controls_config import ControlsConfig
from coach.core.features import Features
from coach.core.landmarks import Landmark
from coach.core.pose import Pose


class Command(StrEnum):
    """What a control asks the session to do."""

    PAUSE = "pause"
    RESUME = "resume"
    SKIP = "skip"
    STOP = "stop"

    @property
    def hushes(self) -> bool:
        """Given by key or body, it cuts off what the coach is saying at once."""
        return self in (Command.PAUSE, Command.STOP)


class Gesture(StrEnum):
    """How the body gave a control."""

    SIT_UP_STILL = "sit_up_still"
    ONE_HAND_UP = "one_hand_up"
    BOTH_HANDS_UP = "both_hands_up"
    LEFT_MAT = "left_mat"


@dataclass(frozen=True)
class ControlUse:
    """One control the body gave.

    Attributes:
        command: What to do.
        gesture: How the body said it.
        t_s: When it takes effect: the frame that completed it, or for a stop
            the moment the person was last seen.
        since_s: When the gesture began (the stillness, the raised hand, the
            last sight of the person).
    """

    command: Command
    gesture: Gesture
    t_s: float
    since_s: float


# Points whose movement breaks stillness: head, arms and trunk.
STILL_POINTS: tuple[Landmark, ...] = (
    Landmark.NOSE,
    Landmark.LEFT_SHOULDER,
    Landmark.RIGHT_SHOULDER,
    Landmark.LEFT_ELBOW,
    Landmark.RIGHT_ELBOW,
    Landmark.LEFT_WRIST,
    Landmark.RIGHT_WRIST,
    Landmark.LEFT_HIP,
    Landmark.RIGHT_HIP,
)
HEAD_POINTS: tuple[Landmark, ...] = (
    Landmark.NOSE,
    Landmark.LEFT_EYE_INNER,
    Landmark.LEFT_EYE,
    Landmark.LEFT_EYE_OUTER,
    Landmark.RIGHT_EYE_INNER,
    Landmark.RIGHT_EYE,
    Landmark.RIGHT_EYE_OUTER,
    Landmark.LEFT_EAR,
    Landmark.RIGHT_EAR,
)
_SHOULDERS = [int(Landmark.LEFT_SHOULDER), int(Landmark.RIGHT_SHOULDER)]
_HIPS = [int(Landmark.LEFT_HIP), int(Landmark.RIGHT_HIP)]
_WRISTS = (int(Landmark.LEFT_WRIST), int(Landmark.RIGHT_WRIST))
_HEAD = [int(p) for p in HEAD_POINTS]
_STILL = [int(p) for p in STILL_POINTS]


def _rise(trunk: np.ndarray, up: float) -> float:
    length = float(np.linalg.norm(trunk))
    if not (math.isfinite(length) and length > 0):
        return math.nan
    return math.degrees(math.asin(max(-1.0, min(1.0, up / length))))


def trunk_rise_deg(pose: Pose) -> float:
    """How steeply the trunk rises from the hips to the shoulders, in degrees.

    90 sitting or kneeling up, about 0 on all fours or lying, negative with
    the shoulders below the hips (a bridge, downward dog). Taken on the image
    and in the metric world landmarks, and the lower of the two is returned:
    a trunk along the camera's line of sight looks steep on the image but
    lies flat in the world landmarks. NaN with no person.
    """
    if pose.is_empty:
        return math.nan
    xy = np.asarray(pose.xy, dtype=np.float64)
    trunk = xy[_SHOULDERS].mean(axis=0) - xy[_HIPS].mean(axis=0)
    image = _rise(trunk, -trunk[1])  # image rows grow downward
    world = np.asarray(pose.world, dtype=np.float64)
    if not np.isfinite(world[_SHOULDERS + _HIPS]).all():
        return image
    trunk3 = world[_SHOULDERS].mean(axis=0) - world[_HIPS].mean(axis=0)
    in_world = _rise(trunk3, -trunk3[1])  # y grows downward in the world frame too
    if not math.isfinite(in_world):
        return image
    return min(image, in_world)


def _heights(points: np.ndarray, length: float) -> tuple[float, float, float]:
    """Each wrist's height above the head's top, and the lower shoulder-line gap, per torso."""
    head_top = float(np.min(points[_HEAD, 1]))
    shoulders = float(np.mean(points[_SHOULDERS, 1]))
    left = (head_top - float(points[_WRISTS[0], 1])) / length
    right = (head_top - float(points[_WRISTS[1], 1])) / length
    low = (max(float(points[w, 1]) for w in _WRISTS) - shoulders) / length
    return left, right, low


def hands_up(pose: Pose, above: float, down_below: float) -> int | None:
    """How many hands are raised above the head: 2, 1, 0, or None when unclear.

    A hand is raised when its wrist is at least ``above`` torso lengths above
    the top of the head, on the image and in the world landmarks alike. One
    hand counts only when the other is clearly down (its wrist ``down_below``
    torso lengths below the shoulders); a second hand half raised is unclear.
    """
    if pose.is_empty:
        return None
    verdicts: list[int | None] = []
    frames = [np.asarray(pose.xy, dtype=np.float64)]
    world = np.asarray(pose.world, dtype=np.float64)
    if np.isfinite(world).all():
        frames.append(world[:, :2])
    for points in frames:
        length = float(np.linalg.norm(points[_SHOULDERS].mean(axis=0) - points[_HIPS].mean(axis=0)))
        if not (math.isfinite(length) and length > 0):
            return None
        left, right, low = _heights(points, length)
        raised = int(left >= above) + int(right >= above)
        if raised == 1 and low < down_below:
            verdicts.append(None)
        else:
            verdicts.append(raised)
    return verdicts[0] if all(v == verdicts[0] for v in verdicts) else None


def _body_points(pose: Pose) -> tuple[np.ndarray, float]:
    xy = np.asarray(pose.xy, dtype=np.float64)
    length = float(np.linalg.norm(xy[_SHOULDERS].mean(axis=0) - xy[_HIPS].mean(axis=0)))
    return xy[_STILL], length


class BodyControls:
    """Reads pause, resume, skip and stop from the body, frame by frame.

    One verb, ``update``; the session says what it watches for. Time is the
    frame's own.

    Args:
        config: Thresholds and times.
    """

    def __init__(self, config: ControlsConfig | None = None) -> None:
        self._config = config or ControlsConfig()
        self.reset()

    def reset(self) -> None:
        """Forget everything seen."""
        self._armed = False
        self._still_since: float | None = None
        self._anchor: np.ndarray | None = None
        self._gesture: Gesture | None = None
        self._gesture_since = 0.0
        self._gesture_seen = 0.0
        self._hands_lowered = True
        self._last_seen: float | None = None
        self._was_paused = False

    @property
    def config(self) -> ControlsConfig:
        """The thresholds and times in use."""
        return self._config

    @property
    def armed(self) -> bool:
        """The person has been seen down on the floor, so sitting up still would pause."""
        return self._armed

    def progress(self, t_s: float) -> tuple[Gesture, float] | None:
        """The control building up now and how far along it is (0..1), for the screen."""
        cfg = self._config
        if self._gesture is not None:
            return self._gesture, min(1.0, (t_s - self._gesture_since) / cfg.gesture_hold_s)
        if self._still_since is not None:
            return Gesture.SIT_UP_STILL, min(1.0, (t_s - self._still_since) / cfg.pause_after_s)
        return None

    def update(
        self, features: Features, t_s: float, *, watch_pause: bool, watch_leave: bool, paused: bool
    ) -> list[ControlUse]:
        """Take one frame; return the controls it completed.

        Args:
            features: The frame's features (their pose is read).
            t_s: The frame's time.
            watch_pause: The session is in an exercise, where sitting up pauses.
            watch_leave: Leaving the mat would end the session now.
            paused: The session is paused (by the body or by a key): gestures count.
        """
        cfg = self._config
        if not cfg.enabled:
            return []
        if paused != self._was_paused:
            # Any pause or resume, by key or by body: sitting up pauses again
            # only after the person has been down on the floor again.
            self._was_paused = paused
            self._armed = False
            self._still_since = None
            self._gesture = None
        pose = features.pose
        seen = features.present and not pose.is_empty
        if not seen:
            self._still_since = None
            self._clear_gesture(t_s)
            return self._watch_leave(t_s, watch_leave, paused)
        self._last_seen = t_s
        rise = trunk_rise_deg(pose)
        if not (watch_pause or paused):
            self._armed = False
            self._still_since = None
            self._gesture = None
            return []
        if math.isfinite(rise) and rise <= cfg.down_max_deg:
            self._armed = True
        upright = math.isfinite(rise) and rise >= cfg.upright_min_deg
        if paused:
            return self._watch_gestures(pose, t_s, upright)
        return self._watch_stillness(pose, t_s, upright)

    def _watch_leave(self, t_s: float, watch: bool, paused: bool) -> list[ControlUse]:
        cfg = self._config
        if not watch:
            self._last_seen = None
            return []
        if self._last_seen is None:
            self._last_seen = t_s  # gone before the watch began: count from now
        limit = cfg.leave_paused_after_s if paused else cfg.leave_after_s
        if t_s - self._last_seen + 1e-9 < limit:
            return []
        left = self._last_seen
        self._last_seen = None
        return [ControlUse(Command.STOP, Gesture.LEFT_MAT, left, left)]

    def _watch_stillness(self, pose: Pose, t_s: float, upright: bool) -> list[ControlUse]:
        cfg = self._config
        if not (upright and self._armed):
            self._still_since = None
            return []
        points, length = _body_points(pose)
        if not (np.isfinite(points).all() and length > 0):
            self._still_since = None
            return []
        if self._still_since is None or self._anchor is None:
            self._still_since, self._anchor = t_s, points
            return []
        moved = np.linalg.norm(points - self._anchor, axis=1) / length
        if float(np.sort(moved)[-2]) > cfg.still_max:
            self._still_since, self._anchor = t_s, points
            return []
        if t_s - self._still_since + 1e-9 < cfg.pause_after_s:
            return []
        since = self._still_since
        self._still_since = None
        self._armed = False
        return [ControlUse(Command.PAUSE, Gesture.SIT_UP_STILL, t_s, since)]

    def _clear_gesture(self, t_s: float) -> None:
        if self._gesture is not None and t_s - self._gesture_seen > self._config.gesture_gap_s:
            self._gesture = None

    def _watch_gestures(self, pose: Pose, t_s: float, upright: bool) -> list[ControlUse]:
        cfg = self._config
        count = hands_up(pose, cfg.hand_above_head, cfg.hand_down_below) if upright else 0
        gesture = {1: Gesture.ONE_HAND_UP, 2: Gesture.BOTH_HANDS_UP}.get(count or 0)
        if count == 0:
            self._hands_lowered = True
        if gesture is None or not self._hands_lowered:
            self._clear_gesture(t_s)
            return []
        if gesture is not self._gesture:
            # A change of gesture (one hand joined by the other) starts the count again.
            self._gesture, self._gesture_since = gesture, t_s
        self._gesture_seen = t_s
        if t_s - self._gesture_since + 1e-9 < cfg.gesture_hold_s:
            return []
        since = self._gesture_since
        self._gesture = None
        self._hands_lowered = False  # the next gesture needs the hands down first
        command = Command.RESUME if gesture is Gesture.BOTH_HANDS_UP else Command.SKIP
        return [ControlUse(command, gesture, t_s, since)]


__all__ = [
    "HEAD_POINTS",
    "STILL_POINTS",
    "BodyControls",
    "Command",
    "ControlUse",
    "ControlsConfig",
    "Gesture",
    "hands_up",
    "trunk_rise_deg",
]
