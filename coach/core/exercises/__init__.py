"""Exercise engines: one state machine per exercise on shared hold and repetition parts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from coach.core.exercises import cat_cow, childs_pose, hip_lift
from coach.core.exercises.base import ExerciseEngine
from coach.core.exercises.cat_cow import CatCowConfig, CatCowEngine
from coach.core.exercises.childs_pose import ChildsPoseConfig, ChildsPoseEngine
from coach.core.exercises.common import StateTracker
from coach.core.exercises.hip_lift import HipLiftConfig, HipLiftEngine
from coach.core.features import LANDMARKS_ONLY, Perception
from coach.core.states import ExerciseKind

if TYPE_CHECKING:
    from coach.core.classify import ClassifierConfig

CONFIG_TYPES: dict[ExerciseKind, type] = {
    ExerciseKind.CHILDS_POSE: ChildsPoseConfig,
    ExerciseKind.CAT_COW: CatCowConfig,
    ExerciseKind.HIP_LIFT: HipLiftConfig,
}

ALL_FAULT_KEYS: dict[ExerciseKind, tuple[str, ...]] = {
    ExerciseKind.CHILDS_POSE: childs_pose.FAULT_KEYS,
    ExerciseKind.CAT_COW: cat_cow.FAULT_KEYS,
    ExerciseKind.HIP_LIFT: hip_lift.FAULT_KEYS,
}

# What each exercise reads from every frame beyond the landmarks.
PERCEPTION: dict[ExerciseKind, Perception] = {
    ExerciseKind.CHILDS_POSE: childs_pose.PERCEPTION,
    ExerciseKind.CAT_COW: cat_cow.PERCEPTION,
    ExerciseKind.HIP_LIFT: hip_lift.PERCEPTION,
}


def perception_for(kinds: Iterable[ExerciseKind]) -> Perception:
    """What judging all of ``kinds`` on the same frames needs."""
    needed = LANDMARKS_ONLY
    for kind in kinds:
        needed |= PERCEPTION[ExerciseKind(kind)]
    return needed


def make_engine(
    kind: ExerciseKind,
    config: object | None,
    *,
    hold_s: float | None,
    classifier: ClassifierConfig | None = None,
    tracker: StateTracker | None = None,
) -> ExerciseEngine:
    """The engine for one exercise.

    Args:
        kind: Which exercise.
        config: Its thresholds (an instance of ``CONFIG_TYPES[kind]``), or
            None for the clinical defaults.
        hold_s: Prescribed seconds per hold (child's pose, hip lifts).
        classifier: Settings of the pose classifier the engine runs.
        tracker: A ready pose-state tracker to use instead (for tests).

    Raises:
        TypeError: ``config`` is not the config type of ``kind``.
    """
    kind = ExerciseKind(kind)
    config_type = CONFIG_TYPES[kind]
    cfg = config_type() if config is None else config
    if not isinstance(cfg, config_type):
        raise TypeError(f"{kind.value} needs a {config_type.__name__}, got {type(cfg).__name__}")
    if tracker is None:
        from coach.core.classify import ClassifierConfig, PoseClassifier

        tracker = PoseClassifier(classifier or ClassifierConfig())
    if isinstance(cfg, ChildsPoseConfig):
        return ChildsPoseEngine(cfg, hold_s=hold_s, classifier=tracker)
    if isinstance(cfg, CatCowConfig):
        return CatCowEngine(cfg, classifier=tracker)
    assert isinstance(cfg, HipLiftConfig)
    return HipLiftEngine(cfg, hold_s=hold_s, classifier=tracker)


__all__ = [
    "ALL_FAULT_KEYS",
    "CONFIG_TYPES",
    "PERCEPTION",
    "CatCowConfig",
    "CatCowEngine",
    "ChildsPoseConfig",
    "ChildsPoseEngine",
    "HipLiftConfig",
    "HipLiftEngine",
    "make_engine",
    "perception_for",
]
