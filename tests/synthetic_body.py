"""A small synthetic body seen from the side, posed by joint angles.

The body is built in its own frame: ``u`` points from the hips toward the
head, ``n`` points out of the belly (anterior). Joint angles are the same
interior angles the coach measures (``coach.core.landmarks.ANGLE_TABLE``):

- hip: shoulder-hip-knee (180 standing straight, 90 on all fours),
- knee: hip-knee-ankle (180 straight, 90 kneeling on the floor),
- shoulder: elbow-shoulder-hip (0 arms by the sides, 90 arms down on all
  fours, 180 arms reaching past the head),
- elbow: shoulder-elbow-wrist (180 straight),
- head: signed tilt of the head against the trunk; positive lifts the head
  toward the back (cow), negative tucks the chin (cat). The coach's neck
  angle is then ``180 - abs(head_deg)``.

``trunk_deg`` is the direction of hip->shoulder on screen above the
horizontal, toward the side the head points to (0 lying or on all fours,
90 upright, negative when the head is lower than the hips). ``belly_down``
says whether the front of the body faces the floor (all fours, child's pose,
plank) or the ceiling (lying on the back).

Poses are placed with their lowest landmark on a floor line and centred
across a 16:9 frame; ``torso_px`` sets the size. Every pose is a real
``coach.core.pose.Pose`` with 33 landmarks in pixels, so the whole feature
pipeline runs on it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from coach.core.landmarks import NUM_LANDMARKS, Landmark, Side
from coach.core.pose import Pose

FRAME_SIZE = (1280, 720)
MASK_SCALE = 0.25  # the silhouette is drawn at a quarter of the frame's size

# Segment lengths in torso lengths (shoulder to hip).
THIGH = 0.85
SHIN = 0.8
UPPER_ARM = 0.6
FOREARM = 0.55
NECK = 0.35  # shoulder to ear
FOOT = 0.25
BODY_RADIUS = 0.18  # half the trunk's thickness, for the silhouette
LIMB_RADIUS = 0.09


@dataclass(frozen=True, kw_only=True)
class BodyPose:
    """Joint angles of a side-view body, in degrees (see the module docstring)."""

    trunk_deg: float
    hip: float
    knee: float
    shoulder: float
    elbow: float = 180.0
    head_deg: float = 0.0
    belly_down: bool = True
    back_curve: float = 0.0  # rise of the mid-back above the shoulder-hip line, torso lengths

    def with_(self, **changes: float | bool) -> BodyPose:
        """A copy with some angles changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


# Postures by name: what a therapist would call them.
POSTURES: dict[str, BodyPose] = {
    "standing": BodyPose(trunk_deg=90, hip=180, knee=180, shoulder=10, belly_down=True),
    "tabletop": BodyPose(trunk_deg=0, hip=90, knee=90, shoulder=90, belly_down=True),
    "cat": BodyPose(
        trunk_deg=-4, hip=95, knee=88, shoulder=85, head_deg=-65, back_curve=0.22, belly_down=True
    ),
    "cow": BodyPose(
        trunk_deg=8, hip=95, knee=80, shoulder=80, head_deg=45, back_curve=-0.15, belly_down=True
    ),
    "childs_pose": BodyPose(
        trunk_deg=-10, hip=25, knee=25, shoulder=150, elbow=175, head_deg=-15, belly_down=True
    ),
    "kneeling": BodyPose(trunk_deg=90, hip=180, knee=90, shoulder=10, belly_down=True),
    "bridge_down": BodyPose(
        trunk_deg=0, hip=135, knee=65, shoulder=30, head_deg=-30, belly_down=False
    ),
    "bridge_up": BodyPose(
        trunk_deg=-30, hip=192, knee=75, shoulder=40, head_deg=-45, belly_down=False
    ),
    "supine": BodyPose(trunk_deg=0, hip=180, knee=180, shoulder=10, belly_down=False),
    "prone": BodyPose(trunk_deg=0, hip=180, knee=180, shoulder=170, belly_down=True),
    "plank": BodyPose(trunk_deg=12, hip=178, knee=178, shoulder=80, belly_down=True),
    "down_dog": BodyPose(trunk_deg=-45, hip=80, knee=175, shoulder=175, belly_down=True),
    "bird_dog": BodyPose(trunk_deg=0, hip=175, knee=175, shoulder=175, belly_down=True),
}


def _unit(deg: float) -> np.ndarray:
    # Screen direction with y up; flipped to image rows when placed.
    rad = math.radians(deg)
    return np.array([math.cos(rad), math.sin(rad)])


