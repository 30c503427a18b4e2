"""Cat-cow: slow cycles on all fours between a rounded back (cat) and a sagging back (cow)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from coach.core.events import Event, EventKind
from coach.core.exercises.base import Gauge, Hold
from coach.core.exercises.common import (
    COMMON_FAULT_KEYS,
    CommonConfig,
    EngineBase,
    Position,
    StateTracker,
    beyond,
)
from coach.core.exercises.reps import CycleCounter
from coach.core.features import BACK_BEND, Features
from coach.core.landmarks import Joint
from coach.core.settings import knob
from coach.core.states import ExerciseKind, PoseState

HANDS_NOT_UNDER_SHOULDERS = "hands_not_under_shoulders"
KNEES_NOT_UNDER_HIPS = "knees_not_under_hips"
TOO_FAST = "too_fast"
FAULT_KEYS: tuple[str, ...] = (
    *COMMON_FAULT_KEYS,
    HANDS_NOT_UNDER_SHOULDERS,
    KNEES_NOT_UNDER_HIPS,
    TOO_FAST,
)

ALL_FOURS = frozenset({PoseState.TABLETOP, PoseState.CAT, PoseState.COW})
PHASES = frozenset({PoseState.CAT, PoseState.COW})


@dataclass(frozen=True, kw_only=True)
class CatCowConfig(CommonConfig):
    """Thresholds for cat-cow.

    Attributes:
        phase_dwell_s: Cat or cow must last this long to count as reached.
        min_cycle_s: A cycle quicker than this is "too fast" (the routine asks
            for slow cycles of about 3-4 seconds, paced by the breath).
        slow_cycle_s: The too-fast fault clears after a cycle at least this long.
        offset_far_torso: Hands ahead of or behind the shoulders (knees of the
            hips) by more than this, across the floor in torso lengths, is a fault.
        offset_near_torso: The fault clears when the offset is back under this.
        gauge_cow_torso: Back bend (torso lengths) of a clear cow, for the
            band shown on screen (negative: the back sags).
        gauge_cat_torso: Back bend of a clear cat (positive: rounded up).
    """

    phase_dwell_s: float = knob(0.3, 0.0, 5.0, "s", "cat or cow must last this long")
    min_cycle_s: float = knob(2.0, 0.5, 30.0, "s", "a cycle quicker than this is too fast")
    slow_cycle_s: float = knob(2.5, 0.5, 60.0, "s", "the too-fast fault clears after this")
    offset_far_torso: float = knob(0.4, 0.1, 1.5, "torso", "hands or knees this far off is a fault")
    offset_near_torso: float = knob(0.3, 0.05, 1.5, "torso", "the offset fault clears under this")
    gauge_cow_torso: float = knob(-0.07, -0.5, 0.0, "torso", "back bend of a clear cow")
    gauge_cat_torso: float = knob(0.05, 0.0, 0.5, "torso", "back bend of a clear cat")

    def validate(self) -> None:
        """Check that every hysteresis pair is the right way round."""
        if self.slow_cycle_s < self.min_cycle_s:
            raise ValueError("slow_cycle_s must not be below min_cycle_s")
        if self.offset_near_torso > self.offset_far_torso:
            raise ValueError("offset_near_torso must not be above offset_far_torso")


def horizontal_offset(features: Features, top: Joint, bottom: Joint) -> float:
    """How far ``bottom`` lies across the floor from under ``top``, in torso lengths."""
    torso = features.torso_px
    dx = float(features.point(bottom)[0] - features.point(top)[0])
    if not (torso > 0 and math.isfinite(dx)):
        return math.nan
    return abs(dx) / torso


class CatCowEngine(EngineBase):
    """Counts cat-cow cycles: one cycle when both cat and cow have been reached, in any order.

    Nothing is counted before the person is on all fours (tabletop, cat or
    cow) for ``start_dwell_s``, so getting down onto the floor, or exercises
    that never start from all fours, count nothing.
    """

    def __init__(self, config: CatCowConfig, *, classifier: StateTracker) -> None:
        self._config = config
        super().__init__(config, classifier)
        self._position = Position(lambda s: s in ALL_FOURS, lambda s: s in ALL_FOURS, config)
        self._cycles: CycleCounter[PoseState] = CycleCounter(PHASES, config.phase_dwell_s)
        self._gauge: Gauge | None = None

    @property
    def kind(self) -> ExerciseKind:
        """Cat-cow."""
        return ExerciseKind.CAT_COW

    @property
    def reps(self) -> int:
        """Cycles counted."""
        return self._cycles.count

    @property
    def holds(self) -> tuple[Hold, ...]:
        """Cat-cow has no holds."""
        return ()

    @property
    def hold_elapsed_s(self) -> float:
        """Cat-cow has no holds."""
        return 0.0

    @property
    def in_position(self) -> bool:
        """On all fours, ready to count."""
        return self._position.ready

    @property
    def gauge(self) -> Gauge | None:
        """The back's curve between a clear cow and a clear cat."""
        return self._gauge

    def reset(self) -> None:
        """Start again, as if new."""
        self._reset_shared()
        self._position.reset()
        self._cycles.reset()
        self._gauge = None

    def finish(self, t_s: float) -> list[Event]:
        """Nothing is under way that needs ending."""
        return []

    def update(self, features: Features, t_s: float) -> list[Event]:
        """Take one frame's features; return what happened."""
        cfg = self._config
        events = self._presence.update(features, t_s)
        state = self._presence.state
        curve = features[BACK_BEND]
        self._gauge = (
            Gauge("back bend", curve, cfg.gauge_cow_torso, cfg.gauge_cat_torso, "torso")
            if math.isfinite(curve)
            else None
        )
        change = self._position.update(state, t_s)
        if change is False:
            self._cycles.abandon()
            events += self._faults.clear_all(
                t_s, (HANDS_NOT_UNDER_SHOULDERS, KNEES_NOT_UNDER_HIPS, TOO_FAST)
            )
        if not self._position.ready or state is None:
            return events
        _, cycle = self._cycles.update(state, t_s)
        if cycle is not None:
            events.append(
                Event(
                    EventKind.REP_COUNTED,
                    t_s,
                    self.kind.value,
                    {
                        "count": cycle.count,
                        "held_s": 0.0,
                        "met_hold": True,
                        "start_s": round(cycle.start_s, 3),
                        "seconds": round(cycle.seconds, 3),
                    },
                )
            )
            fast = beyond(
                cycle.seconds, cfg.min_cycle_s, cfg.slow_cycle_s, self._faults.is_active(TOO_FAST)
            )
            # A cycle is judged once: raise or clear at once, no dwell.
            events += self._faults.judge_now(TOO_FAST, bool(fast), t_s)
        if features.present and state in ALL_FOURS:
            for key, top, bottom in (
                (HANDS_NOT_UNDER_SHOULDERS, Joint.SHOULDER, Joint.WRIST),
                (KNEES_NOT_UNDER_HIPS, Joint.HIP, Joint.KNEE),
            ):
                off = beyond(
                    horizontal_offset(features, top, bottom),
                    cfg.offset_far_torso,
                    cfg.offset_near_torso,
                    self._faults.is_active(key),
                )
                events += self._faults.update(key, off, t_s)
        return events
