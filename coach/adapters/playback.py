"""A recording played as if it were a camera, and a session's frame source.

``LivePlayback`` releases each frame of a video or image folder at its own
time on the wall clock, keeping only the newest: a consumer slower than the
video skips frames, exactly as it would with a live camera. ``OpenedSource``
is what a session reads: the source ``open_source`` opened, played as live
from ``start()`` on when asked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from coach.adapters.frames import Frame, FrameSource, Source

JOIN_TIMEOUT_S = 5.0  # longest wait for the player to stop (one frame's decoding)


class LivePlayback:
    """A video or image folder played as if it were a camera.

    A thread decodes frames and releases each at its own time on the wall
    clock, keeping only the newest.

    Args:
        source: The recording.
        clock: The wall clock.
    """

    def __init__(self, source: FrameSource, clock: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._clock = clock
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._seq = 0
        self._taken = 0
        self._ended = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self.dropped = 0
        self._thread = threading.Thread(target=self._play, name="coach-playback", daemon=True)
        self._thread.start()

    def _play(self) -> None:
        start = self._clock()
        try:
            for frame in self._source:
                if self._stop.is_set():
                    break
                delay = start + frame.t_s - self._clock()
                if delay > 0 and self._stop.wait(delay):
                    break
                with self._cond:
                    if self._seq > self._taken:
                        self.dropped += 1
                    self._latest = frame
                    self._seq += 1
                    self._cond.notify_all()
        except BaseException as exc:  # handed to the reader, which raises it
            self._error = exc
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def __iter__(self) -> Iterator[Frame]:
        while True:
            with self._cond:
                while self._seq <= self._taken and not self._ended:
                    self._cond.wait()
                if self._seq <= self._taken:
                    if self._error is not None:
                        raise self._error
                    return
                frame, self._taken = self._latest, self._seq
            assert frame is not None
            yield frame

    def close(self) -> None:
        """Stop playing and close the recording."""
        self._stop.set()
        self._thread.join(timeout=JOIN_TIMEOUT_S)
        self._source.close()


class OpenedSource:
    """A frame source ready for a session, and what to tell the record about it.

    Args:
        source: What ``open_source`` opened.
        realtime: Play a recording as if live (from ``start()`` on, so that
            questions asked before then cost no frames); else every frame is
            read as fast as the loop takes them. A camera is always live.
    """

    def __init__(self, source: Source, *, realtime: bool) -> None:
        self._source = source
        self._replay = realtime and not source.live
        self._playback: LivePlayback | None = None

    @property
    def description(self) -> str:
        """What the source is and where, for the record."""
        return self._source.description

    @property
    def fps(self) -> float:
        """Frames a second the source declares."""
        return self._source.fps

    @property
    def notes(self) -> list[str]:
        """What was wrong with a recorded source; filled in while it is read."""
        return self._source.notes

    @property
    def live(self) -> bool:
        """Frames arrive on the wall clock (a camera, or a recording played as live)."""
        return self._source.live or self._replay

    @property
    def dropped(self) -> int:
        """Frames of a recording played as live that the loop was too slow to take."""
        return self._playback.dropped if self._playback is not None else 0

    def start(self) -> FrameSource:
        """The frames for the loop; a recording played as live starts its clock now."""
        if not self._replay:
            return self._source
        if self._playback is None:
            self._playback = LivePlayback(self._source)
        return self._playback

    def close(self) -> None:
        """Release the source (and stop its playback)."""
        if self._playback is not None:
            self._playback.close()
        else:
            self._source.close()


__all__ = ["LivePlayback", "OpenedSource"]
