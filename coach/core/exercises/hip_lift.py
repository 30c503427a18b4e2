"""Hip lifts: lying on the back, knees bent, lift the hips a couple of inches and hold.

"Up" does not demand a full bridge. The lift is measured against the
person's own resting position: a baseline of how high the hips sit above the
shoulder-ankle line and the shoulder-knee line, taken while they lie with the
hips down. Both lines move with the body, so the lift reads the same near or
far from the camera and whatever the hip angle of a deep bridge (often only
130-145 degrees, which a fixed angle threshold would miss).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from coach.core.events import Event, EventKind
from coach.core.exercises.base import Counting, ExerciseInfo, Gauge, Hold, KeySignal
from coach.core.exercises.common import (
    COMMON_FAULT_KEYS,
    CommonConfig,
    Debounced,
    EngineBase,
    Position,
    StateTracker,
    Stillness,
    beyond,
)
from coach.core.exercises.hold import HoldTimer
from coach.core.exercises.reps import Rep, UpDownCounter
from coach.core.features import HIP_LIFT, HIP_LIFT_KNEE, Features
from coach.core.settings import knob
from coach.core.states import ExerciseKind, PoseState

LIFT_TOO_SMALL = "lift_too_small"
OVER_ARCHED = "over_arched"
KNEES_STRAIGHTENING = "knees_straightening"
FAULT_KEYS: tuple[str, ...] = (
    *COMMON_FAULT_KEYS,
    LIFT_TOO_SMALL,
    OVER_ARCHED,
    KNEES_STRAIGHTENING,
)

ON_THE_BACK = frozenset({PoseState.BRIDGE_DOWN, PoseState.BRIDGE_UP})


@dataclass(frozen=True, kw_only=True)
class HipLiftConfig(CommonConfig):
    """Thresholds for hip lifts. Lifts are in torso lengths (shoulder to hip).

    Attributes:
        lift_up_torso: Lift above the resting position that counts as "up":
            a couple of inches is about a tenth of a torso.
        lift_down_torso: Back under this lift, the hips are down again.
        down_fraction: The hips are also down again once they are back
            within this fraction of the lift's highest point from the resting
            position, so a rest a little higher than before still ends the lift.
        lift_attempt_torso: A lift over this that does not reach "up" for
            ``fault_raise_s`` is "not lifted enough".
        lift_dwell_s: Up or down must last this long to count.
        hold_drop_fraction: The hold at the top ends when the hips have come
            down by this fraction of the lift's highest point.
        baseline_tau_s: Time constant of the resting-position baseline, which
            follows the person slowly while the hips are down.
        rest_window_s: The resting position is only taken while the hips are
            still: they moved by at most ``rest_band_torso`` over this window
            (a slow lift must not become the new resting position).
        rest_band_torso: See ``rest_window_s``.
        over_arch_deg: Hips pushed this many degrees past the straight
            shoulder-knee line is an over-arched back.
        over_arch_clear_deg: The over-arch fault clears under this.
        knee_straight_deg: A knee angle over this means the feet slide away
            and the knees straighten (the knees stay bent at about 60-90).
        knee_bent_deg: The knees fault clears under this.
        gauge_high_torso: Top of the lift band shown on screen.
    """

    lift_up_torso: float = knob(0.1, 0.03, 1.0, "torso", "lift above rest that counts as up")
    lift_down_torso: float = knob(0.05, 0.0, 1.0, "torso", "under this lift the hips are down")
    down_fraction: float = knob(
        0.25, 0.0, 0.9, "", "down again within this fraction of the lift from rest"
    )
    lift_attempt_torso: float = knob(0.05, 0.01, 1.0, "torso", "a lift this big that stays short")
    lift_dwell_s: float = knob(0.15, 0.0, 3.0, "s", "up or down must last this long")
    hold_drop_fraction: float = knob(
        0.25, 0.05, 0.9, "", "the hold ends when the hips drop this fraction"
    )
    baseline_tau_s: float = knob(1.0, 0.1, 30.0, "s", "how fast the resting position follows")
    rest_window_s: float = knob(0.5, 0.1, 5.0, "s", "the hips must be still this long to rest")
    rest_band_torso: float = knob(
        0.03, 0.005, 0.3, "torso", "hip movement that still counts as still"
    )
    over_arch_deg: float = knob(25.0, 5.0, 60.0, "deg", "hips this far past straight: over-arched")
    over_arch_clear_deg: float = knob(20.0, 0.0, 60.0, "deg", "the over-arch fault clears under")
    knee_straight_deg: float = knob(120.0, 90.0, 175.0, "deg", "knees straighter than this")
    knee_bent_deg: float = knob(110.0, 60.0, 175.0, "deg", "the knees fault clears under this")
    gauge_high_torso: float = knob(0.6, 0.1, 2.0, "torso", "top of the lift band shown")

    def validate(self) -> None:
        """Check that every hysteresis pair is the right way round."""
        if self.lift_down_torso >= self.lift_up_torso:
            raise ValueError("lift_down_torso must be below lift_up_torso")
        if self.lift_attempt_torso > self.lift_up_torso:
            raise ValueError("lift_attempt_torso must not be above lift_up_torso")
        if self.over_arch_clear_deg > self.over_arch_deg:
            raise ValueError("over_arch_clear_deg must not be above over_arch_deg")
        if self.knee_bent_deg > self.knee_straight_deg:
            raise ValueError("knee_bent_deg must not be above knee_straight_deg")


def hip_extension_deg(features: Features) -> float:
    """Degrees the hips are pushed past the straight shoulder-knee line (negative: flexed)."""
    hip = features["hip"]
    above = features[HIP_LIFT_KNEE]
    if not (math.isfinite(hip) and math.isfinite(above)):
        return math.nan
    return 180.0 - hip if above > 0 else hip - 180.0


class _Baseline:
    """The resting position of the hips, followed slowly while they are down."""

    def __init__(self, tau_s: float) -> None:
        self._tau_s = tau_s
        self.reset()

    @property
    def known(self) -> bool:
        return self._values is not None

    def reset(self) -> None:
        self._values: tuple[float, float] | None = None
        self._t: float | None = None

    def update(self, features: Features, t_s: float) -> None:
        now = (features[HIP_LIFT], features[HIP_LIFT_KNEE])
        if self._values is None or self._t is None:
            if all(math.isfinite(v) for v in now):
                self._values, self._t = now, t_s
            return
        alpha = 1.0 - math.exp(-max(0.0, t_s - self._t) / self._tau_s)
        self._values = tuple(  # type: ignore[assignment]
            old + alpha * (new - old) if math.isfinite(new) else old
            for old, new in zip(self._values, now, strict=True)
        )
        self._t = t_s

    def lift(self, features: Features) -> float:
        """Mean rise of the hips above the resting position over both lines."""
        if self._values is None:
            return math.nan
        rises = [
            features[name] - base
            for name, base in zip((HIP_LIFT, HIP_LIFT_KNEE), self._values, strict=True)
            if math.isfinite(features[name])
        ]
        return sum(rises) / len(rises) if rises else math.nan


class HipLiftEngine(EngineBase):
    """Counts hip lifts and times the hold at the top of each.

    Nothing is counted before the person lies on the back with the hips down
    (``bridge_down``) for ``start_dwell_s``: that is where the resting
    position is taken. One lift is counted when the hips have gone up by
    ``lift_up_torso`` and come back down; it carries how long the hips were
    held at the top and whether that met the prescribed hold.
    """

    def __init__(
        self,
        config: HipLiftConfig,
        *,
        hold_s: float | None,
        classifier: StateTracker,
    ) -> None:
        self._config = config
        self._hold_s = hold_s
        super().__init__(config, classifier)
        self._position = Position(
            lambda s: s is PoseState.BRIDGE_DOWN, lambda s: s in ON_THE_BACK, config
        )
        self._counter = UpDownCounter(config.lift_dwell_s)
        self._held = Debounced(False, config.lift_dwell_s)
        self._baseline = _Baseline(config.baseline_tau_s)
        self._still = Stillness(config.rest_window_s, config.rest_band_torso)
        self._timer = HoldTimer(
            self.kind.value,
            hold_s,
            leave_grace_s=config.leave_grace_s,
            lost_end_s=config.lost_end_s,
        )
        self._peak = 0.0
        self._lift = math.nan

    @property
    def kind(self) -> ExerciseKind:
        """Hip lifts."""
        return ExerciseKind.HIP_LIFT

    @property
    def reps(self) -> int:
        """Lifts counted."""
        return self._counter.count

    @property
    def holds(self) -> tuple[Hold, ...]:
        """Stays at the top of the lifts that have ended, in order."""
        return self._timer.holds

    @property
    def hold_elapsed_s(self) -> float:
        """Seconds held at the top of the current lift."""
        return self._timer.elapsed_s

    @property
    def in_position(self) -> bool:
        """Lying on the back with the resting position known, ready to count."""
        return self._position.ready and self._baseline.known

    @property
    def gauge(self) -> Gauge | None:
        """The hip lift and the band from "a couple of inches" up."""
        if not math.isfinite(self._lift):
            return None
        cfg = self._config
        return Gauge(self._lift, cfg.lift_up_torso, cfg.gauge_high_torso, "torso")

    def reset(self) -> None:
        """Start again, as if new."""
        self._reset_shared()
        self._position.reset()
        self._counter.reset()
        self._held.reset()
        self._baseline.reset()
        self._still.reset()
        self._timer.reset()
        self._peak = 0.0
        self._lift = math.nan

    def finish(self, t_s: float) -> list[Event]:
        """End the exercise: a lift already coming down from its top counts; a hold ends."""
        coming_down = self._lift < self._peak * (1.0 - self._config.hold_drop_fraction)
        if self._counter.is_up and self._timer.started and (coming_down or not self._held.value):
            rep = self._counter.finish(t_s)
            if rep is not None:
                return self._count(rep, t_s)
        return self._timer.end(t_s)

    def update(self, features: Features, t_s: float) -> list[Event]:
        """Take one frame's features; return what happened."""
        cfg = self._config
        events = self._presence.update(features, t_s)
        state = self._presence.state
        if self._presence.lost:
            self._lift = math.nan
            return events + self._timer.update(None, t_s)
        change = self._position.update(state, t_s, keep=self._counter.is_up)
        if change is True:
            self._baseline.reset()
        elif change is False:
            self._counter.abandon()
            self._held.reset()
            events += self._timer.end(t_s)
            events += self._faults.clear_all(
                t_s, (LIFT_TOO_SMALL, OVER_ARCHED, KNEES_STRAIGHTENING)
            )
        if not self._position.ready:
            self._lift = math.nan
            return events
        if not features.present:  # a short gap: keep everything as it is
            return events
        lift = self._baseline.lift(features)
        still = self._still.update(features[HIP_LIFT], t_s)
        resting = (
            state is PoseState.BRIDGE_DOWN
            and not self._counter.is_up
            and not (lift > cfg.lift_down_torso)
        )
        # The first frames in position set the baseline; after that, only a still rest moves it.
        if resting and (still or not self._baseline.known):
            self._baseline.update(features, t_s)
            lift = self._baseline.lift(features)
        self._lift = lift
        if not math.isfinite(lift):
            return events
        was_up = self._counter.is_up
        down = cfg.lift_down_torso
        if was_up:
            down = min(max(down, self._peak * cfg.down_fraction), cfg.lift_up_torso)
        rep = self._counter.update(lift, cfg.lift_up_torso, down, t_s)
        if self._counter.is_up:
            self._peak = lift if not was_up else max(self._peak, lift)
            at_top = lift >= self._peak * (1.0 - cfg.hold_drop_fraction)
        else:
            at_top = False
        self._held.update(at_top, t_s)
        events += self._timer.update(self._held.value, t_s)
        if rep is not None:
            events += self._count(rep, t_s)
        events += self._judge(features, lift, t_s)
        return events

    def _count(self, rep: Rep, t_s: float) -> list[Event]:
        events = self._timer.end(t_s)
        # The stays at the top during this lift (a dip and a re-lift make two).
        stays = [h for h in self._timer.holds if h.start_s >= rep.start_s]
        held_s = sum(h.seconds for h in stays)
        met = any(h.completed for h in stays) or self._hold_s is None
        self._held.reset()
        events.append(
            Event(
                EventKind.REP_COUNTED,
                t_s,
                self.kind.value,
                {
                    "count": rep.count,
                    "held_s": round(held_s, 3),
                    "met_hold": met,
                    "start_s": round(rep.start_s, 3),
                },
            )
        )
        return events

    def _judge(self, features: Features, lift: float, t_s: float) -> list[Event]:
        cfg = self._config
        f = self._faults
        up = self._counter.is_up
        events: list[Event] = []
        trying = lift >= cfg.lift_attempt_torso and not up
        events += f.update(LIFT_TOO_SMALL, trying, t_s)
        arched = beyond(
            hip_extension_deg(features),
            cfg.over_arch_deg,
            cfg.over_arch_clear_deg,
            f.is_active(OVER_ARCHED),
        )
        events += f.update(OVER_ARCHED, bool(arched) and up, t_s)
        straight = beyond(
            features["knee"],
            cfg.knee_straight_deg,
            cfg.knee_bent_deg,
            f.is_active(KNEES_STRAIGHTENING),
        )
        events += f.update(KNEES_STRAIGHTENING, straight, t_s)
        return events


def _build(config: HipLiftConfig, hold_s: float | None, tracker: StateTracker) -> HipLiftEngine:
    return HipLiftEngine(config, hold_s=hold_s, classifier=tracker)


EXERCISE = ExerciseInfo(
    kind=ExerciseKind.HIP_LIFT,
    title="Hip lifts",
    config_type=HipLiftConfig,
    build=_build,
    states=(PoseState.BRIDGE_DOWN, PoseState.BRIDGE_UP),
    fault_keys=FAULT_KEYS,
    counting=Counting.HELD_REPS,
    unit="lifts",
    key_signal=KeySignal(
        "hip_lift",
        "torso",
        "lift_up_torso",
        "gauge_high_torso",
        fallback="hip_lift",
        above_rest=("hip_lift", "hip_lift_knee"),
        rest_state="bridge_down",
    ),
    dose={"hold_s": 15, "reps": 5, "reps_max": 10, "rest_s": 0},
)
