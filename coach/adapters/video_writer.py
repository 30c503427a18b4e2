"""The annotated session video (``--save-video``), written beside the session's records."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import numpy as np

from coach.errors import SessionDataError

VIDEO_FILE = "session.mp4"
FOURCC = "mp4v"
FILE_MODE = 0o600


class FrameWriter(Protocol):
    """Keeps the frames it is given (the annotated video)."""

    def write(self, image: np.ndarray) -> None:
        """Append one BGR frame."""
        ...


class AnnotatedVideoWriter:
    """Appends overlay frames to an MP4 file; the size is taken from the first frame.

    Frames of another size are resized to the first one, so a camera that
    changes resolution mid-session does not break the file. ``close`` (or
    leaving the ``with`` block) finishes the file; frames written before a
    crash stay readable in most players.
    """

    def __init__(self, folder: Path, fps: float, *, filename: str = VIDEO_FILE) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self._path = Path(folder) / filename
        self._fps = float(fps)
        self._writer: Any = None
        self._size: tuple[int, int] | None = None
        self._frames = 0

    @property
    def path(self) -> Path:
        """The video file."""
        return self._path

    @property
    def frames(self) -> int:
        """Frames written so far."""
        return self._frames

    def __enter__(self) -> AnnotatedVideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def write(self, image: np.ndarray) -> None:
        """Append one BGR (or grey) frame."""
        import cv2

        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        if self._writer is None:
            self._open(image.shape[1], image.shape[0])
        assert self._size is not None
        if (image.shape[1], image.shape[0]) != self._size:
            image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(np.ascontiguousarray(image, dtype=np.uint8))
        self._frames += 1

    def _open(self, width: int, height: int) -> None:
        import cv2

        # Create the file readable by the user only; the writer then reuses it, mode kept.
        try:
            os.close(os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE))
            os.chmod(self._path, FILE_MODE)
        except OSError as exc:
            raise SessionDataError(
                f"Cannot write the session video {self._path}: {exc.strerror or exc}. "
                "Run without --save-video, or check the folder."
            ) from exc
        writer = cv2.VideoWriter(
            str(self._path), cv2.VideoWriter.fourcc(*FOURCC), self._fps, (width, height)
        )
        if not writer.isOpened():
            writer.release()
            raise SessionDataError(
                f"Cannot write the session video {self._path}: OpenCV could not open an "
                f"'{FOURCC}' MP4 writer. Run without --save-video, or check the folder."
            )
        self._writer = writer
        self._size = (width, height)

    def close(self) -> None:
        """Finish the file. Safe to call twice."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            if self._path.exists():
                os.chmod(self._path, FILE_MODE)
