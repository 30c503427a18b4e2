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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from rich.console import Console

from coach.adapters.frames import Frame, FrameSource
from coach.adapters.keys import KeySource, TerminalKeys
from coach.adapters.playback import OpenedSource
from coach.adapters.routine_store import DEFAULT_ROUTINE
from coach.adapters.speech import Speaker
from coach.adapters.storage import Recorder, default_recordings_dir
from coach.app.pipeline import FramePipeline, Seen
from coach.app.voice import Voice
from coach.core.catalog import check_language
from coach.core.controls import Command
from coach.core.events import Event, EventKind
from coach.core.exercises import PERCEPTION
from coach.core.features import LANDMARKS_ONLY, Features, Perception
from coach.core.pose import Pose
from coach.core.progression import DoseChange
from coach.core.record import summarize
from coach.core.routine import Routine
from coach.core.safety import SafetyResult, assess
from coach.core.session import Phase, SessionController
from coach.errors import CameraStalledError, CoachError
from coach.text import shown

if TYPE_CHECKING:
    from coach.adapters.overlay import OverlayStyle, Window
    from coach.adapters.pose_model import PoseEstimator
    from coach.adapters.video_writer import FrameWriter
    from coach.app.window_prompts import WindowPrompter

EXIT_OK = 0
EXIT_INTERRUPTED = 130
WINDOW_TITLE = "coach"
DRAIN_TIMEOUT_S = 20.0  # longest wait for the last cues to be spoken at the end
DRAIN_POLL_S = 0.05
BAD_FRAME_LIMIT = 30  # this many failed frames in a row end the session
OVERLAY_MAX_WIDTH = 960  # larger frames are shown and saved at this width
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


