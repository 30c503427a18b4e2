"""The session's voice: which cue is said when, and hushing it.

The session's ``CUE`` events are offered to the ``CuePolicy``; the next cue
is handed to the speaker when the ``SpeechGate`` says it is free (or at once,
for a stop or a pain cue cutting in). The voice never waits for the speaker.
A pause or a stop the person gives, with a key or from the mat, cuts off what
is being said (``Command.hushes``): both reach the voice as ``CONTROL_USED``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from coach.adapters.speech import Speaker
from coach.core.controls import Command
from coach.core.cues import Cue, CuePolicy, Priority
from coach.core.events import Event, EventKind
from coach.core.routine import CueSettings


class SpeechGate:
    """Says whether the speaker is free for the next cue.

    Live, that is the speaker's own word. When frames come faster or slower
    than the wall clock (a video read as fast as possible), or when nothing
    is spoken aloud, speaking time is estimated on the frame clock instead, so
    the same cues are said at the same moments of the session either way.
    """

    def __init__(
        self, speaker: Speaker, *, use_speaker: bool, speech_s: Callable[[str], float]
    ) -> None:
        self._speaker = speaker
        self._use_speaker = use_speaker
        self._speech_s = speech_s
        self._until = -1.0
        self._saying_urgent = False

    @property
    def live(self) -> bool:
        """The speaker's own busy flag is used (frames come on the wall clock)."""
        return self._use_speaker

    def busy(self, t_s: float) -> bool:
        """Whether the next cue must wait."""
        if self._use_speaker:
            return bool(self._speaker.busy)
        return t_s < self._until

    def cuts_in(self, pending: tuple[Cue, ...]) -> bool:
        """An urgent cue waits (stop, pain) and what is being said is not urgent itself."""
        return not self._saying_urgent and any(c.priority is Priority.URGENT for c in pending)

    def say(self, cue: Cue, t_s: float) -> None:
        """Hand the cue to the speaker; returns at once."""
        # Stop and pain cues cut off what is being said and drop what is queued.
        urgent = cue.priority is Priority.URGENT
        self._speaker.say(cue.text, urgent=urgent)
        self._saying_urgent = urgent
        self._until = t_s + self._speech_s(cue.text)

    def silence(self, t_s: float) -> None:
        """Cut off what is being said, now."""
        self._speaker.silence()
        self._saying_urgent = False
        self._until = t_s


@dataclass(frozen=True)
class Said:
    """A cue handed to the speaker, with the wall-clock times the benchmarks read.

    Attributes:
        cue: What was said.
        offered_at: When it was offered.
        said_at: When it was handed to the speaker.
        idle: The speaker was free when it was offered.
    """

    cue: Cue
    offered_at: float
    said_at: float
    idle: bool


class Voice:
    """Offers the session's cues to the policy and says the next one when the speaker is free.

    Args:
        speaker: Says the cues (never waited for).
        settings: The routine's cue settings (cooldowns, how long a cue keeps).
        use_speaker: Pace cues by the speaker's own busy flag; else by the
            estimate of speaking time on the frame clock.
        speech_s: About how long saying a text takes.
        clock: The wall clock, for the times in ``Said``.
    """

    def __init__(
        self,
        speaker: Speaker,
        settings: CueSettings,
        *,
        use_speaker: bool,
        speech_s: Callable[[str], float],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.policy = CuePolicy(settings)
        self.gate = SpeechGate(speaker, use_speaker=use_speaker, speech_s=speech_s)
        self._clock = clock
        # For each waiting cue, by its key (the policy keeps one waiting cue a
        # key): the wall time it was offered, and whether the speaker was busy then.
        self._offered: dict[str, tuple[float, bool]] = {}

    @property
    def pending(self) -> tuple[Cue, ...]:
        """Cues waiting to be said."""
        return self.policy.pending

    def hear(self, event: Event, t_s: float) -> None:
        """Take one of the session's events.

        A ``CUE`` is offered to the policy. A pause or a stop, by key or by
        body (``CONTROL_USED``), cuts off what is being said at once, so what
        the session says next about it is heard without waiting.
        """
        if event.kind is EventKind.CONTROL_USED and Command(str(event["command"])).hushes:
            self.silence(t_s)
        if event.kind is not EventKind.CUE:
            return
        cue = Cue(str(event["key"]), str(event["text"]), Priority(int(event["priority"])), t_s)
        self._offered[cue.key] = (self._clock(), self.gate.busy(t_s))
        self.policy.offer(cue)

    def speak(self, t_s: float, *, wait: bool = True) -> Said | None:
        """Hand the next cue to the speaker when it is free (or at once); never blocks."""
        gate = self.gate
        busy = wait and gate.busy(t_s) and not gate.cuts_in(self.policy.pending)
        cue = self.policy.next(t_s, busy)
        if cue is None:
            return None
        offered_at, was_busy = self._offered.pop(cue.key, (self._clock(), True))
        gate.say(cue, t_s)
        return Said(cue, offered_at, self._clock(), not was_busy)

    def waits_for_speaker(self, t_s: float) -> bool:
        """A live speaker is still busy with what it was given."""
        return self.gate.live and self.gate.busy(t_s)

    def silence(self, t_s: float) -> None:
        """Cut off what is being said, now."""
        self.gate.silence(t_s)


__all__ = ["Said", "SpeechGate", "Voice"]
