"""The session hushes its voice: pause and stop cut off what is said; stop and pain cues cut in."""

from __future__ import annotations

import dataclasses

import numpy as np
from loop_helpers import PoseScript, floor_routine, quiet_loop
from test_session_loop import make_loop as scripted_loop

from coach.adapters.frames import Frame
from coach.adapters.speech import RecordingSpeaker
from coach.app.session_loop import SessionLoop
from coach.core.events import EventKind
from coach.core.routine import SessionConfig

IMAGE = np.zeros((48, 64, 3), np.uint8)


class LongSpeaker(RecordingSpeaker):
    """Speaks each text until it is silenced or cut off by an urgent one (a long introduction)."""

    def __init__(self) -> None:
        super().__init__()
        self.speaking = False
        self.cut_off: list[str] = []

    def say(self, text: str, *, urgent: bool = False) -> None:
        if urgent and self.speaking:
            self.cut_off.append(self.spoken[-1])
        super().say(text)
        self.speaking = True

    @property
    def busy(self) -> bool:
        return self.speaking

    def silence(self) -> None:
        super().silence()
        if self.speaking:
            self.cut_off.append(self.spoken[-1])
        self.speaking = False


def make_loop(speaker: LongSpeaker) -> SessionLoop:
    loop = quiet_loop(speaker, live=True)
    loop.step(Frame(IMAGE, 0.1))
    return loop


def test_pause_cuts_off_the_voice_at_once() -> None:
    speaker = LongSpeaker()
    loop = make_loop(speaker)
    assert speaker.busy and speaker.spoken, "the welcome is being said"
    loop.command("pause", 0.2)
    assert speaker.silenced == 1
    assert speaker.cut_off == [speaker.spoken[0]]


def test_stop_cuts_off_the_voice_and_says_so_at_once() -> None:
    speaker = LongSpeaker()
    loop = make_loop(speaker)
    welcome = speaker.spoken[0]
    loop.command("stop", 0.2)
    loop.speak(0.2)
    assert speaker.silenced == 1 and speaker.cut_off == [welcome]
    assert loop.spoken[-1]["key"] == "stopped"


def test_skip_lets_the_voice_finish() -> None:
    speaker = LongSpeaker()
    loop = make_loop(speaker)
    loop.command("skip", 0.2)
    assert speaker.silenced == 0 and speaker.cut_off == []


def test_sharply_worse_pain_cuts_in_while_the_voice_is_busy() -> None:
    speaker = LongSpeaker()
    loop = make_loop(speaker)
    loop.handle(loop.controller.rate_pain("before", 2, 0.2), 0.2)
    speaker.speaking = True  # still on the welcome
    loop.handle(loop.controller.rate_pain("after", 9, 0.3), 0.3)
    loop.speak(0.3)
    assert loop.spoken[-1]["key"] == "pain_worse"
    assert speaker.cut_off, "what was being said was cut off"


def test_an_urgent_cue_does_not_cut_off_another() -> None:
    speaker = LongSpeaker()
    loop = make_loop(speaker)
    loop.handle(loop.controller.rate_pain("before", 2, 0.2), 0.2)
    loop.handle(loop.controller.rate_pain("after", 9, 0.3), 0.3)
    loop.speak(0.3)
    assert loop.spoken[-1]["key"] == "pain_worse"
    loop.handle(loop.controller.stop(0.4, "user"), 0.4)
    loop.speak(0.4)
    assert loop.spoken[-1]["key"] == "pain_worse", "stopped waits for the pain advice"
    speaker.speaking = False
    loop.speak(0.5)
    assert loop.spoken[-1]["key"] == "stopped"


def test_a_pause_or_stop_from_the_body_cuts_off_the_voice_at_once() -> None:
    poses, the_routine, scripts = floor_routine(fps=10.0)
    config = SessionConfig(words_per_s=50.0, utterance_s=0.0, intro_extra_s=1.0)
    the_routine = dataclasses.replace(the_routine, session=config)
    speaker = LongSpeaker()
    loop = scripted_loop(
        estimator=PoseScript(poses), speaker=speaker, the_routine=the_routine, scripts=scripts
    )
    loop.handle(loop.controller.start(0.0), 0.0)
    hushed: list[tuple[str, bool]] = []
    for pose in poses:
        seen, silenced = len(loop.events), speaker.silenced
        loop.step(Frame(IMAGE, pose.t_s))
        hush = speaker.silenced > silenced
        used = [e for e in loop.events[seen:] if e.kind is EventKind.CONTROL_USED]
        hushed += [(str(e["command"]), hush) for e in used if e["by"] == "body"]
        if loop.controller.done:
            break
    assert hushed == [
        ("pause", True),
        ("resume", False),
        ("pause", True),
        ("skip", False),
        ("stop", True),
    ]
    assert len(speaker.cut_off) == 3  # each cut what was being said
    said = [c["key"] for c in loop.spoken]
    assert said.count("paused") == 2, "the voice says the pause once hushed"
    loop.drain()
    assert loop.spoken[-1]["key"] == "stopped"