def skeleton(body: BodyPose) -> dict[str, np.ndarray]:
    """Joint positions in torso lengths, y up, head toward +x, hip at the origin."""
    u = _unit(body.trunk_deg)
    # The belly side: perpendicular to the trunk, toward the floor when belly down.
    n = np.array([u[1], -u[0]]) if body.belly_down else np.array([-u[1], u[0]])
    th = math.radians(body.hip)
    thigh = math.cos(th) * u + math.sin(th) * n
    thigh_perp = -math.sin(th) * u + math.cos(th) * n  # toward the back of the thigh
    kn = math.radians(body.knee)
    shin = -math.cos(kn) * thigh + math.sin(kn) * thigh_perp
    sh = math.radians(body.shoulder)
    arm = math.cos(sh) * (-u) + math.sin(sh) * n
    arm_perp = math.sin(sh) * u + math.cos(sh) * n
    el = math.radians(body.elbow)
    forearm = -math.cos(el) * arm + math.sin(el) * arm_perp
    hd = math.radians(body.head_deg)
    head = math.cos(hd) * u - math.sin(hd) * n
    hip = np.zeros(2)
    shoulder = u * 1.0
    knee = hip + THIGH * thigh
    ankle = knee + SHIN * shin
    # The foot points away from the shin's front, toes toward the floor or forward.
    foot_dir = -thigh_perp if body.knee < 150 else n
    foot_dir = foot_dir / (np.linalg.norm(foot_dir) or 1.0)
    elbow = shoulder + UPPER_ARM * arm
    wrist = elbow + FOREARM * forearm
    ear = shoulder + NECK * head
    face = head * 0.12 + n * 0.1  # the face lies forward of the ear, on the belly side
    return {
        "shoulder": shoulder,
        "hip": hip,
        "knee": knee,
        "ankle": ankle,
        "heel": ankle - 0.06 * foot_dir,
        "foot": ankle + FOOT * foot_dir,
        "elbow": elbow,
        "wrist": wrist,
        "hand": wrist + 0.12 * forearm,
        "ear": ear,
        "nose": ear + face,
        "eye": ear + 0.7 * face,
        "mouth": ear + 0.8 * face - 0.05 * head,
        "n": n,
    }


_SIDED = {
    "shoulder": (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER),
    "hip": (Landmark.LEFT_HIP, Landmark.RIGHT_HIP),
    "knee": (Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE),
    "ankle": (Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE),
    "heel": (Landmark.LEFT_HEEL, Landmark.RIGHT_HEEL),
    "foot": (Landmark.LEFT_FOOT_INDEX, Landmark.RIGHT_FOOT_INDEX),
    "elbow": (Landmark.LEFT_ELBOW, Landmark.RIGHT_ELBOW),
    "wrist": (Landmark.LEFT_WRIST, Landmark.RIGHT_WRIST),
    "hand": (
        Landmark.LEFT_PINKY,
        Landmark.RIGHT_PINKY,
        Landmark.LEFT_INDEX,
        Landmark.RIGHT_INDEX,
        Landmark.LEFT_THUMB,
        Landmark.RIGHT_THUMB,
    ),
    "ear": (Landmark.LEFT_EAR, Landmark.RIGHT_EAR),
    "eye": (
        Landmark.LEFT_EYE_INNER,
        Landmark.RIGHT_EYE_INNER,
        Landmark.LEFT_EYE,
        Landmark.RIGHT_EYE,
        Landmark.LEFT_EYE_OUTER,
        Landmark.RIGHT_EYE_OUTER,
    ),
    "mouth": (Landmark.MOUTH_LEFT, Landmark.MOUTH_RIGHT),
}


def _is_left(landmark: Landmark) -> bool:
    return landmark.name.startswith("LEFT")


Capsule = tuple[np.ndarray, np.ndarray, float]


