"""The coach's own frozen pose: what the pose model saw in one frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.core.landmarks import NUM_LANDMARKS, Landmark


def _frozen(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    out = np.array(array, dtype=np.float32, copy=True).reshape(shape)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Pose:
    """33 body landmarks of one person in one frame.

    Attributes:
        t_s: Time of the frame in seconds.
        xy: (33, 2) landmark positions in pixels of the original frame.
        z: (33,) relative depth in pixels (smaller is nearer the camera).
        world: (33, 3) metric coordinates centred between the hips.
        visibility: (33,) chance that each landmark is visible, 0 to 1.
        presence: (33,) chance that each landmark is in the frame, 0 to 1.
        image_size: (width, height) of the original frame in pixels.
        mask: Person segmentation, float 0..1, or None when not asked for.
            It may be smaller than the frame; scale coordinates by
            ``mask.shape[1] / image_size[0]`` to index it.
    """

    t_s: float
    xy: np.ndarray
    z: np.ndarray
    world: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    image_size: tuple[int, int]
    mask: np.ndarray | None = None

    @classmethod
    def empty(cls, t_s: float, image_size: tuple[int, int]) -> Pose:
        """A frame in which no person was found."""
        nan = np.full(NUM_LANDMARKS, np.nan, dtype=np.float32)
        zeros = np.zeros(NUM_LANDMARKS, dtype=np.float32)
        return cls(
            t_s=t_s,
            xy=_frozen(np.full((NUM_LANDMARKS, 2), np.nan), (NUM_LANDMARKS, 2)),
            z=_frozen(nan, (NUM_LANDMARKS,)),
            world=_frozen(np.full((NUM_LANDMARKS, 3), np.nan), (NUM_LANDMARKS, 3)),
            visibility=_frozen(zeros, (NUM_LANDMARKS,)),
            presence=_frozen(zeros, (NUM_LANDMARKS,)),
            image_size=image_size,
        )

    @classmethod
    def from_normalized(
        cls,
        t_s: float,
        normalized: np.ndarray,
        world: np.ndarray,
        image_size: tuple[int, int],
        mask: np.ndarray | None = None,
    ) -> Pose:
        """Build a pose from normalized landmarks.

        Args:
            t_s: Time of the frame in seconds.
            normalized: (33, 5) rows of x, y, z, visibility, presence, with x
                and y as fractions of the frame's width and height.
            world: (33, 3) metric coordinates.
            image_size: (width, height) of the original frame.
            mask: Optional person segmentation, float 0..1.
        """
        norm = np.asarray(normalized, dtype=np.float64).reshape(NUM_LANDMARKS, 5)
        width, height = image_size
        # x and y are fractions of different lengths: scale both to pixels
        # before any angle is taken, or every angle is wrong on a 16:9 frame.
        xy = norm[:, :2] * np.array([width, height], dtype=np.float64)
        z = norm[:, 2] * width
        frozen_mask = None
        if mask is not None and mask.size:
            frozen_mask = np.array(mask, dtype=np.float32, copy=True)
            frozen_mask.setflags(write=False)
        return cls(
            t_s=t_s,
            xy=_frozen(xy, (NUM_LANDMARKS, 2)),
            z=_frozen(z, (NUM_LANDMARKS,)),
            world=_frozen(world, (NUM_LANDMARKS, 3)),
            visibility=_frozen(norm[:, 3], (NUM_LANDMARKS,)),
            presence=_frozen(norm[:, 4], (NUM_LANDMARKS,)),
            image_size=(int(width), int(height)),
            mask=frozen_mask,
        )

    @property
    def is_empty(self) -> bool:
        """True when the model found no person in the frame."""
        return not bool(np.isfinite(self.xy).all())

    def point(self, landmark: Landmark) -> np.ndarray:
        """Pixel position of one landmark as a (2,) array."""
        point: np.ndarray = self.xy[int(landmark)]
        return point
