"""Poses of the real clips and photos, from the real model, kept on disk between evaluations.

The pose model is the slow part of an evaluation; the coach's own features,
classifier and engines run in a fraction of the time. Each clip (and each
altered copy of it) is posed once and stored as arrays, so the rules can be
judged again and again on exactly what the model saw.

Altered copies test what the dev clips cannot: other cameras and rooms.

- ``mirror``: the person faces the other way.
- ``rot+15`` / ``rot-15``: the camera rolled by 15 degrees.
- ``scale50``: the person at half the size, as from twice as far.
- ``crop``: the frame cut to the body plus a margin.
- ``dark``: a dim room.
- ``half_fps``: every other frame.
- ``oblique+30`` ... ``oblique-60``: the camera moved round the person by that
  many degrees. Made from the model's metric world landmarks, rotated about
  the vertical and projected back onto the image (no silhouette).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from coach.core.landmarks import NUM_LANDMARKS
from coach.core.pose import Pose

IMAGE_ALTERATIONS = ("mirror", "rot+15", "rot-15", "scale50", "crop", "dark", "half_fps")
OBLIQUE_ANGLES = (30, -30, 45, -45, 60, -60)
ALTERATIONS = ("original", *IMAGE_ALTERATIONS, *(f"oblique{a:+d}" for a in OBLIQUE_ANGLES))
# Raised whenever the model is given frames differently (2: video frames with the
# silhouette are shrunk to a camera's size first), so no stale pose is judged.
CACHE_VERSION = "2"


def _rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    import cv2

    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def _half_size(image: np.ndarray) -> np.ndarray:
    import cv2

    height, width = image.shape[:2]
    small = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    top, left = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    return cv2.copyMakeBorder(
        small,
        top,
        height - small.shape[0] - top,
        left,
        width - small.shape[1] - left,
        cv2.BORDER_REPLICATE,
    )


def _dark(image: np.ndarray) -> np.ndarray:
    # A dim room: a third of the light, with the sensor noise that comes with it.
    rng = np.random.default_rng(0)
    dim = image.astype(np.float32) * 0.3 + rng.normal(0.0, 3.0, image.shape)
    return np.clip(dim, 0, 255).astype(np.uint8)


def frame_transform(
    alteration: str, body_box: tuple[int, int, int, int] | None
) -> Callable[[np.ndarray], np.ndarray]:
    """The image change of one alteration."""
    if alteration == "mirror":
        return lambda image: np.ascontiguousarray(image[:, ::-1])
    if alteration in ("rot+15", "rot-15"):
        degrees = 15.0 if alteration == "rot+15" else -15.0
        return lambda image: _rotate(image, degrees)
    if alteration == "scale50":
        return _half_size
    if alteration == "dark":
        return _dark
    if alteration == "crop":
        if body_box is None:
            raise ValueError("crop needs the body's box from the original")
        x0, y0, x1, y1 = body_box
        return lambda image: np.ascontiguousarray(image[y0:y1, x0:x1])
    return lambda image: image


def _key(path: Path, alteration: str, mode: str) -> str:
    stat = path.stat()
    text = f"{CACHE_VERSION}|{path.name}|{stat.st_size}|{alteration}|{mode}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _save(target: Path, poses: list[Pose]) -> None:
    n = len(poses)
    arrays: dict[str, np.ndarray] = {
        "t_s": np.array([p.t_s for p in poses]),
        "xy": np.stack([p.xy for p in poses]) if n else np.zeros((0, NUM_LANDMARKS, 2)),
        "z": np.stack([p.z for p in poses]) if n else np.zeros((0, NUM_LANDMARKS)),
        "world": np.stack([p.world for p in poses]) if n else np.zeros((0, NUM_LANDMARKS, 3)),
        "visibility": np.stack([p.visibility for p in poses])
        if n
        else np.zeros((0, NUM_LANDMARKS)),
        "presence": np.stack([p.presence for p in poses]) if n else np.zeros((0, NUM_LANDMARKS)),
        "size": np.array([p.image_size for p in poses]).reshape(n, 2),
    }
    for i, pose in enumerate(poses):
        if pose.mask is not None:
            arrays[f"mask{i}"] = np.round(pose.mask * 255.0).astype(np.uint8)
    tmp = target.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(target)


def _load(source: Path) -> list[Pose]:
    data = np.load(source)
    poses = []
    for i in range(len(data["t_s"])):
        mask_key = f"mask{i}"
        mask = data[mask_key].astype(np.float32) / 255.0 if mask_key in data.files else None
        size = data["size"][i]
        poses.append(
            Pose(
                t_s=float(data["t_s"][i]),
                xy=data["xy"][i],
                z=data["z"][i],
                world=data["world"][i],
                visibility=data["visibility"][i],
                presence=data["presence"][i],
                image_size=(int(size[0]), int(size[1])),
                mask=mask,
            )
        )
    return poses


def _body_box(poses: list[Pose], margin: float = 0.15) -> tuple[int, int, int, int] | None:
    points = [p.xy for p in poses if not p.is_empty]
    if not points:
        return None
    xy = np.concatenate(points)
    xy = xy[np.isfinite(xy).all(axis=1)]
    width, height = poses[0].image_size
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    pad = margin * max(x1 - x0, y1 - y0)
    return (
        int(max(0, x0 - pad)),
        int(max(0, y0 - pad)),
        int(min(width, x1 + pad)),
        int(min(height, y1 + pad)),
    )


def _run_model(
    video: Path, transform: Callable[[np.ndarray], np.ndarray], step: int, model: Path | None
) -> list[Pose]:
    from coach.adapters.frames import VideoFileSource
    from coach.adapters.pose_model import MediaPipePoseEstimator

    poses = []
    source = VideoFileSource(video)
    try:
        with MediaPipePoseEstimator(model, mode="video", segmentation=True) as estimator:
            for index, frame in enumerate(source):
                if index % step:
                    continue
                poses.append(estimator.estimate(transform(frame.image), frame.t_s))
    finally:
        source.close()
    return poses


def oblique(poses: list[Pose], degrees: float) -> list[Pose]:
    """The same movement seen from a camera moved ``degrees`` round the person.

    The world landmarks are rotated about the vertical axis through the hips
    and projected orthographically at the scale and place of the original
    image landmarks; depth follows the rotated world. There is no silhouette.
    """
    out = []
    turn = math.radians(degrees)
    cos, sin = math.cos(turn), math.sin(turn)
    for pose in poses:
        world = np.asarray(pose.world, dtype=np.float64)
        if pose.is_empty or not np.isfinite(world).all():
            out.append(Pose.empty(pose.t_s, pose.image_size))
            continue
        rotated = world.copy()
        rotated[:, 0] = cos * world[:, 0] + sin * world[:, 2]
        rotated[:, 2] = -sin * world[:, 0] + cos * world[:, 2]
        # Scale: the original's pixel spread over its world spread.
        xy = np.asarray(pose.xy, dtype=np.float64)
        spread_px = np.linalg.norm(xy - xy.mean(axis=0), axis=1).mean()
        spread_m = np.linalg.norm(world[:, :2] - world[:, :2].mean(axis=0), axis=1).mean()
        scale = spread_px / spread_m if spread_m > 0 else 1.0
        centre = xy[[23, 24]].mean(axis=0)
        new_xy = centre + scale * (rotated[:, :2] - rotated[[23, 24], :2].mean(axis=0))
        out.append(
            Pose(
                t_s=pose.t_s,
                xy=new_xy.astype(np.float32),
                z=(rotated[:, 2] * scale).astype(np.float32),
                world=rotated.astype(np.float32),
                visibility=pose.visibility,
                presence=pose.presence,
                image_size=pose.image_size,
                mask=None,
            )
        )
    return out


class PoseCache:
    """Poses of videos and photos, posed by the real model once and kept in ``folder``."""

    def __init__(self, folder: Path, model: Path | None = None) -> None:
        self.folder = folder
        self.model = model
        folder.mkdir(parents=True, exist_ok=True)

    def video(self, path: Path, alteration: str = "original") -> list[Pose]:
        """Every pose of a video (every other frame for ``half_fps``)."""
        if alteration.startswith("oblique"):
            return oblique(self.video(path, "original"), float(alteration[len("oblique") :]))
        target = self.folder / f"{path.stem}.{alteration}.{_key(path, alteration, 'video')}.npz"
        if target.is_file():
            return _load(target)
        box = _body_box(self.video(path)) if alteration == "crop" else None
        step = 2 if alteration == "half_fps" else 1
        poses = _run_model(path, frame_transform(alteration, box), step, self.model)
        _save(target, poses)
        return poses

    def images(self, paths: list[Path]) -> Iterator[Pose]:
        """The pose of each photo, in image mode."""
        from coach.adapters.frames import read_image
        from coach.adapters.pose_model import MediaPipePoseEstimator

        estimator: MediaPipePoseEstimator | None = None
        try:
            for path in paths:
                key = _key(path, "", "image")
                target = self.folder / f"img-{path.parent.name}-{path.stem}.{key}.npz"
                if target.is_file():
                    yield _load(target)[0]
                    continue
                if estimator is None:
                    estimator = MediaPipePoseEstimator(self.model, mode="image", segmentation=True)
                pose = estimator.estimate(read_image(path), 0.0)
                _save(target, [pose])
                yield pose
        finally:
            if estimator is not None:
                estimator.close()