KEY_COMMANDS: dict[int, Command] = {
    ord(" "): Command.PAUSE,
    ord("p"): Command.PAUSE,
    ord("s"): Command.SKIP,
    ord("n"): Command.SKIP,
    ord("q"): Command.STOP,
    27: Command.STOP,  # Esc
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


class _Sight(NamedTuple):
    """What the model and the features made of one frame."""

    seen: Seen
    bad_frames: int  # failed frames in a row up to this one


def _display_size(image: np.ndarray) -> np.ndarray:
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
        keys: Keys pressed in the terminal, or None.
        clock: The wall clock, for the loop's timing figures.
        style: How the overlay looks; None for the standard look.
    """

    def __init__(
        self,
        *,
        routine: Routine,
        controller: SessionController,
        estimator: PoseEstimator,
        speaker: Speaker,
        recorder: Recorder | None,
        window: Window | None,
        video_writer: FrameWriter | None,
        console: Console,
        live: bool,
        use_speaker: bool,
        keys: KeySource | None = None,
        clock: Callable[[], float] = time.perf_counter,
        style: OverlayStyle | None = None,
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
        self.voice = Voice(
            speaker,
            routine.cues,
            use_speaker=use_speaker and live,
            speech_s=controller.speech_s,
            clock=clock,
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

    # ------------------------------------------------------------- events, cues
    def handle(self, events: list[Event], t_s: float) -> None:
        """Record events and offer their cues to the voice."""
        for event in events:
            self.events.append(event)
            if self.recorder is not None:
                self.recorder.event(event)
            self.voice.hear(event, t_s)

    def speak(self, t_s: float, *, wait: bool = True) -> None:
        """Hand the next cue to the speaker when it is free (or at once); never blocks."""
        said = self.voice.speak(t_s, wait=wait)
        if said is None:
            return
        cue = said.cue
        self.stats.cue_times.append((said.offered_at, said.said_at, said.idle))
        self.spoken.append({"t_s": round(t_s, 3), "key": cue.key, "text": cue.text})
        if self.window is None:
            self.console.print(f"[cyan]coach:[/] {shown(cue.text, 1000)}")

    def command(self, name: Command, t_s: float) -> None:
        """Run a person's command from a key: pause (toggles), skip or stop.

        A pause or a stop hushes the voice, as the same from the body does.
        """
        self.handle(self.controller.command(name, t_s, by="key"), t_s)

    # ------------------------------------------------------------------- frames
    def _perception(self) -> Perception:
        """What the exercise under way (or about to start) reads from each frame."""
        spec = self.controller.current
        return PERCEPTION[spec.kind] if spec is not None else LANDMARKS_ONLY

    def step(self, frame: Frame) -> None:
        """One frame: pose, features, session, cues, record, overlay, keys."""
        self._act(self._see(frame, self._perception()))

    def steps(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        """Take the frames in turn, yielding each once the session has acted on it.

        Live, the model looks at the next frame while the session acts on the
        one before it (decides, speaks, records, draws and shows) on the
        other processor core: a frame costs the longer of the two instead of
        both, and the picture shown is one frame behind the camera. A
        recording read as fast as possible is taken one frame at a time.
        """
        if not self.live:
            for frame in frames:
                self.step(frame)
                yield frame
            return
        with ThreadPoolExecutor(1, thread_name_prefix="coach-model") as model:
            ahead: tuple[Frame, Future[_Sight]] | None = None
            looking: Future[_Sight] | None = None
            try:
                for frame in frames:
                    # What to measure is chosen by the session as it stands now,
                    # so a change of exercise reaches the model a frame later.
                    looking = model.submit(self._see, frame, self._perception())
                    if ahead is not None:
                        self._act(ahead[1].result())
                        yield ahead[0]
                    ahead, looking = (frame, looking), None
                if ahead is not None:
                    self._act(ahead[1].result())
                    yield ahead[0]
            finally:
                # Stopped early: a frame not yet looked at is not looked at.
                for future in (looking, ahead[1] if ahead is not None else None):
                    if future is not None:
                        future.cancel()

    def _see(self, frame: Frame, perception: Perception) -> _Sight:
        """The model's and the features' part of a frame (live, on the model's thread)."""
        # Shrunk once for the model and the overlay alike: the landmarks are
        # then in the drawn image's pixels, and a full-HD frame is not resized twice.
        image = _display_size(frame.image)
        self.pipeline.perceive(perception)
        seen = self.pipeline.see(image, frame.t_s)
        return _Sight(seen, self.pipeline.bad_frames)

    def _act(self, sight: _Sight) -> None:
        """The session's part of a frame: decide, speak, record, draw and show, keys."""
        seen = sight.seen
        t_s = seen.t_s
        self.last_t = t_s
        self.stats.bad_frames = sight.bad_frames
        self.handle(self.controller.update(seen.features, t_s), t_s)
        self.speak(t_s)
        if self.recorder is not None:
            self._record(self.recorder, seen.features, t_s)
        if self.window is not None or self.video_writer is not None:
            self._show(seen.image, seen.pose, t_s)
        if self.keys is not None:
            for key in self.keys.pressed():
                if key in KEY_COMMANDS and not self.controller.done:
                    self.command(KEY_COMMANDS[key], t_s)
        self._tick()

    def _record(self, recorder: Recorder, features: Features, t_s: float) -> None:
        """Keep the frame's measures, named by the exercise and pose state."""
        ctrl = self.controller
        spec, state = ctrl.current, ctrl.state
        exercise = spec.kind.value if spec is not None and ctrl.phase is not Phase.SETUP else None
        state_name = state.value if state is not None else None
        recorder.frame(t_s, exercise, state_name, features.values)

    def _show(self, image: np.ndarray, pose: Pose, t_s: float) -> None:
        """Draw the overlay; save it, show it and take the key pressed meanwhile."""
        from coach.adapters.overlay import STANDARD, render

        ctrl = self.controller
        style = self.style or STANDARD
        drawn = render(image, pose, ctrl.view, style, labels=self.routine.session_cues)
        if self.video_writer is not None:
            self.video_writer.write(drawn)
        if self.window is not None:
            key = self.window.show(drawn)
            if key == self.window.CLOSED:
                self.handle(ctrl.stop(t_s, "window_closed"), t_s)
            elif key in KEY_COMMANDS:
                self.command(KEY_COMMANDS[key], t_s)

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
            for _frame in self.steps(frames):
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
            while self.voice.pending and self.clock() < deadline:
                if self.voice.waits_for_speaker(self.last_t):
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
    estimator: PoseEstimator
    speaker: Speaker
    window: Window | None
    style: OverlayStyle
    language: str

    def ask(self) -> WindowPrompter | None:
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
    from coach.adapters.frames import open_source
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
        spec = options.camera if options.source is None else options.source
        source = OpenedSource(open_source(spec), realtime=options.realtime)
    except SourceError:
        what = "the camera" if options.source is None else "the video"
        speaker.say(f"I cannot open {what}. The details are on the screen.", urgent=True)
        raise
    stack.callback(source.close)
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
    speaker: Speaker,
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


def _tell_controls(routine: Routine, console: Console, *, window: bool, keys: bool) -> None:
    """Print how to pause, skip and stop: by key (window or terminal), and from the mat."""
    if window or keys:
        where = "in the window" if window else "here in the terminal"
        console.print(f"Keys {where}: space pause/resume · s skip · q stop (Ctrl-C also stops).")
    controls = routine.session_cues.get("controls")
    if routine.session.controls.enabled and controls:
        console.print(shown(controls, 1000))  # the words the coach says, in its language


def _ask_pain_after(
    routine: Routine, options: RunOptions, console: Console, parts: _Parts, interrupted: bool
) -> tuple[int | None, bool]:
    """The pain after the session (or None), and whether the person interrupted the session.

    An interrupted session asks nothing: only a score given on the command line is kept.
    """
    from coach.app.prompts import ask_pain

    language = routine.language
    if interrupted:
        if options.pain_after is None:
            return None, True
        return ask_pain(console, "after", options.pain_after, language=language), True
    prompter = parts.ask()
    try:
        if prompter is not None:
            return prompter.ask_pain("after", options.pain_after), False
        return ask_pain(console, "after", options.pain_after, language=language), False
    except KeyboardInterrupt:
        return None, True


def _loop_summary(
    routine: Routine, loop: SessionLoop, source: OpenedSource, completed: bool
) -> dict[str, Any]:
    """The session's summary, with what was said, the loop's figures and the source's notes."""
    summary = summarize(routine, loop.events, complete=completed)
    summary["spoken"] = loop.spoken
    summary["loop"] = {
        "frames": loop.stats.frames,
        "fps": round(loop.stats.fps, 1),
        "dropped": source.dropped,
    }
    if source.notes:
        summary["source_notes"] = list(source.notes)
    return summary


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
    from coach.adapters.storage import SessionRecorder, default_recordings_dir

    controller = SessionController(routine, safety=safety)
    source, window, speaker = parts.source, parts.window, parts.speaker
    with contextlib.ExitStack() as stack:
        keys = TerminalKeys.open() if window is None else None
        if keys is not None:
            stack.callback(keys.close)
        _tell_controls(routine, console, window=window is not None, keys=keys is not None)
        recorder = stack.enter_context(
            SessionRecorder(options.out or default_recordings_dir(), name=routine.name)
        )
        recorder.start(
            routine=routine,
            source=source.description,
            started_at=datetime.now(),
            extra={
                "voice": speaker.voice,
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
            use_speaker=speaker.aloud,
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
        pain_after, interrupted = _ask_pain_after(routine, options, console, parts, interrupted)
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
        summary = _loop_summary(routine, loop, source, completed)
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
    "KEY_COMMANDS",
    "RunOptions",
    "RunResult",
    "SessionLoop",
    "run_session",
]
