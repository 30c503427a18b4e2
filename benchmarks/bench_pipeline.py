"""How fast the coach sees: the bare pose model against the coach, per frame and as whole processes.

Per frame (the default part): a real video, re-encoded once at a camera's
640x480 (fitted unstretched, on black) as Motion-JPEG (what webcams send),
timed in the same run, frame by frame:

  bare      MediaPipe ``detect_for_video`` alone (VIDEO mode), on frames that
            were decoded, resized and converted to MediaPipe images beforehand;
  pipeline  what the coach does for every frame: decode the video and resize
            (``VideoFileSource``, which decodes ahead in a thread), then the
            frame pipeline (``FramePipeline``: the pose adapter's colour
            conversion, the model and conversion to ``Pose``; the features).

Two landmarkers run side by side and every frame goes through the bare call
and then through the pipeline, so a burst of load from other programs hits
both alike. Without and with segmentation masks. With --full-size the
pipeline decodes the original file and resizes every frame itself, which
shows what decoding full-HD footage costs on top.

Whole processes (--processes): ``coach analyze`` as a person runs it, against
``benchmarks/bare_pose.py`` (decode every frame with OpenCV, run MediaPipe's
pose landmarker on it, nothing else) on the same file, for a hip-lift, a
child's pose and a cat-cow clip. Each pair runs --rounds times, alternating;
the median wall time and the median CPU time (user + system of the process)
are compared. On a shared machine the CPU time is the steadier figure. The
bare script runs without masks, and is timed twice: importing MediaPipe as
usual, and loading the pose landmarker alone as the coach does, which shows
what the coach adds per frame apart from what it saves at start-up.

    python benchmarks/bench_pipeline.py [--video PATH] [--frames N] [--rounds 1]
                                        [--prefetch 4] [--mask both|no|yes] [--full-size]
    python benchmarks/bench_pipeline.py --processes [--rounds 3] [--clip KIND=PATH ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from coach.adapters.frames import VideoFileSource
from coach.adapters.pose_model import (
    MediaPipePoseEstimator,
    pose_tasks,
    quiet_native_stderr,
    verify_model,
)
from coach.app.pipeline import FramePipeline
from coach.core.features import LANDMARKS_ONLY, WITH_SILHOUETTE
from coach.core.pose import Pose

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = ROOT.parent / "shared" / "realdata" / "videos"
DEFAULT_VIDEO = VIDEOS / "v07_bridge_ws.mp4"
SIZE = (640, 480)
MAX_OVERHEAD = 0.10  # the pipeline may add at most this over the bare model call
MIN_FPS = 30.0
BARE_SCRIPT = Path(__file__).resolve().parent / "bare_pose.py"
# One clip per exercise (see the manifests in the real data), and how much
# longer than the bare model the whole ``coach analyze`` may take on it.
PROCESS_CLIPS = {
    "hip_lift": VIDEOS / "v07_bridge_ws.mp4",
    "childs_pose": VIDEOS / "v03_child_tj.mp4",
    "cat_cow": VIDEOS / "v01_catcow_tj.mp4",
}
MAX_PROCESS_RATIO = {"hip_lift": 1.10, "childs_pose": 1.10, "cat_cow": 1.25}


@dataclass
class Timings:
    """Per-frame wall times, in seconds, of one path through the frames."""

    frame_s: list[float] = field(default_factory=list)
    found: int = 0

    @property
    def ms_per_frame(self) -> float:
        return 1000.0 * sum(self.frame_s) / len(self.frame_s)

    @property
    def median_ms(self) -> float:
        return 1000.0 * statistics.median(self.frame_s)

    @property
    def fps(self) -> float:
        return len(self.frame_s) / sum(self.frame_s)


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` shrunk or grown to fit ``size`` (width, height) unstretched, on black."""
    scale = min(size[0] / image.shape[1], size[1] / image.shape[0])
    fitted = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    fitted = fitted[: size[1], : size[0]]
    canvas = np.zeros((size[1], size[0], 3), np.uint8)
    top, left = (size[1] - fitted.shape[0]) // 2, (size[0] - fitted.shape[1]) // 2
    canvas[top : top + fitted.shape[0], left : left + fitted.shape[1]] = fitted
    return canvas


def reencode(video: Path, out_dir: Path, limit: int | None) -> Path:
    """The video fitted into SIZE, unstretched, and written as Motion-JPEG, as a webcam
    delivers it."""
    out = out_dir / f"{video.stem}_{SIZE[0]}x{SIZE[1]}.avi"
    source = VideoFileSource(video, prefetch=0)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"MJPG"), source.fps, SIZE)
    try:
        for count, frame in enumerate(source, 1):
            writer.write(letterbox(frame.image, SIZE))
            if limit is not None and count >= limit:
                break
    finally:
        writer.release()
        source.close()
    return out


def decode_all(video: Path) -> tuple[list[np.ndarray], float]:
    """Every frame of the video, BGR."""
    source = VideoFileSource(video, prefetch=0)
    try:
        frames = [frame.image for frame in source]
    finally:
        source.close()
    return frames, source.fps


