"""The frame pipeline: the silhouette only while an exercise reads it, switched without a pause."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pytest
from session_helpers import Script
from synthetic_body import Camera, render
from test_session_loop import Frames, SideEstimator, make_loop

from coach.adapters.frames import Frame
from coach.app.pipeline import FramePipeline, SwitchingEstimator
from coach.core.exercises import PERCEPTION, kinds, perception_for
from coach.core.features import BACK_BEND, LANDMARKS_ONLY, WITH_SILHOUETTE
from coach.core.pose import Pose
from coach.core.states import ExerciseKind, PoseState

IMAGE = np.zeros((480, 640, 3), np.uint8)


class SwitchingDouble:
    """Renders a synthetic cat, with its silhouette only while one is asked for.

    Like the real estimator, a setting asked for before it was prepared is
    made ready on the next frame, and the current one serves meanwhile.
    """

    # Drawn once: a silhouette takes long to draw, and every frame shows the same cat.
    POSES: ClassVar[dict[bool, Pose]] = {
        masked: render("cat", 0.0, Camera(mask=masked)) for masked in (False, True)
    }

    def __init__(self, segmentation: bool = False) -> None:
        self.ready = {segmentation}
        self.segmentation = segmentation
        self.prepared: list[bool] = []
        self.asked: list[bool] = []
        self.frames_with_mask = 0

    def prepare(self, segmentation: bool) -> None:
        self.prepared.append(segmentation)
        self.ready.add(segmentation)

    def use_segmentation(self, segmentation: bool, *, wait: bool = False) -> None:
        self.asked.append(segmentation)
        self.segmentation = segmentation

    def estimate(self, image: np.ndarray, t_s: float) -> Pose:
        masked = self.segmentation if self.segmentation in self.ready else not self.segmentation
        self.ready.add(self.segmentation)
        self.frames_with_mask += masked
        return replace(self.POSES[masked], t_s=t_s)

    def close(self) -> None:
        pass


def test_each_exercise_asks_for_what_it_reads() -> None:
    assert PERCEPTION[ExerciseKind.CAT_COW] == WITH_SILHOUETTE
    assert PERCEPTION[ExerciseKind.CHILDS_POSE] == LANDMARKS_ONLY
    assert PERCEPTION[ExerciseKind.HIP_LIFT] == LANDMARKS_ONLY
    assert perception_for([ExerciseKind.HIP_LIFT, ExerciseKind.CHILDS_POSE]) == LANDMARKS_ONLY
    assert perception_for(kinds()) == WITH_SILHOUETTE
    assert perception_for([]) == LANDMARKS_ONLY


def test_the_back_is_measured_only_while_the_silhouette_is_asked_for() -> None:
    double = SwitchingDouble()
    assert isinstance(double, SwitchingEstimator)
    pipeline = FramePipeline(double, perception=LANDMARKS_ONLY)
    first = pipeline.see(IMAGE, 0.0)
    assert first.pose.mask is None and math.isnan(first.features[BACK_BEND])
    pipeline.prepare(WITH_SILHOUETTE)
    pipeline.perceive(WITH_SILHOUETTE)
    bent = pipeline.see(IMAGE, 0.1).features[BACK_BEND]
    assert bent > 0.02  # a cat's rounded back, read on the silhouette
    pipeline.perceive(LANDMARKS_ONLY)
    assert math.isnan(pipeline.see(IMAGE, 0.2).features[BACK_BEND])
    assert double.asked == [False, True, False] and double.prepared == [True]


def test_a_mask_is_not_read_when_no_exercise_asks_for_it() -> None:
    class AlwaysMasked(SideEstimator):
        def estimate(self, image: np.ndarray, t_s: float) -> Pose:
            return render("cat", t_s)

    pipeline = FramePipeline(AlwaysMasked(), perception=LANDMARKS_ONLY)
    seen = pipeline.see(IMAGE, 0.0)
    assert seen.pose.mask is not None and math.isnan(seen.features[BACK_BEND])


def test_bad_frames_are_nobody_until_the_limit() -> None:
    pipeline = FramePipeline(SideEstimator(fail_at=frozenset({2, 3})), bad_frame_limit=2)
    seen = [pipeline.see(IMAGE, i / 10) for i in range(4)]
    assert [s.pose.is_empty for s in seen] == [False, True, True, False]
    failing = FramePipeline(SideEstimator(fail_at=frozenset({1})), bad_frame_limit=0)
    with pytest.raises(RuntimeError, match="native failure"):
        failing.see(IMAGE, 0.0)


def test_stills_share_nothing_from_one_image_to_the_next() -> None:
    pipeline = FramePipeline(SwitchingDouble(True), perception=WITH_SILHOUETTE, stills=True)
    a = pipeline.see(IMAGE, 0.0).features
    b = pipeline.see(IMAGE, 0.0).features
    assert a.values == b.values  # no filter carried the first image into the second


def test_the_session_asks_for_the_silhouette_for_cat_cow_only() -> None:
    from session_helpers import Scripts, routine, spec, timeline

    order = (ExerciseKind.CHILDS_POSE, ExerciseKind.CAT_COW, ExerciseKind.HIP_LIFT)
    the_routine = routine(
        spec(ExerciseKind.CHILDS_POSE, hold_s=2.0),
        spec(ExerciseKind.CAT_COW, reps=1),
        spec(ExerciseKind.HIP_LIFT, hold_s=2.0),
    )
    scripts = Scripts(
        {
            ExerciseKind.CHILDS_POSE: timeline((0.0, PoseState.CHILDS_POSE)),
            ExerciseKind.CAT_COW: timeline(
                (0.0, PoseState.TABLETOP), (2.0, PoseState.CAT), (4.0, PoseState.COW)
            ),
            ExerciseKind.HIP_LIFT: timeline((0.0, PoseState.BRIDGE_DOWN)),
        }
    )
    double = SwitchingDouble(segmentation=False)
    loop = make_loop(estimator=double, the_routine=the_routine, scripts=scripts)
    # Both settings are made ready before the first frame, so no switch waits.
    assert set(double.prepared) == {False, True}
    masks: list[tuple[str | None, bool]] = []
    for frame in Frames(120.0):
        # The exercise under way as the frame comes decides what the frame is asked for.
        current = loop.controller.current
        loop.step(frame)
        masks.append((current.kind.value if current else None, loop.pipeline.perception.silhouette))
        if loop.controller.done:
            break
    reached = [kind for kind, _ in masks if kind is not None]
    assert [k.value for k in order] == list(dict.fromkeys(reached))
    for kind, silhouette in masks:
        assert silhouette == (kind == ExerciseKind.CAT_COW.value), (kind, silhouette)
    cat_cow_frames = sum(kind == "cat_cow" for kind, _ in masks)
    assert double.frames_with_mask == cat_cow_frames


class SizeSpy:
    """Stands in for MediaPipe's landmarker: notes the size of every image it is given."""

    def __init__(self, segmentation: bool, sizes: dict[bool, list[tuple[int, ...]]]) -> None:
        self.seen = sizes.setdefault(segmentation, [])

    def detect_for_video(self, image: np.ndarray, ms: int) -> object:
        self.seen.append(image.shape[:2])
        return SimpleNamespace(pose_landmarks=[])

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("frame", "with_mask"),
    [
        ((1280, 720), (640, 360)),  # a portrait phone video, halved
        ((1080, 1920), (360, 640)),  # full HD, a third as wide and high
        ((999, 437), (499, 218)),  # an odd size, halved
        ((480, 640), (480, 640)),  # a camera's frame is given whole
        ((200, 360), (200, 360)),
    ],
)
def test_frames_given_the_silhouette_are_at_most_a_cameras_size(
    monkeypatch: pytest.MonkeyPatch, frame: tuple[int, int], with_mask: tuple[int, int]
) -> None:
    from coach.adapters import pose_model

    sizes: dict[bool, list[tuple[int, ...]]] = {}
    tasks = SimpleNamespace(
        image=lambda image_format, data: data, image_format=SimpleNamespace(SRGB="srgb")
    )
    monkeypatch.setattr(pose_model, "pose_tasks", lambda: tasks)
    monkeypatch.setattr(
        pose_model,
        "open_landmarker",
        lambda model, *, segmentation, **_: SizeSpy(segmentation, sizes),
    )
    image = np.zeros((*frame, 3), np.uint8)
    with pose_model.MediaPipePoseEstimator(segmentation=False) as estimator:
        estimator.estimate(image, 0.0)
        estimator.use_segmentation(True, wait=True)
        estimator.estimate(image, 0.1)
    height, width = frame
    plain = (round(height * 960 / width), 960) if width > 960 else frame
    assert sizes == {False: [plain], True: [with_mask]}


