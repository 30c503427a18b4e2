"""Pelvic tilts: lying on the back, knees bent, press the lower back to the floor and release.

The movement is small: the pelvis rolls back, the lower back flattens onto
the floor and the angle between the trunk and the thighs opens by a few
degrees, while the hips stay on the floor. It is judged against the person's
own neutral, the hip angle (shoulder-hip-knee) at rest, taken while they lie
still with the knees bent: a tilt is an opening of ``tilt_up_deg`` or more
beyond it and a return. A hip rise of ``max_lift_torso`` or more is a hip
lift, not a tilt, and is never counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from coach.core.events import Event, EventKind
from coach.core.exercises.base import Counting, ExerciseInfo, Gauge, KeySignal
from coach.core.exercises.common import (
    COMMON_FAULT_KEYS,
    CommonConfig,
    CountedEngineBase,
    Position,
    StateTracker,
    Stillness,
)
from coach.core.exercises.reps import Rep, UpDownCounter
from coach.core.features import HIP_LIFT, Features
from coach.core.settings import knob
from coach.core.states import ExerciseKind, PoseState

KIND = ExerciseKind("pelvic_tilt")
HIPS_LIFTED = "hips_lifted"
FAULT_KEYS: tuple[str, ...] = (*COMMON_FAULT_KEYS, HIPS_LIFTED)

HIP_ANGLE = "hip"  # shoulder-hip-knee, degrees


@dataclass(frozen=True, kw_only=True)
class PelvicTiltConfig(CommonConfig):
    """Thresholds for pelvic tilts. Angles in degrees, heights in torso lengths.

    Attributes:
        tilt_up_deg: The hip angle opening this far beyond the person's
            neutral is a tilt (the lower back pressed to the floor).
        tilt_down_deg: Back within this of the neutral, the pelvis is released.
        release_fraction: The pelvis is also released once the opening has
            come back to this fraction of its largest value.
        tilt_dwell_s: Tilted or released must last this long to count.
        max_lift_torso: The hips rising this far above their resting height
            during a tilt make it a hip lift: not counted, and a fault.
        neutral_tau_s: Time constant with which the neutral follows a
            person who lies still a little differently than before.
        rest_window_s: The neutral only follows while the hip angle has been
            still this long ...
        rest_band_deg: ... within this many degrees.
        gauge_high_deg: Top of the tilt band shown on screen.
    """

    tilt_up_deg: float = knob(3.5, 1.0, 20.0, "deg", "hip angle opening that counts as a tilt")
    tilt_down_deg: float = knob(1.5, 0.0, 20.0, "deg", "within this of neutral: released")
    release_fraction: float = knob(
        0.35, 0.0, 0.9, "", "released at this fraction of the largest opening"
    )
    tilt_dwell_s: float = knob(0.15, 0.0, 3.0, "s", "tilted or released must last this long")
    max_lift_torso: float = knob(0.08, 0.02, 0.5, "torso", "hips this high: a lift, not a tilt")
    neutral_tau_s: float = knob(2.0, 0.1, 30.0, "s", "how fast the neutral follows")
    rest_window_s: float = knob(0.5, 0.1, 5.0, "s", "still this long to move the neutral")
    rest_band_deg: float = knob(1.5, 0.2, 10.0, "deg", "hip angle change still counted still")
    gauge_high_deg: float = knob(15.0, 2.0, 45.0, "deg", "top of the tilt band shown")

    def validate(self) -> None:
        """Check that the hysteresis pair and the band are the right way round."""
        if self.tilt_down_deg >= self.tilt_up_deg:
            raise ValueError("tilt_down_deg must be below tilt_up_deg")
        if self.gauge_high_deg <= self.tilt_up_deg:
            raise ValueError("gauge_high_deg must be above tilt_up_deg")


class _Neutral:
    """The person's resting hip angle and hip height: the low envelope of the hip angle.

    A lower angle becomes the neutral at once (the pelvis was not fully
    released before); a higher one is followed slowly, and only while the
    person lies still, so a slow tilt never becomes the neutral.
    """

    def __init__(self, config: PelvicTiltConfig) -> None:
        self._config = config
        self._still = Stillness(config.rest_window_s, config.rest_band_deg)
        self.reset()

    @property
    def known(self) -> bool:
        return self.angle is not None

    def reset(self) -> None:
        self.angle: float | None = None
        self.lift: float | None = None
        self._t: float | None = None
        self._still.reset()

    def update(self, angle: float, lift: float, t_s: float, *, tilted: bool) -> None:
        still = self._still.update(angle, t_s)
        if not math.isfinite(angle):
            return
        if self.angle is None or self._t is None:
            self.angle, self.lift, self._t = angle, lift, t_s
            return
        dt = max(0.0, t_s - self._t)
        self._t = t_s
        if tilted:
            return
        if angle <= self.angle:
            self.angle = angle
            if math.isfinite(lift):
                self.lift = lift
        elif still:
            alpha = 1.0 - math.exp(-dt / self._config.neutral_tau_s)
            self.angle += alpha * (angle - self.angle)
            if math.isfinite(lift):
                self.lift = lift if self.lift is None else self.lift + alpha * (lift - self.lift)


class PelvicTiltEngine(CountedEngineBase):
    """Counts pelvic tilts: the hip angle opening beyond this person's neutral and returning.

    Nothing is counted before the person lies on the back with the knees
    bent (``bridge_down``) for ``start_dwell_s``; the neutral is taken from
    the moment they lie there. One tilt is counted when the opening has
    reached ``tilt_up_deg`` and come back, with the hips on the floor
    throughout; a movement that lifts the hips (``max_lift_torso``, or the
    classifier seeing a bridge) counts nothing and raises ``hips_lifted``.
    """

    def __init__(self, config: PelvicTiltConfig, *, classifier: StateTracker) -> None:
        self._config = config
        super().__init__(config, classifier)
        self._position = Position(
            lambda s: s is PoseState.BRIDGE_DOWN,
            lambda s: s in (PoseState.BRIDGE_DOWN, PoseState.BRIDGE_UP),
            config,
        )
        self._counter = UpDownCounter(config.tilt_dwell_s)
        self._neutral = _Neutral(config)
        self._count = 0
        self._peak = 0.0
        self._lifted = False
        self._tilt = math.nan

    @property
    def kind(self) -> ExerciseKind:
        """Pelvic tilts."""
        return KIND

    @property
    def reps(self) -> int:
        """Tilts counted."""
        return self._count

    @property
    def in_position(self) -> bool:
        """Lying on the back, knees bent, with the neutral known: ready to count."""
        return self._position.ready and self._neutral.known

    @property
    def gauge(self) -> Gauge | None:
        """The hip angle's opening beyond neutral, and the band from a clear tilt up."""
        if not math.isfinite(self._tilt):
            return None
        cfg = self._config
        return Gauge(self._tilt, cfg.tilt_up_deg, cfg.gauge_high_deg, "deg")

    def reset(self) -> None:
        """Start again, as if new."""
        self._reset_shared()
        self._position.reset()
        self._counter.reset()
        self._neutral.reset()
        self._count = 0
        self._peak = 0.0
        self._lifted = False
        self._tilt = math.nan

    def finish(self, t_s: float) -> list[Event]:
        """A tilt still held when the exercise ends is not counted: it was never released."""
        return []

    def update(self, features: Features, t_s: float) -> list[Event]:
        """Take one frame's features; return what happened."""
        cfg = self._config
        events = self._presence.update(features, t_s)
        state = self._presence.state
        change = self._position.update(state, t_s, keep=self._counter.is_up)
        if change is False or state is None:
            self._abandon()
            if change is False:
                self._neutral.reset()
                events += self._faults.clear_all(t_s, (HIPS_LIFTED,))
            self._tilt = math.nan
            return events
        if not features.present:  # a short gap: keep everything as it is
            return events
        angle, lift = features[HIP_ANGLE], features[HIP_LIFT]
        if state is PoseState.BRIDGE_DOWN or self._neutral.known:
            self._neutral.update(angle, lift, t_s, tilted=self._counter.is_up)
        if not self._position.ready or self._neutral.angle is None:
            self._tilt = math.nan
            return events
        tilt = angle - self._neutral.angle
        self._tilt = tilt
        if not math.isfinite(tilt):
            return events
        rise = lift - self._neutral.lift if self._neutral.lift is not None else math.nan
        lifting = state is PoseState.BRIDGE_UP or (
            math.isfinite(rise) and rise >= cfg.max_lift_torso
        )
        was_up = self._counter.is_up
        down = cfg.tilt_down_deg
        if was_up:
            down = min(max(down, self._peak * cfg.release_fraction), cfg.tilt_up_deg)
        rep = self._counter.update(tilt, cfg.tilt_up_deg, down, t_s)
        if self._counter.is_up:
            self._peak = tilt if not was_up else max(self._peak, tilt)
            self._lifted = self._lifted or lifting
        events += self._faults.update(HIPS_LIFTED, lifting, t_s)
        if rep is not None:
            events += self._counted(rep, t_s)
        return events

    def _abandon(self) -> None:
        self._counter.abandon()
        self._peak = 0.0
        self._lifted = False

    def _counted(self, rep: Rep, t_s: float) -> list[Event]:
        peak, lifted = self._peak, self._lifted
        self._peak, self._lifted = 0.0, False
        if lifted:
            return []  # the hips came up: a lift, not a tilt
        self._count += 1
        return [
            Event(
                EventKind.REP_COUNTED,
                t_s,
                KIND.value,
                {
                    "count": self._count,
                    "held_s": round(rep.end_s - rep.start_s, 3),
                    "met_hold": True,
                    "start_s": round(rep.start_s, 3),
                    "tilt_deg": round(peak, 2),
                },
            )
        ]


def _build(
    config: PelvicTiltConfig, hold_s: float | None, tracker: StateTracker
) -> PelvicTiltEngine:
    return PelvicTiltEngine(config, classifier=tracker)


EXERCISE = ExerciseInfo(
    kind=KIND,
    title="Pelvic tilts",
    config_type=PelvicTiltConfig,
    build=_build,
    states=(PoseState.BRIDGE_DOWN,),
    fault_keys=FAULT_KEYS,
    counting=Counting.REPS,
    unit="tilts",
    dose_word="pelvic tilt",
    key_signal=KeySignal(
        HIP_ANGLE,
        "deg",
        "tilt_up_deg",
        "gauge_high_deg",
        above_rest=(HIP_ANGLE,),
    ),
    dose={"reps": 10, "rest_s": 0},
)
