"""A session loop over one child's pose where nobody is seen, for tests of what it says."""

from __future__ import annotations

from typing import Any

import numpy as np
from control_helpers import floor_session
from rich.console import Console
from session_helpers import Scripts, routine, spec, timeline
from synthetic_body import Camera

from coach.app.session_loop import SessionLoop
from coach.core.pose import Pose
from coach.core.routine import Routine
from coach.core.session import SessionController
from coach.core.states import ExerciseKind, PoseState


class NoPose:
    """Finds nobody in any frame."""

    def estimate(self, image: np.ndarray, t_s: float) -> Pose:
        return Pose.empty(t_s, (image.shape[1], image.shape[0]))

    def close(self) -> None:
        pass


class PoseScript:
    """Finds, in each frame, the pose prepared for its time."""

    def __init__(self, poses: list[Pose]) -> None:
        self._poses = {round(pose.t_s, 6): pose for pose in poses}

    def estimate(self, image: np.ndarray, t_s: float) -> Pose:
        return self._poses[round(t_s, 6)]

    def close(self) -> None:
        pass


def floor_routine(fps: float) -> tuple[list[Pose], Routine, Scripts]:
    """The poses of ``floor_session`` at ``fps``, a child's pose and cat-cow routine, and
    engines that never count: only the body's pauses, carry-ons, skips and stop move it."""
    poses = floor_session(fps, Camera(mask=False))
    child, cat_cow = ExerciseKind.CHILDS_POSE, ExerciseKind.CAT_COW
    the_routine = routine(spec(child, hold_s=5.0), spec(cat_cow, reps=2))
    scripts = Scripts({child: timeline((0.0, PoseState.OTHER)), cat_cow: timeline((0.0, None))})
    return poses, the_routine, scripts


def quiet_loop(
    speaker: Any, *, window: Any = None, live: bool = False, style: Any = None
) -> SessionLoop:
    """A started loop over one child's pose; the estimator finds nobody."""
    the_routine = routine(spec(ExerciseKind.CHILDS_POSE, hold_s=2.0))
    scripts = Scripts({ExerciseKind.CHILDS_POSE: timeline((0.0, PoseState.CHILDS_POSE))})
    loop = SessionLoop(
        routine=the_routine,
        controller=SessionController(the_routine, engine_factory=scripts),
        estimator=NoPose(),
        speaker=speaker,
        recorder=None,
        window=window,
        video_writer=None,
        console=Console(quiet=True),
        live=live,
        use_speaker=live,
        style=style,
    )
    loop.handle(loop.controller.start(0.0), 0.0)
    return loop
