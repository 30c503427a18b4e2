"""Speech through pyttsx3, without ever making the caller wait, and cut off at once.

Aloud, each utterance is first written to a WAV file by the engine and then
played by a separate player process (``aplay`` on Linux, ``afplay`` on macOS),
which ``silence()`` ends at once: the person's "stop" or "pause", or a cue
about pain, does not wait for the end of a long introduction.

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
  - An engine's first ``runAndWait()`` returns as soon as the espeak driver
    has started the utterance, not when it ends: the driver handles the loop's
    end command before it starts speaking. Had the worker gone on, a second
    cue would take over the first one's file (or cut it short), and ``busy``
    would be False while the first was still being written. So each utterance
    is over only when the driver says so ("finished-utterance") and, with
    espeak, once espeak's own thread has left the callback that said it: a
    command given before then cancels the next utterance (an empty file).

A worker thread creates and owns the engine; ``say()`` only appends to a queue.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from coach.errors import SpeechError

_START_TIMEOUT_S = 10.0
_CLOSE_TIMEOUT_S = 10.0
# Audio the player hands to the sound card ahead of time; what is left of it
# still sounds after the player is ended, so it bounds the delay of a cut.
PLAYER_BUFFER_S = 0.1
_PLAYER_CHECK_TIMEOUT_S = 5.0
# Longest wait for the driver to finish one utterance: a generous speaking time.
_FINISH_BASE_S = 10.0
_FINISH_PER_CHAR_S = 0.25
_ESPEAK_POLL_S = 0.002

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

    @property
    def aloud(self) -> bool:
        """What is said is heard as it is said, so ``busy`` is the time a listener hears."""
        ...

    @property
    def voice(self) -> str | None:
        """The voice chosen for the language, or None for the engine's default (or none)."""
        ...

    def silence(self) -> None:
        """Drop what is queued and cut off what is being said, at once."""
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

    aloud = False
    voice = None

    def silence(self) -> None:
        """Nothing to cut off."""

    def close(self) -> None:
        """Nothing to release."""


class RecordingSpeaker:
    """A double that keeps what it would have said, in ``spoken``, and counts ``silenced``."""

    def __init__(self) -> None:
        self.spoken: list[str] = []
        self.silenced = 0

    def say(self, text: str, *, urgent: bool = False) -> None:
        """Keep ``text``."""
        self.spoken.append(text)

    @property
    def busy(self) -> bool:
        """Never busy."""
        return False

    aloud = False
    voice = None

    def silence(self) -> None:
        """Count the request."""
        self.silenced += 1

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


def player_command(device: str | None = None) -> list[str] | None:
    """The command that plays a WAV file given after it, or None when there is none.

    ``device`` names the ALSA device on Linux (``aplay -L`` lists them).
    """
    if sys.platform.startswith("linux"):
        aplay = shutil.which("aplay")
        if aplay is None:
            return None
        buffer_us = str(round(PLAYER_BUFFER_S * 1_000_000))
        command = [aplay, "-q", f"--buffer-time={buffer_us}"]
        return [*command, "-D", device] if device else command
    if sys.platform == "darwin":
        afplay = shutil.which("afplay")
        return [afplay] if afplay else None
    return None


