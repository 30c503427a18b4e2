"""What the coach says: cue texts from the routine's catalogue, filled in, with their priority.

The session's parts ask the ``CueWriter`` for a cue by its key; it looks the
text up (the exercise's texts, or the session's own), fills its
{placeholders} from where the session is in the routine, gives it the
priority the cue policy orders it by, and hands back a ``CUE`` event. It also
keeps a rough estimate of how long the coach is talking
(``SessionConfig.words_per_s``), so a part can wait until what was said
before is over, and the last thing said, for the screen.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coach.core.cues import Priority
from coach.core.events import Event, EventKind
from coach.core.routine import STALL_CUE_KEYS, ExerciseSpec, Routine, SessionConfig

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


def whole_seconds(seconds: float | None) -> int | str:
    """Seconds as a cue says them: whole, or nothing when there are none."""
    return "" if seconds is None else round(seconds)


@dataclass(frozen=True)
class Place:
    """Where the session is in the routine, for the placeholders of cue texts.

    Attributes:
        index: The exercise's position in the routine; -1 before the first.
        set_no: The set under way (1 on), 0 before the first exercise.
    """

    index: int = -1
    set_no: int = 0


class CueWriter:
    """Writes the session's ``CUE`` events and estimates how long they take to say.

    Args:
        routine: Its exercises' and session's cue texts, and its exercises for
            the placeholders.
        config: The speaking rate and how long a cue stays on screen.
    """

    def __init__(self, routine: Routine, config: SessionConfig) -> None:
        self._routine = routine
        self._config = config
        self.place = Place()
        self._text: str | None = None
        self._key: str | None = None
        self._t = -math.inf
        self._talk_until = -math.inf  # when the coach is estimated to stop talking

    # ----------------------------------------------------------- read-only state
    @property
    def spec(self) -> ExerciseSpec | None:
        """The exercise the session is at, or None before the first."""
        index = self.place.index
        if 0 <= index < len(self._routine.exercises):
            return self._routine.exercises[index]
        return None

    @property
    def exercise_name(self) -> str | None:
        """The kind of the exercise the session is at, as events name it."""
        spec = self.spec
        return spec.kind.value if spec is not None else None

    def shown(self, now: float) -> str | None:
        """The last thing said, while it is fresh enough to show."""
        return self._text if now - self._t <= self._config.cue_show_s else None

    def just_said(self, key: str, t_s: float) -> bool:
        """The last cue was ``key``, written at ``t_s``."""
        return self._key == key and self._t == t_s

    def talking(self, t_s: float) -> bool:
        """What was said before ``t_s`` is estimated to be still going on."""
        return t_s < self._talk_until

    def speech_s(self, text: str) -> float:
        """About how long saying ``text`` takes."""
        cfg = self._config
        return cfg.utterance_s + len(text.split()) / cfg.words_per_s

    def has_session_text(self, key: str) -> bool:
        """The routine has a session text for ``key``."""
        return key in self._routine.session_cues

    # ------------------------------------------------------------------- writing
    def exercise(self, key: str, t_s: float, **values: Any) -> list[Event]:
        """The current exercise's cue ``key``; nothing when it has no such text."""
        spec = self.spec
        if spec is None or key not in spec.cues:
            return []
        return self.say(key, spec.cues[key], t_s, **values)

    def session(
        self, key: str, t_s: float, *, fallback: str | None = None, **values: Any
    ) -> list[Event]:
        """The session's cue ``key`` (said with the ``fallback`` key's text when it has none)."""
        texts = self._routine.session_cues
        text = texts.get(key)
        if text is None and fallback is not None:
            text = texts.get(fallback)
        if text is None:
            return []
        return self.say(key, text, t_s, **values)

    def fault(self, key: str, t_s: float) -> list[Event]:
        """A form fault's cue; a camera fault without a text of its own gets the set-up text."""
        spec = self.spec
        if spec is not None and key in spec.cues:
            return self.say(key, spec.cues[key], t_s, Priority.FORM)
        fallback = CAMERA_FAULT_CUES.get(key)
        if fallback is not None and fallback in self._routine.session_cues:
            return self.say(key, self._routine.session_cues[fallback], t_s, Priority.FORM)
        return []

    def say(
        self, key: str, text: str, t_s: float, priority: Priority | None = None, **values: Any
    ) -> list[Event]:
        """``text`` filled in, as the ``CUE`` event for ``key``."""
        said = fill(text, self._placeholders(values))
        level = priority if priority is not None else CUE_PRIORITIES.get(key, Priority.FORM)
        self._text = said
        self._t = t_s
        self._key = key
        self._talk_until = max(t_s, self._talk_until) + self.speech_s(said)
        data = {"key": key, "text": said, "priority": int(level)}
        return [Event(EventKind.CUE, t_s, self.exercise_name, data)]

    def _placeholders(self, extra: Mapping[str, Any]) -> dict[str, Any]:
        spec = self.spec
        values: dict[str, Any] = {
            "total": len(self._routine.exercises),
            "index": self.place.index + 1,
            "set": self.place.set_no,
        }
        if spec is not None:
            values.update(
                title=spec.title,
                sets=spec.dose.sets,
                target=spec.dose.reps,
                seconds=whole_seconds(spec.dose.hold_s),
            )
        values.update(extra)
        return values


__all__ = [
    "CAMERA_FAULT_CUES",
    "CUE_PRIORITIES",
    "CueWriter",
    "Place",
    "fill",
    "whole_seconds",
]
