"""Cat-cow: slow cycles on all fours between a rounded back (cat) and a sagging back (cow)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from coach.core.events import Event, EventKind
from coach.core.exercises.base import Breath, Counting, ExerciseInfo, Gauge, KeySignal
from coach.core.exercises.common import (
    COMMON_FAULT_KEYS,
    CommonConfig,
    CountedEngineBase,
    Position,
    StateTracker,
    beyond,
)
from coach.core.exercises.reps import Rep, SwingCycles, SwingSide
from coach.core.features import (
    BACK_BEND,
    HEAD_PITCH_3D,
    WITH_SILHOUETTE,
    Features,
    flexion_units,
)
from coach.core.landmarks import Joint
from coach.core.settings import knob
from coach.core.states import ExerciseKind, PoseState

HANDS_NOT_UNDER_SHOULDERS = "hands_not_under_shoulders"
KNEES_NOT_UNDER_HIPS = "knees_not_under_hips"
TOO_FAST = "too_fast"
SHALLOW_COW = "shallow_cow"
FAULT_KEYS: tuple[str, ...] = (
    *COMMON_FAULT_KEYS,
    HANDS_NOT_UNDER_SHOULDERS,
    KNEES_NOT_UNDER_HIPS,
    TOO_FAST,
    SHALLOW_COW,
)

ALL_FOURS = frozenset({PoseState.TABLETOP, PoseState.CAT, PoseState.COW})


@dataclass(frozen=True, kw_only=True)
class CatCowConfig(CommonConfig):
    """Thresholds for cat-cow.

    The back's flexion is one number in "flexion units": the silhouette's
    back bend over ``back_unit_torso`` plus the head's tuck over
    ``head_unit_deg`` (each from its neutral), positive toward cat. Either
    part alone carries a cycle, so a patient who keeps the head level still
    counts, and so does a camera that cannot see the back's outline.

    Attributes:
        back_unit_torso: Back bend (torso lengths) worth one flexion unit.
        head_unit_deg: Head tuck (degrees) worth one flexion unit.
        neutral_back_torso: Back bend of a flat back, for a person who does
            not start from a still tabletop (the outline of a flat back sags
            a little between the shoulder blades and the buttocks).
        neutral_head_deg: Head pitch of a head held in line with the back.
        neutral_window_s: A person still in tabletop this long at the start
            gives their own neutral, which replaces the two above.
        neutral_still_units: The neutral is taken over the first window in
            which the flexion moves less than this.
        neutral_max_units: A start further than this from the configured
            neutral is not taken as the person's neutral (it is a mild cat
            or cow, already under way).
        min_swing: Flexion units from one turning point to the next that
            make a swing: small enough for a gentle patient, larger than
            breathing or shifting weight.
        side_margin: A turning point this many units beyond neutral is on
            the cat or the cow side.
        min_cycle_s: A cycle quicker than this is "too fast" (the routine asks
            for slow cycles of about 3-4 seconds, paced by the breath).
        slow_cycle_s: The too-fast fault clears after a cycle at least this long.
        offset_far_torso: Hands ahead of or behind the shoulders (knees of the
            hips) by more than this, across the floor in torso lengths, is a fault.
        offset_near_torso: The fault clears when the offset is back under this.
        gauge_cow_torso: Back bend (torso lengths) of a clear cow, for the
            band shown on screen and in the record (negative: the back sags).
            A cycle whose cow sags less than this gets the "shallow cow" cue.
        gauge_cat_torso: Back bend of a clear cat (positive: rounded up).
    """

    back_unit_torso: float = knob(0.1, 0.02, 0.5, "torso", "back bend worth one flexion unit")
    head_unit_deg: float = knob(40.0, 10.0, 120.0, "deg", "head tuck worth one flexion unit")
    neutral_back_torso: float = knob(
        -0.04, -0.3, 0.3, "torso", "back bend of a flat back, if not measured"
    )
    neutral_head_deg: float = knob(
        5.0, -60.0, 60.0, "deg", "head pitch in line with the back, if not measured"
    )
    neutral_window_s: float = knob(
        0.5, 0.1, 5.0, "s", "still in tabletop this long at the start gives the neutral"
    )
    neutral_max_units: float = knob(
        0.6, 0.1, 5.0, "units", "a start further than this from a flat back is no neutral"
    )
    neutral_still_units: float = knob(
        0.2, 0.02, 2.0, "units", "the neutral is taken when the back moves less than this"
    )
    min_swing: float = knob(0.8, 0.2, 5.0, "units", "flexion change that makes a swing")
    side_margin: float = knob(
        0.15, 0.0, 2.0, "units", "a turning point this far past neutral is cat or cow"
    )
    min_cycle_s: float = knob(2.0, 0.5, 30.0, "s", "a cycle quicker than this is too fast")
    slow_cycle_s: float = knob(2.5, 0.5, 60.0, "s", "the too-fast fault clears after this")
    offset_far_torso: float = knob(0.4, 0.1, 1.5, "torso", "hands or knees this far off is a fault")
    offset_near_torso: float = knob(0.3, 0.05, 1.5, "torso", "the offset fault clears under this")
    gauge_cow_torso: float = knob(
        -0.07, -0.5, 0.0, "torso", "back bend of a clear cow; less is a shallow cow"
    )
    gauge_cat_torso: float = knob(0.05, 0.0, 0.5, "torso", "back bend of a clear cat")

    def validate(self) -> None:
        """Check that every hysteresis pair is the right way round."""
        if self.slow_cycle_s < self.min_cycle_s:
            raise ValueError("slow_cycle_s must not be below min_cycle_s")
        if self.offset_near_torso > self.offset_far_torso:
            raise ValueError("offset_near_torso must not be above offset_far_torso")
        if 2.0 * self.side_margin >= self.min_swing:
            raise ValueError("side_margin must be under half of min_swing")


def flexion_of(
    bend: float, head: float, config: CatCowConfig, neutral_back: float, neutral_head: float
) -> float:
    """Flexion units of a back bend and a head pitch, + toward cat; NaN when neither is known."""
    return flexion_units(
        bend,
        head,
        back_unit=config.back_unit_torso,
        head_unit=config.head_unit_deg,
        neutral_back=neutral_back,
        neutral_head=neutral_head,
    )


def flexion(
    features: Features, config: CatCowConfig, neutral_back: float, neutral_head: float
) -> float:
    """The back's flexion in one frame, in units from the given neutral, positive toward cat."""
    return flexion_of(
        features[BACK_BEND], features[HEAD_PITCH_3D], config, neutral_back, neutral_head
    )


