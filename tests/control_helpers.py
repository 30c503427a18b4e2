"""Synthetic bodies giving the hands-free controls: one hand raised, or the other half up."""

from __future__ import annotations

import numpy as np
from synthetic_body import POSTURES, Camera, render

from coach.core.landmarks import SIDE_LANDMARKS, Joint, Landmark, Side
from coach.core.pose import Pose

ARMS_UP = POSTURES["kneeling"].with_(shoulder=175.0)


def _arm(side: Side) -> list[int]:
    """The elbow, wrist and hand points of one side."""
    hand = [Landmark[f"{side.name}_{point}"] for point in ("PINKY", "INDEX", "THUMB")]
    return [int(SIDE_LANDMARKS[side][j]) for j in (Joint.ELBOW, Joint.WRIST)] + [
        int(m) for m in hand
    ]


NO_MASK = Camera(mask=False)


def with_points(pose: Pose, xy: np.ndarray, world: np.ndarray | None = None) -> Pose:
    """``pose`` with its points moved, silhouette kept.

    Without ``world``, the world landmarks are placed as synthetic_body places them.
    """
    if world is None:
        world = np.zeros_like(np.asarray(pose.world))
        hips = xy[[int(Landmark.LEFT_HIP), int(Landmark.RIGHT_HIP)]].mean(axis=0)
        world[:, :2] = (xy - hips) / 400.0
    return Pose(
        t_s=pose.t_s,
        xy=xy.astype(np.float32),
        z=pose.z,
        world=world.astype(np.float32),
        visibility=pose.visibility,
        presence=pose.presence,
        image_size=pose.image_size,
        mask=pose.mask,
    )


def _far_arm_as(body: object, t_s: float, camera: Camera | None) -> Pose:
    cam = camera or NO_MASK
    raised = render(ARMS_UP, t_s, cam)
    other = render(body, t_s, cam)  # type: ignore[arg-type]
    xy = np.array(raised.xy, dtype=np.float64)
    far = _arm(Side.RIGHT if cam.near is Side.LEFT else Side.LEFT)
    xy[far] = other.xy[far]
    return with_points(raised, xy)


def one_hand_up(t_s: float, camera: Camera | None = None) -> Pose:
    """Kneeling up with the near hand raised above the head, the far arm by the side."""
    return _far_arm_as("kneeling", t_s, camera)


def half_raised_other(t_s: float, camera: Camera | None = None) -> Pose:
    """One hand above the head, the other out in front at shoulder height: unclear."""
    return _far_arm_as(POSTURES["kneeling"].with_(shoulder=90.0), t_s, camera)
