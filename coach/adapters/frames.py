"""Frame sources: a video file or a folder of images, one frame at a time.

Every source yields ``Frame(image, t_s)`` with a BGR image and its time in
seconds, and is closed when done. The camera lives in ``camera.py``;
``open_source`` picks the right source for what the person typed.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from coach.errors import SourceError, VideoReadError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"})
DEFAULT_FPS = 30.0
_QUEUE_POLL_S = 0.05


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
    """Frames of a video file, timed by frame index and the file's frame rate.

    A background thread decodes a few frames ahead, so decoding overlaps the
    pose model's work on the previous frame instead of adding to it.

    Args:
        path: The video file.
        size: Resize every frame to this (width, height) while decoding.
        prefetch: Frames decoded ahead; 0 decodes in the caller's thread.
    """

    def __init__(
        self, path: str | Path, *, size: tuple[int, int] | None = None, prefetch: int = 4
    ) -> None:
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
        self._resize_to = size
        self._prefetch = max(0, prefetch)
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise VideoReadError(
                f"Cannot read any frame from {self.path}: the file is empty or corrupt."
            )
        self._first: np.ndarray | None = self._resized(first)
        self.size = (int(self._first.shape[1]), int(self._first.shape[0]))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: Exception | None = None
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=max(1, self._prefetch))

    def _resized(self, image: np.ndarray) -> np.ndarray:
        if self._resize_to is None or (image.shape[1], image.shape[0]) == self._resize_to:
            return image
        import cv2

        return cv2.resize(image, self._resize_to, interpolation=cv2.INTER_AREA)

    def _decode(self) -> np.ndarray | None:
        ok, image = self._cap.read()
        return self._resized(image) if ok and image is not None else None

    def _decode_ahead(self) -> None:
        while not self._stop.is_set():
            try:
                image = self._decode()
            except Exception as exc:  # handed to the reader, which raises it
                self._error = exc
                image = None
            while not self._stop.is_set():
                try:
                    self._queue.put(image, timeout=_QUEUE_POLL_S)
                    break
                except queue.Full:
                    continue
            if image is None:
                return

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        if self._first is not None:
            yield Frame(self._first, 0.0)
            self._first = None
            index = 1
        if self._prefetch and self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(
                target=self._decode_ahead, name=f"decode-{self.path.name}", daemon=True
            )
            self._thread.start()
        while not self._stop.is_set():
            image = self._next_decoded()
            if image is None:
                if self._error is not None:
                    raise VideoReadError(
                        f"Decoding {self.path} failed at frame {index}: {self._error}"
                    ) from self._error
                return
            yield Frame(image, index / self.fps)
            index += 1

    def _next_decoded(self) -> np.ndarray | None:
        if self._thread is None:
            try:
                return self._decode()
            except Exception as exc:  # OpenCV's error, translated by the caller
                self._error = exc
                return None
        while True:
            try:
                return self._queue.get(timeout=_QUEUE_POLL_S)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    return None

    def close(self) -> None:
        """Stop decoding and release the file; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            # Empty the queue so a decoder blocked on a full queue sees the stop.
            while self._thread.is_alive():
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
                self._thread.join(_QUEUE_POLL_S)
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


class ImageFileSource:
    """One image as a single frame at time 0."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._image = read_image(self.path)

    def __iter__(self) -> Iterator[Frame]:
        yield Frame(self._image, 0.0)

    def close(self) -> None:
        """Nothing to release."""


def open_source(spec: str | int | Path) -> FrameSource:
    """The frame source ``spec`` names: a camera index, a video, an image or a folder of images.

    Raises:
        SourceError: Nothing usable at ``spec``; the camera and video errors
            are the subclasses ``CameraNotFoundError`` and ``VideoReadError``.
    """
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        # Imported here: the camera module builds on this one.
        from coach.adapters.camera import CameraSource

        return CameraSource(int(spec))
    path = Path(spec).expanduser()
    if path.is_dir():
        return ImageFolderSource(path)
    if not path.exists():
        raise SourceError(
            f"{path} does not exist. Give a camera number (0 is the built-in camera), "
            "a video file, an image, or a folder of images."
        )
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ImageFileSource(path)
    if suffix in VIDEO_SUFFIXES:
        return VideoFileSource(path)
    # An unknown suffix may still be a video OpenCV can decode.
    try:
        return VideoFileSource(path)
    except VideoReadError as exc:
        raise SourceError(
            f"{path} is neither an image ({', '.join(sorted(IMAGE_SUFFIXES))}) nor a video "
            f"OpenCV can decode ({', '.join(sorted(VIDEO_SUFFIXES))})."
        ) from exc


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write a BGR image; the format follows the file's suffix."""
    import cv2

    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise SourceError(
            f"Cannot write image {path}: use one of {', '.join(sorted(IMAGE_SUFFIXES))}."
        )
    ok, data = cv2.imencode(path.suffix.lower(), image)
    if not ok:
        raise SourceError(f"Cannot encode image for {path}.")
    try:
        path.write_bytes(data.tobytes())
    except OSError as exc:
        raise SourceError(f"Cannot write {path}: {exc.strerror}.") from exc
    return path


class VideoFileWriter:
    """Writes BGR frames to an MP4 (MPEG-4) file at a fixed frame rate."""

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]) -> None:
        import cv2

        self.path = Path(path)
        if self.path.suffix.lower() not in {".mp4", ".m4v", ".avi"}:
            raise SourceError(f"Cannot write video {self.path}: use a .mp4 or .avi file name.")
        if not self.path.parent.is_dir():
            raise SourceError(f"Cannot write {self.path}: no folder {self.path.parent}.")
        fourcc = cv2.VideoWriter.fourcc(*("MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"))
        self.size = size
        self._writer = cv2.VideoWriter(str(self.path), fourcc, fps, size)
        if not self._writer.isOpened():
            self._writer.release()
            raise SourceError(f"Cannot write video {self.path}: OpenCV has no encoder for it.")

    def write(self, image: np.ndarray) -> None:
        """Append one frame; frames of another size are resized to fit."""
        import cv2

        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self._writer.write(image)

    def close(self) -> None:
        """Finish the file."""
        self._writer.release()
