"""The guided session: builds the parts and runs the frame loop.

This is the composition root. It reads the clock (the core never does),
turns key presses into commands, hands cues to the speaker without waiting
for it, and keeps the record whatever happens: the session ending, the video
ending, the camera stalling, the window closing or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rich.console import Console

from coach.adapters.frames import DEFAULT_FPS, Frame, FrameSource
from coach.adapters.routine_store import DEFAULT_ROUTINE
from coach.adapters.storage import default_recordings_dir
from coach.app.pipeline import FramePipeline
from coach.core.catalog import check_language
from coach.core.cues import Cue, CuePolicy, Priority
from coach.core.events import Event, EventKind
from coach.core.exercises import PERCEPTION
from coach.core.features import LANDMARKS_ONLY, Perception
from coach.core.progression import DoseChange
from coach.core.record import summarize
from coach.core.routine import Routine
from coach.core.safety import SafetyResult, assess
from coach.core.session import Phase, SessionController
from coach.errors import CameraStalledError, CoachError
from coach.text import shown

EXIT_OK = 0
EXIT_INTERRUPTED = 130
WINDOW_TITLE = "coach"
DRAIN_TIMEOUT_S = 20.0  # longest wait for the last cues to be spoken at the end
DRAIN_POLL_S = 0.05
BAD_FRAME_LIMIT = 30  # this many failed frames in a row end the session
OVERLAY_MAX_WIDTH = 960  # larger frames are shown and saved at this width
KEY_POLL_S = 0.1
SESSION_ENDS = frozenset({EventKind.SESSION_STOPPED, EventKind.SESSION_COMPLETED})


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """Everything ``coach run`` can be told; the defaults give a live session."""

    routine: str | None = None
    patient: str | None = None
    language: str | None = None
    source: str | None = None
    camera: int = 0
    answers: str | None = None
    pain_before: int | None = None
    pain_after: int | None = None
    headless: bool = False
    mute: bool = False
    voice_to: Path | None = None
    out: Path | None = None
    save_video: bool = False
    model: Path | None = None
    realtime: bool = True
    high_contrast: bool | None = None  # None: as the routine says


@dataclass
class RunResult:
    """What a run left behind."""

    exit_code: int
    folder: Path | None
    completed: bool
    stopped: str | None
    summary: dict[str, Any] = field(default_factory=dict)
    spoken: list[dict[str, Any]] = field(default_factory=list)


# ----------------------------------------------------------------- frame sources
class LivePlayback:
    """A video or image folder played as if it were a camera.

    A thread decodes frames and releases each at its own time on the wall
    clock, keeping only the newest: a consumer slower than the video skips
    frames, exactly as it would with a live camera.
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
        self._stop.set()
        self._thread.join(timeout=5.0)
        self._source.close()


@dataclass
class OpenedSource:
    """A frame source ready for the loop, and what to tell the record about it."""

    frames: FrameSource
    description: str
    fps: float
    live: bool  # frames arrive on the wall clock (camera, or a video played as live)
    # What was wrong with a recorded source (cut off, odd frame rate, unreadable
    # images); filled in while it is read.
    notes: list[str] = field(default_factory=list)
    replay: bool = False  # a recording played as if live, from ``start()`` on

    def start(self) -> FrameSource:
        """The frames for the loop; a recording played as live starts its clock now."""
        if self.replay and not isinstance(self.frames, LivePlayback):
            self.frames = LivePlayback(self.frames)
        return self.frames


SOURCE_KINDS = {
    "VideoFileSource": "video",
    "ImageFolderSource": "images",
    "ImageFileSource": "image",
}


def open_source(source: str | None, camera: int, *, realtime: bool) -> OpenedSource:
    """The camera (by default or by index), a video file, an image or a folder of images.

    A recorded source is played as if live when ``realtime`` is set (from
    ``OpenedSource.start()`` on), else every frame is read as fast as the loop
    takes them.

    Raises:
        SourceError: The source cannot be opened, with what to do.
    """
    from coach.adapters import frames

    spec: str | int = camera if source is None else source
    opened = frames.open_source(spec)
    fps = float(getattr(opened, "fps", DEFAULT_FPS))
    if isinstance(spec, int) or str(spec).strip().isdigit():
        return OpenedSource(opened, f"camera:{int(spec)}", fps, live=True)
    kind = SOURCE_KINDS.get(type(opened).__name__, "file")
    description = f"{kind}:{Path(str(spec)).expanduser()}"
    notes: list[str] = getattr(opened, "notes", [])
    # Played as live only from start(): questions asked before then cost no frames.
    return OpenedSource(opened, description, fps, live=realtime, notes=notes, replay=realtime)


