"""A live camera as a frame source: low latency, fast failure, stall detection.

A grabber thread reads the camera as fast as it delivers and keeps only the
newest frame, so a slow consumer (the pose model) always works on the latest
picture instead of a queue of old ones. Each frame is stamped with the
monotonic clock when it is grabbed, in seconds since the camera opened.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from coach.adapters.frames import DEFAULT_FPS, Frame
from coach.errors import CameraNotFoundError, CameraStalledError

OPEN_TIMEOUT_S = 1.5  # under the two seconds a person waits for "no camera"
FIRST_FRAME_TIMEOUT_S = 5.0  # some webcams need a few seconds to start streaming
READ_RETRY_S = 0.01  # pause after a failed read before trying again
JOIN_TIMEOUT_S = 2.0

# Opens an OpenCV VideoCapture-like object for (index, width, height), or None.
CaptureOpener = Callable[[int, int, int], Any]


def backends_for_platform(platform: str = sys.platform) -> tuple[str, ...]:
    """Names of the OpenCV capture backends to try, in order, on this OS."""
    if platform.startswith("linux"):
        return ("CAP_V4L2",)
    if platform.startswith("win"):
        # DirectShow opens fast and honours the frame size; MSMF is the fallback.
        return ("CAP_DSHOW", "CAP_MSMF")
    if platform == "darwin":
        return ("CAP_AVFOUNDATION",)
    return ("CAP_ANY",)


def linux_device(index: int) -> Path:
    """The device file of a camera index on Linux."""
    return Path(f"/dev/video{index}")


def open_capture(index: int, width: int, height: int) -> Any:
    """Open camera ``index`` with this OS's backend; None when no backend opens it.

    Raises:
        CameraNotFoundError: On Linux, when the camera's device file does not exist.
    """
    import cv2

    if sys.platform.startswith("linux"):
        device = linux_device(index)
        # Asking V4L2 for a missing device is slow and noisy; the file says it all.
        if not device.exists():
            raise CameraNotFoundError(
                f"No camera at index {index} ({device} does not exist). Connect a camera, "
                "or pick another with --camera N (coach doctor checks it). "
                "Videos still work: pass a video file instead."
            )
    for name in backends_for_platform():
        cap = cv2.VideoCapture(index, getattr(cv2, name, cv2.CAP_ANY))
        if cap.isOpened():
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            # Keep the driver's own queue short: old frames add latency.
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            return cap
        cap.release()
    return None


def _open_within(opener: CaptureOpener, index: int, size: tuple[int, int], timeout_s: float) -> Any:
    """Run ``opener`` in a thread and give up after ``timeout_s``.

    Some drivers block for many seconds on an index with no camera; the
    abandoned thread releases the capture if it opens later.
    """
    result: dict[str, Any] = {}
    abandoned = threading.Event()

    def work() -> None:
        try:
            cap = opener(index, size[0], size[1])
        except Exception as exc:  # reported to the caller below
            result["error"] = exc
            return
        if abandoned.is_set():
            if cap is not None:
                cap.release()
            return
        result["cap"] = cap

    thread = threading.Thread(target=work, name=f"camera-open-{index}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        abandoned.set()
        raise CameraNotFoundError(
            f"Camera {index} did not open within {timeout_s:.1f} s. Check that a camera is "
            "connected and not used by another program, or pick another with --camera N. "
            "Videos still work: pass a video file instead."
        )
    if isinstance(result.get("error"), CameraNotFoundError):
        raise result["error"]
    if "error" in result:
        raise CameraNotFoundError(
            f"Camera {index} cannot be opened: {result['error']}. "
            "Check the camera or pick another with --camera N."
        ) from result["error"]
    return result.get("cap")


class CameraSource:
    """Frames from a camera by index, newest first, stamped in seconds since opening.

    Raises:
        CameraNotFoundError: (at construction) nothing answers at ``index``.
        CameraStalledError: (while iterating) the camera stopped delivering.
    """

    def __init__(
        self,
        index: int = 0,
        *,
        width: int = 640,
        height: int = 480,
        stall_timeout_s: float = 3.0,
        open_timeout_s: float = OPEN_TIMEOUT_S,
        first_frame_timeout_s: float = FIRST_FRAME_TIMEOUT_S,
        opener: CaptureOpener = open_capture,
    ) -> None:
        if index < 0:
            raise CameraNotFoundError(f"Camera index must be 0 or more, got {index}.")
        if not stall_timeout_s > 0:
            raise ValueError(f"stall_timeout_s must be positive, got {stall_timeout_s}")
        self.index = index
        self.description = f"camera:{index}"
        self.fps = DEFAULT_FPS  # what the camera delivers is not known ahead
        self.notes: list[str] = []
        self.live = True
        self._stall_timeout_s = stall_timeout_s
        self._first_frame_timeout_s = max(first_frame_timeout_s, stall_timeout_s)
        cap = _open_within(opener, index, (width, height), open_timeout_s)
        if cap is None:
            raise CameraNotFoundError(
                f"No camera answers at index {index}: none is connected there, another "
                "program is using it, or this user may not use it (on Linux: the 'video' "
                "group). Pick another with --camera N; videos still work."
            )
        self._cap = cap
        self._lock = threading.Condition()
        self._latest: np.ndarray | None = None
        self._latest_t: float = 0.0
        self._seq = 0  # counts grabbed frames, so a consumer never sees one twice
        self._delivered = 0  # the count of the last frame handed out
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._grab, name=f"camera-{index}", daemon=True)
        self._thread.start()

    def _grab(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    ok, image = self._cap.read()
                except Exception:  # a driver error shows as a stall to the reader
                    ok, image = False, None
                if not ok or image is None:
                    self._stop.wait(READ_RETRY_S)
                    continue
                t_s = time.monotonic() - self._t0
                with self._lock:
                    self._latest, self._latest_t = image, t_s
                    self._seq += 1
                    self._lock.notify_all()
        finally:
            # Released here, not in close(): a read may still be running there.
            self._cap.release()

    def read(self) -> Frame:
        """The newest frame not yet returned; waits for one.

        Raises:
            CameraStalledError: No new frame came within the stall timeout.
        """
        after = self._delivered
        timeout = self._first_frame_timeout_s if after == 0 else self._stall_timeout_s
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._seq <= after:
                if self._stop.is_set():
                    raise CameraStalledError(f"Camera {self.index} was closed while waiting.")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CameraStalledError(self._stall_message(after, timeout))
                self._lock.wait(remaining)
            image, t_s, self._delivered = self._latest, self._latest_t, self._seq
        assert image is not None
        return Frame(image, t_s)

    def _stall_message(self, after: int, timeout: float) -> str:
        if after == 0:
            return (
                f"Camera {self.index} opened but sent no picture within {timeout:.1f} s. "
                "Close other programs that use the camera, check a privacy shutter or "
                "switch, or try another camera with --camera N."
            )
        return (
            f"Camera {self.index} stopped sending pictures (nothing for {timeout:.1f} s). "
            "It may have been unplugged or taken by another program. "
            "Reconnect it and start again."
        )

    def __iter__(self) -> Iterator[Frame]:
        while True:
            yield self.read()

    def __enter__(self) -> CameraSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the grabber thread and release the camera; safe to call twice."""
        if self._stop.is_set():
            return
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        self._thread.join(JOIN_TIMEOUT_S)
