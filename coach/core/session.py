"""The session: walks a routine from camera set-up to the last exercise.

One object with one verb, ``update(features, t_s) -> events``, plus the
person's commands (pause, resume, skip, stop). It owns the order of things;
the exercise engines own the judging of poses. What the coach should say
comes out as ``CUE`` events (key, text, priority) for the cue policy, and
``view`` is everything the overlay draws, as an immutable value.

Phases, and how one leads to the next::

    SETUP ──whole body seen from the side──▶ INTRO ──spoken intro ends──▶ WAIT_POSITION
    WAIT_POSITION ──start position seen──▶ ACTIVE ──dose reached──▶ REST ──▶ next set or exercise
    last set of the last exercise ──▶ DONE
    WAIT_POSITION or ACTIVE ──nothing counted for stall_move_on_s──▶ next exercise (or DONE)
    stop (any phase), or a red flag at start ──▶ DONE

Pausing freezes the phase and its timers: while paused the engine sees nobody,
so a hold pauses as it would for a person out of view (and ends, unfinished,
after the engine's ``lost_end_s``). A person the camera loses is never "out of
position": the engine pauses its hold timer and the session cues once that it
cannot see them.

A session is never stuck in an exercise the coach cannot count. While the
person is seen in an exercise (waiting for the position, or active) a stall
clock runs; progress restarts it: reaching the start position, a repetition
counted (even one short of its hold: the coach saw the movement), a hold
started, progressing or completed. After ``SessionConfig.stall_hint_s``
without progress the coach says what it sees and what to change (the
exercise's ``stall_*`` texts, picked by the engine's pose state and whether
the person is in the start position), and repeats it every ``stall_hint_s``
while nothing counts. After ``stall_move_on_s`` it ends the exercise as a
skip does (a hold under way is ended and kept) and moves to the next one, or
to the end of the routine: an ``EXERCISE_SKIPPED`` event whose ``reason`` is
``"no_progress"`` (a person's skip says ``"user"``) records why. The clock
stands still while the session is paused, and on every frame the person is
not seen: a person who left the mat is told once that the coach cannot see
them and is waited for, not moved past.

The body controls the session too, hands-free from the mat (see
``coach.core.controls``): sitting or kneeling up from an exercise and keeping
still pauses; while paused, both hands held above the head resume and one
hand skips; leaving the mat ends the session, dated to when the person was
last seen. Every use, by body or key, is recorded as ``CONTROL_USED``.

The session also keeps a rough estimate of how long the coach is talking
(``SessionConfig.words_per_s``), so the camera set-up ends and an exercise's
introduction starts only once what was said before is over: a long spoken
text queued behind another would otherwise go stale and be dropped.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from coach.core.controls import BodyControls, Gesture
from coach.core.cues import Priority
from coach.core.events import Event, EventKind, SkipReason
from coach.core.exercises import exercise
from coach.core.exercises.base import Counting, ExerciseEngine, Gauge
from coach.core.features import Features
from coach.core.landmarks import Side
from coach.core.routine import STALL_CUE_KEYS, ExerciseSpec, Routine, SessionConfig
from coach.core.safety import SafetyResult, validate_pain
from coach.core.states import PoseState


class Phase(StrEnum):
    """Where the session is."""

    SETUP = "setup"  # waiting until the camera sees the whole body from the side
    INTRO = "intro"  # the exercise is being introduced
    WAIT_POSITION = "wait_position"  # waiting for the starting position
    ACTIVE = "active"  # holds and repetitions are counted
    REST = "rest"  # between sets and exercises
    DONE = "done"  # completed or stopped; nothing more happens


# Camera faults an engine raises, and the session's set-up text that fits them
# when the exercise has no text of its own.
CAMERA_FAULT_CUES: dict[str, str] = {
    "not_side_view": "setup_turn_sideways",
    "body_not_in_frame": "setup_move_back",
}

# How much each cue matters to the cue policy. Keys not listed are form cues.
CUE_PRIORITIES: dict[str, Priority] = {
    "safety_stop": Priority.URGENT,
    "safety_stop_urgent": Priority.URGENT,
    "stopped": Priority.URGENT,
    "pain_worse": Priority.URGENT,
    "welcome": Priority.PROGRESS,
    "controls": Priority.PROGRESS,
    "pain_not_improving": Priority.PROGRESS,
    "setup_ok": Priority.PROGRESS,
    "intro": Priority.PROGRESS,
    "intro_done": Priority.PROGRESS,
    "get_into_position": Priority.PROGRESS,
    "in_position": Priority.PROGRESS,
    "hold_start": Priority.PROGRESS,
    "hold_countdown": Priority.PROGRESS,
    "hold_done": Priority.PROGRESS,
    "rep_counted": Priority.PROGRESS,
    "last_rep": Priority.PROGRESS,
    "breathe_in": Priority.PROGRESS,
    "breathe_out": Priority.PROGRESS,
    "relax": Priority.PROGRESS,
    "set_done": Priority.PROGRESS,
    "rest": Priority.PROGRESS,
    "next": Priority.PROGRESS,
    "paused": Priority.PROGRESS,
    "resumed": Priority.PROGRESS,
    "skipped": Priority.PROGRESS,
    "done": Priority.PROGRESS,
    "pose_lost": Priority.INFO,
    "setup_come_into_view": Priority.INFO,
    "setup_move_back": Priority.INFO,
    "setup_turn_sideways": Priority.INFO,
    # Said once in a long while and worth waiting for, like "get into position".
    "stall_move_on": Priority.PROGRESS,
    **dict.fromkeys(STALL_CUE_KEYS, Priority.PROGRESS),
}

# Engine events that show the exercise going forward; each restarts the stall clock.
PROGRESS_EVENTS: frozenset[EventKind] = frozenset(
    {
        EventKind.REP_COUNTED,
        EventKind.HOLD_STARTED,
        EventKind.HOLD_PROGRESS,
        EventKind.HOLD_COMPLETED,
    }
)

# Slack for sums of frame steps (0.1 + 0.1 + ... falls just short of a whole second).
_EPS_S = 1e-6

SETUP_TITLE = "Camera set-up"

# Phases in which sitting up still pauses (the person is in an exercise), and
# in which leaving the mat ends the session (any time after the camera set-up).
WATCH_PAUSE: frozenset[Phase] = frozenset({Phase.WAIT_POSITION, Phase.ACTIVE})
WATCH_LEAVE: frozenset[Phase] = frozenset(
    {Phase.INTRO, Phase.WAIT_POSITION, Phase.ACTIVE, Phase.REST}
)
# What the screen shows while a control builds up; {seconds} is the time still to go.
CONTROL_PROGRESS: dict[Gesture, tuple[str, str]] = {
    Gesture.SIT_UP_STILL: ("screen_control_pause", "Keep still to pause: {seconds} s"),
    Gesture.BOTH_HANDS_UP: ("screen_control_resume", "Both hands up: carry on in {seconds} s"),
    Gesture.ONE_HAND_UP: ("screen_control_skip", "One hand up: skip in {seconds} s"),
}


@dataclass(frozen=True)
class OverlayView:
    """Everything the overlay draws for one frame; read, never changed.

    Attributes:
        phase: Where the session is.
        title: The exercise's title, or the set-up title.
        gauge: The measure that matters now and its target band, or None.
        timer_text: Hold or rest time left ("12 s"), or None.
        count_text: Holds or repetitions done toward the dose ("3 / 5"), or None.
        cue_text: The last thing the coach said, while it is fresh.
        progress: Where in the routine ("exercise 2 of 3").
        paused: The person paused the session.
        lost: The camera has lost the person.
        side: The body side nearer the camera (to emphasise on the skeleton).
        state: The pose state the engine sees, by name.
        control_text: A body control building up ("Keep still to pause: 3 s"), or None.
    """

    phase: Phase
    title: str | None
    gauge: Gauge | None
    timer_text: str | None
    count_text: str | None
    cue_text: str | None
    progress: str
    paused: bool
    lost: bool
    side: Side | None = None
    state: str | None = None
    control_text: str | None = None


EngineFactory = Callable[[ExerciseSpec, Routine], ExerciseEngine]


def default_engine(spec: ExerciseSpec, routine: Routine) -> ExerciseEngine:
    """The routine's engine for one exercise, with its thresholds and hold time."""
    from coach.core.exercises import make_engine

    return make_engine(
        spec.kind, spec.thresholds, hold_s=spec.dose.hold_s, classifier=routine.classifier
    )