# ------------------------------------------------------------------------ speech
class SpeechGate:
    """Says whether the speaker is free for the next cue.

    Live, that is the speaker's own word. When frames come faster or slower
    than the wall clock (a video read as fast as possible), or when nothing
    is spoken aloud, speaking time is estimated on the frame clock instead, so
    the same cues are said at the same moments of the session either way.
    """

    def __init__(
        self, speaker: Any, *, use_speaker: bool, speech_s: Callable[[str], float]
    ) -> None:
        self._speaker = speaker
        self._use_speaker = use_speaker
        self._speech_s = speech_s
        self._until = -1.0
        self._saying_urgent = False

    @property
    def live(self) -> bool:
        """The speaker's own busy flag is used (frames come on the wall clock)."""
        return self._use_speaker

    def busy(self, t_s: float) -> bool:
        """Whether the next cue must wait."""
        if self._use_speaker:
            return bool(self._speaker.busy)
        return t_s < self._until

    def cuts_in(self, pending: tuple[Cue, ...]) -> bool:
        """An urgent cue waits (stop, pain) and what is being said is not urgent itself."""
        return not self._saying_urgent and any(c.priority is Priority.URGENT for c in pending)

    def say(self, cue: Cue, t_s: float) -> None:
        """Hand the cue to the speaker; returns at once."""
        # Stop and pain cues cut off what is being said and drop what is queued.
        urgent = cue.priority is Priority.URGENT
        self._speaker.say(cue.text, urgent=urgent)
        self._saying_urgent = urgent
        self._until = t_s + self._speech_s(cue.text)

    def silence(self, t_s: float) -> None:
        """Cut off what is being said, now."""
        self._speaker.silence()
        self._saying_urgent = False
        self._until = t_s


