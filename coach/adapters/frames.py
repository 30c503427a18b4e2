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
from coach.files import AtomicTarget, check_input_file, write_output

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"})
DEFAULT_FPS = 30.0
# Frame rates a video may declare and be timed by. Time-lapse and slow cameras go
# well below 1 fps; anything outside this range is a broken header.
FPS_MIN = 0.05
FPS_MAX = 1000.0
# A video that ends this far short of the frames it declares is reported as cut off.
SHORT_FRAMES_FRACTION = 0.95
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


class Source(FrameSource, Protocol):
    """A frame source ``open_source`` opens, and what a session's record says about it."""

    @property
    def description(self) -> str:
        """What it is and where, e.g. "camera:0" or "video:/path/clip.mp4"."""
        ...

    @property
    def fps(self) -> float:
        """Frames a second it declares (or the default)."""
        ...

    @property
    def notes(self) -> list[str]:
        """What was wrong with it (cut off, odd frame rate, unreadable images), as it is read."""
        ...

    @property
    def live(self) -> bool:
        """Frames come on the wall clock (a camera), not as fast as they are read."""
        ...


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
        self.description = f"video:{self.path}"
        self.live = False
        if not self.path.exists():
            raise VideoReadError(f"Video file not found: {self.path}. Check the path.")
        check_input_file(self.path, "video file", error=VideoReadError)
        self.notes: list[str] = []  # what the caller should tell the person about the file
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            self._cap.release()
            raise VideoReadError(
                f"Cannot open video {self.path}: not a video OpenCV can decode. "
                "Convert it to MP4 (H.264) and try again."
            )
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if FPS_MIN <= fps <= FPS_MAX:
            self.fps = fps
        else:
            self.fps = DEFAULT_FPS
            self.notes.append(
                f"{self.path.name} declares {fps:g} frames a second, which cannot be right; "
                f"it is timed as {DEFAULT_FPS:g} frames a second."
            )
        count = float(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0)
        self.frame_count = int(count) if 0 < count < 1e9 else 0
        self.frames_read = 0
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
            self.frames_read = 1
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
                self._note_shortfall(index)
                return
            self.frames_read = index + 1
            yield Frame(image, index / self.fps)
            index += 1

    def _note_shortfall(self, frames: int) -> None:
        """Say so when the file ends well before the frames its header declares."""
        declared = self.frame_count
        if declared and frames < declared * SHORT_FRAMES_FRACTION:
            self.notes.append(
                f"{self.path.name} ends after {frames} of the {declared} frames it declares "
                f"({frames / self.fps:.1f} of {declared / self.fps:.1f} s): the file is cut "
                "off or damaged, and only the part that could be read was used."
            )

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
    if not path.exists():
        raise SourceError(f"Image not found: {path}")
    check_input_file(path, "image", error=SourceError)
    # imdecode instead of imread: imread returns None silently and fails on
    # some non-ASCII paths on Windows.
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise SourceError(f"Cannot read image {path}: not an image file OpenCV can decode.")
    return image


def list_images(folder: str | Path) -> list[Path]:
    """Image files in a folder, sorted by name.

    Raises:
        SourceError: The folder cannot be read.
    """
    folder = Path(folder)
    try:
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    except PermissionError as exc:
        raise SourceError(f"{folder}: permission denied; the folder cannot be read.") from exc
    except OSError as exc:
        raise SourceError(f"Cannot read the folder {folder}: {exc.strerror or exc}.") from exc


class ImageFolderSource:
    """The images of a folder in name order, as frames ``1 / fps`` apart."""

    def __init__(self, folder: str | Path, fps: float = DEFAULT_FPS) -> None:
        self.folder = Path(folder)
        self.description = f"images:{self.folder}"
        self.live = False
        if not self.folder.is_dir():
            raise SourceError(f"Image folder not found: {self.folder}")
        self.paths = list_images(self.folder)
        if not self.paths:
            raise SourceError(
                f"No images in {self.folder} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})."
            )
        self.fps = fps

        self.skipped: list[tuple[Path, str]] = []  # images that could not be read, and why
        self.current: Path | None = None  # the image of the frame last handed out
        self.notes: list[str] = []

    def __iter__(self) -> Iterator[Frame]:
        """The readable images; an unreadable one is noted in ``skipped`` and passed over."""
        for index, path in enumerate(self.paths):
            try:
                image = read_image(path)
            except SourceError as exc:
                self.skipped.append((path, str(exc)))
                self.notes.append(f"skipped: {exc}")
                continue
            self.current = path
            yield Frame(image, index / self.fps)

    def close(self) -> None:
        """Nothing to release."""


class ImageFileSource:
    """One image as a single frame at time 0."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.description = f"image:{self.path}"
        self.fps = DEFAULT_FPS
        self.notes: list[str] = []
        self.live = False
        self._image = read_image(self.path)

    def __iter__(self) -> Iterator[Frame]:
        yield Frame(self._image, 0.0)

    def close(self) -> None:
        """Nothing to release."""


def open_source(spec: str | int | Path) -> Source:
    """The frame source ``spec`` names: a camera index, a video, an image or a folder of images.

    Raises:
        SourceError: Nothing usable at ``spec``; the camera and video errors
            are the subclasses ``CameraNotFoundError`` and ``VideoReadError``.
    """
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        # Imported here: the camera module builds on this one.
        from coach.adapters.camera import CameraSource

        return CameraSource(int(spec))
    if not str(spec).strip():
        raise SourceError(
            "The source is empty: give a camera number, a video file, an image or a folder."
        )
    path = Path(spec).expanduser()
    if path.is_dir():
        return ImageFolderSource(path)
    if not path.exists():
        raise SourceError(
            f"{path} does not exist. Give a camera number (0 is the built-in camera), "
            "a video file, an image, or a folder of images."
        )
    check_input_file(path, "video or image", error=SourceError)
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
    return write_output(path, data.tobytes(), "image", error=SourceError)


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
        # Written beside the target and renamed over it when finished: a reader never
        # sees half a video, and a failed write leaves the old file as it was.
        try:
            self._target = AtomicTarget(self.path)
        except OSError as exc:
            raise SourceError(f"Cannot write {self.path}: {exc.strerror or exc}.") from exc
        self._writer = cv2.VideoWriter(str(self._target.temporary), fourcc, fps, size)
        if not self._writer.isOpened():
            self._writer.release()
            self._target.discard()
            raise SourceError(f"Cannot write video {self.path}: OpenCV has no encoder for it.")

    def write(self, image: np.ndarray) -> None:
        """Append one frame; frames of another size are resized to fit."""
        import cv2

        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self._writer.write(image)

    def close(self) -> None:
        """Finish the file and put it in place; safe to call twice."""
        self._writer.release()
        try:
            self._target.commit()
        except OSError as exc:
            raise SourceError(f"Cannot write {self.path}: {exc.strerror or exc}.") from exc
