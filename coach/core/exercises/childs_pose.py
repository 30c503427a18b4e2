"""Child's pose: hold the pose, hips back toward the heels, arms reaching forward."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from coach.core.events import Event
from coach.core.exercises.base import Counting, ExerciseInfo, Gauge, Hold, KeySignal
from coach.core.exercises.common import (
    COMMON_FAULT_KEYS,
    CommonConfig,
    EngineBase,
    StateTracker,
    Stillness,
    beyond,
)
from coach.core.exercises.hold import HoldPhase, HoldTimer
from coach.core.features import HEAD_PITCH, Features
from coach.core.landmarks import Joint
from coach.core.settings import knob
from coach.core.states import ExerciseKind, PoseState

HIPS_FAR_FROM_HEELS = "hips_far_from_heels"
ARMS_NOT_FORWARD = "arms_not_forward"
FAULT_KEYS: tuple[str, ...] = (*COMMON_FAULT_KEYS, HIPS_FAR_FROM_HEELS, ARMS_NOT_FORWARD)

# Where a child's pose starts from: kneeling on all fours, or already in it.
START_STATES = frozenset({PoseState.TABLETOP, PoseState.CHILDS_POSE})


@dataclass(frozen=True, kw_only=True)
class ChildsPoseConfig(CommonConfig):
    """Thresholds for child's pose.

    Attributes:
        heels_far_torso: Hip-to-heel distance, in torso lengths, above which
            the hips are "far from the heels" (sitting back puts them about a
            third of a torso apart; on all fours they are a whole torso apart).
        heels_near_torso: The fault clears when the distance is back under this.
        reach_short_torso: Reach of the wrists past the shoulders, along the
            trunk, below which the arms are not stretched forward.
        reach_long_torso: The arms fault clears when the reach is back over this.
        settle_window_s: The hold counts once the person has settled: the hip
            angle has changed by at most ``settle_deg`` over this window.
        settle_deg: See ``settle_window_s``.
        settle_head_deg: The head must have settled too: its pitch changed by
            at most this over the window (a person still lowering the
            forehead to the mat is not yet resting in the pose).
        gauge_hip_max_deg: Top of the hip angle band shown on screen (a deep
            fold is 20-40 degrees).
    """

    heels_far_torso: float = knob(
        0.55, 0.3, 1.5, "torso", "hips this far from the heels is a fault"
    )
    heels_near_torso: float = knob(0.45, 0.2, 1.5, "torso", "the heels fault clears under this")
    reach_short_torso: float = knob(0.6, 0.0, 1.5, "torso", "wrists this little past the shoulders")
    reach_long_torso: float = knob(0.7, 0.0, 1.5, "torso", "the arms fault clears over this")
    settle_window_s: float = knob(0.5, 0.1, 5.0, "s", "stillness is judged over this window")
    settle_deg: float = knob(8.0, 1.0, 45.0, "deg", "hip angle change that still counts as still")
    settle_head_deg: float = knob(
        15.0, 2.0, 90.0, "deg", "head pitch change that still counts as still"
    )
    gauge_hip_max_deg: float = knob(50.0, 20.0, 120.0, "deg", "top of the hip angle band shown")

    def validate(self) -> None:
        """Check that every hysteresis pair is the right way round."""
        if self.heels_near_torso > self.heels_far_torso:
            raise ValueError("heels_near_torso must not be above heels_far_torso")
        if self.reach_long_torso < self.reach_short_torso:
            raise ValueError("reach_long_torso must not be below reach_short_torso")


def reach_forward(features: Features) -> float:
    """How far the wrist lies past the shoulder toward the head, in torso lengths."""
    shoulder = features.point(Joint.SHOULDER)
    hip = features.point(Joint.HIP)
    wrist = features.point(Joint.WRIST)
    axis = shoulder - hip
    length = float(np.hypot(axis[0], axis[1]))
    if not (length > 0 and np.isfinite(wrist).all()):
        return math.nan
    return float(np.dot(wrist - shoulder, axis / length)) / length


def hips_to_heels(features: Features) -> float:
    """Distance from the hip to the heel, in torso lengths."""
    hip = features.point(Joint.HIP)
    heel = features.point(Joint.HEEL)
    torso = features.torso_px
    if not (torso > 0 and np.isfinite(heel).all() and np.isfinite(hip).all()):
        return math.nan
    return float(np.hypot(*(hip - heel))) / torso


class ChildsPoseEngine(EngineBase):
    """Times holds in child's pose and checks where the hips and arms are.

    A hold starts when the classifier sees child's pose and the person has
    settled into it (the hips and the head have stopped moving), pauses when the person
    leaves it, moves out of it or is lost, and ends after the grace; it
    completes once at ``hold_s``.
    """

    def __init__(
        self,
        config: ChildsPoseConfig,
        *,
        hold_s: float | None,
        classifier: StateTracker,
    ) -> None:
        self._config = config
        super().__init__(config, classifier)
        self._timer = HoldTimer(
            self.kind.value,
            hold_s,
            leave_grace_s=config.leave_grace_s,
            lost_end_s=config.lost_end_s,
        )
        self._still = Stillness(config.settle_window_s, config.settle_deg)
        self._head_still = Stillness(config.settle_window_s, config.settle_head_deg)
        self._hips_still = False
        self._settled = False
        self._gauge: Gauge | None = None

    @property
    def kind(self) -> ExerciseKind:
        """Child's pose."""
        return ExerciseKind.CHILDS_POSE

    @property
    def in_position(self) -> bool:
        """Kneeling on all fours, or already folded into the pose."""
        return self.state in START_STATES

    @property
    def reps(self) -> int:
        """Always 0: child's pose is dosed in holds (see ``holds``), not repetitions."""
        return 0

    @property
    def holds(self) -> tuple[Hold, ...]:
        """Holds that have ended, in order."""
        return self._timer.holds

    @property
    def hold_elapsed_s(self) -> float:
        """Seconds in the current hold."""
        return self._timer.elapsed_s

    @property
    def gauge(self) -> Gauge | None:
        """The hip angle and the band of a deep fold."""
        return self._gauge

    def reset(self) -> None:
        """Start again, as if new."""
        self._reset_shared()
        self._timer.reset()
        self._still.reset()
        self._head_still.reset()
        self._settled = False
        self._hips_still = False
        self._gauge = None

    def finish(self, t_s: float) -> list[Event]:
        """End a hold still under way (the exercise is over)."""
        return self._timer.end(t_s)

    def update(self, features: Features, t_s: float) -> list[Event]:
        """Take one frame's features; return what happened."""
        cfg = self._config
        events = self._presence.update(features, t_s)
        state = self._presence.state
        if self._presence.lost:
            return events + self._timer.update(None, t_s)
        hip = features["hip"]
        if features.present:
            head = features[HEAD_PITCH]
            # A face hidden in the mat gives no head pitch: the hips alone decide then.
            head_still = self._head_still.update(head, t_s) if math.isfinite(head) else True
            self._hips_still = self._still.update(hip, t_s)
            self._settled = self._hips_still and head_still
        # A hold starts once hips and head have settled; under way, it lasts while
        # the hips stay still (the head may move a little, or hide in the mat), and
        # it pauses as soon as the hips start to rise, not when the pose is left.
        started = self._timer.phase is not HoldPhase.IDLE
        still = self._hips_still if started else self._settled
        events += self._timer.update(state is PoseState.CHILDS_POSE and still, t_s)
        self._gauge = Gauge(hip, 0.0, cfg.gauge_hip_max_deg, "deg") if math.isfinite(hip) else None
        judged = features.present and (
            state is PoseState.CHILDS_POSE or self._timer.phase is not HoldPhase.IDLE
        )
        if judged:
            far = beyond(
                hips_to_heels(features),
                cfg.heels_far_torso,
                cfg.heels_near_torso,
                self._faults.is_active(HIPS_FAR_FROM_HEELS),
            )
            events += self._faults.update(HIPS_FAR_FROM_HEELS, far, t_s)
            short = beyond(
                reach_forward(features),
                cfg.reach_short_torso,
                cfg.reach_long_torso,
                self._faults.is_active(ARMS_NOT_FORWARD),
            )
            events += self._faults.update(ARMS_NOT_FORWARD, short, t_s)
        elif features.present:
            events += self._faults.clear_all(t_s, (HIPS_FAR_FROM_HEELS, ARMS_NOT_FORWARD))
        return events


def _build(
    config: ChildsPoseConfig, hold_s: float | None, tracker: StateTracker
) -> ChildsPoseEngine:
    return ChildsPoseEngine(config, hold_s=hold_s, classifier=tracker)


EXERCISE = ExerciseInfo(
    kind=ExerciseKind.CHILDS_POSE,
    title="Child's pose",
    config_type=ChildsPoseConfig,
    build=_build,
    states=(PoseState.CHILDS_POSE, PoseState.TABLETOP),
    fault_keys=FAULT_KEYS,
    counting=Counting.HOLDS,
    unit="holds",
    key_signal=KeySignal("hip", "deg", None, "gauge_hip_max_deg", fallback="knee"),
    dose={"hold_s": 30, "reps": 3, "rest_s": 15},
)