# ------------------------------------------------------------------------- keys
class TerminalKeys:
    """Keys pressed in the terminal, for a session without a window (POSIX terminals).

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
        self._thread.join(timeout=1.0)
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)


KEY_COMMANDS: dict[int, str] = {
    ord(" "): "pause",
    ord("p"): "pause",
    ord("s"): "skip",
    ord("n"): "skip",
    ord("q"): "stop",
    27: "stop",  # Esc
}


@dataclass
class LoopStats:
    """Timing of the frame loop, for the summary and the benchmark."""

    frames: int = 0
    started: float = 0.0
    ended: float = 0.0
    intervals_ms: list[float] = field(default_factory=list)
    speaking: list[bool] = field(default_factory=list)
    # For each cue said, in order: (wall time offered, wall time said, speaker was idle).
    cue_times: list[tuple[float, float, bool]] = field(default_factory=list)
    bad_frames: int = 0

    @property
    def fps(self) -> float:
        span = self.ended - self.started
        return (self.frames - 1) / span if self.frames > 1 and span > 0 else 0.0


def _display_size(image: Any) -> Any:
    """The frame at most OVERLAY_MAX_WIDTH wide: drawing, showing and saving full HD is slow."""
    height, width = image.shape[:2]
    if width <= OVERLAY_MAX_WIDTH:
        return image
    import cv2

    size = (OVERLAY_MAX_WIDTH, max(1, round(height * OVERLAY_MAX_WIDTH / width)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


class SessionLoop:
    """Runs one session over a frame source; every part is handed in, so tests can swap them.

    Args:
        routine: The routine to follow.
        controller: The session controller for it.
        estimator: Finds the pose in each frame.
        speaker: Says the cues (never waited for).
        recorder: Keeps the record, or None.
        window: Shows the overlay and returns keys, or None when headless.
        video_writer: Saves the overlay frames, or None.
        console: Where cues are printed when there is no window.
        live: Frames arrive on the wall clock (a camera, or a video played as live).
        use_speaker: Pace cues by the speaker's own busy flag (live only); else by
            the estimate of speaking time on the frame clock.
        keys: Keys pressed in the terminal (``pressed()``), or None.
        clock: The wall clock, for the loop's timing figures.
        style: How the overlay looks (``OverlayStyle``); None for the standard look.
    """

    def __init__(
        self,
        *,
        routine: Routine,
        controller: SessionController,
        estimator: Any,
        speaker: Any,
        recorder: Any | None,
        window: Any | None,
        video_writer: Any | None,
        console: Console,
        live: bool,
        use_speaker: bool,
        keys: Any | None = None,
        clock: Callable[[], float] = time.perf_counter,
        style: Any = None,
    ) -> None:
        self.routine = routine
        self.controller = controller
        self.estimator = estimator
        self.speaker = speaker
        self.recorder = recorder
        self.window = window
        self.video_writer = video_writer
        self.console = console
        self.live = live
        self.keys = keys
        self.clock = clock
        self.style = style
        self.policy = CuePolicy(routine.cues)
        self.gate = SpeechGate(
            speaker, use_speaker=use_speaker and live, speech_s=controller.speech_s
        )
        self.pipeline = FramePipeline(
            estimator,
            camera=routine.camera,
            perception=self._perception(),
            bad_frame_limit=BAD_FRAME_LIMIT - 1,
        )
        # Every other setting the routine will need is made ready in the
        # background now, so moving to the next exercise costs no frame.
        for spec in routine.exercises:
            self.pipeline.prepare(PERCEPTION[spec.kind])
        self.events: list[Event] = []
        self.spoken: list[dict[str, Any]] = []
        self.stats = LoopStats()
        self.last_t = 0.0
        # id of an offered Cue -> (wall time it was offered, speaker busy then)
        self._offered_at: dict[int, tuple[float, bool]] = {}

    # ------------------------------------------------------------- events, cues
    def handle(self, events: list[Event], t_s: float) -> None:
        """Record events and offer their cues to the policy."""
        now = self.clock()
        for event in events:
            self.events.append(event)
            if self.recorder is not None:
                self.recorder.event(event)
            if event.kind is EventKind.CUE:
                cue = Cue(
                    str(event["key"]), str(event["text"]), Priority(int(event["priority"])), t_s
                )
                self._offered_at[id(cue)] = (now, self.gate.busy(t_s))
                self.policy.offer(cue)

    def speak(self, t_s: float, *, wait: bool = True) -> None:
        """Hand the next cue to the speaker when it is free (or at once); never blocks."""
        busy = wait and self.gate.busy(t_s) and not self.gate.cuts_in(self.policy.pending)
        cue = self.policy.next(t_s, busy)
        if cue is None:
            return
        offered_at, was_busy = self._offered_at.pop(id(cue), (self.clock(), True))
        self.gate.say(cue, t_s)
        self.stats.cue_times.append((offered_at, self.clock(), not was_busy))
        self.spoken.append({"t_s": round(t_s, 3), "key": cue.key, "text": cue.text})
        if self.window is None:
            self.console.print(f"[cyan]coach:[/] {shown(cue.text, 1000)}")
        if len(self._offered_at) > 256:  # cues dropped by the policy are never handed out
            self._offered_at.clear()

    def command(self, name: str, t_s: float) -> None:
        """Run a person's command: pause (toggles), skip or stop; pause and stop hush the voice."""
        if name in ("pause", "stop"):
            self.gate.silence(t_s)
        self.handle(self.controller.command(name, t_s, by="key"), t_s)

    # ------------------------------------------------------------------- frames
    def _perception(self) -> Perception:
        """What the exercise under way (or about to start) reads from each frame."""
        spec = self.controller.current
        return PERCEPTION[spec.kind] if spec is not None else LANDMARKS_ONLY

    def step(self, frame: Frame) -> None:
        """One frame: pose, features, session, cues, record, overlay, keys."""
        t_s = frame.t_s
        self.last_t = t_s
        # Shrunk once for the model and the overlay alike: the landmarks are
        # then in the drawn image's pixels, and a full-HD frame is not resized twice.
        image = _display_size(frame.image)
        self.pipeline.perceive(self._perception())
        seen = self.pipeline.see(image, t_s)
        pose, features = seen.pose, seen.features
        self.stats.bad_frames = self.pipeline.bad_frames
        self.handle(self.controller.update(features, t_s), t_s)
        self.speak(t_s)
        ctrl = self.controller
        if self.recorder is not None:
            spec = ctrl.current
            exercise = (
                spec.kind.value if spec is not None and ctrl.phase is not Phase.SETUP else None
            )
            state = ctrl.state
            self.recorder.frame(
                t_s, exercise, state.value if state is not None else None, features.values
            )
        if self.window is not None or self.video_writer is not None:
            from coach.adapters.overlay import STANDARD, render

            drawn = render(
                image, pose, ctrl.view, self.style or STANDARD, labels=self.routine.session_cues
            )
            if self.video_writer is not None:
                self.video_writer.write(drawn)
            if self.window is not None:
                key = self.window.show(drawn)
                if key == self.window.CLOSED:
                    self.handle(ctrl.stop(t_s, "window_closed"), t_s)
                elif key in KEY_COMMANDS:
                    self.command(KEY_COMMANDS[key], t_s)
        if self.keys is not None:
            for key in self.keys.pressed():
                if key in KEY_COMMANDS and not ctrl.done:
                    self.command(KEY_COMMANDS[key], t_s)
        self._tick()

    def _tick(self) -> None:
        now = self.clock()
        stats = self.stats
        if stats.frames == 0:
            stats.started = now
        else:
            stats.intervals_ms.append((now - stats.ended) * 1000.0)
            stats.speaking.append(bool(self.speaker.busy))
        stats.ended = now
        stats.frames += 1

    def run(self, frames: FrameSource) -> str | None:
        """Run until the session ends, the frames end, or Ctrl-C; returns why it stopped early.

        Returns:
            None when the session ended by itself (completed or stopped by a
            command), else "source_ended", "camera_stalled" or "interrupted".
        """
        try:
            for frame in frames:
                self.step(frame)
                if self.controller.done:
                    return None
        except KeyboardInterrupt:
            self.handle(self.controller.stop(self.last_t, "interrupted"), self.last_t)
            return "interrupted"
        except CameraStalledError as exc:
            self.console.print(f"[yellow]{shown(exc, 1000)}[/]")
            self.handle(self.controller.stop(self.last_t, "camera_stalled"), self.last_t)
            return "camera_stalled"
        if not self.controller.done:
            self.handle(self.controller.stop(self.last_t, "source_ended"), self.last_t)
            return "source_ended"
        return None

    def drain(self, timeout_s: float = DRAIN_TIMEOUT_S) -> None:
        """Say the cues still waiting (the last words: done, stopped, pain), within a time limit.

        Live, each waits for the voice to be free. Offline, the frame clock has
        ended, so they are handed over in order at once.
        """
        deadline = self.clock() + timeout_s
        try:
            while self.policy.pending and self.clock() < deadline:
                if self.gate.live and self.gate.busy(self.last_t):
                    time.sleep(DRAIN_POLL_S)
                    continue
                before = len(self.spoken)
                self.speak(self.last_t, wait=False)
                if len(self.spoken) == before:
                    break  # what was left has gone stale
        except KeyboardInterrupt:
            pass  # the last words are not worth a second Ctrl-C


