"""How fast the coach sees: the bare pose model against the whole per-frame pipeline.

Runs on a real video, re-encoded once at a camera's 640x480 as Motion-JPEG (what
webcams send), and measures in the same run:

  bare      MediaPipe ``detect_for_video`` alone (VIDEO mode), on frames that
            were decoded, resized and converted to MediaPipe images beforehand;
  pipeline  what the coach does for every frame: decode the video and resize
            (``VideoFileSource``, which decodes ahead in a thread), the pose
            adapter (colour conversion, the model, conversion to ``Pose``) and
            the feature extractor (angles, side, view checks, smoothing).

Both run without and with segmentation masks, in alternating rounds so that
load from other programs hits both alike; the fastest round of each counts.
With --full-size the pipeline decodes the original file and resizes every
frame itself, which shows what decoding full-HD footage costs on top.

    python benchmarks/bench_pipeline.py [--video PATH] [--rounds 2] [--frames N]
                                        [--prefetch 4] [--mask both|no|yes] [--full-size]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from coach.adapters.frames import VideoFileSource
from coach.adapters.pose_model import MediaPipePoseEstimator, quiet_native_stderr, verify_model
from coach.core.features import FeatureExtractor

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = ROOT.parent / "shared" / "realdata" / "videos" / "v07_bridge_ws.mp4"
SIZE = (640, 480)
MAX_OVERHEAD = 0.10  # the pipeline may add at most this over the bare model call
MIN_FPS = 30.0


@dataclass(frozen=True)
class Run:
    """One pass over the video: wall time per frame and what was found."""

    name: str
    frame_s: tuple[float, ...]
    found: int
    cpu_s: float  # processor time of the whole process (all threads) over the pass

    @property
    def total_s(self) -> float:
        return sum(self.frame_s)

    @property
    def ms_per_frame(self) -> float:
        return 1000.0 * self.total_s / len(self.frame_s)

    @property
    def median_ms(self) -> float:
        return 1000.0 * statistics.median(self.frame_s)

    @property
    def fps(self) -> float:
        return len(self.frame_s) / self.total_s

    @property
    def cpu_ms_per_frame(self) -> float:
        return 1000.0 * self.cpu_s / len(self.frame_s)


def reencode(video: Path, out_dir: Path, limit: int | None) -> Path:
    """The video resized to SIZE and written as Motion-JPEG, as a webcam delivers it."""
    out = out_dir / f"{video.stem}_{SIZE[0]}x{SIZE[1]}.avi"
    source = VideoFileSource(video, size=SIZE, prefetch=0)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"MJPG"), source.fps, SIZE)
    try:
        for count, frame in enumerate(source, 1):
            writer.write(frame.image)
            if limit is not None and count >= limit:
                break
    finally:
        writer.release()
        source.close()
    return out


def decode_all(video: Path, limit: int | None) -> tuple[list[np.ndarray], float]:
    """The video's frames, resized to SIZE exactly as the pipeline resizes them."""
    source = VideoFileSource(video, size=SIZE, prefetch=0)
    frames: list[np.ndarray] = []
    try:
        for frame in source:
            frames.append(frame.image)
            if limit is not None and len(frames) >= limit:
                break
    finally:
        source.close()
    return frames, source.fps


