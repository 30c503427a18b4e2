"""Events: what happened, when. Engines and the session emit them; speech, the
overlay, the recorder and the tests read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """Every kind of event, with the keys of its ``data``."""

    # Emitted by exercise engines.
    STATE_CHANGED = "state_changed"  # from, to (pose state names, or None)
    POSE_LOST = "pose_lost"  # the person is not seen; timers pause
    POSE_FOUND = "pose_found"
    HOLD_STARTED = "hold_started"  # index (1-based hold number)
    HOLD_PAUSED = "hold_paused"  # index, elapsed_s
    HOLD_RESUMED = "hold_resumed"  # index, elapsed_s
    HOLD_PROGRESS = "hold_progress"  # index, elapsed_s, remaining_s (once a whole second)
    HOLD_COMPLETED = "hold_completed"  # index, seconds, start_s: target time reached
    HOLD_ENDED = "hold_ended"  # index, seconds, start_s, completed: the person left the pose
    REP_COUNTED = "rep_counted"  # count, held_s, met_hold, start_s
    FAULT_RAISED = "fault_raised"  # key
    FAULT_CLEARED = "fault_cleared"  # key
    # Emitted by the session.
    SESSION_STARTED = "session_started"  # routine
    SAFETY_STOP = "safety_stop"  # flags (keys of red flags answered yes)
    PAIN_RATED = "pain_rated"  # when ("before" | "after"), score (0-10)
    SETUP_HINT = "setup_hint"  # key (what to change about the camera)
    # key (of the text said, or None), seconds, state, in_position: nothing counted for a while
    STALL_HINT = "stall_hint"
    SETUP_DONE = "setup_done"
    EXERCISE_STARTED = "exercise_started"  # index, set
    IN_POSITION = "in_position"  # the starting position is reached
    EXERCISE_COMPLETED = "exercise_completed"  # reps, holds
    # index, set, reason: "user" (the person skipped it) or "no_progress" (nothing
    # counted for no_progress_s seconds; with the state seen and in_position then)
    EXERCISE_SKIPPED = "exercise_skipped"
    REST_STARTED = "rest_started"  # seconds
    PAUSED = "paused"
    RESUMED = "resumed"
    CUE = "cue"  # key, text, priority: what the coach says or shows
    # command ("pause", "resume", "skip", "stop"), by ("key" or "body"), and from the
    # body: gesture (coach.core.controls.Gesture) and since_s (when it began)
    CONTROL_USED = "control_used"
    SESSION_STOPPED = "session_stopped"  # reason
    SESSION_COMPLETED = "session_completed"


class SkipReason(StrEnum):
    """Why an exercise ended before its dose: the ``reason`` of ``EXERCISE_SKIPPED``."""

    USER = "user"  # the person skipped it
    NO_PROGRESS = "no_progress"  # nothing counted for a long while: the coach moved on


@dataclass(frozen=True)
class Event:
    """One thing that happened at ``t_s`` (seconds of the session's own clock).

    Attributes:
        kind: What happened.
        t_s: When, on the frame clock.
        exercise: The exercise it belongs to (``childs_pose``, ``cat_cow``,
            ``hip_lift``), or None for session-wide events.
        data: Details, JSON-serializable; the keys are listed on ``EventKind``.
    """

    kind: EventKind
    t_s: float
    exercise: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: kind, t_s, exercise and the data keys."""
        return {
            "kind": self.kind.value,
            "t_s": round(self.t_s, 3),
            "exercise": self.exercise,
            **dict(self.data),
        }

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> Event:
        """The inverse of ``to_dict``."""
        data = {k: v for k, v in row.items() if k not in ("kind", "t_s", "exercise")}
        return cls(EventKind(row["kind"]), float(row["t_s"]), row.get("exercise"), data)