# ------------------------------------------------------------------- the session
@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Inside the block, a termination request (SIGTERM) stops the session like Ctrl-C."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _summary_lines(summary: dict[str, Any]) -> list[str]:
    lines = []
    for item in summary.get("exercises", []):
        achieved = item.get("achieved", {})
        prescribed = item.get("prescribed", {})
        status = "skipped" if item.get("skipped") else ("done" if item.get("completed") else "")
        if item.get("ended") == "no_progress":
            seconds = float(item.get("no_progress_s") or 0.0)
            status = f"moved on (nothing counted for {seconds:g} s)"
        if not item.get("started"):
            status = "not started"
        lines.append(
            f"  {item.get('title')}: {achieved.get('reps_toward_dose', 0)} of "
            f"{prescribed.get('target')} {prescribed.get('unit', '')} {status}".rstrip()
        )
    pain = summary.get("pain", {})
    before, after = pain.get("before"), pain.get("after")
    if before is not None or after is not None:
        lines.append(
            f"  Pain: before {'-' if before is None else before}, "
            f"after {'-' if after is None else after}"
        )
    return lines


@dataclass
class _Parts:
    """What a session needs, opened and checked before the first question."""

    source: OpenedSource
    estimator: Any
    speaker: Any
    window: Any | None
    style: Any
    language: str

    def ask(self) -> Any | None:
        """Asks in the window when there is one (a ``WindowPrompter``), else None."""
        if self.window is None:
            return None
        from coach.app.window_prompts import WindowPrompter

        return WindowPrompter(self.window, self.speaker, self.style, language=self.language)


