"""The frame loop with doubles: keys, speech that is never waited for, every way a session ends."""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from loop_helpers import PoseScript, floor_routine
from rich.console import Console
from session_helpers import Scripts, routine, spec, timeline

from coach.adapters.frames import Frame
from coach.adapters.keys import TerminalKeys
from coach.adapters.playback import LivePlayback
from coach.adapters.speech import RecordingSpeaker
from coach.app.session_loop import SessionLoop
from coach.app.voice import SpeechGate
from coach.core.cues import Cue, Priority
from coach.core.events import EventKind
from coach.core.landmarks import NUM_LANDMARKS
from coach.core.pose import Pose
from coach.core.routine import Routine
from coach.core.session import SessionController
from coach.core.states import ExerciseKind, PoseState
from coach.errors import CameraStalledError

SIZE = (64, 48)
FPS = 10.0


class SideEstimator:
    """A person seen whole, from the side, in every frame; fails on the frames asked."""

    def __init__(self, fail_at: frozenset[int] = frozenset()) -> None:
        self.calls = 0
        self.fail_at = fail_at

    def estimate(self, image: np.ndarray, t_s: float) -> Pose:
        self.calls += 1
        if self.calls in self.fail_at:
            raise RuntimeError("native failure")
        norm = np.zeros((NUM_LANDMARKS, 5))
        norm[:, 0] = np.linspace(0.2, 0.8, NUM_LANDMARKS)
        norm[:, 1] = 0.5
        norm[:, 3:] = 1.0
        return Pose.from_normalized(t_s, norm, np.zeros((NUM_LANDMARKS, 3)), SIZE)

    def close(self) -> None:
        pass


class Frames:
    """Frames at FPS for ``seconds``; then raises ``error`` if given."""

    def __init__(self, seconds: float, error: BaseException | None = None) -> None:
        self.seconds = seconds
        self.error = error

    def __iter__(self) -> Iterator[Frame]:
        image = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
        for i in range(round(self.seconds * FPS) + 1):
            yield Frame(image, i / FPS)
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        pass


class KeyWindow:
    """Returns scripted keys by frame number, as OverlayWindow.show does."""

    CLOSED = -2

    def __init__(self, keys: dict[int, int]) -> None:
        self.keys = keys
        self.shown = 0

    def show(self, image: np.ndarray) -> int:
        self.shown += 1
        return self.keys.get(self.shown, -1)

    def close(self) -> None:
        pass


class BusySpeaker(RecordingSpeaker):
    """Busy for a while after each utterance, like a real voice."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.until = 0.0

    def say(self, text: str, *, urgent: bool = False) -> None:
        super().say(text)
        self.until = time.monotonic() + self.seconds

    @property
    def busy(self) -> bool:
        return time.monotonic() < self.until


def make_loop(
    *,
    window: Any = None,
    estimator: Any = None,
    speaker: Any = None,
    live: bool = False,
    hold_s: float = 2.0,
    the_routine: Routine | None = None,
    scripts: Scripts | None = None,
) -> SessionLoop:
    """A loop over one child's pose (or ``the_routine``, played by ``scripts``)."""
    scripts = scripts or Scripts({ExerciseKind.CHILDS_POSE: timeline((0.0, PoseState.CHILDS_POSE))})
    the_routine = the_routine or routine(spec(ExerciseKind.CHILDS_POSE, hold_s=hold_s))
    speaker = speaker or RecordingSpeaker()
    return SessionLoop(
        routine=the_routine,
        controller=SessionController(the_routine, engine_factory=scripts),
        estimator=estimator or SideEstimator(),
        speaker=speaker,
        recorder=None,
        window=window,
        video_writer=None,
        console=Console(quiet=True),
        live=live,
        use_speaker=live,
    )


def kinds(loop: SessionLoop) -> list[str]:
    return [e.kind.value for e in loop.events]


def test_a_session_runs_to_its_end_and_says_its_cues() -> None:
    loop = make_loop()
    assert loop.run(Frames(20.0)) is None
    loop.drain()
    assert "session_completed" in kinds(loop)
    said = [c["key"] for c in loop.spoken]
    assert said[0] == "welcome" and said[-1] == "done"
    assert {"setup_ok", "intro", "hold_start", "hold_done"} <= set(said)
    assert loop.speaker.spoken == [c["text"] for c in loop.spoken]
    assert loop.stats.frames > 0


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (None, "source_ended"),
        (KeyboardInterrupt(), "interrupted"),
        (CameraStalledError("camera 0 stopped"), "camera_stalled"),
    ],
)
@pytest.mark.parametrize("live", [False, True], ids=["recording", "live"])
def test_every_early_end_stops_the_session_safely(
    error: BaseException | None, reason: str, live: bool
) -> None:
    loop = make_loop(hold_s=30.0, live=live)
    assert loop.run(Frames(3.0, error)) == reason
    assert loop.controller.done
    stopped = [e for e in loop.events if e.kind is EventKind.SESSION_STOPPED]
    assert [e["reason"] for e in stopped] == [reason]
    loop.drain()
    assert loop.spoken[-1]["key"] == "stopped"  # the last words are said


