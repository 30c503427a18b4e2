"""The pose states the classifier, the evaluation and the recorded timelines share."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class PoseState(StrEnum):
    """Which pose the person is in."""

    CHILDS_POSE = "childs_pose"
    TABLETOP = "tabletop"
    CAT = "cat"
    COW = "cow"
    BRIDGE_DOWN = "bridge_down"  # on the back, knees bent, hips down
    BRIDGE_UP = "bridge_up"  # hips lifted
    OTHER = "other"


class ExerciseKind(str):
    """The name of an exercise the coach guides, e.g. ``"hip_lift"``.

    The exercises themselves are declared in ``coach.core.exercises`` (one
    module each, gathered into a registry); this is only their name. Equal
    names are one object, so kinds compare with ``is`` as well as ``==``.
    """

    __slots__ = ()
    _interned: ClassVar[dict[str, ExerciseKind]] = {}

    CHILDS_POSE: ClassVar[ExerciseKind]
    CAT_COW: ClassVar[ExerciseKind]
    HIP_LIFT: ClassVar[ExerciseKind]

    def __new__(cls, value: str) -> ExerciseKind:
        name = str(value)
        known = cls._interned.get(name)
        if known is None:
            known = super().__new__(cls, name)
            cls._interned[name] = known
        return known

    @property
    def value(self) -> str:
        """The name as a plain string."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"ExerciseKind({str.__repr__(self)})"


ExerciseKind.CHILDS_POSE = ExerciseKind("childs_pose")
ExerciseKind.CAT_COW = ExerciseKind("cat_cow")
ExerciseKind.HIP_LIFT = ExerciseKind("hip_lift")