def _open_parts(
    routine: Routine, options: RunOptions, console: Console, stack: contextlib.ExitStack
) -> _Parts:
    """The voice, the camera (or video), the pose model and the window, in that order.

    The voice comes first so that a missing camera is said aloud as well as
    shown; all of it comes before the safety questions, so nobody answers
    them only to hear that the session cannot start.
    """
    from coach.adapters.overlay import OverlayWindow, display_available, overlay_style
    from coach.adapters.pose_model import MediaPipePoseEstimator
    from coach.adapters.speech import open_speaker
    from coach.errors import SourceError

    speaker, warning = open_speaker(
        mute=options.mute, voice_to=options.voice_to, language=routine.language
    )
    stack.callback(speaker.close)
    if warning:
        console.print(f"[yellow]{shown(warning, 1000)}[/]")
    try:
        source = open_source(options.source, options.camera, realtime=options.realtime)
    except SourceError:
        what = "the camera" if options.source is None else "the video"
        speaker.say(f"I cannot open {what}. The details are on the screen.", urgent=True)
        raise
    stack.callback(lambda: source.frames.close())
    # Set-up needs the landmarks alone; the session loop asks for the
    # silhouette when an exercise that reads the back's curve comes.
    estimator = MediaPipePoseEstimator(options.model, mode="video", segmentation=False)
    stack.callback(estimator.close)
    high_contrast = (
        routine.session.high_contrast if options.high_contrast is None else options.high_contrast
    )
    window = None
    if not options.headless:
        if display_available():
            window = OverlayWindow(WINDOW_TITLE)
            stack.callback(window.close)
        else:
            console.print("[yellow]No display found: running without the window.[/]")
    voice = "off" if options.mute or warning else ("to files" if options.voice_to else "on")
    console.print(
        f"Ready: {shown(source.description, 1000)}, pose model loaded, voice {voice}"
        + (", window open." if window is not None else ".")
    )
    style = overlay_style(high_contrast=high_contrast)
    return _Parts(source, estimator, speaker, window, style, routine.language)


def _safety_only(
    routine: Routine,
    result: SafetyResult,
    answers: dict[str, bool],
    options: RunOptions,
    console: Console,
    speaker: Any,
) -> RunResult:
    """A red flag: no exercises; say why, and keep the record."""
    from coach.adapters.storage import SessionRecorder, default_recordings_dir

    controller = SessionController(routine, safety=result)
    events = controller.start(0.0)
    root = options.out or default_recordings_dir()
    with SessionRecorder(root, name=routine.name) as recorder:
        recorder.start(routine=routine, source="none", started_at=datetime.now())
        recorder.safety(answers, None, result="stop")
        for event in events:
            recorder.event(event)
        console.print(f"[bold red]{shown(result.message, 1000)}[/]")
        spoken = []
        speaker.silence()
        for event in events:
            if event.kind is EventKind.CUE:
                speaker.say(str(event["text"]))
                spoken.append({"t_s": 0.0, "key": event["key"], "text": event["text"]})
        summary = summarize(routine, events, complete=False)
        summary["spoken"] = spoken
        recorder.finish(summary)
        folder = recorder.folder
    console.print(f"Record saved in {shown(folder, 1000)}")
    return RunResult(EXIT_OK, folder, False, "safety", summary, spoken)


def _for_patient(routine: Routine, patient: str) -> Routine:
    """The routine with the session's patient named (``--patient``)."""
    from coach.core.routine import is_routine_name

    if not is_routine_name(patient):
        raise CoachError(
            f"{patient!r} is not a patient name; use lower-case letters, digits and '-' "
            "(e.g. anna-k)"
        )
    return dataclasses.replace(routine, patient=patient)


