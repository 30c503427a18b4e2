"""The camera set-up: the coach names what keeps it from judging, until the view is right.

The person must be seen whole, from the side. A problem is named once it has
lasted ``SessionConfig.setup_hint_delay_s``, and again every
``setup_hint_repeat_s`` while it lasts. The set-up ends once the view has
been right for ``setup_stable_s`` and what was said before (the welcome) is
over, so the first introduction is not queued behind it.
"""

from __future__ import annotations

import math

from coach.core.cue_writer import CueWriter
from coach.core.events import Event, EventKind
from coach.core.features import Features
from coach.core.routine import SessionConfig


def setup_problem(features: Features) -> str | None:
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


class SetupGuide:
    """Guides the camera set-up, frame by frame, until ``done``.

    Args:
        config: How long the view must be right, and how often a problem is named.
        cues: Writes what the coach says, and knows when it has finished talking.
    """

    def __init__(self, config: SessionConfig, cues: CueWriter) -> None:
        self._config = config
        self._cues = cues
        self._done = False
        self._problem: str | None = None
        self._problem_since = 0.0
        self._ok_since: float | None = None
        self._last_hint: str | None = None
        self._last_hint_s = -math.inf

    @property
    def done(self) -> bool:
        """The camera sees the person well enough to judge the exercises."""
        return self._done

    def start(self, t_s: float) -> None:
        """The set-up begins (after the welcome is offered)."""
        self._problem_since = t_s

    def update(self, features: Features, t_s: float) -> list[Event]:
        """Take one frame's features; a hint, the set-up's end, or nothing."""
        cfg = self._config
        problem = setup_problem(features)
        if problem is None:
            if self._ok_since is None:
                self._ok_since = t_s
            if t_s - self._ok_since >= cfg.setup_stable_s and not self._cues.talking(t_s):
                self._done = True
                return [Event(EventKind.SETUP_DONE, t_s), *self._cues.session("setup_ok", t_s)]
            return []
        self._ok_since = None
        if problem != self._problem:
            self._problem = problem
            self._problem_since = t_s
        lasting = t_s - self._problem_since >= cfg.setup_hint_delay_s
        fresh = problem != self._last_hint or t_s - self._last_hint_s >= cfg.setup_hint_repeat_s
        if not (lasting and fresh) or self._cues.talking(t_s):
            return []
        self._last_hint = problem
        self._last_hint_s = t_s
        return [
            Event(EventKind.SETUP_HINT, t_s, None, {"key": problem}),
            *self._cues.session(f"setup_{problem}", t_s),
        ]


__all__ = ["SetupGuide", "setup_problem"]