@pytest.mark.parametrize("live", [False, True], ids=["recording", "live"])
def test_keys_pause_resume_skip_and_stop(live: bool) -> None:
    the_keys = {30: ord(" "), 40: ord(" "), 50: ord("s")}
    loop = make_loop(window=KeyWindow(the_keys), hold_s=30.0, live=live)
    assert loop.run(Frames(10.0)) is None
    assert_order = ["paused", "resumed", "exercise_skipped", "session_completed"]
    seen = [k for k in kinds(loop) if k in assert_order]
    assert seen == assert_order


@pytest.mark.parametrize("live", [False, True], ids=["recording", "live"])
@pytest.mark.parametrize("key", [ord("q"), 27, KeyWindow.CLOSED])
def test_stop_keys_and_closing_the_window_stop(key: int, live: bool) -> None:
    loop = make_loop(window=KeyWindow({15: key}), hold_s=30.0, live=live)
    assert loop.run(Frames(10.0)) is None
    stopped = [e for e in loop.events if e.kind is EventKind.SESSION_STOPPED]
    assert stopped[0]["reason"] == ("window_closed" if key == KeyWindow.CLOSED else "user")
    assert loop.stats.frames == 15


@pytest.mark.parametrize("live", [False, True], ids=["recording", "live"])
def test_a_bad_frame_does_not_end_the_session(live: bool) -> None:
    loop = make_loop(estimator=SideEstimator(fail_at=frozenset({5, 6})), live=live)
    assert loop.run(Frames(20.0)) is None
    assert "session_completed" in kinds(loop)


def test_offline_speech_time_is_estimated_on_the_frame_clock() -> None:
    speaker = RecordingSpeaker()
    gate = SpeechGate(speaker, use_speaker=False, speech_s=lambda text: len(text.split()) / 2.0)
    gate.say(Cue("a", "one two three four", Priority.INFO, 1.0), 1.0)
    assert gate.busy(2.9) and not gate.busy(3.4)
    assert speaker.spoken == ["one two three four"]


def test_the_loop_never_waits_for_a_busy_speaker() -> None:
    speaker = BusySpeaker(seconds=0.5)
    loop = make_loop(speaker=speaker, live=True)
    started = time.monotonic()
    loop.run(Frames(20.0))
    assert time.monotonic() - started < 2.0  # 200 frames, never blocked by speech
    # While the voice was busy, cues waited or were dropped as stale: never queued up.
    assert 1 <= len(speaker.spoken) <= 3


class SlowSource:
    """Frames at 100 fps in video time, produced instantly."""

    fps = 100.0

    def __init__(self, n: int) -> None:
        self.n = n
        self.closed = False

    def __iter__(self) -> Iterator[Frame]:
        image = np.zeros((4, 4, 3), np.uint8)
        for i in range(self.n):
            yield Frame(image, i / self.fps)

    def close(self) -> None:
        self.closed = True


def test_live_playback_keeps_time_and_drops_what_a_slow_reader_misses() -> None:
    source = SlowSource(50)  # half a second of video
    playback = LivePlayback(source)
    started = time.monotonic()
    seen = []
    for frame in playback:
        seen.append(frame.t_s)
        time.sleep(0.03)  # a reader slower than the video
    elapsed = time.monotonic() - started
    playback.close()
    assert 0.45 <= elapsed < 1.5
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert len(seen) < 50 and playback.dropped > 0
    assert seen[-1] == pytest.approx(0.49)  # the end is always delivered
    assert source.closed


class FakeKeys:
    """Keys typed in the terminal, by frame number."""

    def __init__(self, keys: dict[int, int]) -> None:
        self.keys = keys
        self.calls = 0

    def pressed(self) -> list[int]:
        self.calls += 1
        return [self.keys[self.calls]] if self.calls in self.keys else []