def run_session(options: RunOptions, console: Console | None = None) -> RunResult:
    """The whole guided session: checks, questions, camera set-up, exercises, summary.

    The voice, the camera, the pose model and the window are opened and
    checked first; then the safety questions and the pain before are asked,
    in the window when there is one (and read aloud), else in the terminal.

    Raises:
        CoachError: Something needed cannot be opened (routine, model, camera,
            video), with what to do; the record of a started session is kept.
    """
    from coach.adapters.routine_store import open_routine
    from coach.app.prompts import ask_pain, ask_safety, interactive, parse_answers, safety_texts
    from coach.app.run_checks import check_run_options

    console = console or Console()
    check_run_options(options)
    if options.language is not None:
        check_language(options.language)
    routine = open_routine(options.routine or DEFAULT_ROUTINE, language=options.language)
    if options.patient is not None:
        routine = _for_patient(routine, options.patient)
    progress: tuple[DoseChange, ...] = ()
    if routine.progression:
        routine, progress = _progress(routine, options.out or default_recordings_dir(), console)
    given = parse_answers(options.answers) if options.answers is not None else None
    if options.headless and not interactive():
        # Nobody can answer what was not given: refuse before opening anything.
        given = ask_safety(console, given)
    console.print(f"[bold]{shown(routine.title)}[/]  ({len(routine.exercises)} exercises)")
    with contextlib.ExitStack() as stack:
        parts = _open_parts(routine, options, console, stack)
        prompter = parts.ask()
        answers = (
            prompter.ask_safety(given)
            if prompter
            else ask_safety(console, given, language=routine.language)
        )
        try:
            result = assess(answers, safety_texts(routine.language))
        except ValueError as exc:
            raise CoachError(f"Safety answers: {exc}.") from exc
        if not result.proceed:
            run = _safety_only(routine, result, answers, options, console, parts.speaker)
        else:
            if result.advisories:
                console.print(f"[yellow]{shown(result.message, 1000)}[/]")
            if prompter:
                pain_before = prompter.ask_pain("before", options.pain_before)
            else:
                pain_before = ask_pain(
                    console, "before", options.pain_before, language=routine.language
                )
            run = _run_exercises(
                routine, result, answers, pain_before, options, console, parts, progress
            )
    return run


def _progress(
    routine: Routine, records: Path, console: Console
) -> tuple[Routine, tuple[DoseChange, ...]]:
    """The routine after its progression rules, read against this patient's earlier sessions.

    The changes are printed, and said after the welcome.
    """
    from coach.adapters.storage import list_sessions, load_session
    from coach.core.progression import apply_progression
    from coach.core.record import session_outcome
    from coach.errors import SessionDataError

    outcomes = []
    for path in list_sessions(records) if records.is_dir() else []:
        try:
            data = load_session(path)
        except SessionDataError:
            continue  # history shows what cannot be read
        outcome = session_outcome(data) if data.patient == routine.patient else None
        if outcome is not None:
            outcomes.append(outcome)
    result = apply_progression(routine, outcomes)
    titles: dict[str, str] = {spec.kind.value: spec.title for spec in result.routine.exercises}
    said = []
    for change in result.changes:
        mark = "[green]changed[/]" if change.changed else "kept"
        title = shown(titles.get(change.exercise, change.exercise))
        console.print(
            f"Progression: {title} {change.dose} "
            f"{change.before:g} -> {change.after:g} ({mark}: {change.reason})"
        )
        way = "up" if change.after > change.before else "down"
        text = result.routine.session_cues.get(f"progress_{way}_{change.dose}")
        if change.changed and text:
            said.append(
                text.format(
                    title=titles.get(change.exercise, change.exercise),
                    before=f"{change.before:g}",
                    after=f"{change.after:g}",
                )
            )
    routine = result.routine
    if said:
        cues = {
            **routine.session_cues,
            "welcome": " ".join([routine.session_cues["welcome"], *said]),
        }
        routine = dataclasses.replace(routine, session_cues=MappingProxyType(cues))
    return routine, result.changes


