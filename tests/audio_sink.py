"""A sound card stand-in for machines without one: ALSA's file device writing into a paced pipe.

``aplay -D file:FILE=<fifo>,FORMAT=raw`` writes the samples it plays into a
named pipe. A thread reads them at the rate a sound card would consume them,
and the pipe holds only a page of audio, so the player is held back to real
time exactly as a sound card holds it back: an utterance takes as long to play
as it lasts, and can be cut off halfway. The thread notes when each sample
arrived, so a test can tell when the sound stopped.
"""

from __future__ import annotations

import fcntl
import os
import select
import threading
import time
from pathlib import Path

PIPE_BYTES = 4096  # the smallest pipe Linux allows: 93 ms of 22.05 kHz 16-bit mono
F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, named only from Python 3.10 on some builds
READ_BYTES = 1024


class PacedSink:
    """Consumes raw audio from a named pipe at ``bytes_per_s``, as a sound card would."""

    def __init__(self, folder: Path, bytes_per_s: int) -> None:
        self.path = folder / "sound-card.fifo"
        os.mkfifo(self.path, 0o600)
        self._bytes_per_s = bytes_per_s
        # Opened for reading and writing, the pipe never reports end of file
        # between two utterances (each player opens and closes it).
        self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        fcntl.fcntl(self._fd, F_SETPIPE_SZ, PIPE_BYTES)
        self._lock = threading.Lock()
        self._arrivals: list[tuple[float, int]] = []  # (time, bytes so far)
        self._total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._consume, name="paced-sink", daemon=True)
        self._thread.start()

    @property
    def device(self) -> str:
        """The ALSA device name that plays into this sink."""
        return f"file:FILE={self.path},FORMAT=raw"

    @property
    def received(self) -> int:
        """Bytes of audio consumed so far."""
        with self._lock:
            return self._total

    def last_arrival(self) -> float | None:
        """When the latest audio arrived (``time.perf_counter``), or None."""
        with self._lock:
            return self._arrivals[-1][0] if self._arrivals else None

    def wait_for_sound(self, timeout_s: float) -> bool:
        """Wait until audio flows; False when none came within ``timeout_s``."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if self.received > 0:
                return True
            time.sleep(0.005)
        return False

    def wait_for_silence(self, quiet_s: float, timeout_s: float) -> float | None:
        """Wait until no audio came for ``quiet_s``; when the last of it came, or None."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            last = self.last_arrival()
            if last is not None and time.perf_counter() - last >= quiet_s:
                return last
            time.sleep(0.005)
        return None

    def _consume(self) -> None:
        start: float | None = None
        consumed = 0
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], 0.05)
            if not ready:
                start = None  # silence: the next sound starts its own clock
                continue
            try:
                data = os.read(self._fd, READ_BYTES)
            except BlockingIOError:
                continue
            now = time.perf_counter()
            if start is None:
                start, consumed = now, 0
            consumed += len(data)
            with self._lock:
                self._total += len(data)
                self._arrivals.append((now, self._total))
            delay = start + consumed / self._bytes_per_s - time.perf_counter()
            if delay > 0:
                time.sleep(delay)

    def close(self) -> None:
        """Stop consuming and remove the pipe."""
        self._stop.set()
        self._thread.join(timeout=2.0)
        os.close(self._fd)
        self.path.unlink(missing_ok=True)


def player_processes() -> list[int]:
    """Audio players (aplay, afplay) running as children of this process."""
    pids = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:  # the thread ended meanwhile
            continue
        for pid in children:
            try:
                name = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:  # the process ended meanwhile
                continue
            if name in ("aplay", "afplay"):
                pids.append(int(pid))
    return pids
