"""One exercise of the routine: its introduction, the wait for the position, its sets and rests.

An ``ExerciseRun`` takes the frames while its exercise is under way and says
what happened, as events; the ``SessionController`` goes on to the next
exercise once ``finished`` is set. Its engine judges the poses; the run
counts the dose (how, the exercise registry says: ``ExerciseInfo.counting``),
paces the breath of an exercise that declares one (``ExerciseInfo.breath``),
and keeps the stall clock (``coach.core.pacing``): a hint when nothing has
counted for a while, the next exercise when nothing counts at all.

A person the camera loses is never "out of position": the engine pauses its
hold timer, and the run says once that it cannot see them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from coach.core.cue_writer import CueWriter, Place
from coach.core.events import Event, EventKind, SkipReason
from coach.core.exercises import exercise
from coach.core.exercises.base import Counting, ExerciseEngine
from coach.core.features import Features
from coach.core.pacing import BreathPacer, Stall, StallClock
from coach.core.phase import WATCHED, Phase
from coach.core.routine import Routine, SessionConfig

# What comes after a rest: the next set, or the end of the exercise.
AfterRest = Callable[[float], list[Event]]


def absent(features: Features) -> Features:
    """The same frame with nobody in it, so an engine pauses its timers."""
    return replace(features, present=False)


class ExerciseRun:
    """Runs the routine's exercise ``index`` from its introduction to the rest after it.

    Args:
        routine: The routine being followed.
        index: Which of its exercises.
        engine: The exercise's engine, new.
        config: Timing of the session's own steps.
        cues: Writes what the coach says.
    """

    def __init__(
        self,
        routine: Routine,
        index: int,
        engine: ExerciseEngine,
        *,
        config: SessionConfig,
        cues: CueWriter,
    ) -> None:
        self._routine = routine
        self._index = index
        self._spec = routine.exercises[index]
        self._info = exercise(self._spec.kind)
        self._last = index + 1 >= len(routine.exercises)
        self._engine = engine
        self._config = config
        self._cues = cues
        self._phase = Phase.INTRO
        self._phase_s = 0.0  # time spent in the phase, pauses excluded
        self._set = 1
        self._done_count = 0  # holds or reps toward this set's dose
        self._set_holds = 0  # holds completed in this set
        self._total_reps = 0
        self._total_holds = 0
        self._rest_s = 0.0
        self._after_rest: AfterRest | None = None
        self._absent_s = 0.0
        self._lost = False
        self._last_position_cue_s = 0.0
        self._intro_ends_s: float | None = None  # phase time the introduction ends
        self._handlers = {
            Phase.INTRO: self._update_intro,
            Phase.WAIT_POSITION: self._update_wait,
            Phase.ACTIVE: self._update_active,
            Phase.REST: self._update_rest,
        }
        self._stall = StallClock(config)
        breath = self._info.breath
        self._breath = BreathPacer(breath, config) if breath is not None else None

    # ----------------------------------------------------------- read-only state
    @property
    def phase(self) -> Phase:
        """Where the exercise is; ``Phase.DONE`` once it is over."""
        return self._phase

    @property
    def finished(self) -> bool:
        """The exercise is over: the session goes on to the next."""
        return self._phase is Phase.DONE

    @property
    def lost(self) -> bool:
        """The camera has lost the person during the exercise."""
        return self._lost

    @property
    def done_count(self) -> int:
        """Holds or repetitions done toward this set's dose."""
        return self._done_count

    @property
    def rest_left_s(self) -> float:
        """Seconds of rest still to go (while resting)."""
        return self._rest_s - self._phase_s

    # ------------------------------------------------------------------ verbs
    def begin(self, t_s: float) -> list[Event]:
        """Start the first set with the introduction."""
        self._start_set()
        kind = self._spec.kind.value
        return [Event(EventKind.EXERCISE_STARTED, t_s, kind, {"index": self._index, "set": 1})]

    def elapse(self, dt: float) -> None:
        """Time in the phase goes on (the session is not paused)."""
        self._phase_s += dt

    def update(self, features: Features, t_s: float, dt: float) -> list[Event]:
        """Take one frame's features, ``dt`` after the last; return what happened."""
        handler = self._handlers.get(self._phase)
        return handler(features, t_s, dt) if handler is not None else []

    def update_paused(self, features: Features, t_s: float) -> list[Event]:
        """A frame while paused: the engine sees nobody, so its hold timers stop."""
        if self._phase in WATCHED:
            return self._engine.update(absent(features), t_s)
        return []

    def skip(self, t_s: float) -> list[Event]:
        """End a rest, or the exercise short of its dose."""
        if self._phase is Phase.REST and self._after_rest is not None:
            return self._end_rest(t_s)
        return self._leave(t_s, SkipReason.USER)

    def stop(self, t_s: float) -> list[Event]:
        """The session ends: end what the engine still has under way, so the record keeps it."""
        if self._phase not in WATCHED:
            return []
        return self._engine.finish(t_s)

    # ----------------------------------------------------------------- phases
    def _enter(self, phase: Phase) -> None:
        self._phase = phase
        self._phase_s = 0.0

    def _update_intro(self, features: Features, t_s: float, dt: float) -> list[Event]:
        spec = self._spec
        if self._intro_ends_s is None:
            # The introduction waits until what was said before it is over, so it
            # is not queued behind the welcome and dropped as stale.
            if self._cues.talking(t_s):
                return []
            speaking = min(self._config.intro_max_s, self._cues.speech_s(spec.intro))
            self._intro_ends_s = self._phase_s + speaking + self._config.intro_extra_s
            return self._cues.say("intro", spec.intro, t_s)
        if self._phase_s < self._intro_ends_s:
            return []
        return self._begin_waiting(t_s, intro_done=True)

    def _update_wait(self, features: Features, t_s: float, dt: float) -> list[Event]:
        engine = self._engine
        events = self._track_lost(features, t_s, dt)
        raw = engine.update(features, t_s)
        if engine.in_position:
            events.append(Event(EventKind.IN_POSITION, t_s, self._spec.kind.value))
            events += self._cues.exercise("in_position", t_s)
            self._enter(Phase.ACTIVE)
            self._stall.restart()
            if self._breath is not None:
                events += self._cues.exercise(self._breath.first(), t_s)
            # The frame that reached the position may also have started a hold.
            return events + self._translate(raw, t_s, speak_progress=True)
        events += self._translate(raw, t_s, speak_progress=False)
        stalled = self._watch_progress(raw, features, t_s, dt)
        if stalled:
            if self._phase is Phase.WAIT_POSITION:
                # The hint says how to get into position too; the reminder waits its turn.
                self._last_position_cue_s = self._phase_s
            return events + stalled
        if not self._lost and self._phase_s - self._last_position_cue_s >= (
            self._config.position_repeat_s
        ):
            self._last_position_cue_s = self._phase_s
            events += self._cues.exercise("get_into_position", t_s)
        return events

    def _update_active(self, features: Features, t_s: float, dt: float) -> list[Event]:
        engine = self._engine
        events = self._track_lost(features, t_s, dt)
        raw = engine.update(features, t_s)
        events += self._translate(raw, t_s, speak_progress=True)
        if self._phase is not Phase.ACTIVE:  # the dose was reached on this frame
            return events
        stalled = self._watch_progress(raw, features, t_s, dt)
        if stalled:
            return events + stalled
        if self._breath is not None and not self._lost:
            key = self._breath.update(engine.state, dt)
            if key is not None:
                events += self._cues.exercise(key, t_s)
        return events

    def _update_rest(self, features: Features, t_s: float, dt: float) -> list[Event]:
        if self._phase_s < self._rest_s:
            return []
        return self._end_rest(t_s)

    # ------------------------------------------------------------- transitions
    def _start_set(self) -> None:
        self._cues.place = Place(self._index, self._set)
        self._done_count = 0
        self._set_holds = 0
        self._lost = False
        self._absent_s = 0.0
        if self._breath is not None:
            self._breath.reset()
        self._last_position_cue_s = 0.0
        self._stall.restart()
        self._engine.reset()

    def _begin_waiting(self, t_s: float, *, intro_done: bool) -> list[Event]:
        self._enter(Phase.WAIT_POSITION)
        self._last_position_cue_s = 0.0
        if intro_done:
            # The introduction has just said how to get into position: only a
            # closing line if the routine has one; a reminder follows if needed.
            return self._cues.exercise("intro_done", t_s)
        return self._cues.exercise("get_into_position", t_s)

    def _finish_set(self, t_s: float) -> list[Event]:
        spec = self._spec
        events = self.stop(t_s)
        self._total_reps += self._engine.reps
        self._total_holds += self._set_holds
        if not self._cues.just_said("hold_done", t_s):
            # After "hold done" a "relax" on the same moment would only repeat it.
            key = "set_done" if "set_done" in spec.cues else "relax"
            events += self._cues.exercise(key, t_s)
        if self._set < spec.dose.sets:
            return events + self._rest(spec.dose.rest_s, t_s, self._next_set)
        totals = {"reps": self._total_reps, "holds": self._total_holds, "sets": self._set}
        events.append(Event(EventKind.EXERCISE_COMPLETED, t_s, spec.kind.value, totals))
        if self._last:
            return events + self._finish(t_s)
        return events + self._rest(spec.dose.rest_s, t_s, self._finish)

    def _leave(self, t_s: float, reason: SkipReason, **details: Any) -> list[Event]:
        """End the exercise short of its dose (a hold under way is kept)."""
        spec = self._spec
        events = self.stop(t_s)
        data = {"index": self._index, "set": self._set, "reason": reason.value, **details}
        events.append(Event(EventKind.EXERCISE_SKIPPED, t_s, spec.kind.value, data))
        if reason is SkipReason.USER:
            events += self._cues.session("skipped", t_s)
        else:
            # Routines written before this text existed still say something fitting.
            events += self._cues.session("stall_move_on", t_s, fallback="skipped")
        return events + self._finish(t_s)

    def _finish(self, t_s: float) -> list[Event]:
        self._enter(Phase.DONE)
        return []

    def _next_set(self, t_s: float) -> list[Event]:
        self._set += 1
        self._start_set()
        data = {"index": self._index, "set": self._set}
        events = [Event(EventKind.EXERCISE_STARTED, t_s, self._spec.kind.value, data)]
        return events + self._begin_waiting(t_s, intro_done=False)

    def _rest(self, seconds: float, t_s: float, then: AfterRest) -> list[Event]:
        if seconds <= 0:
            return then(t_s)
        self._rest_s = seconds
        self._after_rest = then
        self._enter(Phase.REST)
        kind = self._spec.kind.value
        events = [Event(EventKind.REST_STARTED, t_s, kind, {"seconds": seconds})]
        return events + self._cues.session("rest", t_s, seconds=round(seconds))

    def _end_rest(self, t_s: float) -> list[Event]:
        then, self._after_rest = self._after_rest, None
        assert then is not None
        return then(t_s)

    # ------------------------------------------------------ engine events to cues
    def _translate(self, raw: list[Event], t_s: float, *, speak_progress: bool) -> list[Event]:
        """Engine events as they are, plus the cues they call for."""
        events: list[Event] = []
        for event in raw:
            events.append(event)
            if event.kind is EventKind.FAULT_RAISED and not self._lost:
                events += self._cues.fault(str(event.data.get("key", "")), t_s)
        if speak_progress:
            events += self._progress_cues(raw, t_s)
        return events

    def _progress_cues(self, raw: list[Event], t_s: float) -> list[Event]:
        spec = self._spec
        holds_count = self._info.counting is Counting.HOLDS
        events: list[Event] = []
        target = spec.dose.reps
        for event in raw:
            if self._phase is not Phase.ACTIVE:
                break
            kind = event.kind
            if kind is EventKind.HOLD_STARTED:
                index = event.data.get("index", self._done_count + 1)
                events += self._cues.exercise("hold_start", t_s, index=index)
            elif kind is EventKind.HOLD_PROGRESS:
                events += self._countdown(event, t_s)
            elif kind is EventKind.HOLD_COMPLETED:
                self._set_holds += 1
                if holds_count:
                    self._done_count += 1
                count = self._done_count
                events += self._cues.exercise("hold_done", t_s, count=count)
                if holds_count and self._done_count >= target:
                    events += self._finish_set(t_s)
            elif kind is EventKind.REP_COUNTED:
                if not bool(event.data.get("met_hold", True)):
                    continue  # counted by the engine, but short of the prescribed hold
                self._done_count += 1
                key = "rep_counted"
                if self._done_count == target - 1 and "last_rep" in spec.cues:
                    key = "last_rep"
                events += self._cues.exercise(key, t_s, count=self._done_count)
                if self._done_count >= target:
                    events += self._finish_set(t_s)
        return events

    def _countdown(self, event: Event, t_s: float) -> list[Event]:
        every = self._routine.cues.countdown_every_s
        remaining = round(float(event.data.get("remaining_s", math.nan)))
        hold_s = self._spec.dose.hold_s
        if not (remaining > 0) or (hold_s is not None and remaining >= hold_s):
            return []
        steps = remaining / every
        if abs(steps - round(steps)) > 1e-6:
            return []
        return self._cues.exercise("hold_countdown", t_s, remaining=remaining)

    def _track_lost(self, features: Features, t_s: float, dt: float) -> list[Event]:
        if features.present:
            self._absent_s = 0.0
            self._lost = False
            return []
        self._absent_s += dt
        if self._lost or self._absent_s < self._config.lost_after_s:
            return []
        self._lost = True
        return self._cues.session("pose_lost", t_s)

    # ------------------------------------------------------------- the stall clock
    def _watch_progress(
        self, raw: list[Event], features: Features, t_s: float, dt: float
    ) -> list[Event]:
        """A hint after ``stall_hint_s`` without progress, the next exercise later."""
        stall = self._stall.update(raw, features.present, dt)
        if stall is Stall.MOVE_ON:
            state = self._engine.state
            return self._leave(
                t_s,
                SkipReason.NO_PROGRESS,
                no_progress_s=round(self._stall.seconds, 2),
                state=state.value if state is not None else None,
                in_position=self._engine.in_position,
            )
        if stall is Stall.HINT:
            return self._stall_hint(t_s)
        return []

    def _stall_hint(self, t_s: float) -> list[Event]:
        """What the coach sees and what to change, from the engine's state and position."""
        spec = self._spec
        state, in_position = self._engine.state, self._engine.in_position
        fallback = "stall_in_position" if in_position else "stall_out_of_position"
        keys = [f"stall_{state.value}"] if state is not None else []
        key = next((k for k in [*keys, fallback] if k in spec.cues), None)
        said: list[Event] = []
        if key is not None:
            said = self._cues.exercise(key, t_s)
        elif not in_position and "get_into_position" in spec.cues:
            # A routine without stall texts: how to get into position is the right advice.
            key = fallback
            said = self._cues.say(key, spec.cues["get_into_position"], t_s)
        details = {
            "key": key,  # None when the routine has no text for what the coach sees
            "seconds": round(self._stall.seconds, 2),
            "state": state.value if state is not None else None,
            "in_position": in_position,
        }
        return [Event(EventKind.STALL_HINT, t_s, spec.kind.value, details), *said]


__all__ = ["ExerciseRun", "absent"]
