"""The live loop as a patient meets it: frame rate, frame intervals during speech, cue latency.

Plays real videos at 640x480 as if they came from a camera (fitted unstretched
and re-encoded first as the Motion-JPEG a webcam sends; each frame released on the wall clock at its
own time; a loop that falls behind skips frames, as it would live), and runs
the whole session on them: the pose model (with the person's silhouette while
cat-cow is under way), features, the session with the bundled routine, the
cue policy, the real voice (pyttsx3 + espeak-ng writing WAV files, or playing aloud with
--voice audio), the overlay drawn on every frame (off screen, or in a real
window on an Xvfb display with --window xvfb) and the session record.

As in a session, the model looks at the next frame while the loop acts on
the last one (``SessionLoop.steps``); --one-by-one takes each frame in turn,
for comparison.

To keep the voice busy, a short extra cue is offered every --cue-every seconds
beside the routine's own cues. Reported:

  fps                frames processed per second (the video plays at its own rate)
  interval           time between two processed frames: median, 95th percentile,
                     longest overall, longest while the voice was speaking
  cue -> say()       from the event that caused a cue to the speaker being handed
                     it, for cues offered while the voice was free
  cue -> voice start from the same event to the engine starting the utterance
                     (the WAV file appearing; --voice wav only)

With --unattended, a recorded routine instead: the videos in turn, each
looped, written as one 640x360 video of about --seconds, run by ``coach run
--no-realtime --headless --mute`` as a whole process; reported are the
video's length against the run's wall and CPU time, and what the session
reached. Faster than real time means the wall time is the shorter.

    python benchmarks/bench_session.py [--video PATH ...] [--seconds 40]
        [--window offscreen|xvfb] [--voice wav|audio] [--cue-every 2.0] [--one-by-one]
    python benchmarks/bench_session.py --unattended [--seconds 240] [--video PATH ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
from bench_pipeline import letterbox, reencode
from rich.console import Console

from coach.adapters.frames import Frame, VideoFileSource
from coach.adapters.overlay import OverlayWindow
from coach.adapters.playback import LivePlayback
from coach.adapters.pose_model import MediaPipePoseEstimator
from coach.adapters.routine_store import open_routine
from coach.adapters.speech import Pyttsx3Speaker, WavSpeaker
from coach.adapters.storage import SessionRecorder
from coach.app.session_loop import DEFAULT_ROUTINE, SessionLoop
from coach.core.cues import Priority
from coach.core.events import Event, EventKind
from coach.core.safety import all_clear, assess
from coach.core.session import SessionController

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = ROOT.parent / "shared" / "realdata" / "videos"
DEFAULT_VIDEOS = ("v03_child_tj.mp4", "v07_bridge_ws.mp4", "v01_catcow_tj.mp4")
# A routine's exercises in its order, each by other people in other rooms.
ROUTINE_VIDEOS = ("v03_child_tj.mp4", "x05_catcow_renew.mp4", "v07_bridge_ws.mp4")
SIZE = (640, 480)
TARGET_FPS = 30.0
TARGET_CUE_MS = 200.0
POLL_S = 0.002


class Chain:
    """Several videos as one stream at 640x480, time running on across them."""

    def __init__(self, paths: list[Path], seconds: float) -> None:
        self.paths = paths
        self.seconds = seconds
        self.fps = TARGET_FPS

    def __iter__(self) -> Iterator[Frame]:
        offset = 0.0
        while True:
            for path in self.paths:
                video = VideoFileSource(path, size=SIZE)
                last = 0.0
                try:
                    for frame in video:
                        t_s = offset + frame.t_s
                        if t_s > self.seconds:
                            return
                        last = frame.t_s
                        yield Frame(frame.image, t_s)
                finally:
                    video.close()
                offset += last + 1.0 / video.fps

    def close(self) -> None:
        pass


class Offscreen:
    """Stands in for the window: the overlay is drawn, nothing is shown, no key comes."""

    CLOSED = OverlayWindow.CLOSED

    def show(self, image: np.ndarray) -> int:
        return -1

    def close(self) -> None:
        pass


class TimedEstimator:
    """The real estimator, timed."""

    def __init__(self, inner: MediaPipePoseEstimator) -> None:
        self.inner = inner
        self.ms: list[float] = []

    def estimate(self, image: np.ndarray, t_s: float):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        pose = self.inner.estimate(image, t_s)
        self.ms.append((time.perf_counter() - start) * 1000.0)
        return pose

    def prepare(self, segmentation: bool) -> None:
        self.inner.prepare(segmentation)

    def use_segmentation(self, segmentation: bool, *, wait: bool = False) -> None:
        self.inner.use_segmentation(segmentation, wait=wait)

    def close(self) -> None:
        self.inner.close()


class FileWatch:
    """Notes when each WAV file first appears: the moment the engine starts an utterance."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            now = time.perf_counter()
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    if entry.name.endswith(".wav") and entry.name not in self.seen:
                        self.seen[entry.name] = now
            time.sleep(POLL_S)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def in_order(self) -> list[float]:
        return [self.seen[name] for name in sorted(self.seen)]