class _Values(dict[str, Any]):
    """Placeholder values for cue texts; an unknown placeholder stays as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, values: Mapping[str, Any]) -> str:
    """``text`` with its {placeholders} filled from ``values``; never raises."""
    try:
        return string.Formatter().vformat(text, (), _Values(values))
    except (ValueError, IndexError, AttributeError, KeyError):
        return text


def _absent(features: Features) -> Features:
    """The same frame with nobody in it, so an engine pauses its timers."""
    return replace(features, present=False)


def _seconds_text(seconds: float) -> str:
    return f"{max(0, math.ceil(seconds - 1e-6))} s"


class SessionController:
    """Walks a routine frame by frame and says what to do next.

    Args:
        routine: The validated routine to follow.
        safety: The answers to the red-flag questions; a red flag means no
            exercises at all. None when they were asked elsewhere.
        config: Timing of the session's own steps.
        engine_factory: Builds the engine for an exercise (a double in tests).
    """

    def __init__(
        self,
        routine: Routine,
        *,
        safety: SafetyResult | None = None,
        config: SessionConfig | None = None,
        engine_factory: EngineFactory = default_engine,
    ) -> None:
        self._routine = routine
        self._safety = safety
        self._config = config or routine.session
        self._make_engine = engine_factory
        self._started = False
        self._phase = Phase.SETUP
        self._paused = False
        self._last_t: float | None = None
        self._phase_s = 0.0  # time spent in the phase, pauses excluded
        self._index = -1
        self._set = 0
        self._engine: ExerciseEngine | None = None
        self._done_count = 0  # holds or reps toward this set's dose
        self._set_holds = 0  # holds completed in this set
        self._total_reps = 0
        self._total_holds = 0
        self._rest_s = 0.0
        self._after_rest: Callable[[float], list[Event]] | None = None
        self._setup_problem: str | None = None
        self._setup_problem_since = 0.0
        self._setup_ok_since: float | None = None
        self._last_hint: str | None = None
        self._last_hint_s = -math.inf
        self._absent_s = 0.0
        self._lost = False
        self._last_position_cue_s = 0.0
        self._breath_next: PoseState | None = None
        self._breath_since_s = 0.0
        self._cue_text: str | None = None
        self._last_cue_key: str | None = None
        self._cue_t = -math.inf
        self._now = 0.0
        self._features: Features | None = None
        self._pain_before: int | None = None
        self._talk_until = -math.inf  # when the coach is estimated to stop talking
        self._intro_ends_s: float | None = None  # phase time the introduction ends
        self._stall_s = 0.0  # time seen in the exercise since the last progress
        self._stall_hint_s = 0.0  # the stall clock when the last hint was given
        self._controls = BodyControls(self._config.controls)

    # ----------------------------------------------------------- read-only state
    @property
    def routine(self) -> Routine:
        """The routine being followed."""
        return self._routine

    @property
    def phase(self) -> Phase:
        """Where the session is."""
        return self._phase

    @property
    def paused(self) -> bool:
        """The person paused the session."""
        return self._paused

    @property
    def lost(self) -> bool:
        """The camera has lost the person during an exercise."""
        return self._lost

    @property
    def done(self) -> bool:
        """Nothing more will happen."""
        return self._phase is Phase.DONE

    @property
    def current(self) -> ExerciseSpec | None:
        """The exercise being introduced, waited for, done or rested after."""
        if 0 <= self._index < len(self._routine.exercises):
            return self._routine.exercises[self._index]
        return None

    @property
    def engine(self) -> ExerciseEngine | None:
        """The current exercise's engine."""
        return self._engine

    @property
    def state(self) -> PoseState | None:
        """The pose state the engine sees now."""
        return self._engine.state if self._engine is not None else None

    @property
    def view(self) -> OverlayView:
        """What the overlay should show now."""
        spec = self.current
        in_exercise = self._phase in (Phase.INTRO, Phase.WAIT_POSITION, Phase.ACTIVE, Phase.REST)
        setup = self._screen("screen_setup_title", SETUP_TITLE)
        title = setup if self._phase is Phase.SETUP else (spec.title if spec else None)
        gauge = None
        timer = None
        count = None
        if spec is not None and in_exercise:
            count = f"{self._done_count} / {spec.dose.reps}"
            if self._engine is not None and self._phase in (Phase.WAIT_POSITION, Phase.ACTIVE):
                gauge = self._engine.gauge
                elapsed = self._engine.hold_elapsed_s
                if spec.dose.hold_s is not None and elapsed > 0:
                    timer = _seconds_text(spec.dose.hold_s - elapsed)
        if self._phase is Phase.REST:
            timer = _seconds_text(self._rest_s - self._phase_s)
        cue = self._cue_text if self._now - self._cue_t <= self._config.cue_show_s else None
        features = self._features
        return OverlayView(
            phase=self._phase,
            title=title,
            gauge=gauge,
            timer_text=timer,
            count_text=count,
            cue_text=cue,
            progress=self._progress_text(),
            paused=self._paused,
            lost=self._lost,
            side=features.side if features is not None else None,
            state=self.state.value if self.state is not None else None,
            control_text=self._control_text(),
        )

    def _screen(self, key: str, default: str, **values: object) -> str:
        """A word of the screen in the routine's language (``screen_*`` texts), else English."""
        text = self._routine.session_cues.get(key, default)
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return default.format(**values)

    def _control_text(self) -> str | None:
        if self._phase not in WATCH_PAUSE and not self._paused:
            return None
        progress = self._controls.progress(self._now)
        if progress is None:
            return None
        gesture, done = progress
        cfg = self._config.controls
        total = cfg.gesture_hold_s if gesture is not Gesture.SIT_UP_STILL else cfg.pause_after_s
        key, default = CONTROL_PROGRESS[gesture]
        return self._screen(key, default, seconds=math.ceil(total * (1.0 - done) - 1e-6))

    def _progress_text(self) -> str:
        total = len(self._routine.exercises)
        if self._phase is Phase.SETUP:
            return self._screen("screen_setup", "camera set-up · {total} exercises", total=total)
        if self._phase is Phase.DONE:
            return self._screen("screen_finished", "finished")
        spec = self.current
        text = self._screen(
            "screen_progress", "exercise {index} of {total}", index=self._index + 1, total=total
        )
        if spec is not None and spec.dose.sets > 1:
            text += " · " + self._screen(
                "screen_set", "set {set} of {sets}", set=self._set, sets=spec.dose.sets
            )
        return text

    # ----------------------------------------------------------------- commands
    def start(self, t_s: float) -> list[Event]:
        """Begin: the welcome, or a safety stop when a red flag was answered yes."""
        if self._started:
            return []
        self._started = True
        self._now = t_s
        events = [Event(EventKind.SESSION_STARTED, t_s, None, {"routine": self._routine.name})]
        safety = self._safety
        if safety is not None and not safety.proceed:
            events.append(
                Event(
                    EventKind.SAFETY_STOP,
                    t_s,
                    None,
                    {"flags": list(safety.flags), "urgent": list(safety.urgent)},
                )
            )
            urgent = bool(safety.urgent) and "safety_stop_urgent" in self._routine.session_cues
            events += self._session_cue("safety_stop_urgent" if urgent else "safety_stop", t_s)
            events.append(Event(EventKind.SESSION_STOPPED, t_s, None, {"reason": "safety"}))
            self._enter(Phase.DONE)
            return events
        events += self._session_cue("welcome", t_s, title=self._routine.title)
        if self._config.controls.enabled:
            events += self._session_cue("controls", t_s)
        if safety is not None and safety.advisories:
            events += self._session_cue("pain_not_improving", t_s)
        self._enter(Phase.SETUP)
        self._setup_problem_since = t_s
        return events

    def rate_pain(self, when: str, score: int, t_s: float) -> list[Event]:
        """Record a pain rating ("before" or "after"); sharply worse pain gets an urgent cue.

        Raises:
            ValueError: ``when`` is neither "before" nor "after", or the score is not 0-10.
        """
        if when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', got {when!r}")
        score = validate_pain(score)
        events = [Event(EventKind.PAIN_RATED, t_s, None, {"when": when, "score": score})]
        if when == "before":
            self._pain_before = score
        elif (
            self._pain_before is not None
            and score - self._pain_before >= self._config.pain_worse_points
        ):
            events += self._session_cue("pain_worse", t_s)
        return events

    def pause(self, t_s: float) -> list[Event]:
        """Freeze the session; holds stop counting until ``resume``."""
        if self._phase is Phase.DONE or self._paused or not self._started:
            return []
        self._tick(t_s)
        self._paused = True
        return [
            Event(EventKind.PAUSED, t_s, self._exercise_name()),
            *self._session_cue("paused", t_s),
        ]

    def resume(self, t_s: float) -> list[Event]:
        """Carry on after a pause."""
        if not self._paused or self._phase is Phase.DONE:
            return []
        self._paused = False
        self._last_t = t_s  # the pause itself is not time in the phase
        return [
            Event(EventKind.RESUMED, t_s, self._exercise_name()),
            *self._session_cue("resumed", t_s),
        ]

    def toggle_pause(self, t_s: float) -> list[Event]:
        """Pause when running, resume when paused."""
        return self.resume(t_s) if self._paused else self.pause(t_s)

    def skip(self, t_s: float) -> list[Event]:
        """Skip the camera set-up, a rest, or the current exercise."""
        if self._phase is Phase.DONE or not self._started:
            return []
        events: list[Event] = []
        if self._paused:
            self._paused = False
            events.append(Event(EventKind.RESUMED, t_s, self._exercise_name()))
        self._last_t = t_s
        if self._phase is Phase.SETUP:
            events.append(Event(EventKind.SETUP_DONE, t_s, None, {"skipped": True}))
            return events + self._begin_exercise(0, t_s)
        if self._phase is Phase.REST and self._after_rest is not None:
            return events + self._end_rest(t_s)
        return events + self._leave_exercise(t_s, SkipReason.USER)

    def stop(self, t_s: float, reason: str = "user") -> list[Event]:
        """End the session now; always safe, and the record is kept."""
        if self._phase is Phase.DONE:
            return []
        if not self._started:
            self._started = True
        self._now = t_s
        events = self._finish_engine(t_s)
        events.append(
            Event(EventKind.SESSION_STOPPED, t_s, self._exercise_name(), {"reason": reason})
        )
        events += self._session_cue("stopped", t_s)
        self._paused = False
        self._enter(Phase.DONE)
        return events

    def command(self, name: str, t_s: float, *, by: str = "key", **details: Any) -> list[Event]:
        """Run a person's command, recorded as ``CONTROL_USED`` when it does something.

        Args:
            name: "pause" (toggles: pauses, or resumes when paused), "resume",
                "skip" or "stop".
            t_s: When it takes effect.
            by: "key" or "body".
            details: Recorded with it (the gesture and when it began).
        """
        if name == "pause":
            done = self.toggle_pause(t_s) if by == "key" else self.pause(t_s)
        elif name == "resume":
            done = self.resume(t_s)
        elif name == "skip":
            done = self.skip(t_s)
        elif name == "stop":
            done = self.stop(t_s, "left_mat" if by == "body" else "user")
        else:
            raise ValueError(f"unknown command {name!r}")
        if not done:
            return []
        used = Event(
            EventKind.CONTROL_USED, t_s, done[0].exercise, {"command": name, "by": by, **details}
        )
        return [used, *done]

    def _body_controls(self, features: Features, t_s: float) -> list[Event]:
        """Pause, resume, skip or stop from what the body does (see ``coach.core.controls``)."""
        used = self._controls.update(
            features,
            t_s,
            watch_pause=self._phase in WATCH_PAUSE,
            watch_leave=self._phase in WATCH_LEAVE,
            paused=self._paused,
        )
        events: list[Event] = []
        for use in used:
            events += self.command(
                use.command.value,
                use.t_s,
                by="body",
                gesture=use.gesture.value,
                since_s=round(use.since_s, 3),
            )
        return events

    # ------------------------------------------------------------- the one verb
    def update(self, features: Features, t_s: float) -> list[Event]:
        """Take one frame's features; return what happened."""
        events = self.start(t_s) if not self._started else []
        if self._phase is Phase.DONE:
            return events
        self._features = features
        self._now = t_s
        events += self._body_controls(features, t_s)
        if self.done:  # left the mat
            return events
        if self._paused:
            # Engines see nobody while paused, so their hold timers stop;
            # their events are kept for the record but nothing is said.
            if self._engine is not None and self._phase in (Phase.WAIT_POSITION, Phase.ACTIVE):
                events += self._engine.update(_absent(features), t_s)
            self._last_t = t_s
            return events
        dt = self._tick(t_s)
        handler = {
            Phase.SETUP: self._update_setup,
            Phase.INTRO: self._update_intro,
            Phase.WAIT_POSITION: self._update_wait,
            Phase.ACTIVE: self._update_active,
            Phase.REST: self._update_rest,
        }[self._phase]
        return events + handler(features, t_s, dt)

    # ------------------------------------------------------------------ phases
    def _update_setup(self, features: Features, t_s: float, dt: float) -> list[Event]:
        cfg = self._config
        problem = self._setup_problem_of(features)
        if problem is None:
            if self._setup_ok_since is None:
                self._setup_ok_since = t_s
            # Set-up ends once the view has been right a while and the welcome is over.
            if t_s - self._setup_ok_since >= cfg.setup_stable_s and t_s >= self._talk_until:
                events = [Event(EventKind.SETUP_DONE, t_s)]
                events += self._session_cue("setup_ok", t_s)
                return events + self._begin_exercise(0, t_s)
            return []
        self._setup_ok_since = None
        if problem != self._setup_problem:
            self._setup_problem = problem
            self._setup_problem_since = t_s
        lasting = t_s - self._setup_problem_since >= cfg.setup_hint_delay_s
        fresh = problem != self._last_hint or t_s - self._last_hint_s >= cfg.setup_hint_repeat_s
        if not (lasting and fresh) or t_s < self._talk_until:
            return []
        self._last_hint = problem
        self._last_hint_s = t_s
        return [
            Event(EventKind.SETUP_HINT, t_s, None, {"key": problem}),
            *self._session_cue(f"setup_{problem}", t_s),
        ]

    @staticmethod
    def _setup_problem_of(features: Features) -> str | None:
        """What keeps the camera from judging the exercises, or None when all is right."""
        if features.pose.is_empty:
            return "come_into_view"
        if not features.whole_body:
            return "move_back"
        if not features.side_view:
            return "turn_sideways"
        if not features.present:
            return "come_into_view"
        return None

    def _update_intro(self, features: Features, t_s: float, dt: float) -> list[Event]:
        spec = self.current
        assert spec is not None
        if self._intro_ends_s is None:
            # The introduction waits until what was said before it is over, so it
            # is not queued behind the welcome and dropped as stale.
            if t_s < self._talk_until:
                return []
            speaking = min(self._config.intro_max_s, self.speech_s(spec.intro))
            self._intro_ends_s = self._phase_s + speaking + self._config.intro_extra_s
            return self._cue("intro", spec.intro, t_s, title=spec.title)
        if self._phase_s < self._intro_ends_s:
            return []
        return self._begin_waiting(t_s, intro_done=True)

    def speech_s(self, text: str) -> float:
        """About how long saying ``text`` takes."""
        cfg = self._config
        return cfg.utterance_s + len(text.split()) / cfg.words_per_s

    def _update_wait(self, features: Features, t_s: float, dt: float) -> list[Event]:
        spec, engine = self.current, self._engine
        assert spec is not None and engine is not None
        events = self._track_lost(features, t_s, dt)
        raw = engine.update(features, t_s)
        if engine.in_position:
            events.append(Event(EventKind.IN_POSITION, t_s, spec.kind.value))
            events += self._exercise_cue("in_position", t_s)
            self._enter(Phase.ACTIVE)
            self._restart_stall()
            if exercise(spec.kind).breath:
                events += self._breath_cue(PoseState.COW, t_s)
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
            events += self._exercise_cue("get_into_position", t_s)
        return events

    def _update_active(self, features: Features, t_s: float, dt: float) -> list[Event]:
        spec, engine = self.current, self._engine
        assert spec is not None and engine is not None
        events = self._track_lost(features, t_s, dt)
        raw = engine.update(features, t_s)
        events += self._translate(raw, t_s, speak_progress=True)
        if self._phase is not Phase.ACTIVE:  # the dose was reached on this frame
            return events
        stalled = self._watch_progress(raw, features, t_s, dt)
        if stalled:
            return events + stalled
        if exercise(spec.kind).breath and not self._lost:
            events += self._pace_breath(engine.state, t_s, dt)
        return events

    def _update_rest(self, features: Features, t_s: float, dt: float) -> list[Event]:
        if self._phase_s < self._rest_s:
            return []
        return self._end_rest(t_s)

    # ------------------------------------------------------------- transitions
    def _enter(self, phase: Phase) -> None:
        self._phase = phase
        self._phase_s = 0.0

    def _tick(self, t_s: float) -> float:
        dt = 0.0 if self._last_t is None else max(0.0, t_s - self._last_t)
        self._last_t = t_s
        self._phase_s += dt
        return dt

    def _begin_exercise(self, index: int, t_s: float) -> list[Event]:
        exercises = self._routine.exercises
        if index >= len(exercises):
            return self._complete(t_s)
        self._index = index
        self._set = 1
        self._total_reps = 0
        self._total_holds = 0
        spec = exercises[index]
        self._engine = self._make_engine(spec, self._routine)
        self._start_set()
        self._enter(Phase.INTRO)
        self._intro_ends_s = None
        return [Event(EventKind.EXERCISE_STARTED, t_s, spec.kind.value, {"index": index, "set": 1})]

    def _start_set(self) -> None:
        self._done_count = 0
        self._set_holds = 0
        self._lost = False
        self._absent_s = 0.0
        self._breath_next = None
        self._last_position_cue_s = 0.0
        self._restart_stall()
        if self._engine is not None:
            self._engine.reset()

    def _begin_waiting(self, t_s: float, *, intro_done: bool) -> list[Event]:
        self._enter(Phase.WAIT_POSITION)
        self._last_position_cue_s = 0.0
        spec = self.current
        assert spec is not None
        if intro_done:
            # The introduction has just said how to get into position: only a
            # closing line if the routine has one; a reminder follows if needed.
            return self._exercise_cue("intro_done", t_s)
        return self._exercise_cue("get_into_position", t_s)

    def _finish_engine(self, t_s: float) -> list[Event]:
        """End what the engine still has under way, so the record keeps it."""
        if self._engine is None or self._phase not in (Phase.WAIT_POSITION, Phase.ACTIVE):
            return []
        return self._engine.finish(t_s)

    def _finish_set(self, t_s: float) -> list[Event]:
        spec, engine = self.current, self._engine
        assert spec is not None and engine is not None
        events = self._finish_engine(t_s)
        self._total_reps += engine.reps
        self._total_holds += self._set_holds
        if not (self._last_cue_key == "hold_done" and self._cue_t == t_s):
            # After "hold done" a "relax" on the same moment would only repeat it.
            events += self._exercise_cue("set_done" if "set_done" in spec.cues else "relax", t_s)
        if self._set < spec.dose.sets:
            return events + self._rest(spec.dose.rest_s, t_s, self._next_set)
        events.append(
            Event(
                EventKind.EXERCISE_COMPLETED,
                t_s,
                spec.kind.value,
                {"reps": self._total_reps, "holds": self._total_holds, "sets": self._set},
            )
        )
        if self._index + 1 >= len(self._routine.exercises):
            return events + self._complete(t_s)
        return events + self._rest(spec.dose.rest_s, t_s, self._next_exercise)

    def _leave_exercise(self, t_s: float, reason: SkipReason, **details: Any) -> list[Event]:
        """End the exercise short of its dose (a hold under way is kept) and go on to the next."""
        spec = self.current
        assert spec is not None
        events = self._finish_engine(t_s)
        data = {"index": self._index, "set": self._set, "reason": reason.value, **details}
        events.append(Event(EventKind.EXERCISE_SKIPPED, t_s, spec.kind.value, data))
        if reason is SkipReason.USER:
            events += self._session_cue("skipped", t_s, title=spec.title)
        else:
            # Routines written before this text existed still say something fitting.
            cues = self._routine.session_cues
            text = cues.get("stall_move_on", cues.get("skipped"))
            if text is not None:
                events += self._cue("stall_move_on", text, t_s, title=spec.title)
        return events + self._next_exercise(t_s)

    def _next_set(self, t_s: float) -> list[Event]:
        spec = self.current
        assert spec is not None
        self._set += 1
        self._start_set()
        events = [
            Event(
                EventKind.EXERCISE_STARTED,
                t_s,
                spec.kind.value,
                {"index": self._index, "set": self._set},
            )
        ]
        return events + self._begin_waiting(t_s, intro_done=False)

    def _next_exercise(self, t_s: float) -> list[Event]:
        self._engine = None
        return self._begin_exercise(self._index + 1, t_s)

    def _rest(
        self, seconds: float, t_s: float, then: Callable[[float], list[Event]]
    ) -> list[Event]:
        if seconds <= 0:
            return then(t_s)
        self._rest_s = seconds
        self._after_rest = then
        self._enter(Phase.REST)
        events = [Event(EventKind.REST_STARTED, t_s, self._exercise_name(), {"seconds": seconds})]
        return events + self._session_cue("rest", t_s, seconds=round(seconds))

    def _end_rest(self, t_s: float) -> list[Event]:
        then, self._after_rest = self._after_rest, None
        assert then is not None
        return then(t_s)

    def _complete(self, t_s: float) -> list[Event]:
        self._engine = None
        self._enter(Phase.DONE)
        return [Event(EventKind.SESSION_COMPLETED, t_s), *self._session_cue("done", t_s)]

    # ------------------------------------------------------ engine events to cues
    def _translate(self, raw: list[Event], t_s: float, *, speak_progress: bool) -> list[Event]:
        """Engine events as they are, plus the cues they call for."""
        events: list[Event] = []
        for event in raw:
            events.append(event)
            if event.kind is EventKind.FAULT_RAISED and not self._lost:
                events += self._fault_cue(str(event.data.get("key", "")), t_s)
        if speak_progress:
            events += self._progress_cues(raw, t_s)
        return events

    def _progress_cues(self, raw: list[Event], t_s: float) -> list[Event]:
        spec = self.current
        assert spec is not None
        events: list[Event] = []
        target = spec.dose.reps
        for event in raw:
            if self._phase is not Phase.ACTIVE:
                break
            kind = event.kind
            if kind is EventKind.HOLD_STARTED:
                events += self._exercise_cue(
                    "hold_start",
                    t_s,
                    seconds=_whole(spec.dose.hold_s),
                    index=event.data.get("index", self._done_count + 1),
                    target=target,
                )
            elif kind is EventKind.HOLD_PROGRESS:
                events += self._countdown(event, t_s)
            elif kind is EventKind.HOLD_COMPLETED:
                self._set_holds += 1
                if exercise(spec.kind).counting is Counting.HOLDS:
                    self._done_count += 1
                events += self._exercise_cue(
                    "hold_done", t_s, count=self._done_count, target=target
                )
                if exercise(spec.kind).counting is Counting.HOLDS and self._done_count >= target:
                    events += self._finish_set(t_s)
            elif kind is EventKind.REP_COUNTED:
                if not bool(event.data.get("met_hold", True)):
                    continue  # counted by the engine, but short of the prescribed hold
                self._done_count += 1
                key = "rep_counted"
                if self._done_count == target - 1 and "last_rep" in spec.cues:
                    key = "last_rep"
                events += self._exercise_cue(key, t_s, count=self._done_count, target=target)
                if self._done_count >= target:
                    events += self._finish_set(t_s)
        return events

    def _countdown(self, event: Event, t_s: float) -> list[Event]:
        spec = self.current
        assert spec is not None
        every = self._routine.cues.countdown_every_s
        remaining = round(float(event.data.get("remaining_s", math.nan)))
        hold_s = spec.dose.hold_s
        if not (remaining > 0) or (hold_s is not None and remaining >= hold_s):
            return []
        steps = remaining / every
        if abs(steps - round(steps)) > 1e-6:
            return []
        return self._exercise_cue("hold_countdown", t_s, remaining=remaining)

    def _fault_cue(self, key: str, t_s: float) -> list[Event]:
        spec = self.current
        if spec is not None and key in spec.cues:
            return self._cue(key, spec.cues[key], t_s, Priority.FORM)
        fallback = CAMERA_FAULT_CUES.get(key)
        if fallback is not None and fallback in self._routine.session_cues:
            return self._cue(key, self._routine.session_cues[fallback], t_s, Priority.FORM)
        return []

    def _track_lost(self, features: Features, t_s: float, dt: float) -> list[Event]:
        if features.present:
            self._absent_s = 0.0
            self._lost = False
            return []
        self._absent_s += dt
        if self._lost or self._absent_s < self._config.lost_after_s:
            return []
        self._lost = True
        return self._session_cue("pose_lost", t_s)

    def _restart_stall(self) -> None:
        self._stall_s = 0.0
        self._stall_hint_s = 0.0

    def _watch_progress(
        self, raw: list[Event], features: Features, t_s: float, dt: float
    ) -> list[Event]:
        """The stall clock: a hint after ``stall_hint_s`` without progress, a move-on later."""
        if any(event.kind in PROGRESS_EVENTS for event in raw):
            self._restart_stall()
            return []
        if not features.present:
            return []  # nobody seen: the clock stands still
        self._stall_s += dt
        cfg = self._config
        if self._stall_s + _EPS_S >= cfg.stall_move_on_s:
            engine = self._engine
            assert engine is not None
            state = engine.state
            return self._leave_exercise(
                t_s,
                SkipReason.NO_PROGRESS,
                no_progress_s=round(self._stall_s, 2),
                state=state.value if state is not None else None,
                in_position=engine.in_position,
            )
        if self._stall_s - self._stall_hint_s + _EPS_S >= cfg.stall_hint_s:
            self._stall_hint_s = self._stall_s
            return self._stall_hint(t_s)
        return []

    def _stall_hint(self, t_s: float) -> list[Event]:
        """What the coach sees and what to change, from the engine's state and position."""
        spec, engine = self.current, self._engine
        assert spec is not None and engine is not None
        state, in_position = engine.state, engine.in_position
        fallback = "stall_in_position" if in_position else "stall_out_of_position"
        keys = [f"stall_{state.value}"] if state is not None else []
        key = next((k for k in [*keys, fallback] if k in spec.cues), None)
        said: list[Event] = []
        if key is not None:
            said = self._exercise_cue(key, t_s)
        elif not in_position and "get_into_position" in spec.cues:
            # A routine without stall texts: how to get into position is the right advice.
            key = fallback
            said = self._cue(key, spec.cues["get_into_position"], t_s)
        details = {
            "key": key,  # None when the routine has no text for what the coach sees
            "seconds": round(self._stall_s, 2),
            "state": state.value if state is not None else None,
            "in_position": in_position,
        }
        return [Event(EventKind.STALL_HINT, t_s, spec.kind.value, details), *said]

    def _pace_breath(self, state: PoseState | None, t_s: float, dt: float) -> list[Event]:
        """Cat-cow: the next breath when the cued pose is reached, or when it is time anyway."""
        self._breath_since_s += dt
        cfg = self._config
        expected = self._breath_next
        reached = state is expected
        if (reached and self._breath_since_s >= cfg.breath_min_s) or (
            self._breath_since_s >= cfg.breath_max_s
        ):
            towards = PoseState.CAT if expected is PoseState.COW else PoseState.COW
            return self._breath_cue(towards, t_s)
        return []

    def _breath_cue(self, towards: PoseState, t_s: float) -> list[Event]:
        self._breath_next = towards
        self._breath_since_s = 0.0
        # Breathing in arches the back into cow; breathing out rounds it into cat.
        key = "breathe_in" if towards is PoseState.COW else "breathe_out"
        return self._exercise_cue(key, t_s)

    # -------------------------------------------------------------------- cues
    def _exercise_name(self) -> str | None:
        spec = self.current
        return spec.kind.value if spec is not None and self._phase is not Phase.SETUP else None

    def _placeholders(self, extra: Mapping[str, Any]) -> dict[str, Any]:
        spec = self.current
        values: dict[str, Any] = {
            "total": len(self._routine.exercises),
            "index": self._index + 1,
            "set": self._set,
        }
        if spec is not None:
            values.update(
                title=spec.title,
                sets=spec.dose.sets,
                target=spec.dose.reps,
                seconds=_whole(spec.dose.hold_s),
            )
        values.update(extra)
        return values

    def _exercise_cue(self, key: str, t_s: float, **values: Any) -> list[Event]:
        spec = self.current
        if spec is None or key not in spec.cues:
            return []
        return self._cue(key, spec.cues[key], t_s, **values)

    def _session_cue(self, key: str, t_s: float, **values: Any) -> list[Event]:
        text = self._routine.session_cues.get(key)
        if text is None:
            return []
        return self._cue(key, text, t_s, **values)

    def _cue(
        self, key: str, text: str, t_s: float, priority: Priority | None = None, **values: Any
    ) -> list[Event]:
        said = fill(text, self._placeholders(values))
        level = priority if priority is not None else CUE_PRIORITIES.get(key, Priority.FORM)
        self._cue_text = said
        self._cue_t = t_s
        self._last_cue_key = key
        self._talk_until = max(t_s, self._talk_until) + self.speech_s(said)
        return [
            Event(
                EventKind.CUE,
                t_s,
                self._exercise_name(),
                {"key": key, "text": said, "priority": int(level)},
            )
        ]


def _whole(seconds: float | None) -> int | str:
    return "" if seconds is None else round(seconds)


__all__ = [
    "CAMERA_FAULT_CUES",
    "CONTROL_PROGRESS",
    "CUE_PRIORITIES",
    "PROGRESS_EVENTS",
    "WATCH_LEAVE",
    "WATCH_PAUSE",
    "OverlayView",
    "Phase",
    "SessionConfig",
    "SessionController",
    "default_engine",
    "fill",
]