def horizontal_offset(features: Features, top: Joint, bottom: Joint) -> float:
    """How far ``bottom`` lies across the floor from under ``top``, in torso lengths."""
    torso = features.torso_px
    dx = float(features.point(bottom)[0] - features.point(top)[0])
    if not (torso > 0 and math.isfinite(dx)):
        return math.nan
    return abs(dx) / torso


class _Neutral:
    """This person's neutral back: their still tabletop at the start, or the configured one."""

    def __init__(self, config: CatCowConfig) -> None:
        self._config = config
        self.reset()

    @property
    def values(self) -> tuple[float, float]:
        """Back bend and head pitch of the neutral back."""
        return self._values

    @property
    def measured(self) -> bool:
        """The neutral was taken from this person."""
        return self._measured

    @property
    def settled(self) -> bool:
        """The neutral will not change any more (until ``reset``)."""
        return not self._open

    def reset(self) -> None:
        self._values = (self._config.neutral_back_torso, self._config.neutral_head_deg)
        self._measured = False
        self._open = True
        self._samples: list[tuple[float, float, float, float]] = []

    def update(
        self, features: Features, state: PoseState | None, t_s: float, *, ready: bool
    ) -> None:
        """Take a frame; only the first still moment in tabletop can set the neutral.

        Frames count from the first tabletop on, before the start position
        has lasted long enough to count: a person who kneels into tabletop
        and begins with a cow at once has still shown their neutral.
        """
        if not self._open:
            return
        if state is not PoseState.TABLETOP:
            if ready:
                # In position and already in cat or cow: keep the configured neutral.
                self._open = False
            self._samples = []  # still getting down: nothing to measure yet
            return
        cfg = self._config
        default_back, default_head = self._values
        bend, head = features[BACK_BEND], features[HEAD_PITCH_3D]
        units = flexion_of(bend, head, cfg, default_back, default_head)
        if not math.isfinite(units):
            return
        self._samples.append((t_s, bend, head, units))
        while len(self._samples) > 1 and t_s - self._samples[1][0] >= cfg.neutral_window_s:
            self._samples.pop(0)
        if t_s - self._samples[0][0] < cfg.neutral_window_s - 1e-9:
            return
        spread = [u for *_, u in self._samples]
        if max(spread) - min(spread) > cfg.neutral_still_units:
            return  # still moving: wait for a still moment
        self._open = False
        median = statistics.median(spread)
        # A still start far from any flat back is a cat or a cow the classifier
        # took for tabletop: the configured neutral then judges better.
        if abs(median) > cfg.neutral_max_units:
            return
        backs = [b for _, b, _, _ in self._samples if math.isfinite(b)]
        heads = [h for _, _, h, _ in self._samples if math.isfinite(h)]
        self._values = (
            statistics.median(backs) if backs else default_back,
            statistics.median(heads) if heads else default_head,
        )
        self._measured = True