def bare_landmarker(segmentation: bool) -> Any:
    """A landmarker made straight from the Tasks API, as the adapter makes it."""
    tasks = pose_tasks()
    options = tasks.options(
        base_options=tasks.base_options(model_asset_path=str(verify_model())),
        running_mode=tasks.running_mode.VIDEO,
        num_poses=1,
        output_segmentation_masks=segmentation,
    )
    with quiet_native_stderr():
        return tasks.landmarker.create_from_options(options)


class TimedEstimator:
    """The real estimator, with the time of its last call."""

    def __init__(self, inner: MediaPipePoseEstimator) -> None:
        self.inner = inner
        self.last_s = 0.0

    def estimate(self, image: np.ndarray, t_s: float) -> Pose:
        start = time.perf_counter()
        pose = self.inner.estimate(image, t_s)
        self.last_s = time.perf_counter() - start
        return pose

    def close(self) -> None:
        self.inner.close()


def paired_pass(
    frames_bgr: list[np.ndarray], video: Path, segmentation: bool, prefetch: int
) -> tuple[Timings, Timings, dict[str, list[float]]]:
    """Every frame through the bare call, then through the pipeline; both timed."""
    tasks = pose_tasks()
    images = [
        tasks.image(image_format=tasks.image_format.SRGB, data=cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
        for f in frames_bgr
    ]
    bare, pipe = Timings(), Timings()
    stages: dict[str, list[float]] = {"wait for frame": [], "pose adapter": [], "features": []}
    landmarker = bare_landmarker(segmentation)
    source = VideoFileSource(video, size=SIZE, prefetch=prefetch)
    estimator = TimedEstimator(MediaPipePoseEstimator(segmentation=segmentation))
    perception = WITH_SILHOUETTE if segmentation else LANDMARKS_ONLY
    try:
        with FramePipeline(estimator, perception=perception) as pipeline:
            # Warm both up outside the timing (first-frame set-up and warnings).
            with quiet_native_stderr():
                landmarker.detect_for_video(images[0], 0)
            estimator.estimate(frames_bgr[0], -1.0)  # lands at 0 ms, before the first frame
            frames = iter(source)
            for i, image in enumerate(images):
                ms = round(i * 1000.0 / source.fps) + 1

                def bare_call(image: Any = image, ms: int = ms) -> None:
                    t0 = time.perf_counter()
                    result = landmarker.detect_for_video(image, ms)
                    t1 = time.perf_counter()
                    bare.frame_s.append(t1 - t0)
                    bare.found += bool(result.pose_landmarks)

                def pipeline_call() -> bool:
                    t2 = time.perf_counter()
                    frame = next(frames, None)
                    if frame is None:
                        return False
                    t3 = time.perf_counter()
                    seen = pipeline.see(frame.image, frame.t_s)
                    t5 = time.perf_counter()
                    pipe.frame_s.append(t5 - t2)
                    pipe.found += seen.features.side is not None
                    pose_s = estimator.last_s
                    for key, span in zip(stages, (t3 - t2, pose_s, t5 - t3 - pose_s), strict=True):
                        stages[key].append(span)
                    return True

                # Alternate which runs first: the second call on a frame finds
                # the caches warmed (or spoiled) by the first, so a fixed order
                # would favour one side.
                if i % 2 == 0:
                    bare_call()
                    if not pipeline_call():
                        break
                else:
                    if not pipeline_call():
                        break
                    bare_call()
    finally:
        source.close()
        with quiet_native_stderr():
            landmarker.close()
    return bare, pipe, stages


def load_average() -> str:
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            return fh.read().split()[0]
    except OSError:
        return "unknown"


def report(bare: Timings, pipe: Timings, stages: dict[str, list[float]], label: str) -> bool:
    """Print one mode's figures; True when both targets hold."""
    overhead = pipe.ms_per_frame / bare.ms_per_frame - 1.0
    extra = [p - b for p, b in zip(pipe.frame_s, bare.frame_s, strict=False)]
    overhead_paired = statistics.median(extra) / statistics.median(bare.frame_s)
    print(f"\nsegmentation masks {label}:")
    for name, t in (("bare model call", bare), ("whole pipeline", pipe)):
        print(
            f"  {name:<16} {t.fps:6.1f} fps {t.ms_per_frame:7.2f} ms/frame "
            f"(median {t.median_ms:5.2f})  pose in {t.found}/{len(t.frame_s)} frames"
        )
    parts = ", ".join(f"{k} {1000.0 * sum(v) / len(v):.2f}" for k, v in stages.items())
    print(f"  pipeline stages, ms/frame: {parts}")
    holds_overhead = overhead <= MAX_OVERHEAD
    holds_fps = pipe.fps >= MIN_FPS
    print(
        f"  pipeline over bare call: {100 * overhead:+.1f}% of the total time "
        f"({100 * overhead_paired:+.1f}% by the median per-frame difference) -> "
        f"{'OK' if holds_overhead else 'MISSED'}, target <= {100 * MAX_OVERHEAD:.0f}%"
    )
    print(
        f"  pipeline rate: {pipe.fps:.1f} fps -> {'OK' if holds_fps else 'MISSED'}, "
        f"target >= {MIN_FPS:.0f} fps"
    )
    return holds_overhead and holds_fps


def run_all(args: argparse.Namespace, tmp: Path) -> int:
    """Every mode; 0 when the targets hold in all of them."""
    camera_like = reencode(args.video, tmp, args.frames)
    frames, fps = decode_all(camera_like)
    video = args.video if args.full_size else camera_like
    origin = (
        f"the original {args.video.name}, resized frame by frame"
        if args.full_size
        else f"{args.video.name} re-encoded at {SIZE[0]}x{SIZE[1]} Motion-JPEG"
    )
    print(
        f"{len(frames)} frames at {fps:.1f} fps; the pipeline decodes {origin}; "
        f"{os.cpu_count()} cpus, load average {load_average()}; prefetch {args.prefetch}"
    )
    modes = {"both": (False, True), "no": (False,), "yes": (True,)}[args.mask]
    ok = True
    for segmentation in modes:
        bare, pipe = Timings(), Timings()
        stages: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            b, p, s = paired_pass(frames, video, segmentation, args.prefetch)
            bare.frame_s += b.frame_s
            bare.found += b.found
            pipe.frame_s += p.frame_s
            pipe.found += p.found
            for key, spans in s.items():
                stages.setdefault(key, []).extend(spans)
        ok &= report(bare, pipe, stages, "on" if segmentation else "off")
    print(f"\nload average after: {load_average()}")
    return 0 if ok else 1


# --------------------------------------------------------------- whole processes
def timed_process(command: list[str]) -> tuple[float, float, str]:
    """Run a command to its end: wall seconds, CPU seconds (user + system) and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"}
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def process_commands(kind: str, clip: Path) -> dict[str, list[str]]:
    """The coach's analysis of a clip, and the bare model run over the same file."""
    model = str(verify_model())
    bare = [sys.executable, str(BARE_SCRIPT), str(clip), model]
    return {
        "coach analyze": [
            sys.executable,
            "-m",
            "coach",
            "analyze",
            str(clip),
            "-e",
            kind,
            "--json",
        ],
        "bare": bare,
        "bare, lean import": [*bare, "--lean-import"],
    }


def run_processes(args: argparse.Namespace) -> int:
    """Whole ``coach analyze`` against the bare model per clip; 0 when every target holds."""
    clips: dict[str, Path] = {}
    for given in args.clip or []:
        kind, _, path = given.partition("=")
        clips[kind] = Path(path)
    clips = clips or dict(PROCESS_CLIPS)
    print(
        f"whole processes, median of {args.rounds} alternating rounds; "
        f"{os.cpu_count()} cpus, load average {load_average()}"
    )
    ok = True
    for kind, clip in clips.items():
        commands = process_commands(kind, clip)
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        frames = 0
        for _ in range(args.rounds):
            for name, command in commands.items():
                wall, cpu, out = timed_process(command)
                walls[name].append(wall)
                cpus[name].append(cpu)
                if name == "coach analyze":
                    frames = int(json.loads(out)["frames"])
        limit = MAX_PROCESS_RATIO.get(kind, 1.10)
        print(f"\n{kind}: {clip.name}, {frames} frames, target <= {limit:.2f}x")
        coach_wall = statistics.median(walls["coach analyze"])
        coach_cpu = statistics.median(cpus["coach analyze"])
        for name in commands:
            wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
            line = f"  {name:<18} {wall:6.2f} s wall {cpu:6.2f} s cpu"
            if name != "coach analyze":
                wall_ratio, cpu_ratio = coach_wall / wall, coach_cpu / cpu
                holds = wall_ratio <= limit and cpu_ratio <= limit
                ok &= holds
                line += (
                    f"   coach / this: {wall_ratio:.2f}x wall, {cpu_ratio:.2f}x cpu "
                    f"-> {'OK' if holds else 'MISSED'}"
                )
            print(line)
    print(f"\nload average after: {load_average()}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO, help="a real video file")
    parser.add_argument("--frames", type=int, default=None, help="use only the first N frames")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the video per mode")
    parser.add_argument("--prefetch", type=int, default=4, help="frames decoded ahead (0: none)")
    parser.add_argument(
        "--mask",
        choices=("both", "no", "yes"),
        default="both",
        help="run without and/or with segmentation masks",
    )
    parser.add_argument(
        "--full-size",
        action="store_true",
        help="decode the original file in the pipeline and resize each frame",
    )
    parser.add_argument(
        "--processes",
        action="store_true",
        help="time whole coach analyze processes against the bare model script instead",
    )
    parser.add_argument(
        "--clip",
        action="append",
        metavar="KIND=PATH",
        help="with --processes: the clip for an exercise (repeat; only these are timed)",
    )
    args = parser.parse_args(argv)
    if args.processes:
        return run_processes(args)
    if not args.video.is_file():
        print(f"Video not found: {args.video}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
        return run_all(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