def _segments(pts: dict[str, np.ndarray], back_curve: float) -> list[Capsule]:
    """Capsules (start, end, radius) in torso lengths that make up the silhouette."""
    shoulder, hip, n = pts["shoulder"], pts["hip"], pts["n"]
    # The trunk is drawn as rungs from belly to back; the back rises away
    # from the belly by back_curve * sin(pi * s) along the trunk.
    rung = BODY_RADIUS / 3.0
    caps = [(hip, shoulder, BODY_RADIUS)] if back_curve >= 0 else []
    for s in np.linspace(0.0, 1.0, 41):
        base = hip + s * (shoulder - hip)
        back = base - (BODY_RADIUS - rung + back_curve * math.sin(math.pi * s)) * n
        belly = base + (BODY_RADIUS - rung) * n
        caps.append((belly, back, rung))
    limbs = (
        ("hip", "knee"),
        ("knee", "ankle"),
        ("ankle", "foot"),
        ("shoulder", "elbow"),
        ("elbow", "wrist"),
        ("shoulder", "ear"),
    )
    for a, b in limbs:
        caps.append((pts[a], pts[b], LIMB_RADIUS if a != "hip" else BODY_RADIUS * 0.8))
    caps.append((pts["ear"], pts["nose"], LIMB_RADIUS * 1.4))
    return caps


def _draw_mask(
    caps: Sequence[tuple[np.ndarray, np.ndarray, float]],
    to_px: np.ndarray,
    offset: np.ndarray,
    torso_px: float,
    size: tuple[int, int],
) -> np.ndarray:
    width, height = int(size[0] * MASK_SCALE), int(size[1] * MASK_SCALE)
    mask = np.zeros((height, width), dtype=np.float32)
    for a, b, radius in caps:
        pa = (a * to_px + offset) * MASK_SCALE
        pb = (b * to_px + offset) * MASK_SCALE
        r = radius * torso_px * MASK_SCALE
        # Only the capsule's bounding box is tested, to keep rendering fast.
        x0 = max(0, int(min(pa[0], pb[0]) - r) - 1)
        x1 = min(width, int(max(pa[0], pb[0]) + r) + 2)
        y0 = max(0, int(min(pa[1], pb[1]) - r) - 1)
        y1 = min(height, int(max(pa[1], pb[1]) + r) + 2)
        if x0 >= x1 or y0 >= y1:
            continue
        ys, xs = np.arange(y0, y1)[:, None], np.arange(x0, x1)[None, :]  # broadcast, not a grid
        gx = xs + 0.5 - pa[0]
        gy = ys + 0.5 - pa[1]
        d = pb - pa
        length2 = float(d[0] * d[0] + d[1] * d[1]) or 1e-9
        t = np.clip((gx * d[0] + gy * d[1]) / length2, 0.0, 1.0)
        dist2 = (gx - t * d[0]) ** 2 + (gy - t * d[1]) ** 2
        mask[y0:y1, x0:x1][dist2 <= r * r] = 1.0
    return mask


@dataclass(frozen=True, kw_only=True)
class Camera:
    """How the synthetic body is filmed.

    Attributes:
        head_right: The head points to the right of the frame.
        near: The side of the body facing the camera.
        torso_px: Shoulder-to-hip length in pixels.
        floor_y: Image row of the floor, as a fraction of the height.
        size: Frame size in pixels (16:9).
        side_spread: Distance between left and right shoulders (and hips) on
            screen, in torso lengths: small from the side, about 1 from the front.
        near_visibility: Visibility of the near side's landmarks.
        far_visibility: Visibility of the far side's landmarks.
        mask: Draw a person silhouette.
        shift_x: Horizontal shift of the body in pixels (to push it out of frame).
    """

    head_right: bool = True
    near: Side = Side.LEFT
    torso_px: float = 180.0
    floor_y: float = 0.85
    size: tuple[int, int] = FRAME_SIZE
    side_spread: float = 0.08
    near_visibility: float = 0.95
    far_visibility: float = 0.6
    mask: bool = True
    shift_x: float = 0.0


def render(
    body: BodyPose | str,
    t_s: float = 0.0,
    camera: Camera | None = None,
    *,
    noise_px: float = 0.0,
    rng: np.random.Generator | None = None,
) -> Pose:
    """A coach ``Pose`` of the body at time ``t_s`` as the camera sees it."""
    cam = camera or Camera()
    if isinstance(body, str):
        body = POSTURES[body]
    xy, vis, mask = _filmed(body, cam)
    if noise_px > 0:
        gen = rng if rng is not None else np.random.default_rng(0)
        xy = xy + gen.normal(0.0, noise_px, size=xy.shape)
    width, height = cam.size
    norm = np.zeros((NUM_LANDMARKS, 5))
    norm[:, 0] = xy[:, 0] / width
    norm[:, 1] = xy[:, 1] / height
    norm[:, 3] = vis
    norm[:, 4] = 1.0
    world = np.zeros((NUM_LANDMARKS, 3))
    world[:, :2] = (xy - xy[[int(Landmark.LEFT_HIP), int(Landmark.RIGHT_HIP)]].mean(axis=0)) / 400.0
    return Pose.from_normalized(t_s, norm, world, cam.size, mask)