class CatCowEngine(CountedEngineBase):
    """Counts cat-cow cycles: the back's flexion swinging to both sides of this person's neutral.

    Nothing is counted before the person is on all fours (tabletop, cat or
    cow) for ``start_dwell_s``. A person who starts still in tabletop gives
    their own neutral; the swing is judged against it, not against absolute
    angles, so a gentle, shallow cycle counts as well as a deep one. Each
    counted cycle carries the depth reached on both sides, for feedback and
    for the record.
    """

    def __init__(self, config: CatCowConfig, *, classifier: StateTracker) -> None:
        self._config = config
        super().__init__(config, classifier)
        self._position = Position(lambda s: s in ALL_FOURS, lambda s: s in ALL_FOURS, config)
        self._cycles = SwingCycles(config.min_swing, config.side_margin)
        self._neutral = _Neutral(config)
        self._gauge: Gauge | None = None
        self._extremes: dict[SwingSide, float] = {}

    @property
    def kind(self) -> ExerciseKind:
        """Cat-cow."""
        return ExerciseKind.CAT_COW

    @property
    def reps(self) -> int:
        """Cycles counted."""
        return self._cycles.count

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
        self._neutral.reset()
        self._gauge = None
        self._extremes = {}

    def finish(self, t_s: float) -> list[Event]:
        """Count a last cycle whose final reach the person was already coming back from."""
        if not self._position.ready:
            return []
        cycle = self._cycles.finish()
        return self._count(cycle, t_s) if cycle is not None else []

    def update(self, features: Features, t_s: float) -> list[Event]:
        """Take one frame's features; return what happened."""
        cfg = self._config
        events = self._presence.update(features, t_s)
        state = self._presence.state
        change = self._position.update(state, t_s)
        if change is False:
            self._cycles.abandon()
            self._neutral.reset()
            events += self._faults.clear_all(
                t_s, (HANDS_NOT_UNDER_SHOULDERS, KNEES_NOT_UNDER_HIPS, TOO_FAST, SHALLOW_COW)
            )
        if features.present:
            self._neutral.update(features, state, t_s, ready=self._position.ready)
        if not self._position.ready or state is None or not features.present:
            self._gauge = None
            return events
        if state not in ALL_FOURS:
            # A limb lifted off the floor (bird-dog, a reach, a turn): whatever the
            # back does now is not cat-cow. The position itself lasts its grace.
            self._cycles.abandon()
            self._extremes = {}
            return events
        if not self._neutral.settled:
            return events
        neutral_back, neutral_head = self._neutral.values
        value = flexion(features, cfg, neutral_back, neutral_head)
        curve = features[BACK_BEND]
        self._gauge = (
            Gauge(curve, cfg.gauge_cow_torso, cfg.gauge_cat_torso, "torso")
            if math.isfinite(curve)
            else None
        )
        self._track_depth(features)
        _, cycle = self._cycles.update(value, t_s, 0.0)
        if cycle is not None:
            events += self._count(cycle, t_s)
        if state in ALL_FOURS:
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

    def _track_depth(self, features: Features) -> None:
        """The deepest cat and cow of the cycle under way, as back bends."""
        bend = features[BACK_BEND]
        if not math.isfinite(bend):
            return
        high = self._extremes.get(SwingSide.HIGH, -math.inf)
        low = self._extremes.get(SwingSide.LOW, math.inf)
        self._extremes[SwingSide.HIGH] = max(high, bend)
        self._extremes[SwingSide.LOW] = min(low, bend)

    def _count(self, cycle: Rep, t_s: float) -> list[Event]:
        cfg = self._config
        cat = self._extremes.get(SwingSide.HIGH, math.nan)
        cow = self._extremes.get(SwingSide.LOW, math.nan)
        self._extremes = {}
        events = [
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
                    "cat_back_torso": _rounded(cat),
                    "cow_back_torso": _rounded(cow),
                    "neutral_measured": self._neutral.measured,
                },
            )
        ]
        fast = beyond(
            cycle.seconds, cfg.min_cycle_s, cfg.slow_cycle_s, self._faults.is_active(TOO_FAST)
        )
        # A cycle is judged once: raise or clear at once, no dwell.
        events += self._faults.judge_now(TOO_FAST, bool(fast), t_s)
        if math.isfinite(cow):
            events += self._faults.judge_now(SHALLOW_COW, cow > cfg.gauge_cow_torso, t_s)
        return events


def _rounded(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


def _build(config: CatCowConfig, hold_s: float | None, tracker: StateTracker) -> CatCowEngine:
    return CatCowEngine(config, classifier=tracker)


EXERCISE = ExerciseInfo(
    kind=ExerciseKind.CAT_COW,
    title="Cat-cow",
    config_type=CatCowConfig,
    build=_build,
    states=(PoseState.TABLETOP, PoseState.CAT, PoseState.COW),
    fault_keys=FAULT_KEYS,
    counting=Counting.REPS,
    unit="cycles",
    dose_word="slow cycle",
    breath=Breath(inhale=PoseState.COW, exhale=PoseState.CAT),
    key_signal=KeySignal(
        "back_bend",
        "torso",
        "gauge_cow_torso",
        "gauge_cat_torso",
        beyond=True,
    ),
    dose={"reps": 5, "reps_max": 10, "rest_s": 15},
    perception=WITH_SILHOUETTE,  # the back's curve is read on the person's silhouette
)