# ------------------------------------------------------------------- the real model
@pytest.mark.slow
def test_the_real_model_switches_the_silhouette_without_stopping_the_frames(
    real_videos: Path,
) -> None:
    from coach.adapters.frames import VideoFileSource
    from coach.adapters.pose_model import MediaPipePoseEstimator

    source = VideoFileSource(real_videos / "v01_catcow_tj.mp4", size=(360, 640))
    frames = [frame for _, frame in zip(range(40), source, strict=False)]
    source.close()
    with MediaPipePoseEstimator(segmentation=False) as estimator:
        first = estimator.estimate(frames[0].image, frames[0].t_s)
        assert not first.is_empty and first.mask is None
        estimator.prepare(True)
        # Frames go on through the landmarker without masks while the other is set up.
        during = [estimator.estimate(f.image, f.t_s) for f in frames[1:20]]
        assert all(p.mask is None for p in during)
        assert sum(not p.is_empty for p in during) >= 17
        estimator.use_segmentation(True, wait=True)
        masked = [estimator.estimate(f.image, f.t_s) for f in frames[20:30]]
        assert all(p.mask is not None and p.mask.shape[:2] == (640, 360) for p in masked)
        assert sum(not p.is_empty for p in masked) >= 8  # tracking carries on
        estimator.use_segmentation(False)
        plain = [estimator.estimate(f.image, f.t_s) for f in frames[30:]]
        assert all(p.mask is None for p in plain)


