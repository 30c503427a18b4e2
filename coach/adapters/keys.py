"""Keys pressed in the terminal, for a session without a window."""

from __future__ import annotations

import threading
from typing import Protocol

KEY_POLL_S = 0.1
JOIN_TIMEOUT_S = 1.0  # longest wait for the reader to stop: a few polls


class KeySource(Protocol):
    """Hands out the keys pressed since it was last asked, without waiting."""

    def pressed(self) -> list[int]:
        """Key codes pressed since the last call, in order."""
        ...


class TerminalKeys:
    """Keys pressed in the terminal (POSIX terminals).

    A thread reads single key presses (the terminal in cbreak mode, so Ctrl-C
    still interrupts) and ``pressed`` hands them out without waiting.
    """

    def __init__(self) -> None:
        import sys
        import termios
        import tty

        self._fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)
        self._keys: list[int] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="coach-keys", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls) -> TerminalKeys | None:
        """Keys from the terminal, or None when stdin is not an interactive POSIX terminal."""
        import sys

        try:
            import termios  # noqa: F401  (POSIX only)
        except ImportError:
            return None
        if sys.stdin is None or not sys.stdin.isatty():
            return None
        try:
            return cls()
        except (OSError, ValueError):
            return None

    def _read(self) -> None:
        import os
        import select

        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], KEY_POLL_S)
            if not ready:
                continue
            data = os.read(self._fd, 1)
            if not data:
                return
            with self._lock:
                self._keys.append(data[0])

    def pressed(self) -> list[int]:
        """Keys pressed since the last call."""
        with self._lock:
            keys, self._keys = self._keys, []
        return keys

    def close(self) -> None:
        """Stop reading and give the terminal back as it was."""
        import termios

        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=JOIN_TIMEOUT_S)
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)


__all__ = ["KEY_POLL_S", "KeySource", "TerminalKeys"]
