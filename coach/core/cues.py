"""What the coach says next: priorities, a cooldown per cue, stale cues dropped.

The session offers cues as things happen; the app asks ``next`` each frame and
hands the answer to the speaker. One cue is spoken at a time, so while the
speaker is busy nothing is handed out and cues wait (or grow stale).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from coach.core.routine import CueSettings


class Priority(IntEnum):
    """How much a cue matters; higher goes first."""

    INFO = 0  # setup hints, pose lost, welcome
    FORM = 1  # form faults
    PROGRESS = 2  # countdowns, counts, breath pacing: tied to the moment
    URGENT = 3  # stop, pain: never dropped, clears what is queued


@dataclass(frozen=True)
class Cue:
    """One thing to say, offered at ``t_s``."""

    key: str
    text: str
    priority: Priority
    t_s: float


# Cues of these priorities repeat the same advice, so they are held back by the
# per-key cooldown. Progress cues carry news each time (the next count, the next
# breath) and urgent ones must always be said.
_COOLED = frozenset({Priority.INFO, Priority.FORM})


class CuePolicy:
    """Decides which offered cue to say next.

    Rules:
        - An INFO or FORM cue whose key was said less than ``cooldown_s`` ago
          is dropped when offered.
        - A cue offered again while the same key waits replaces the waiting one.
        - A waiting cue older than ``max_age_s`` is dropped; urgent cues never are.
        - An urgent cue drops every waiting cue that is not urgent.
        - Highest priority first, then oldest; nothing while the speaker is busy.
    """

    def __init__(self, settings: CueSettings) -> None:
        self._settings = settings
        self._pending: list[Cue] = []
        self._last_said: dict[str, float] = {}

    @property
    def pending(self) -> tuple[Cue, ...]:
        """Cues waiting to be said, in the order they were offered."""
        return tuple(self._pending)

    def offer(self, cue: Cue) -> None:
        """Queue a cue, unless its key is cooling down."""
        last = self._last_said.get(cue.key)
        if (
            cue.priority in _COOLED
            and last is not None
            and cue.t_s - last < self._settings.cooldown_s
        ):
            return
        if cue.priority is Priority.URGENT:
            self._pending = [c for c in self._pending if c.priority is Priority.URGENT]
        self._pending = [c for c in self._pending if c.key != cue.key]
        self._pending.append(cue)

    def next(self, t_s: float, speaker_busy: bool) -> Cue | None:
        """The cue to say now, or None; a cue handed out counts as said at ``t_s``."""
        max_age = self._settings.max_age_s
        self._pending = [
            c for c in self._pending if c.priority is Priority.URGENT or t_s - c.t_s <= max_age
        ]
        if speaker_busy or not self._pending:
            return None
        cue = max(self._pending, key=lambda c: (c.priority, -c.t_s))
        self._pending.remove(cue)
        self._last_said[cue.key] = t_s
        return cue

    def reset(self) -> None:
        """Forget waiting cues and cooldowns."""
        self._pending.clear()
        self._last_said.clear()
