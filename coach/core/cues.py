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
        - An INFO or FORM cue older than ``max_age_s`` is dropped: late advice
          may no longer fit what the person is doing.
        - A PROGRESS cue is dropped only after waiting ``max_age_s`` while the
          speaker was free; time behind another utterance does not count, so
          "hold start" queued behind an introduction is still said after it.
        - Urgent cues are never dropped.
        - An urgent cue drops every waiting cue that is not urgent.
        - Highest priority first, then oldest; nothing while the speaker is busy.
    """

    def __init__(self, settings: CueSettings) -> None:
        self._settings = settings
        self._pending: list[Cue] = []
        # Seconds each waiting cue waited while the speaker was free, by its key:
        # at most one cue of a key waits, so the key names it.
        self._waited: dict[str, float] = {}
        self._last_said: dict[str, float] = {}
        self._last_t: float | None = None

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
        self._waited.pop(cue.key, None)  # the cue it replaces waited, not this one
        self._pending.append(cue)

    def next(self, t_s: float, speaker_busy: bool) -> Cue | None:
        """The cue to say now, or None; a cue handed out counts as said at ``t_s``."""
        since = self._last_t
        self._last_t = t_s
        if not speaker_busy:
            for cue in self._pending:
                start = cue.t_s if since is None else max(cue.t_s, since)
                self._waited[cue.key] = self._waited.get(cue.key, 0.0) + max(0.0, t_s - start)
        max_age = self._settings.max_age_s
        self._pending = [c for c in self._pending if not self._stale(c, t_s, max_age)]
        self._waited = {c.key: self._waited.get(c.key, 0.0) for c in self._pending}
        if speaker_busy or not self._pending:
            return None
        cue = max(self._pending, key=lambda c: (c.priority, -c.t_s))
        self._pending.remove(cue)
        self._waited.pop(cue.key, None)
        self._last_said[cue.key] = t_s
        return cue

    def _stale(self, cue: Cue, t_s: float, max_age: float) -> bool:
        if cue.priority is Priority.URGENT:
            return False
        if cue.priority is Priority.PROGRESS:
            return self._waited.get(cue.key, 0.0) > max_age
        return t_s - cue.t_s > max_age

    def reset(self) -> None:
        """Forget waiting cues and cooldowns."""
        self._pending.clear()
        self._waited.clear()
        self._last_said.clear()
        self._last_t = None
