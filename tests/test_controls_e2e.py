"""A whole session on one recorded video, paused, resumed and skipped by the body alone.

The video is stitched at test time from real dev clips (nothing of them is
kept): a child's pose, a man kneeling up and still, raising both arms
overhead, folding into child's pose and kneeling up again, then cat-cow and
hip lifts. Keeping still is a real kneeling frame held for a few seconds (a
still body, as the camera would see one). The model, features, engines,
session, loop and recorder are the real ones. No real clip shows one hand
raised alone, so for the skip the held arms-overhead frame is posed by the
model as it is, and the far arm of that pose is then lowered to the side:
the only edited poses, on those frames alone.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from control_helpers import with_points
from rich.console import Console
from session_helpers import write_bundled_with_doses

from coach.adapters.routine_store import open_routine
from coach.core.events import EventKind
from coach.core.landmarks import SIDE_LANDMARKS, Joint, Landmark, Side
from coach.core.pose import Pose
from coach.core.routine import Routine

pytestmark = [pytest.mark.slow, pytest.mark.realdata, pytest.mark.realmodel]

FPS = 30.0
SIZE = (640, 360)
DOSES = {
    "childs_pose": {"hold_s": 5, "reps": 3, "reps_max": 3, "rest_s": 2},
    "cat_cow": {"reps": 2, "reps_max": 2, "rest_s": 2},
    "hip_lift": {"hold_s": 5, "reps": 2, "reps_max": 2, "rest_s": 0},
}
# x16: kneeling up and still about 1.1-3.5 s, both arms overhead about 4-6 s,
# kneeling again at the end (annotations-2.json).
KNEELING_S = 2.5
ARMS_UP_S = 5.0
KNEELING_END_S = 31.0


@dataclass(frozen=True)
class Part:
    """A stretch of a clip: ``start_s`` to ``end_s``, or one frame held ``hold_s``.

    No clip: an empty black frame held ``hold_s``, as when the person has left.
    """

    clip: str | None
    start_s: float = 0.0
    end_s: float | None = None
    hold_s: float | None = None
    loops: int = 1


def _frames(path: Path) -> tuple[list[np.ndarray], float]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS)
    images = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        images.append(image)
    capture.release()
    return images, fps


def _fit(image: np.ndarray) -> np.ndarray:
    import cv2

    scale = min(SIZE[0] / image.shape[1], SIZE[1] / image.shape[0])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.zeros((SIZE[1], SIZE[0], 3), dtype=np.uint8)
    top, left = (SIZE[1] - small.shape[0]) // 2, (SIZE[0] - small.shape[1]) // 2
    canvas[top : top + small.shape[0], left : left + small.shape[1]] = small
    return canvas


def stitch(videos: Path, parts: list[Part], target: Path) -> list[tuple[float, float]]:
    """Write the parts in turn at one size and frame rate; returns each part's span in it."""
    import cv2

    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    decoded = {p.clip: _frames(videos / p.clip) for p in parts if p.clip is not None}
    spans = []
    written = 0
    try:
        for part in parts:
            start = written / FPS
            if part.clip is None:
                assert part.hold_s is not None
                black = np.zeros((SIZE[1], SIZE[0], 3), dtype=np.uint8)
                for _ in range(round(part.hold_s * FPS)):
                    writer.write(black)
                written += round(part.hold_s * FPS)
                spans.append((start, written / FPS))
                continue
            images, clip_fps = decoded[part.clip]
            if part.hold_s is not None:
                still = _fit(images[min(len(images) - 1, round(part.start_s * clip_fps))])
                chosen = [still] * round(part.hold_s * FPS)
            else:
                end = part.end_s if part.end_s is not None else len(images) / clip_fps
                count = round((end - part.start_s) * FPS)
                picks = [
                    min(len(images) - 1, int((part.start_s + k / FPS) * clip_fps))
                    for k in range(count)
                ]
                chosen = [_fit(images[i]) for i in picks] * part.loops
            for image in chosen:
                writer.write(image)
            written += len(chosen)
            spans.append((start, written / FPS))
    finally:
        writer.release()
    return spans


def floor_routine(folder: Path) -> Routine:
    path = write_bundled_with_doses(folder, DOSES)
    return open_routine(str(path))


def _arm(side: Side) -> list[int]:
    hand = [Landmark[f"{side.name}_{point}"] for point in ("PINKY", "INDEX", "THUMB")]
    joints = [SIDE_LANDMARKS[side][j] for j in (Joint.ELBOW, Joint.WRIST)]
    return [int(m) for m in [*joints, *hand]]


def lower_far_arm(pose: Pose) -> Pose:
    """The pose with the less visible arm hanging straight down from its shoulder."""
    if pose.is_empty:
        return pose
    far = min(Side, key=lambda s: float(pose.visibility[int(SIDE_LANDMARKS[s][Joint.WRIST])]))
    shoulder = int(SIDE_LANDMARKS[far][Joint.SHOULDER])
    hip = int(SIDE_LANDMARKS[far][Joint.HIP])
    xy = np.array(pose.xy, dtype=np.float64)
    world = np.array(pose.world, dtype=np.float64)
    torso = float(np.linalg.norm(xy[shoulder] - xy[hip]))
    torso_m = float(np.linalg.norm(world[shoulder] - world[hip]))
    arm = _arm(far)
    reach = np.array([0.55, 1.1, 1.2, 1.2, 1.15])  # elbow, wrist, hand points, in torsos
    xy[arm] = xy[shoulder] + np.outer(reach, [0.0, torso])
    world[arm] = world[shoulder] + np.outer(reach, [0.0, torso_m, 0.0])
    return with_points(pose, xy, world)