def _run_exercises(
    routine: Routine,
    safety: SafetyResult,
    answers: dict[str, bool],
    pain_before: int | None,
    options: RunOptions,
    console: Console,
    parts: _Parts,
    progress: tuple[DoseChange, ...] = (),
) -> RunResult:
    from coach.adapters.speech import PlayingSpeaker, Pyttsx3Speaker
    from coach.adapters.storage import SessionRecorder, default_recordings_dir
    from coach.app.prompts import ask_pain

    controller = SessionController(routine, safety=safety)
    source, window, speaker = parts.source, parts.window, parts.speaker
    with contextlib.ExitStack() as stack:
        keys = TerminalKeys.open() if window is None else None
        if keys is not None:
            stack.callback(keys.close)
        if window is not None or keys is not None:
            where = "in the window" if window is not None else "here in the terminal"
            console.print(
                f"Keys {where}: space pause/resume · s skip · q stop (Ctrl-C also stops)."
            )
        if routine.session.controls.enabled:
            console.print(
                "From the mat: sit or kneel up and keep still to pause; then both hands "
                "above your head carry on, one hand skips; leaving the mat stops."
            )
        recorder = stack.enter_context(
            SessionRecorder(options.out or default_recordings_dir(), name=routine.name)
        )
        recorder.start(
            routine=routine,
            source=source.description,
            started_at=datetime.now(),
            extra={
                "voice": getattr(speaker, "voice", None),
                **({"progression": [c.to_dict() for c in progress]} if progress else {}),
            },
        )
        recorder.safety(answers, pain_before, result="proceed")
        writer = None
        if options.save_video:
            from coach.adapters.video_writer import AnnotatedVideoWriter

            writer = stack.enter_context(AnnotatedVideoWriter(recorder.folder, source.fps))
        loop = SessionLoop(
            routine=routine,
            controller=controller,
            estimator=parts.estimator,
            speaker=speaker,
            recorder=recorder,
            window=window,
            video_writer=writer,
            console=console,
            live=source.live,
            # Only a voice heard aloud paces the cues by its own time; WAV files
            # and silence are paced by the estimate, as a listener would hear them.
            use_speaker=isinstance(speaker, PlayingSpeaker | Pyttsx3Speaker),
            keys=keys,
            style=parts.style,
        )
        loop.handle(controller.start(0.0), 0.0)
        if pain_before is not None:
            loop.handle(controller.rate_pain("before", pain_before, 0.0), 0.0)
        with _terminate_as_interrupt():
            early = loop.run(source.start())
        loop.drain()
        if keys is not None:
            keys.close()  # the terminal answers the last question in its usual mode
        interrupted = early == "interrupted"
        prompter = parts.ask()
        pain_after: int | None = None
        if not interrupted:
            try:
                if prompter is not None:
                    pain_after = prompter.ask_pain("after", options.pain_after)
                else:
                    pain_after = ask_pain(
                        console, "after", options.pain_after, language=routine.language
                    )
            except KeyboardInterrupt:
                interrupted = True
        elif options.pain_after is not None:
            pain_after = ask_pain(console, "after", options.pain_after, language=routine.language)
        if window is not None:
            window.close()
        if pain_after is not None:
            # Rated as the session ended: a person who left the mat is not
            # timed for the wait before the coach ended it.
            ended = next(
                (e.t_s for e in reversed(loop.events) if e.kind in SESSION_ENDS), loop.last_t
            )
            loop.handle(controller.rate_pain("after", pain_after, ended), ended)
            loop.drain()
        completed = any(e.kind is EventKind.SESSION_COMPLETED for e in loop.events)
        summary = summarize(routine, loop.events, complete=completed)
        summary["spoken"] = loop.spoken
        summary["loop"] = {
            "frames": loop.stats.frames,
            "fps": round(loop.stats.fps, 1),
            "dropped": getattr(source.frames, "dropped", 0),
        }
        if source.notes:
            summary["source_notes"] = list(source.notes)
        for note in source.notes:
            console.print(f"[yellow]note:[/] {shown(note, 1000)}")
        recorder.finish(summary)
        folder = recorder.folder
    stopped = next(
        (str(e["reason"]) for e in reversed(loop.events) if e.kind is EventKind.SESSION_STOPPED),
        None,
    )
    console.print("[bold]Session " + ("completed" if completed else f"stopped ({stopped})") + "[/]")
    for line in _summary_lines(summary):
        console.print(shown(line, 1000))
    console.print(f"Record saved in {shown(folder, 1000)}")
    code = EXIT_INTERRUPTED if interrupted else EXIT_OK
    return RunResult(code, folder, completed, stopped, summary, loop.spoken)


__all__ = [
    "DEFAULT_ROUTINE",
    "LivePlayback",
    "OpenedSource",
    "RunOptions",
    "RunResult",
    "SessionLoop",
    "SpeechGate",
    "open_source",
    "run_session",
]
