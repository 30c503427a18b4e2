"""Frame sources: a video file or a folder of images, one frame at a time.

Every source yields ``Frame(image, t_s)`` with a BGR image and its time in
seconds, and is closed when done. The camera lives in ``camera.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from coach.errors import SourceError, VideoReadError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"})
DEFAULT_FPS = 30.0


@dataclass(frozen=True)
class Frame:
    """One BGR image and the time it was taken, in seconds from the start."""

    image: np.ndarray
    t_s: float


class FrameSource(Protocol):
    """Anything that yields frames in time order."""

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...


class VideoFileSource:
    """Frames of a video file, timed by frame index and the file's frame rate."""

    def __init__(self, path: str | Path) -> None:
        import cv2

        self.path = Path(path)
        if not self.path.is_file():
            raise VideoReadError(f"Video file not found: {self.path}. Check the path.")
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            self._cap.release()
            raise VideoReadError(
                f"Cannot open video {self.path}: not a video OpenCV can decode. "
                "Convert it to MP4 (H.264) and try again."
            )
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 1000.0 else DEFAULT_FPS
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise VideoReadError(
                f"Cannot read any frame from {self.path}: the file is empty or corrupt."
            )
        self._first: np.ndarray | None = first
        self.size = (int(first.shape[1]), int(first.shape[0]))

    @property
    def duration_s(self) -> float:
        """Length of the video as the container reports it."""
        return self.frame_count / self.fps if self.frame_count else 0.0

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        if self._first is not None:
            yield Frame(self._first, 0.0)
            self._first = None
            index = 1
        while True:
            ok, image = self._cap.read()
            if not ok or image is None:
                return
            yield Frame(image, index / self.fps)
            index += 1

    def close(self) -> None:
        self._cap.release()


def read_image(path: str | Path) -> np.ndarray:
    """Read one image as BGR, with a clear error when it cannot be read."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise SourceError(f"Image not found: {path}")
    # imdecode instead of imread: imread returns None silently and fails on
    # some non-ASCII paths on Windows.
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise SourceError(f"Cannot read image {path}: not an image file OpenCV can decode.")
    return image


def list_images(folder: str | Path) -> list[Path]:
    """Image files in a folder, sorted by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


class ImageFolderSource:
    """The images of a folder in name order, as frames ``1 / fps`` apart."""

    def __init__(self, folder: str | Path, fps: float = DEFAULT_FPS) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise SourceError(f"Image folder not found: {self.folder}")
        self.paths = list_images(self.folder)
        if not self.paths:
            raise SourceError(
                f"No images in {self.folder} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})."
            )
        self.fps = fps

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            yield Frame(read_image(path), index / self.fps)

    def close(self) -> None:
        """Nothing to release."""