# ------------------------------------------------------ decisions and frame counts
class FramesAt:
    """``seconds`` of frames at ``fps``."""

    def __init__(self, seconds: float, fps: float) -> None:
        self.seconds, self.fps = seconds, fps

    def __iter__(self) -> Iterator[Frame]:
        for i in range(round(self.seconds * self.fps) + 1):
            yield Frame(IMAGE, i / self.fps)

    def close(self) -> None:
        pass


def _session_at(fps: float) -> list[tuple[str, str | None, str, float]]:
    from session_helpers import Scripts, routine, spec, timeline

    def cycling(*states: tuple[float, PoseState], period: float) -> Script:
        steps = timeline(*states)
        return lambda t_s: steps(t_s % period)

    the_routine = routine(
        spec(ExerciseKind.CHILDS_POSE, hold_s=3.0, reps=2, rest_s=2.0),
        spec(ExerciseKind.CAT_COW, reps=3),
        spec(ExerciseKind.HIP_LIFT, hold_s=4.0, reps=2),
    )
    scripts = Scripts(
        {
            ExerciseKind.CHILDS_POSE: cycling(
                (0.0, PoseState.TABLETOP), (1.0, PoseState.CHILDS_POSE), period=6.0
            ),
            ExerciseKind.CAT_COW: cycling(
                (0.0, PoseState.TABLETOP), (1.0, PoseState.CAT), (3.0, PoseState.COW), period=5.0
            ),
            ExerciseKind.HIP_LIFT: cycling(
                (0.0, PoseState.BRIDGE_DOWN), (2.0, PoseState.BRIDGE_UP), period=8.0
            ),
        }
    )
    loop = make_loop(the_routine=the_routine, scripts=scripts)
    assert loop.run(FramesAt(60.0, fps)) is None
    loop.drain()
    return [
        (e.kind.value, e.exercise, str(e.data.get("key", "")), e.t_s)
        for e in loop.events
        if e.kind.value not in ("hold_progress", "state_changed")
    ]


def test_the_session_decides_the_same_at_any_frame_rate() -> None:
    """Every decision rests on the frames' times, never on how many frames came."""
    runs = {fps: _session_at(fps) for fps in (10.0, 5.0, 3.0)}
    reference = runs[10.0]
    assert any(kind == "session_completed" for kind, *_ in reference)
    assert sum(kind == "rep_counted" for kind, *_ in reference) >= 5
    for fps, events in runs.items():
        assert [e[:3] for e in events] == [e[:3] for e in reference], fps
        for got, want in zip(events, reference, strict=True):
            # A step of the session comes on the first frame after its time.
            assert abs(got[3] - want[3]) <= 2.5 / fps, (fps, got, want)


def test_engines_decide_the_same_at_any_frame_rate() -> None:
    from synthetic_body import Segment, sequence

    from coach.core.exercises import make_engine
    from coach.core.features import FeatureExtractor

    moves = [
        Segment("bridge_down", 3.0),
        *[Segment(pose, 2.5) for _ in range(2) for pose in ("bridge_up", "bridge_down")],
    ]

    def counted(fps: float) -> tuple[int, list[float]]:
        engine = make_engine(ExerciseKind.HIP_LIFT, None, hold_s=2.0)
        extractor = FeatureExtractor(perception=LANDMARKS_ONLY)
        t_s = 0.0
        for pose in sequence(moves, fps=fps, camera=Camera(mask=False), noise_px=0.3):
            engine.update(extractor.update(pose), pose.t_s)
            t_s = pose.t_s
        engine.finish(t_s)
        return engine.reps, [round(h.seconds) for h in engine.holds]

    reference = counted(20.0)
    assert reference[0] == 2
    assert counted(10.0) == counted(5.0) == reference