def start_xvfb() -> subprocess.Popen[bytes]:
    if shutil.which("Xvfb") is None:
        sys.exit("Xvfb is not installed (apt install xvfb)")
    display = ":77"
    proc = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
    for _ in range(200):
        if socket.exists():
            break
        time.sleep(0.05)
    os.environ["DISPLAY"] = display
    os.environ.pop("WAYLAND_DISPLAY", None)
    return proc


def one_by_one(loop: SessionLoop, frames: LivePlayback) -> Iterator[Frame]:
    """Each frame seen and acted on before the next is taken: the loop without its overlap."""
    for frame in frames:
        loop.step(frame)
        yield frame


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def stitch(paths: list[Path], target: Path, seconds: float) -> float:
    """The videos in turn, each looped for its share of ``seconds``, as one 640x360 video."""
    import cv2

    size, fps = (640, 360), TARGET_FPS
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    written = 0
    try:
        for path in paths:
            source = VideoFileSource(path, prefetch=0)
            images = [frame.image for frame in source]
            source.close()
            share = round(seconds / len(paths) * fps)
            for k in range(share):
                image = images[min(len(images) - 1, int(k / fps * source.fps) % len(images))]
                writer.write(letterbox(image, size))
                written += 1
    finally:
        writer.release()
    return written / fps