class _Player:
    """Plays one WAV file at a time in a child process that ``cut`` ends at once.

    Every ``cut`` starts a new epoch; a file queued in an older epoch is not
    played, so an utterance still being written when the person said stop
    never starts.
    """

    def __init__(self, command: Sequence[str]) -> None:
        self.command = tuple(command)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._epoch = 0
        self.error: str | None = None

    @property
    def epoch(self) -> int:
        with self._lock:
            return self._epoch

    def play(self, path: Path, epoch: int) -> None:
        """Play ``path`` to its end or until cut; nothing when a cut came after ``epoch``."""
        with self._lock:
            if epoch != self._epoch:
                return
            try:
                proc = subprocess.Popen(
                    [*self.command, str(path)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            except OSError as exc:
                self.error = str(exc)
                return
            self._proc = proc
        _, err = proc.communicate()
        with self._lock:
            self._proc = None
            if proc.returncode not in (0, -9) and err:  # -9: cut off on purpose
                self.error = err.decode("utf-8", "replace").strip().splitlines()[-1]

    def cut(self) -> None:
        """End what is playing now, and skip what was queued before this call."""
        with self._lock:
            self._epoch += 1
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()


_WRITE_ATTEMPTS = 3


def _wav_frames(path: Path) -> int:
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes()
    except (OSError, EOFError, wave.Error):
        return 0


def _wait_for_espeak(engine: Any, deadline: float) -> None:
    """Wait until espeak's thread has finished with the last utterance (see the module notes)."""
    if getattr(engine, "driver_name", None) != "espeak":
        return
    from pyttsx3.drivers import _espeak

    while _espeak.IsPlaying() and time.monotonic() < deadline:
        time.sleep(_ESPEAK_POLL_S)


def _utter(engine: Any, finished: threading.Event, text: str, target: Path | None) -> None:
    """Say ``text`` (or write it to ``target``) and return once the driver is done with it."""
    finished.clear()
    if target is None:
        engine.say(text)
    else:
        engine.save_to_file(text, str(target))
    engine.runAndWait()
    # See the module notes: the first utterance is still under way here.
    deadline = time.monotonic() + _FINISH_BASE_S + _FINISH_PER_CHAR_S * len(text)
    if not finished.wait(max(0.0, deadline - time.monotonic())):
        raise SpeechError(f"the speech engine did not finish {text[:40]!r}")
    _wait_for_espeak(engine, deadline)


def _write_wav(engine: Any, finished: threading.Event, text: str, target: Path) -> None:
    """Write ``text`` to ``target`` and check that it holds audio, trying again if not."""
    for _ in range(_WRITE_ATTEMPTS):
        _utter(engine, finished, text, target)
        if _wav_frames(target) > 0:
            return
    raise SpeechError(f"the speech engine wrote no audio for {text[:40]!r}")


class _EngineWorker:
    """A thread that owns one pyttsx3 engine and works through a queue of jobs."""

    def __init__(
        self,
        rate: int | None,
        name: str,
        player: _Player | None = None,
        language: str | None = None,
    ) -> None:
        self._rate = rate
        self._player = player
        self._language = language
        self.voice: str | None = None  # the engine's voice id, once chosen
        # text, the WAV file to write (None: the engine plays it), the player's epoch
        self._jobs: deque[tuple[str, Path | None, int]] = deque()
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
                if self._player is not None:
                    self._player.cut()
            epoch = self._player.epoch if self._player is not None else 0
            self._jobs.append((text, target, epoch))
            self._cond.notify()

    def silence(self) -> None:
        with self._cond:
            self._jobs.clear()
            if self._player is not None:
                self._player.cut()

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
            if self._language is not None:
                voices = [(v.id, list(v.languages or ())) for v in engine.getProperty("voices")]
                self.voice = voice_for(voices, self._language)
                if self.voice is None:
                    raise SpeechError(f"no voice speaks the language {self._language!r}")
                engine.setProperty("voice", self.voice)
        except Exception as exc:  # any failure to start means no voice
            self._error = exc
            self._ready.set()
            return
        finished = threading.Event()
        engine.connect("finished-utterance", lambda **details: finished.set())
        self._ready.set()
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if not self._jobs:
                    break
                text, target, epoch = self._jobs.popleft()
                self._working = True
            try:
                if target is None:
                    _utter(engine, finished, text, None)
                else:
                    _write_wav(engine, finished, text, target)
                if self._player is not None and target is not None:
                    self._player.play(target, epoch)
                    target.unlink(missing_ok=True)
            except Exception as exc:  # a failed utterance must not end the session
                self._error = exc
            finally:
                with self._cond:
                    self._working = False
        del engine


def voice_for(voices: list[tuple[str, list[str]]], language: str) -> str | None:
    """The id of the voice that speaks ``language`` (e.g. "es"): an exact match first,
    then a regional one ("es-419"), else None."""
    wanted = language.lower()

    def codes(langs: list[str]) -> list[str]:
        return [str(x).lower() for x in langs]

    for voice_id, langs in voices:
        if wanted in codes(langs):
            return voice_id
    for voice_id, langs in voices:
        if any(code.startswith(wanted + "-") for code in codes(langs)):
            return voice_id
    return None


def _speakable(text: str) -> str | None:
    # pyttsx3 ignores blank text and its next runAndWait() would then repeat the
    # previous utterance (or wait forever when there was none).
    text = " ".join(text.split())
    return text if text else None


class _WorkerSpeaker:
    """A speaker whose engine lives in its own worker thread."""

    _worker: _EngineWorker
    aloud = False  # writes files; the speakers heard aloud say so

    @property
    def busy(self) -> bool:
        """True while speaking (or writing) or while something is queued."""
        return self._worker.busy

    @property
    def error(self) -> BaseException | None:
        """The last error the engine raised, if any."""
        return self._worker.error

    def silence(self) -> None:
        """Drop what is queued; what is being said ends at once when the speaker can cut it."""
        self._worker.silence()

    @property
    def voice(self) -> str | None:
        """The voice chosen for the language, or None for the engine's default."""
        return self._worker.voice

    def close(self) -> None:
        """Finish what is still queued (the last cue of a session), then stop the worker."""
        self._worker.close(drain=True)


class Pyttsx3Speaker(_WorkerSpeaker):
    """Speaks through pyttsx3 (espeak-ng on Linux) from a worker thread.

    Raises:
        SpeechError: The engine cannot start.
    """

    aloud = True

    def __init__(self, rate: int | None = None, *, language: str | None = None) -> None:
        self._worker = _EngineWorker(rate, "coach-speech", language=language)

    def say(self, text: str, *, urgent: bool = False) -> None:
        """Queue ``text``; an urgent text drops whatever is still queued."""
        clean = _speakable(text)
        if clean is not None:
            self._worker.put(clean, None, urgent=urgent)


class PlayingSpeaker(_WorkerSpeaker):
    """Speaks aloud and can be cut off: the engine writes each utterance, a player plays it.

    Args:
        command: The player and its options; the WAV file's path is added last.
            By default ``player_command()``.
        rate: Words per minute, or the engine's default.

    Raises:
        SpeechError: No player, or the engine cannot start.
    """

    aloud = True

    def __init__(
        self,
        command: Sequence[str] | None = None,
        rate: int | None = None,
        *,
        language: str | None = None,
    ) -> None:
        command = list(command) if command is not None else player_command()
        if not command:
            raise SpeechError(
                "no audio player found (aplay); install alsa-utils "
                "(Debian/Ubuntu: sudo apt install alsa-utils espeak-ng) or run with --mute"
            )
        self._dir = Path(tempfile.mkdtemp(prefix="coach-voice-"))  # owner-only
        self._count = 0
        self._player = _Player(command)
        try:
            self._worker = _EngineWorker(rate, "coach-speech", self._player, language)
        except SpeechError:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise

    @property
    def player_error(self) -> str | None:
        """The player's last complaint (no sound device, say), if any."""
        return self._player.error

    def check_player(self) -> str | None:
        """Play a moment of silence; what the player said when it could not, else None."""
        probe = self._dir / "check.wav"
        with wave.open(str(probe), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(22050)
            wav.writeframes(bytes(2 * 22050 // 20))  # 50 ms
        try:
            done = subprocess.run(
                [*self._player.command, str(probe)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=_PLAYER_CHECK_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"no answer within {_PLAYER_CHECK_TIMEOUT_S:.0f} s"
        except OSError as exc:
            return str(exc)
        finally:
            probe.unlink(missing_ok=True)
        if done.returncode == 0:
            return None
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {done.returncode}"

    def say(self, text: str, *, urgent: bool = False) -> None:
        """Queue ``text``; an urgent text cuts off what is being said and drops the queue."""
        clean = _speakable(text)
        if clean is None:
            return
        self._count += 1
        self._worker.put(clean, self._dir / f"{self._count:05d}.wav", urgent=urgent)

    def close(self) -> None:
        """Say what is still queued (the last cue of a session), then release the engine."""
        super().close()
        shutil.rmtree(self._dir, ignore_errors=True)


def _slug(text: str, length: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:length].rstrip("-") or "cue"


class WavSpeaker(_WorkerSpeaker):
    """Writes each utterance to ``out_dir/NNN_<slug>.wav`` with the real engine.

    Raises:
        SpeechError: The folder cannot be made or the engine cannot start.
    """

    def __init__(
        self, out_dir: Path, rate: int | None = None, *, language: str | None = None
    ) -> None:
        self._out_dir = Path(out_dir)
        try:
            self._out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SpeechError(f"cannot create the folder for spoken cues {out_dir}: {exc}") from exc
        self._count = 0
        self._files: list[Path] = []
        self._worker = _EngineWorker(rate, "coach-speech-wav", language=language)

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


def open_speaker(
    *, mute: bool, voice_to: Path | None, language: str = "en"
) -> tuple[Speaker, str | None]:
    """The speaker the session should use, and a warning to show once (or None).

    ``mute`` gives a silent speaker; ``voice_to`` writes WAV files there
    instead of playing sound. When no engine works the session goes on with a
    silent speaker and the warning says why. A language other than English
    speaks with a voice of that language.
    """
    voice_language = None if language == "en" else language
    if mute:
        return NullSpeaker(), None
    try:
        if voice_to is not None:
            return WavSpeaker(voice_to, language=voice_language), None
        if sys.platform.startswith("linux") or player_command() is not None:
            speaker = PlayingSpeaker(language=voice_language)
            problem = speaker.check_player()
            if problem is not None:
                speaker.close()
                raise SpeechError(
                    f"the audio player cannot play ({problem}); check the sound output, "
                    "or run with --mute"
                )
            return speaker, None
        # Elsewhere without a player the engine speaks itself, and cannot be cut off.
        return Pyttsx3Speaker(language=voice_language), None
    except SpeechError as exc:
        return NullSpeaker(), f"No voice: {exc}. Cues are shown on screen only."
