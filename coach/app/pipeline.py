"""The frame pipeline: frame -> pose -> features, the same chain for every command.

``coach analyze``, ``coach classify``, ``coach pose``, the guided session and
the benchmarks all see frames through a ``FramePipeline``, so what each
measures is exactly what the others do. The pipeline asks the pose model only
for what the exercises at hand need (see ``Perception``); when that changes,
the model switches from the next frame on, without a pause.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from coach.core.features import (
    LANDMARKS_ONLY,
    FeatureConfig,
    FeatureExtractor,
    Features,
    Perception,
)
from coach.core.pose import Pose
from coach.errors import CoachError

if TYPE_CHECKING:
    import numpy as np

    from coach.adapters.frames import Frame
    from coach.adapters.pose_model import PoseEstimator, RunningMode


@runtime_checkable
class SwitchingEstimator(Protocol):
    """A pose estimator that makes the person's silhouette only while asked to."""

    def prepare(self, segmentation: bool) -> None: ...

    def use_segmentation(self, segmentation: bool, *, wait: bool = False) -> None: ...


@dataclass(frozen=True)
class Seen:
    """One frame as the coach saw it."""

    image: np.ndarray
    t_s: float
    pose: Pose
    features: Features


class FramePipeline:
    """Turns frames into poses and features, one frame at a time.

    Args:
        estimator: Finds the pose in each frame.
        camera: How features are taken (the routine's camera settings).
        perception: What to measure beyond the landmarks, at first.
        stills: The frames are unrelated photos: no side choice or filter
            carries over from one to the next.
        bad_frame_limit: Frames the model may fail on in a row, each seen as
            nobody there, before the error is raised; 0 raises at once.
    """

    def __init__(
        self,
        estimator: PoseEstimator,
        *,
        camera: FeatureConfig | None = None,
        perception: Perception = LANDMARKS_ONLY,
        stills: bool = False,
        bad_frame_limit: int = 0,
    ) -> None:
        self.estimator = estimator
        self._extractor = FeatureExtractor(camera, perception=perception)
        self._stills = stills
        self._bad_frame_limit = bad_frame_limit
        self._bad_frames = 0
        self._perception = perception
        if isinstance(estimator, SwitchingEstimator):
            estimator.use_segmentation(perception.silhouette)

    @property
    def perception(self) -> Perception:
        """What is measured on each frame beyond the landmarks."""
        return self._perception

    @property
    def bad_frames(self) -> int:
        """Frames in a row the model has failed on."""
        return self._bad_frames

    def prepare(self, perception: Perception) -> None:
        """Get the model ready for ``perception`` in the background, to switch to it later."""
        if isinstance(self.estimator, SwitchingEstimator):
            self.estimator.prepare(perception.silhouette)

    def perceive(self, perception: Perception) -> None:
        """Measure ``perception`` from the next frame on."""
        if perception == self._perception:
            return
        self._perception = perception
        self._extractor.perception = perception
        if isinstance(self.estimator, SwitchingEstimator):
            self.estimator.use_segmentation(perception.silhouette)

    def see(self, image: np.ndarray, t_s: float) -> Seen:
        """The pose and features of one frame.

        Raises:
            CoachError: The model cannot go on (raised at once).
            Exception: The model failed on more than ``bad_frame_limit`` frames in a row.
        """
        try:
            pose = self.estimator.estimate(image, t_s)
            self._bad_frames = 0
        except CoachError:
            raise
        except Exception:  # one bad frame must not end a session
            self._bad_frames += 1
            if self._bad_frames > self._bad_frame_limit:
                raise
            height, width = image.shape[:2]
            pose = Pose.empty(t_s, (width, height))
        if self._stills:
            self._extractor.reset()
        return Seen(image, t_s, pose, self._extractor.update(pose))

    def run(self, frames: Iterable[Frame], *, step: int = 1) -> Iterator[Seen]:
        """Every ``step``-th frame, seen."""
        for index, frame in enumerate(frames):
            if index % step == 0:
                yield self.see(frame.image, frame.t_s)

    def close(self) -> None:
        """Release the model."""
        self.estimator.close()

    def __enter__(self) -> FramePipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_pipeline(
    *,
    model: Path | None = None,
    mode: RunningMode = "video",
    perception: Perception = LANDMARKS_ONLY,
    camera: FeatureConfig | None = None,
    stills: bool = False,
    bad_frame_limit: int = 0,
) -> FramePipeline:
    """A pipeline on the real pose model (MediaPipe), set up for ``perception``.

    Raises:
        ModelError: The pose model cannot be loaded.
    """
    from coach.adapters.pose_model import MediaPipePoseEstimator

    estimator = MediaPipePoseEstimator(model, mode=mode, segmentation=perception.silhouette)
    return FramePipeline(
        estimator,
        camera=camera,
        perception=perception,
        stills=stills,
        bad_frame_limit=bad_frame_limit,
    )


__all__ = ["FramePipeline", "Seen", "SwitchingEstimator", "open_pipeline"]
