"""Speech through pyttsx3, without ever making the caller wait.

pyttsx3 2.99 has three habits that shape this module:
  - ``runAndWait()`` speaks only the last ``say()`` queued before it, so each
    utterance gets its own ``say()`` + ``runAndWait()``.
  - ``engine.stop()`` from another thread can hang the engine, so nothing is
    ever stopped across threads: cues are queued, and an urgent cue drops the
    queued ones instead.
  - The espeak driver is global to the process (one synth callback), and
    ``pyttsx3.init()`` hands out one shared engine that remembers the last
    ``save_to_file`` target. So each speaker builds its own engine, and only
    one real speaker is open at a time: close one before opening the next.

A worker thread creates and owns the engine; ``say()`` only appends to a queue.
"""

from __future__ import annotations

import re
import shutil
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Any, Protocol

from coach.errors import SpeechError

_START_TIMEOUT_S = 10.0
_CLOSE_TIMEOUT_S = 10.0

# Held by the one engine worker alive in the process (see the module notes).
_ENGINE_IN_USE = threading.Lock()


class Speaker(Protocol):
    """Says text aloud without blocking."""

    def say(self, text: str, *, urgent: bool = False) -> None:
        """Queue ``text`` and return at once; ``urgent`` drops whatever is still queued."""
        ...

    @property
    def busy(self) -> bool:
        """True while speaking or while something is queued."""
        ...

    def close(self) -> None:
        """Stop taking text and release the engine."""
        ...


class NullSpeaker:
    """Says nothing (muted, or no speech engine)."""

    def say(self, text: str, *, urgent: bool = False) -> None:
        """Drop ``text``."""

    @property
    def busy(self) -> bool:
        """Never busy."""
        return False

    def close(self) -> None:
        """Nothing to release."""


class RecordingSpeaker:
    """A double that keeps what it would have said, in ``spoken``."""

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def say(self, text: str, *, urgent: bool = False) -> None:
        """Keep ``text``."""
        self.spoken.append(text)

    @property
    def busy(self) -> bool:
        """Never busy."""
        return False

    def close(self) -> None:
        """Nothing to release."""


def _quiet_espeak() -> None:
    # The espeak driver prints "Audio saved to ..." on stdout for every file it
    # writes, which would mix into the coach's own output.
    try:
        from pyttsx3.drivers import espeak
    except Exception:  # the driver fails to import where espeak-ng is missing
        return
    espeak.print = lambda *args, **kwargs: None


class _EngineWorker:
    """A thread that owns one pyttsx3 engine and works through a queue of jobs."""

    def __init__(self, rate: int | None, name: str) -> None:
        self._rate = rate
        self._jobs: deque[tuple[str, Path | None]] = deque()
        self._cond = threading.Condition()
        self._working = False
        self._closed = False
        self._ready = threading.Event()
        self._error: BaseException | None = None
        if not _ENGINE_IN_USE.acquire(blocking=False):
            raise SpeechError("another speaker is still open; close it before opening a new one")
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_S):
            self._close_now()
            raise SpeechError(
                "the speech engine did not start within "
                f"{_START_TIMEOUT_S:.0f} s; run with --mute to go on without voice"
            )
        if self._error is not None:
            raise SpeechError(
                f"the speech engine cannot start ({self._error}); install espeak-ng "
                "(Debian/Ubuntu: sudo apt install espeak-ng) or run with --mute"
            ) from self._error

    @property
    def error(self) -> BaseException | None:
        """The last error the engine raised, if any."""
        return self._error

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._working or bool(self._jobs)

    def put(self, text: str, target: Path | None, *, urgent: bool) -> None:
        with self._cond:
            if self._closed:
                return
            if urgent:
                self._jobs.clear()
            self._jobs.append((text, target))
            self._cond.notify()

    def _close_now(self) -> None:
        with self._cond:
            self._closed = True
            self._jobs.clear()
            self._cond.notify()

    def close(self, *, drain: bool) -> None:
        with self._cond:
            if not drain:
                self._jobs.clear()
            self._closed = True
            self._cond.notify()
        self._thread.join(_CLOSE_TIMEOUT_S)

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            _ENGINE_IN_USE.release()

    def _serve(self) -> None:
        try:
            import pyttsx3

            _quiet_espeak()
            engine: Any = pyttsx3.Engine()
            if self._rate is not None:
                engine.setProperty("rate", self._rate)
        except Exception as exc:  # any failure to start means no voice
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if not self._jobs:
                    break
                text, target = self._jobs.popleft()
                self._working = True
            try:
                if target is None:
                    engine.say(text)
                else:
                    engine.save_to_file(text, str(target))
                engine.runAndWait()
            except Exception as exc:  # a failed utterance must not end the session
                self._error = exc
            finally:
                with self._cond:
                    self._working = False
        del engine