class OneHandDuring:
    """The real pose model; between ``start_s`` and ``end_s`` its far arm is lowered."""

    def __init__(self, estimator: object, start_s: float, end_s: float) -> None:
        self._estimator = estimator
        self._span = (start_s, end_s)
        self.edited = 0

    def estimate(self, image: np.ndarray, t_s: float) -> Pose:
        pose: Pose = self._estimator.estimate(image, t_s)  # type: ignore[attr-defined]
        if self._span[0] <= t_s < self._span[1]:
            self.edited += 1
            return lower_far_arm(pose)
        return pose


def test_a_whole_session_paused_resumed_and_skipped_by_the_body(
    real_videos: Path, tmp_path: Path
) -> None:
    from coach.adapters.frames import VideoFileSource
    from coach.adapters.pose_model import MediaPipePoseEstimator
    from coach.adapters.speech import open_speaker
    from coach.adapters.storage import SessionRecorder
    from coach.app.session_loop import SessionLoop
    from coach.core.record import summarize
    from coach.core.safety import all_clear, assess
    from coach.core.session import SessionController

    x16 = "x16_child_sarva.mp4"
    parts = [
        Part("v03_child_tj.mp4"),  # set-up, the introduction, a child's pose hold
        Part(x16, KNEELING_S, hold_s=7.0),  # kneeling up, still: pause
        Part(x16, 3.4, 6.5),  # both arms raised overhead: carry on
        Part(x16, 6.5, 31.4),  # folds into child's pose, a second hold, kneels up
        Part(x16, KNEELING_END_S, hold_s=7.0),  # still again: pause
        Part(x16, ARMS_UP_S, hold_s=3.0),  # one hand up (the far arm lowered): skip
        Part("x05_catcow_renew.mp4", 0.0, 13.7, loops=3),
        Part("v07_bridge_ws.mp4", loops=3),  # hip lifts begin
        Part(None, hold_s=33.0),  # and the person leaves the mat
    ]
    video = tmp_path / "floor.mp4"
    spans = stitch(real_videos, parts, video)
    routine = floor_routine(tmp_path)
    safety = assess(all_clear())
    controller = SessionController(routine, safety=safety)
    one_hand_from, one_hand_to = spans[5]
    source = VideoFileSource(video)
    speaker, _ = open_speaker(mute=True, voice_to=None)
    with (
        MediaPipePoseEstimator(mode="video", segmentation=True) as model,
        SessionRecorder(tmp_path / "records", name=routine.name) as recorder,
    ):
        estimator = OneHandDuring(model, one_hand_from, one_hand_to)
        recorder.start(routine=routine, source=f"video:{video}", started_at=datetime.now())
        loop = SessionLoop(
            routine=routine,
            controller=controller,
            estimator=estimator,
            speaker=speaker,
            recorder=recorder,
            window=None,
            video_writer=None,
            console=Console(file=io.StringIO()),
            live=False,
            use_speaker=False,
        )
        loop.handle(controller.start(0.0), 0.0)
        early = loop.run(source)
        source.close()
        completed = any(e.kind is EventKind.SESSION_COMPLETED for e in loop.events)
        recorder.finish(summarize(routine, loop.events, complete=completed))
        folder = recorder.folder
    assert estimator.edited > 0

    lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    used = [(e["command"], e["by"], e["gesture"]) for e in events if e["kind"] == "control_used"]
    assert used == [
        ("pause", "body", "sit_up_still"),
        ("resume", "body", "both_hands_up"),
        ("pause", "body", "sit_up_still"),
        ("skip", "body", "one_hand_up"),
        ("stop", "body", "left_mat"),
    ], used
    when = [float(e["t_s"]) for e in events if e["kind"] == "control_used"]
    # Each control comes in the stretch of video that gives it; leaving is dated
    # to the last frame the person was seen, at the end of the hip lifts.
    for t_s, index in zip(when[:4], (1, 2, 4, 5), strict=True):
        start, end = spans[index]
        assert start <= t_s <= end + 0.5, (t_s, spans[index])
    assert spans[7][1] - 1.0 <= when[4] <= spans[7][1]

    started = [e["exercise"] for e in events if e["kind"] == "exercise_started"]
    assert started[0] == "childs_pose" and "cat_cow" in started and "hip_lift" in started
    skipped = [e for e in events if e["kind"] == "exercise_skipped"]
    assert [(e["exercise"], e["reason"]) for e in skipped] == [("childs_pose", "user")]
    holds = [e for e in events if e["kind"] == "hold_completed" and e["exercise"] == "childs_pose"]
    assert len(holds) == 2  # one before the first pause, one after carrying on
    counted = [e["exercise"] for e in events if e["kind"] == "rep_counted"]
    assert counted.count("cat_cow") >= 2 and "hip_lift" in counted, counted
    stopped = [e for e in events if e["kind"] == "session_stopped"]
    assert [e["reason"] for e in stopped] == ["left_mat"] and early is None and not completed

    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["stopped"] == "left_mat" and summary["pauses"]["count"] == 2
    # The wait for a person who left is not session time.
    assert summary["duration_s"] == pytest.approx(when[4], abs=0.01)
    child, cat_cow, _ = summary["exercises"]
    assert child["skipped"] is True and child["achieved"]["holds_completed"] == 2
    assert cat_cow["completed"] is True
