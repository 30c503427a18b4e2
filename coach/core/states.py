"""The pose states the classifier, the evaluation and the recorded timelines share."""

from __future__ import annotations

from enum import StrEnum


class PoseState(StrEnum):
    """Which pose the person is in."""

    CHILDS_POSE = "childs_pose"
    TABLETOP = "tabletop"
    CAT = "cat"
    COW = "cow"
    BRIDGE_DOWN = "bridge_down"  # on the back, knees bent, hips down
    BRIDGE_UP = "bridge_up"  # hips lifted
    OTHER = "other"


class ExerciseKind(StrEnum):
    """The exercises the coach guides."""

    CHILDS_POSE = "childs_pose"
    CAT_COW = "cat_cow"
    HIP_LIFT = "hip_lift"