def _speakable(text: str) -> str | None:
    # pyttsx3 ignores blank text and its next runAndWait() would then repeat the
    # previous utterance (or wait forever when there was none).
    text = " ".join(text.split())
    return text if text else None


class _WorkerSpeaker:
    """A speaker whose engine lives in its own worker thread."""

    _worker: _EngineWorker

    @property
    def busy(self) -> bool:
        """True while speaking (or writing) or while something is queued."""
        return self._worker.busy

    @property
    def error(self) -> BaseException | None:
        """The last error the engine raised, if any."""
        return self._worker.error

    def close(self) -> None:
        """Finish what is still queued (the last cue of a session), then stop the worker."""
        self._worker.close(drain=True)


class Pyttsx3Speaker(_WorkerSpeaker):
    """Speaks through pyttsx3 (espeak-ng on Linux) from a worker thread.

    Raises:
        SpeechError: The engine cannot start.
    """

    def __init__(self, rate: int | None = None) -> None:
        self._worker = _EngineWorker(rate, "coach-speech")

    def say(self, text: str, *, urgent: bool = False) -> None:
        """Queue ``text``; an urgent text drops whatever is still queued."""
        clean = _speakable(text)
        if clean is not None:
            self._worker.put(clean, None, urgent=urgent)


def _slug(text: str, length: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:length].rstrip("-") or "cue"


class WavSpeaker(_WorkerSpeaker):
    """Writes each utterance to ``out_dir/NNN_<slug>.wav`` with the real engine.

    Raises:
        SpeechError: The folder cannot be made or the engine cannot start.
    """

    def __init__(self, out_dir: Path, rate: int | None = None) -> None:
        self._out_dir = Path(out_dir)
        try:
            self._out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SpeechError(f"cannot create the folder for spoken cues {out_dir}: {exc}") from exc
        self._count = 0
        self._files: list[Path] = []
        self._worker = _EngineWorker(rate, "coach-speech-wav")

    @property
    def out_dir(self) -> Path:
        """The folder the WAV files go to."""
        return self._out_dir

    @property
    def files(self) -> tuple[Path, ...]:
        """The WAV files written so far, in order."""
        return tuple(path for path in self._files if path.exists())

    def say(self, text: str, *, urgent: bool = False) -> None:
        """Queue ``text`` to be written to the next numbered WAV file."""
        clean = _speakable(text)
        if clean is None:
            return
        self._count += 1
        target = self._out_dir / f"{self._count:03d}_{_slug(clean)}.wav"
        self._files.append(target)
        self._worker.put(clean, target, urgent=urgent)


def open_speaker(*, mute: bool, voice_to: Path | None) -> tuple[Speaker, str | None]:
    """The speaker the session should use, and a warning to show once (or None).

    ``mute`` gives a silent speaker; ``voice_to`` writes WAV files there
    instead of playing sound. When no engine works the session goes on with a
    silent speaker and the warning says why.
    """
    if mute:
        return NullSpeaker(), None
    try:
        if voice_to is not None:
            return WavSpeaker(voice_to), None
        if sys.platform.startswith("linux") and shutil.which("aplay") is None:
            # pyttsx3's espeak driver plays each utterance with aplay.
            raise SpeechError(
                "no audio player found (aplay); install alsa-utils "
                "(Debian/Ubuntu: sudo apt install alsa-utils espeak-ng) or run with --mute"
            )
        return Pyttsx3Speaker(), None
    except SpeechError as exc:
        return NullSpeaker(), f"No voice: {exc}. Cues are shown on screen only."
