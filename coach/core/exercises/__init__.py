"""Exercise engines, one module per exercise, and the registry of what each declares.

Every module of this package that defines ``EXERCISE`` (an ``ExerciseInfo``)
is an exercise: its kind, title, thresholds, engine, pose states, faults, cue
keys, how its dose is counted and its key signal. The routine loader, the
session, the record, the report and the analysis read them from here, so a
new exercise is a new module (plus its cue texts and tests).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from coach.core.exercises.base import Breath, Counting, ExerciseEngine, ExerciseInfo, KeySignal
from coach.core.exercises.cat_cow import CatCowConfig, CatCowEngine
from coach.core.exercises.childs_pose import ChildsPoseConfig, ChildsPoseEngine
from coach.core.exercises.common import StateTracker
from coach.core.exercises.hip_lift import HipLiftConfig, HipLiftEngine
from coach.core.features import LANDMARKS_ONLY, Perception
from coach.core.states import ExerciseKind

if TYPE_CHECKING:
    from coach.core.classify import ClassifierConfig


def _discover() -> Mapping[ExerciseKind, ExerciseInfo]:
    found: dict[ExerciseKind, ExerciseInfo] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        info = getattr(importlib.import_module(f"{__name__}.{module.name}"), "EXERCISE", None)
        if isinstance(info, ExerciseInfo):
            if info.kind in found:
                raise RuntimeError(f"two exercise modules declare {info.kind!r}")
            found[info.kind] = info
    return MappingProxyType(found)


EXERCISES: Mapping[ExerciseKind, ExerciseInfo] = _discover()
"""Every exercise the coach guides, by kind."""

CONFIG_TYPES: Mapping[ExerciseKind, type] = MappingProxyType(
    {kind: info.config_type for kind, info in EXERCISES.items()}
)
ALL_FAULT_KEYS: Mapping[ExerciseKind, tuple[str, ...]] = MappingProxyType(
    {kind: info.fault_keys for kind, info in EXERCISES.items()}
)
KEY_SIGNALS: Mapping[ExerciseKind, KeySignal] = MappingProxyType(
    {kind: info.key_signal for kind, info in EXERCISES.items()}
)
PERCEPTION: Mapping[ExerciseKind, Perception] = MappingProxyType(
    {kind: info.perception for kind, info in EXERCISES.items()}
)


def kinds() -> tuple[ExerciseKind, ...]:
    """Every exercise's kind, in a stable order."""
    return tuple(EXERCISES)


def exercise(kind: str) -> ExerciseInfo:
    """What the coach knows about the exercise ``kind``.

    Raises:
        ValueError: No exercise has that name; the message lists those that do.
    """
    info = EXERCISES.get(ExerciseKind(kind))
    if info is None:
        raise ValueError(f"{kind!r} is not an exercise; use one of {', '.join(EXERCISES)}")
    return info


def perception_for(kinds: Iterable[ExerciseKind]) -> Perception:
    """What judging all of ``kinds`` on the same frames needs."""
    needed = LANDMARKS_ONLY
    for kind in kinds:
        needed |= PERCEPTION[ExerciseKind(kind)]
    return needed


def make_engine(
    kind: str,
    config: object | None,
    *,
    hold_s: float | None,
    classifier: ClassifierConfig | None = None,
    tracker: StateTracker | None = None,
) -> ExerciseEngine:
    """The engine for one exercise.

    Args:
        kind: Which exercise.
        config: Its thresholds (an instance of its ``config_type``), or None
            for the clinical defaults.
        hold_s: Prescribed seconds per hold (held exercises).
        classifier: Settings of the pose classifier the engine runs.
        tracker: A ready pose-state tracker to use instead (for tests).

    Raises:
        TypeError: ``config`` is not the config type of ``kind``.
        ValueError: ``kind`` is not an exercise.
    """
    info = exercise(kind)
    cfg = info.config_type() if config is None else config
    if not isinstance(cfg, info.config_type):
        raise TypeError(
            f"{info.kind} needs a {info.config_type.__name__}, got {type(cfg).__name__}"
        )
    if tracker is None:
        from coach.core.classify import ClassifierConfig, PoseClassifier

        tracker = PoseClassifier(classifier or ClassifierConfig())
    return info.build(cfg, hold_s, tracker)


__all__ = [
    "ALL_FAULT_KEYS",
    "CONFIG_TYPES",
    "EXERCISES",
    "KEY_SIGNALS",
    "PERCEPTION",
    "Breath",
    "CatCowConfig",
    "CatCowEngine",
    "ChildsPoseConfig",
    "ChildsPoseEngine",
    "Counting",
    "ExerciseInfo",
    "HipLiftConfig",
    "HipLiftEngine",
    "exercise",
    "kinds",
    "make_engine",
    "perception_for",
]