@functools.lru_cache(maxsize=512)
def _filmed(body: BodyPose, cam: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Landmark pixels, visibilities and silhouette of a body held still: the same every
    frame, so a held posture is drawn once."""
    pts = skeleton(body)
    flip_x = 1.0 if cam.head_right else -1.0
    to_px = np.array([flip_x * cam.torso_px, -cam.torso_px])  # y up -> image rows down
    named = {k: v for k, v in pts.items() if k != "n"}
    placed = {k: v * to_px for k, v in named.items()}
    all_pts = np.array(list(placed.values()))
    width, height = cam.size
    lowest = all_pts[:, 1].max()
    centre = (all_pts[:, 0].max() + all_pts[:, 0].min()) / 2.0
    offset = np.array([width / 2.0 - centre + cam.shift_x, cam.floor_y * height - lowest])

    xy = np.zeros((NUM_LANDMARKS, 2))
    vis = np.zeros(NUM_LANDMARKS)
    # The far side is a little offset on screen: back along the view and slightly up.
    spread = np.array([0.0, -cam.side_spread * cam.torso_px])
    for name, marks in _SIDED.items():
        for mark in marks:
            near = _is_left(mark) == (cam.near is Side.LEFT)
            xy[int(mark)] = placed[name] + offset + (0.0 if near else 1.0) * spread
            vis[int(mark)] = cam.near_visibility if near else cam.far_visibility
    xy[int(Landmark.NOSE)] = placed["nose"] + offset
    vis[int(Landmark.NOSE)] = cam.near_visibility
    mask = None
    if cam.mask:
        caps = _segments(named | {"n": pts["n"]}, body.back_curve)
        mask = _draw_mask(caps, to_px, offset, cam.torso_px, cam.size)
        mask.setflags(write=False)
    xy.setflags(write=False)
    vis.setflags(write=False)
    return xy, vis, mask


def empty(t_s: float, camera: Camera | None = None) -> Pose:
    """A frame in which the model found nobody."""
    return Pose.empty(t_s, (camera or Camera()).size)


def blend(a: BodyPose | str, b: BodyPose | str, w: float) -> BodyPose:
    """A pose ``w`` of the way from ``a`` to ``b`` (0..1); belly side from the nearer one."""
    pa = POSTURES[a] if isinstance(a, str) else a
    pb = POSTURES[b] if isinstance(b, str) else b
    mix = {
        name: (1.0 - w) * getattr(pa, name) + w * getattr(pb, name)
        for name in ("trunk_deg", "hip", "knee", "shoulder", "elbow", "head_deg", "back_curve")
    }
    return BodyPose(**mix, belly_down=pa.belly_down if w < 0.5 else pb.belly_down)


@dataclass(frozen=True)
class Segment:
    """A stretch of a synthetic video: stay in a posture, or move between two.

    Attributes:
        pose: Posture name or angles to hold (or to move toward, with ``start``).
        seconds: Length of the stretch.
        start: When given, move from this posture to ``pose`` over the stretch.
        lost: The model sees nobody during the stretch.
    """

    pose: BodyPose | str
    seconds: float
    start: BodyPose | str | None = None
    lost: bool = False


def sequence(
    segments: Sequence[Segment],
    *,
    fps: float = 30.0,
    camera: Camera | None = None,
    noise_px: float = 0.0,
    seed: int = 0,
    dropouts: Sequence[float] = (),
    t0_s: float = 0.0,
) -> Iterator[Pose]:
    """Poses frame by frame for a list of segments.

    Args:
        segments: What the body does, in order.
        fps: Frames per second.
        camera: How it is filmed.
        noise_px: Standard deviation of landmark noise, in pixels.
        seed: Seed of the noise.
        dropouts: Times (s) of single frames in which the model finds nobody.
        t0_s: Time of the first frame.
    """
    rng = np.random.default_rng(seed)
    drop_frames = {round(t * fps) for t in dropouts}
    frame = round(t0_s * fps)
    for seg in segments:
        count = max(1, round(seg.seconds * fps))
        for i in range(count):
            t = frame / fps
            if seg.lost or frame in drop_frames:
                yield empty(t, camera)
            else:
                w = (i + 1) / count
                body = blend(seg.start, seg.pose, w) if seg.start is not None else seg.pose
                yield render(body, t, camera, noise_px=noise_px, rng=rng)
            frame += 1
