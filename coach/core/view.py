"""What the overlay draws: the session's state as one immutable ``OverlayView`` per frame.

The ``ViewPresenter`` reads the session's parts and writes the screen's words
in the routine's language (its ``screen_*`` texts, else English); it decides
nothing and changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from coach.core import catalog
from coach.core.controls import Gesture
from coach.core.cue_writer import CueWriter
from coach.core.exercise_run import ExerciseRun
from coach.core.exercises.base import ExerciseEngine, Gauge
from coach.core.features import Features
from coach.core.landmarks import Side
from coach.core.phase import IN_EXERCISE, WATCHED, Phase
from coach.core.routine import Routine, SessionConfig

# What the screen shows while a control builds up; {seconds} is the time still to go.
CONTROL_PROGRESS: dict[Gesture, str] = {
    Gesture.SIT_UP_STILL: "screen_control_pause",
    Gesture.BOTH_HANDS_UP: "screen_control_resume",
    Gesture.ONE_HAND_UP: "screen_control_skip",
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
        gauge_name: The gauge's measure by name, in the routine's language.
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
    gauge_name: str = ""


def seconds_text(seconds: float) -> str:
    """Seconds still to go, as the screen shows them ("12 s")."""
    return f"{max(0, math.ceil(seconds - 1e-6))} s"


class ViewPresenter:
    """Builds the ``OverlayView`` from the session's parts.

    Args:
        routine: The routine being followed (its titles and screen texts).
        config: How long a body control takes to build up.
        cues: Where the session is in the routine, and the last thing said.
    """

    def __init__(self, routine: Routine, config: SessionConfig, cues: CueWriter) -> None:
        self._routine = routine
        self._config = config
        self._cues = cues

    def present(
        self,
        *,
        phase: Phase,
        run: ExerciseRun | None,
        engine: ExerciseEngine | None,
        features: Features | None,
        now: float,
        paused: bool,
        lost: bool,
        control: tuple[Gesture, float] | None,
    ) -> OverlayView:
        """The view of the session now.

        Args:
            phase: Where the session is.
            run: The exercise under way (or just over), or None before the first.
            engine: Its engine, or None once the session is complete.
            features: The last frame's features, or None before the first.
            now: The last frame's time.
            paused: The person paused the session.
            lost: The camera has lost the person.
            control: A body control building up and how far along it is (0-1),
                when it is shown.
        """
        spec = self._cues.spec
        title: str | None
        if phase is Phase.SETUP:
            title = self.screen("screen_setup_title")
        else:
            title = spec.title if spec is not None else None
        gauge = None
        gauge_name = ""
        timer = None
        count = None
        if spec is not None and run is not None and phase in IN_EXERCISE:
            count = f"{run.done_count} / {spec.dose.reps}"
            if engine is not None and phase in WATCHED:
                gauge = engine.gauge
                gauge_name = self._gauge_name(spec.kind) if gauge is not None else ""
                elapsed = engine.hold_elapsed_s
                if spec.dose.hold_s is not None and elapsed > 0:
                    timer = seconds_text(spec.dose.hold_s - elapsed)
            if phase is Phase.REST:
                timer = seconds_text(run.rest_left_s)
        state = engine.state if engine is not None else None
        return OverlayView(
            phase=phase,
            title=title,
            gauge=gauge,
            timer_text=timer,
            count_text=count,
            cue_text=self._cues.shown(now),
            progress=self._progress_text(phase),
            paused=paused,
            lost=lost,
            side=features.side if features is not None else None,
            state=state.value if state is not None else None,
            control_text=self._control_text(control),
            gauge_name=gauge_name,
        )

    def screen(self, key: str, **values: object) -> str:
        """A word of the screen in the routine's language (``screen_*`` texts), else English."""
        english = catalog.session_texts()[key]
        try:
            return self._routine.session_cues.get(key, english).format(**values)
        except (KeyError, IndexError, ValueError):
            return english.format(**values)

    def _gauge_name(self, kind: str) -> str:
        """The name of an exercise's measure in the routine's language."""
        return catalog.exercise_texts(kind, self._routine.language).gauge or kind.replace("_", " ")

    def _control_text(self, control: tuple[Gesture, float] | None) -> str | None:
        if control is None:
            return None
        gesture, done = control
        cfg = self._config.controls
        total = cfg.gesture_hold_s if gesture is not Gesture.SIT_UP_STILL else cfg.pause_after_s
        return self.screen(
            CONTROL_PROGRESS[gesture], seconds=math.ceil(total * (1.0 - done) - 1e-6)
        )

    def _progress_text(self, phase: Phase) -> str:
        total = len(self._routine.exercises)
        if phase is Phase.SETUP:
            return self.screen("screen_setup", total=total)
        if phase is Phase.DONE:
            return self.screen("screen_finished")
        place, spec = self._cues.place, self._cues.spec
        text = self.screen("screen_progress", index=place.index + 1, total=total)
        if spec is not None and spec.dose.sets > 1:
            text += " · " + self.screen("screen_set", set=place.set_no, sets=spec.dose.sets)
        return text


__all__ = ["CONTROL_PROGRESS", "OverlayView", "ViewPresenter", "seconds_text"]