def unattended(paths: list[Path], seconds: float) -> int:
    """A recorded routine run by ``coach run --no-realtime``; 0 when faster than real time."""
    import json
    import resource

    tmp = Path(tempfile.mkdtemp(prefix="coach-bench-"))
    try:
        video = tmp / "routine.mp4"
        length = stitch(paths, video, seconds)
        command = [
            sys.executable, "-m", "coach", "run", "--source", str(video), "--no-realtime",
            "--headless", "--mute", "--answers", "no", "--pain-before", "3",
            "--pain-after", "3", "--out", str(tmp / "records"),
        ]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            sys.exit(done.stdout[-2000:] + done.stderr[-2000:])
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        summary = json.loads(next((tmp / "records").glob("*/summary.json")).read_text())
        loop = summary.get("loop", {})
        reached = [e.get("kind") for e in summary.get("exercises", []) if e.get("started")]
        print(f"videos       {', '.join(p.name for p in paths)}, stitched at 640x360")
        print(f"video        {length:.1f} s, {loop.get('frames')} frames processed")
        print(
            f"run          {wall:.1f} s wall ({length / wall:.2f}x real time), {cpu:.1f} s CPU; "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        )
        print(f"reached      {', '.join(map(str, reached)) or 'no exercise'}")
        return 0 if wall < length else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, action="append", help="videos to play (repeat)")
    parser.add_argument("--seconds", type=float, default=40.0, help="length of the run")
    parser.add_argument("--window", choices=("offscreen", "xvfb"), default="offscreen")
    parser.add_argument("--voice", choices=("wav", "audio"), default="wav")
    parser.add_argument("--cue-every", type=float, default=2.0, help="extra cue every N s")
    parser.add_argument(
        "--unattended", action="store_true", help="a recorded routine run by coach run instead"
    )
    parser.add_argument(
        "--one-by-one",
        action="store_true",
        help="act on each frame before the model looks at the next, for comparison",
    )
    args = parser.parse_args()
    paths = args.video or [
        VIDEOS / name for name in (ROUTINE_VIDEOS if args.unattended else DEFAULT_VIDEOS)
    ]
    for path in paths:
        if not path.is_file():
            sys.exit(f"video not found: {path}")
    if args.unattended:
        return unattended(paths, args.seconds)

    xvfb = start_xvfb() if args.window == "xvfb" else None
    tmp = Path(tempfile.mkdtemp(prefix="coach-bench-"))
    voice_dir = tmp / "voice"
    try:
        routine = open_routine(DEFAULT_ROUTINE)
        controller = SessionController(routine, safety=assess(all_clear()))
        speaker = Pyttsx3Speaker() if args.voice == "audio" else WavSpeaker(voice_dir)
        watch = FileWatch(voice_dir) if args.voice == "wav" else None
        window = OverlayWindow("coach") if xvfb is not None else Offscreen()
        # The session asks for the silhouette while cat-cow is under way.
        estimator = TimedEstimator(MediaPipePoseEstimator(mode="video", segmentation=False))
        recorder = SessionRecorder(tmp / "records", name="bench")
        recorder.start(routine=routine, source="bench", started_at=datetime.now())
        loop = SessionLoop(
            routine=routine,
            controller=controller,
            estimator=estimator,
            speaker=speaker,
            recorder=recorder,
            window=window,
            video_writer=None,
            console=Console(quiet=True),
            live=True,
            use_speaker=True,
        )
        # A camera sends 640x480 Motion-JPEG: decoding full-HD H.264 and
        # shrinking it on the way is work the live loop never has to share
        # the processor with, so it is done before the clock starts (and
        # before the session's welcome is offered, which would wait for it).
        camera_like = [reencode(path, tmp, None) for path in paths]
        loop.handle(controller.start(0.0), 0.0)
        playback = LivePlayback(Chain(camera_like, args.seconds))
        next_cue, n = args.cue_every, 0
        wall_start = time.perf_counter()
        cpu_start = time.process_time()
        # The loop as a session runs it: live, the model looks at the next
        # frame while the last one is drawn and shown (unless --one-by-one).
        for frame in one_by_one(loop, playback) if args.one_by_one else loop.steps(playback):
            if frame.t_s >= next_cue:
                # Offered as the session offers its own, after the frame is
                # acted on; said when the next frame is.
                n += 1
                next_cue += args.cue_every
                text = f"Keep breathing slowly, number {n}."
                cue = Event(
                    EventKind.CUE,
                    frame.t_s,
                    None,
                    {"key": f"bench_{n}", "text": text, "priority": int(Priority.PROGRESS)},
                )
                loop.handle([cue], frame.t_s)
            if controller.done:
                break
        wall = time.perf_counter() - wall_start
        cpu = time.process_time() - cpu_start
        playback.close()
        loop.handle(controller.stop(loop.last_t, "benchmark"), loop.last_t)
        loop.drain(timeout_s=5.0)
        speaker.close()
        recorder.close()
        window.close()
        estimator.close()
        starts = watch.in_order() if watch is not None else []
        if watch is not None:
            watch.close()
    finally:
        if xvfb is not None:
            xvfb.terminate()

    stats = loop.stats
    intervals = stats.intervals_ms
    speaking = [i for i, busy in zip(intervals, stats.speaking, strict=True) if busy]
    silent = [i for i, busy in zip(intervals, stats.speaking, strict=True) if not busy]
    idle_cues = [(o, s) for o, s, idle in stats.cue_times if idle]
    to_say = [(s - o) * 1000.0 for o, s in idle_cues]
    to_voice = [
        (start - offered) * 1000.0
        for (offered, _said, idle), start in zip(stats.cue_times, starts, strict=False)
        if idle
    ]
    print(f"videos       {', '.join(p.name for p in paths)} at {SIZE[0]}x{SIZE[1]}, played live")
    print(
        f"run          {wall:.1f} s wall, {stats.frames} frames processed, "
        f"{playback.dropped} skipped by the live playback, {os.cpu_count()} CPUs"
    )
    print(f"fps          {stats.fps:.1f} (target {TARGET_FPS:.0f}; the video runs at its own rate)")
    print(
        f"cpu          {cpu / max(stats.frames, 1) * 1000:.1f} ms of CPU per frame, all threads "
        f"({cpu / wall * 100:.0f}% of one core; load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"pose model   {statistics.median(estimator.ms):.1f} ms median, "
        f"{pct(estimator.ms, 95):.1f} ms p95 per frame"
    )
    print(
        f"interval     median {statistics.median(intervals):.1f} ms, p95 {pct(intervals, 95):.1f}, "
        f"p99 {pct(intervals, 99):.1f}, longest {max(intervals):.1f} ms"
    )
    print(
        f"  speaking   {len(speaking)} intervals, "
        f"longest {max(speaking, default=float('nan')):.1f} ms"
        f" (p99 {pct(speaking, 99):.1f})"
    )
    print(
        f"  silent     {len(silent)} intervals, longest {max(silent, default=float('nan')):.1f} ms"
        f" (p99 {pct(silent, 99):.1f})"
    )
    print(
        f"cues         {len(loop.spoken)} said, {len(idle_cues)} offered while the voice was free"
    )
    print(
        f"cue -> say() median {statistics.median(to_say):.1f} ms, "
        f"longest {max(to_say):.1f} ms (target {TARGET_CUE_MS:.0f})"
    )
    if to_voice:
        print(
            f"cue -> voice median {statistics.median(to_voice):.1f} ms, "
            f"p95 {pct(to_voice, 95):.1f}, "
            f"longest {max(to_voice):.1f} ms (WAV started)"
        )
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
