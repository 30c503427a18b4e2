"""The session: walks a routine from camera set-up to the last exercise.

One object with one verb, ``update(features, t_s) -> events``, plus the
person's commands (pause, resume, skip, stop). It owns the order of things;
the exercise engines own the judging of poses. What the coach should say
comes out as ``CUE`` events (key, text, priority) for the cue policy, and
``view`` is everything the overlay draws, as an immutable value.

The controller conducts; each of its parts does one job:

- ``SetupGuide`` (``coach.core.setup_guide``): the camera set-up.
- ``ExerciseRun`` (``coach.core.exercise_run``): one exercise, from its
  introduction through its sets and rests, with the stall clock that moves
  on from an exercise the coach cannot count.
- ``CueWriter`` (``coach.core.cue_writer``): which text to say, filled in,
  with its priority, and how long the coach is talking.
- ``ViewPresenter`` (``coach.core.view``): the ``OverlayView``.
- ``BodyControls`` (``coach.core.controls``): the person's commands from the
  mat, which go through ``command`` exactly as keys do.

The phases and how one leads to the next are in ``coach.core.phase``.

Pausing freezes the phase and its timers: while paused the engine sees nobody,
so a hold pauses as it would for a person out of view (and ends, unfinished,
after the engine's ``lost_end_s``).

The body controls the session too, hands-free from the mat: sitting or
kneeling up from an exercise and keeping still pauses; while paused, both
hands held above the head resume and one hand skips; leaving the mat ends the
session, dated to when the person was last seen. Every use, by body or key,
is recorded as ``CONTROL_USED``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coach.core.controls import BodyControls, Command
from coach.core.cue_writer import CUE_PRIORITIES, CueWriter, fill
from coach.core.events import Event, EventKind
from coach.core.exercise_run import ExerciseRun
from coach.core.exercises.base import ExerciseEngine
from coach.core.features import Features
from coach.core.phase import IN_EXERCISE, WATCHED, Phase
from coach.core.routine import ExerciseSpec, Routine, SessionConfig
from coach.core.safety import SafetyResult, validate_pain
from coach.core.setup_guide import SetupGuide
from coach.core.states import PoseState
from coach.core.view import OverlayView, ViewPresenter

EngineFactory = Callable[[ExerciseSpec, Routine], ExerciseEngine]


def default_engine(spec: ExerciseSpec, routine: Routine) -> ExerciseEngine:
    """The routine's engine for one exercise, with its thresholds and hold time."""
    from coach.core.exercises import make_engine

    return make_engine(
        spec.kind, spec.thresholds, hold_s=spec.dose.hold_s, classifier=routine.classifier
    )


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
        self._done = False
        self._paused = False
        self._last_t: float | None = None
        self._now = 0.0
        self._features: Features | None = None
        self._pain_before: int | None = None
        self._cues = CueWriter(routine, self._config)
        self._setup = SetupGuide(self._config, self._cues)
        self._presenter = ViewPresenter(routine, self._config, self._cues)
        self._controls = BodyControls(self._config.controls)
        self._run: ExerciseRun | None = None
        self._engine: ExerciseEngine | None = None

    # ----------------------------------------------------------- read-only state
    @property
    def routine(self) -> Routine:
        """The routine being followed."""
        return self._routine

    @property
    def phase(self) -> Phase:
        """Where the session is."""
        if self._done:
            return Phase.DONE
        return self._run.phase if self._run is not None else Phase.SETUP

    @property
    def paused(self) -> bool:
        """The person paused the session."""
        return self._paused

    @property
    def lost(self) -> bool:
        """The camera has lost the person during an exercise."""
        return self._run is not None and self._run.lost

    @property
    def done(self) -> bool:
        """Nothing more will happen."""
        return self._done

    @property
    def current(self) -> ExerciseSpec | None:
        """The exercise being introduced, waited for, done or rested after."""
        return self._cues.spec

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
        phase = self.phase
        watched = phase in WATCHED or self._paused
        return self._presenter.present(
            phase=phase,
            run=self._run,
            engine=self._engine,
            features=self._features,
            now=self._now,
            paused=self._paused,
            lost=self.lost,
            control=self._controls.progress(self._now) if watched else None,
        )

    def speech_s(self, text: str) -> float:
        """About how long saying ``text`` takes."""
        return self._cues.speech_s(text)

    # ----------------------------------------------------------------- commands
    def start(self, t_s: float) -> list[Event]:
        """Begin: the welcome, or a safety stop when a red flag was answered yes."""
        if self._started:
            return []
        self._started = True
        self._now = t_s
        cues = self._cues
        events = [Event(EventKind.SESSION_STARTED, t_s, None, {"routine": self._routine.name})]
        safety = self._safety
        if safety is not None and not safety.proceed:
            flags = {"flags": list(safety.flags), "urgent": list(safety.urgent)}
            events.append(Event(EventKind.SAFETY_STOP, t_s, None, flags))
            urgent = bool(safety.urgent) and cues.has_session_text("safety_stop_urgent")
            events += cues.session("safety_stop_urgent" if urgent else "safety_stop", t_s)
            events.append(Event(EventKind.SESSION_STOPPED, t_s, None, {"reason": "safety"}))
            self._done = True
            return events
        events += cues.session("welcome", t_s, title=self._routine.title)
        if self._config.controls.enabled:
            events += cues.session("controls", t_s)
        if safety is not None and safety.advisories:
            events += cues.session("pain_not_improving", t_s)
        self._setup.start(t_s)
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
            events += self._cues.session("pain_worse", t_s)
        return events

    def pause(self, t_s: float) -> list[Event]:
        """Freeze the session; holds stop counting until ``resume``."""
        if self._done or self._paused or not self._started:
            return []
        self._tick(t_s)
        self._paused = True
        return [
            Event(EventKind.PAUSED, t_s, self._cues.exercise_name),
            *self._cues.session("paused", t_s),
        ]

    def resume(self, t_s: float) -> list[Event]:
        """Carry on after a pause."""
        if not self._paused or self._done:
            return []
        self._paused = False
        self._last_t = t_s  # the pause itself is not time in the phase
        return [
            Event(EventKind.RESUMED, t_s, self._cues.exercise_name),
            *self._cues.session("resumed", t_s),
        ]

    def toggle_pause(self, t_s: float) -> list[Event]:
        """Pause when running, resume when paused."""
        return self.resume(t_s) if self._paused else self.pause(t_s)

    def skip(self, t_s: float) -> list[Event]:
        """Skip the camera set-up, a rest, or the current exercise."""
        if self._done or not self._started:
            return []
        events: list[Event] = []
        if self._paused:
            self._paused = False
            events.append(Event(EventKind.RESUMED, t_s, self._cues.exercise_name))
        self._last_t = t_s
        if self._run is None:
            events.append(Event(EventKind.SETUP_DONE, t_s, None, {"skipped": True}))
            return events + self._begin_exercise(0, t_s)
        events += self._run.skip(t_s)
        return events + self._go_on(t_s)

    def stop(self, t_s: float, reason: str = "user") -> list[Event]:
        """End the session now; always safe, and the record is kept."""
        if self._done:
            return []
        self._started = True
        self._now = t_s
        events = self._run.stop(t_s) if self._run is not None else []
        name = self._cues.exercise_name
        events.append(Event(EventKind.SESSION_STOPPED, t_s, name, {"reason": reason}))
        events += self._cues.session("stopped", t_s)
        self._paused = False
        self._done = True
        return events

    def command(self, name: str, t_s: float, *, by: str = "key", **details: Any) -> list[Event]:
        """Run a person's command, recorded as ``CONTROL_USED`` when it does something.

        Args:
            name: A ``Command``: "pause" (from a key it toggles: pauses, or
                resumes when paused), "resume", "skip" or "stop".
            t_s: When it takes effect.
            by: "key" or "body".
            details: Recorded with it (the gesture and when it began).

        Raises:
            ValueError: ``name`` is not a command.
        """
        try:
            command = Command(name)
        except ValueError:
            raise ValueError(f"unknown command {name!r}") from None
        if command is Command.PAUSE:
            done = self.toggle_pause(t_s) if by == "key" else self.pause(t_s)
        elif command is Command.RESUME:
            done = self.resume(t_s)
        elif command is Command.SKIP:
            done = self.skip(t_s)
        else:
            done = self.stop(t_s, "left_mat" if by == "body" else "user")
        if not done:
            return []
        data = {"command": command.value, "by": by, **details}
        return [Event(EventKind.CONTROL_USED, t_s, done[0].exercise, data), *done]

    # ------------------------------------------------------------- the one verb
    def update(self, features: Features, t_s: float) -> list[Event]:
        """Take one frame's features; return what happened."""
        events = self.start(t_s) if not self._started else []
        if self._done:
            return events
        self._features = features
        self._now = t_s
        events += self._body_controls(features, t_s)
        if self._done:  # left the mat
            return events
        if self._paused:
            # Engines see nobody while paused, so their hold timers stop;
            # their events are kept for the record but nothing is said.
            if self._run is not None:
                events += self._run.update_paused(features, t_s)
            self._last_t = t_s
            return events
        dt = self._tick(t_s)
        if self._run is None:
            events += self._setup.update(features, t_s)
            if self._setup.done:
                events += self._begin_exercise(0, t_s)
            return events
        events += self._run.update(features, t_s, dt)
        return events + self._go_on(t_s)

    # ------------------------------------------------------------------- parts
    def _body_controls(self, features: Features, t_s: float) -> list[Event]:
        """Pause, resume, skip or stop from what the body does (see ``coach.core.controls``)."""
        phase = self.phase
        used = self._controls.update(
            features,
            t_s,
            watch_pause=phase in WATCHED,
            # Leaving the mat ends the session any time after the camera set-up.
            watch_leave=phase in IN_EXERCISE,
            paused=self._paused,
        )
        events: list[Event] = []
        for use in used:
            events += self.command(
                use.command,
                use.t_s,
                by="body",
                gesture=use.gesture.value,
                since_s=round(use.since_s, 3),
            )
        return events

    def _tick(self, t_s: float) -> float:
        dt = 0.0 if self._last_t is None else max(0.0, t_s - self._last_t)
        self._last_t = t_s
        if self._run is not None:
            self._run.elapse(dt)
        return dt

    def _begin_exercise(self, index: int, t_s: float) -> list[Event]:
        if index >= len(self._routine.exercises):
            return self._complete(t_s)
        engine = self._make_engine(self._routine.exercises[index], self._routine)
        self._engine = engine
        self._run = ExerciseRun(self._routine, index, engine, config=self._config, cues=self._cues)
        return self._run.begin(t_s)

    def _go_on(self, t_s: float) -> list[Event]:
        """The next exercise (or the end) once the one under way is over."""
        if self._run is None or not self._run.finished:
            return []
        self._engine = None
        return self._begin_exercise(self._cues.place.index + 1, t_s)

    def _complete(self, t_s: float) -> list[Event]:
        self._engine = None
        self._done = True
        return [Event(EventKind.SESSION_COMPLETED, t_s), *self._cues.session("done", t_s)]


__all__ = [
    "CUE_PRIORITIES",
    "OverlayView",
    "Phase",
    "SessionConfig",
    "SessionController",
    "default_engine",
    "fill",
]
