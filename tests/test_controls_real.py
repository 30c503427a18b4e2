"""The body's controls on every real clip of both dev sets, with the real pose model.

Nobody in these clips means to pause, resume, skip or stop a session: none of
them may give a control. Each clip is judged as if it were an exercise under
way, with the coach watching for every control the whole time, and as if the
person had been down on the mat just before it began. Then again as if the
session were paused throughout: hands that rise above the head then are taken
as a gesture by design, so only the stretches where the annotations say the
arms are raised overhead may resume, and nothing may skip or stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import annotated_clips
from control_helpers import NO_MASK
from synthetic_body import render

from coach.core.controls import BodyControls, Command, ControlsConfig, ControlUse
from coach.core.features import FeatureExtractor, Features

pytestmark = [pytest.mark.slow, pytest.mark.realdata, pytest.mark.realmodel]

MAX_FPS = 30.0
# Where the annotations say a person holds both arms overhead while kneeling up
# (x16: "arms overhead ~3.6-6.4", "rises with arms overhead ~26-30"), with the
# annotations' own tolerance around each boundary.
ARMS_OVERHEAD: dict[str, list[tuple[float, float]]] = {
    "x16_child_sarva.mp4": [(3.6, 6.4), (26.0, 30.0)],
}
BOUNDARY_S = 0.3
CONTROLS = ControlsConfig()


CLIPS = annotated_clips()


@dataclass
class Judged:
    running: list[ControlUse]
    paused: list[ControlUse]
    frames: int
    longest_unseen_s: float = 0.0


_JUDGED: dict[str, Judged] = {}


def _down_on_the_mat(t_s: float) -> Features:
    """One frame of someone in child's pose, just before the clip."""
    return FeatureExtractor().update(render("childs_pose", t_s, NO_MASK))


def judged(real_videos: Path, name: str) -> Judged:
    """The clip posed once by the real model, and the controls it gives both ways."""
    if name in _JUDGED:
        return _JUDGED[name]
    from coach.adapters.frames import VideoFileSource
    from coach.adapters.pose_model import MediaPipePoseEstimator
    from coach.adapters.routine_store import DEFAULT_ROUTINE, open_routine

    path = real_videos / name
    if not path.is_file():
        pytest.skip(f"{path} is missing from the real data")
    routine = open_routine(DEFAULT_ROUTINE)
    extractor = FeatureExtractor(routine.camera)
    running = BodyControls(routine.session.controls)
    paused = BodyControls(routine.session.controls)
    running.update(_down_on_the_mat(-0.1), -0.1, watch_pause=True, watch_leave=True, paused=False)
    result = Judged([], [], 0)
    unseen_since: float | None = None
    source = VideoFileSource(path)
    step = max(1, round(source.fps / MAX_FPS))
    try:
        with MediaPipePoseEstimator(mode="video") as estimator:
            for index, frame in enumerate(source):
                if index % step:
                    continue
                features = extractor.update(estimator.estimate(frame.image, frame.t_s))
                result.frames += 1
                if features.present:
                    unseen_since = None
                else:
                    unseen_since = frame.t_s if unseen_since is None else unseen_since
                    result.longest_unseen_s = max(result.longest_unseen_s, frame.t_s - unseen_since)
                result.running += running.update(
                    features, frame.t_s, watch_pause=True, watch_leave=True, paused=False
                )
                result.paused += paused.update(
                    features, frame.t_s, watch_pause=True, watch_leave=True, paused=True
                )
    finally:
        source.close()
    _JUDGED[name] = result
    return result


def _show(used: list[ControlUse]) -> list[tuple[str, str, float, float]]:
    return [(u.command.value, u.gesture.value, round(u.since_s, 2), round(u.t_s, 2)) for u in used]


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_no_clip_gives_a_control(real_videos: Path, name: str) -> None:
    result = judged(real_videos, name)
    assert result.frames > 0
    assert result.running == [], _show(result.running)
    # A person on the mat is seen: leaving is far from being taken for it.
    assert result.longest_unseen_s < 0.1 * CONTROLS.leave_after_s


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_paused_only_arms_raised_overhead_resume(real_videos: Path, name: str) -> None:
    result = judged(real_videos, name)
    windows = ARMS_OVERHEAD.get(name, [])
    for use in result.paused:
        assert use.command is Command.RESUME, _show(result.paused)
        assert any(
            start - BOUNDARY_S <= use.since_s and use.t_s <= end + BOUNDARY_S
            for start, end in windows
        ), _show(result.paused)
    # Arms truly raised overhead are seen as the gesture: each stretch resumes once.
    assert len(result.paused) == len(windows), _show(result.paused)