def test_terminal_keys_work_without_a_window() -> None:
    loop = make_loop(hold_s=30.0)
    loop.keys = FakeKeys({20: ord(" "), 25: ord(" "), 30: ord("q")})
    assert loop.run(Frames(10.0)) is None
    assert [k for k in kinds(loop) if k in ("paused", "resumed", "session_stopped")] == [
        "paused",
        "resumed",
        "session_stopped",
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX terminals only")
def test_terminal_keys_read_single_presses_and_restore_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pty
    import termios

    master, slave = pty.openpty()
    stdin = os.fdopen(slave, "r")
    monkeypatch.setattr(sys, "stdin", stdin)
    before = termios.tcgetattr(slave)
    keys = TerminalKeys.open()
    assert keys is not None
    try:
        os.write(master, b" s")
        deadline = time.monotonic() + 2.0
        got: list[int] = []
        while len(got) < 2 and time.monotonic() < deadline:
            got += keys.pressed()
            time.sleep(0.02)
        assert got == [ord(" "), ord("s")]
        assert keys.pressed() == []
    finally:
        keys.close()
        keys.close()
    assert termios.tcgetattr(slave) == before
    stdin.close()
    os.close(master)


def test_no_terminal_keys_when_stdin_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert TerminalKeys.open() is None


@pytest.mark.slow  # 400 s of session, the overlay drawn on each of 4000 frames
def test_nothing_counted_the_coach_moves_on_and_the_routine_ends_without_a_key() -> None:
    """The bundled routine at its own pacing, with engines that never count anything."""
    from coach.adapters.routine_store import open_routine

    bundled = open_routine("back-spasm-relief")
    scripts = Scripts(
        {
            ExerciseKind.CHILDS_POSE: timeline((0.0, PoseState.TABLETOP)),
            ExerciseKind.CAT_COW: timeline((0.0, PoseState.TABLETOP)),
            ExerciseKind.HIP_LIFT: timeline((0.0, PoseState.OTHER)),
        }
    )
    window = KeyWindow({})  # shown every frame; nobody presses a key
    loop = make_loop(window=window, the_routine=bundled, scripts=scripts)
    assert loop.run(Frames(400.0)) is None
    loop.drain()
    assert loop.controller.done and window.shown == loop.stats.frames
    moved = [e for e in loop.events if e.kind is EventKind.EXERCISE_SKIPPED]
    assert [(e.exercise, e["reason"]) for e in moved] == [
        ("childs_pose", "no_progress"),
        ("cat_cow", "no_progress"),
        ("hip_lift", "no_progress"),
    ]
    said = [c["key"] for c in loop.spoken if c["key"].startswith("stall_")]
    assert said == [
        *["stall_in_position"] * 2,
        "stall_move_on",
        *["stall_in_position"] * 2,
        "stall_move_on",
        *["stall_out_of_position"] * 2,
        "stall_move_on",
    ]
    texts = [c["text"] for c in loop.spoken]
    assert bundled.exercises[1].cues["stall_in_position"] in texts
    assert bundled.exercises[2].cues["stall_out_of_position"] in texts
    assert loop.spoken[-1]["key"] == "done"
    assert loop.speaker.spoken == texts


class ModelTrace(SideEstimator):
    """Notes when the model starts on each frame, and on which thread."""

    def __init__(self) -> None:
        super().__init__()
        self.started: dict[float, threading.Event] = {}
        self.threads: set[str] = set()

    def estimate(self, image: np.ndarray, t_s: float) -> Pose:
        self.threads.add(threading.current_thread().name)
        self.started.setdefault(round(t_s, 6), threading.Event()).set()
        return super().estimate(image, t_s)


class WaitingWindow(KeyWindow):
    """While showing a frame, waits for the model to start on the next one."""

    def __init__(self, model: ModelTrace) -> None:
        super().__init__({})
        self.model = model
        self.overlapped: list[bool] = []

    def show(self, image: np.ndarray) -> int:
        shown_t = round(self.shown / FPS, 6)  # the frame being shown
        following = self.model.started.setdefault(round(shown_t + 1 / FPS, 6), threading.Event())
        self.overlapped.append(following.wait(timeout=2.0))
        return super().show(image)


def test_live_the_model_looks_at_the_next_frame_while_the_last_is_shown() -> None:
    model = ModelTrace()
    window = WaitingWindow(model)
    loop = make_loop(window=window, estimator=model, live=True, hold_s=30.0)
    assert loop.run(Frames(1.0)) == "source_ended"
    assert window.shown == 11
    # Every frame but the last had the model on the next one while it was shown.
    assert window.overlapped == [True] * 10 + [False]
    assert all(name.startswith("coach-model") for name in model.threads)


def test_a_recording_is_taken_one_frame_at_a_time() -> None:
    model = ModelTrace()
    loop = make_loop(estimator=model, live=False)
    loop.run(Frames(1.0))
    assert model.threads == {threading.current_thread().name}


def test_live_and_frame_by_frame_the_session_decides_the_same() -> None:
    poses, the_routine, scripts = floor_routine(fps=10.0)
    images = [Frame(np.zeros((SIZE[1], SIZE[0], 3), np.uint8), pose.t_s) for pose in poses]
    decided = []
    for live in (False, True):
        loop = make_loop(
            estimator=PoseScript(poses), the_routine=the_routine, scripts=scripts, live=live
        )
        loop.handle(loop.controller.start(0.0), 0.0)
        loop.run(images)
        decided.append([(e.kind, e.t_s, dict(e.data)) for e in loop.events])
    assert decided[1] == decided[0]
    assert any(kind is EventKind.CONTROL_USED for kind, _, _ in decided[0])
