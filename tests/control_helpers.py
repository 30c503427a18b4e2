"""Synthetic bodies giving the hands-free controls: one hand raised, or the other half up."""

from __future__ import annotations

import numpy as np
from synthetic_body import POSTURES, Camera, Segment, render, sequence

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


def floor_session(fps: float, camera: Camera) -> list[Pose]:
    """Down in child's pose, then kneeling up still (pause), both hands up (carry on), down
    again, kneeling up still (pause), one hand up (skip), on all fours, then off the mat."""
    plan = [
        Segment("childs_pose", 6.0),  # set-up, intro, waiting: down on the mat
        Segment("kneeling", 1.0, start="childs_pose"),
        Segment("kneeling", 7.0),  # still: paused 5 s after
        Segment(ARMS_UP, 0.5, start="kneeling"),
        Segment(ARMS_UP, 2.5),  # both hands: carry on
        Segment("childs_pose", 1.0, start=ARMS_UP),
        Segment("childs_pose", 2.0),
        Segment("kneeling", 1.0, start="childs_pose"),
        Segment("kneeling", 7.0),  # paused again
    ]
    poses = list(sequence(plan, fps=fps, camera=camera))
    t = len(poses) / fps
    poses += [one_hand_up(round(t + i / fps, 6), camera) for i in range(int(3.0 * fps))]
    t = len(poses) / fps
    poses += list(sequence([Segment("tabletop", 3.0)], fps=fps, camera=camera, t0_s=t))
    t = len(poses) / fps
    leave = [Segment("tabletop", 40.0, lost=True)]
    return poses + list(sequence(leave, fps=fps, camera=camera, t0_s=t))