def bare(frames_bgr: list[np.ndarray], fps: float, segmentation: bool) -> Run:
    """The MediaPipe call alone, on pre-converted images, in VIDEO mode."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    images = [
        mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
        for f in frames_bgr
    ]
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(verify_model())),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=1,
        output_segmentation_masks=segmentation,
    )
    times: list[float] = []
    found = 0
    with quiet_native_stderr():
        landmarker = vision.PoseLandmarker.create_from_options(options)
    cpu_start = time.process_time()
    try:
        for i, image in enumerate(images):
            ms = round(i * 1000.0 / fps)
            start = time.perf_counter()
            if i == 0:
                with quiet_native_stderr():  # first-frame warnings, as in the adapter
                    result = landmarker.detect_for_video(image, ms)
            else:
                result = landmarker.detect_for_video(image, ms)
            times.append(time.perf_counter() - start)
            found += bool(result.pose_landmarks)
        cpu_s = time.process_time() - cpu_start
    finally:
        with quiet_native_stderr():
            landmarker.close()
    return Run("bare model" + (" + mask" if segmentation else ""), tuple(times), found, cpu_s)


def pipeline(
    video: Path, limit: int, segmentation: bool, prefetch: int, stages: dict[str, list[float]]
) -> Run:
    """Decode, resize, pose adapter and features, frame by frame, as the coach runs."""
    times: list[float] = []
    found = 0
    extractor = FeatureExtractor()
    source = VideoFileSource(video, size=SIZE, prefetch=prefetch)
    try:
        with MediaPipePoseEstimator(segmentation=segmentation) as estimator:
            cpu_start = time.process_time()
            frames = iter(source)
            for _ in range(limit):
                t0 = time.perf_counter()
                frame = next(frames, None)
                if frame is None:
                    break
                t1 = time.perf_counter()
                pose = estimator.estimate(frame.image, frame.t_s)
                t2 = time.perf_counter()
                features = extractor.update(pose)
                t3 = time.perf_counter()
                times.append(t3 - t0)
                found += features.side is not None
                stages.setdefault("wait for decoded frame", []).append(t1 - t0)
                stages.setdefault("pose adapter", []).append(t2 - t1)
                stages.setdefault("features", []).append(t3 - t2)
            cpu_s = time.process_time() - cpu_start
    finally:
        source.close()
    return Run("pipeline" + (" + mask" if segmentation else ""), tuple(times), found, cpu_s)


def load_average() -> str:
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            return fh.read().split()[0]
    except OSError:
        return "unknown"


def report(bare_runs: list[Run], pipe_runs: list[Run], stages: dict[str, list[float]]) -> bool:
    """Print one mode's figures; True when both targets hold."""
    b = min(bare_runs, key=lambda r: r.total_s)
    p = min(pipe_runs, key=lambda r: r.total_s)
    overhead = p.total_s / b.total_s - 1.0
    overhead_median = p.median_ms / b.median_ms - 1.0
    overhead_cpu = p.cpu_s / b.cpu_s - 1.0
    for run in (b, p):
        print(
            f"  {run.name:<18} {run.fps:6.1f} fps {run.ms_per_frame:7.2f} ms/frame "
            f"(median {run.median_ms:5.2f}, cpu {run.cpu_ms_per_frame:5.2f})  "
            f"pose in {run.found}/{len(run.frame_s)} frames"
        )
    parts = ", ".join(f"{k} {1000.0 * sum(v) / len(v):.2f}" for k, v in stages.items())
    print(f"  pipeline stages, ms/frame: {parts}")
    holds_overhead = overhead <= MAX_OVERHEAD
    holds_fps = p.fps >= MIN_FPS
    verdict_overhead = "OK" if holds_overhead else "MISSED"
    verdict_fps = "OK" if holds_fps else "MISSED"
    print(
        f"  pipeline over bare call: {100 * overhead:+.1f}% "
        f"(medians {100 * overhead_median:+.1f}%, cpu time {100 * overhead_cpu:+.1f}%) "
        f"-> {verdict_overhead}, "
        f"target <= {100 * MAX_OVERHEAD:.0f}%"
    )
    print(f"  pipeline rate: {p.fps:.1f} fps -> {verdict_fps}, target >= {MIN_FPS:.0f} fps")
    rounds_b = ", ".join(f"{r.ms_per_frame:.2f}" for r in bare_runs)
    rounds_p = ", ".join(f"{r.ms_per_frame:.2f}" for r in pipe_runs)
    print(f"  every round, ms/frame: bare {rounds_b}; pipeline {rounds_p}")
    return holds_overhead and holds_fps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO, help="a real video file")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per variant")
    parser.add_argument("--frames", type=int, default=None, help="use only the first N frames")
    parser.add_argument("--prefetch", type=int, default=4, help="frames decoded ahead (0: none)")
    parser.add_argument("--mask", choices=("both", "no", "yes"), default="both",
                        help="run without and/or with segmentation masks")
    parser.add_argument("--full-size", action="store_true",
                        help="decode the original file in the pipeline and resize each frame")
    args = parser.parse_args(argv)
    if not args.video.is_file():
        print(f"Video not found: {args.video}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
        return run_all(args, Path(tmp))


def run_all(args: argparse.Namespace, tmp: Path) -> int:
    """Every variant, in alternating rounds; 0 when the targets hold."""
    camera_like = reencode(args.video, tmp, args.frames)
    video = args.video if args.full_size else camera_like
    frames, fps = decode_all(camera_like, args.frames)
    n = len(frames)
    origin = f"original {args.video.name}, resized per frame" if args.full_size else (
        f"{args.video.name} re-encoded at {SIZE[0]}x{SIZE[1]} MJPG")
    print(
        f"{n} frames at {fps:.1f} fps; pipeline decodes the {origin}; "
        f"{os.cpu_count()} cpus, load average {load_average()}; prefetch {args.prefetch}"
    )
    modes = {"both": (False, True), "no": (False,), "yes": (True,)}[args.mask]
    ok = True
    for segmentation in modes:
        bare_runs: list[Run] = []
        pipe_runs: list[Run] = []
        all_stages: list[dict[str, list[float]]] = []
        for _ in range(args.rounds):
            bare_runs.append(bare(frames, fps, segmentation))
            stages: dict[str, list[float]] = {}
            pipe_runs.append(pipeline(video, n, segmentation, args.prefetch, stages))
            all_stages.append(stages)
        fastest = min(range(len(pipe_runs)), key=lambda i: pipe_runs[i].total_s)
        print(f"\nsegmentation masks {'on' if segmentation else 'off'}:")
        ok &= report(bare_runs, pipe_runs, all_stages[fastest])
    print(f"\nload average after: {load_average()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
