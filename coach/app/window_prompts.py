"""The safety questions and pain ratings asked in the overlay window, and read aloud.

Once the window is open it is the whole interface: each question is shown in
large type and said by the coach, and answered with single keys (y or n; a
pain score with the number keys and Enter). Answers given on the command line
are not asked again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol

import numpy as np

from coach.adapters.overlay import STANDARD, OverlayStyle, PromptView, render_prompt
from coach.adapters.speech import Speaker
from coach.app.prompts import SAFETY_INTRO, pain_question
from coach.core.safety import PAIN_MAX, PAIN_MIN, RED_FLAGS, validate_pain

PROMPT_SIZE = (960, 540)  # width, height of the question card
FRAME_S = 1.0 / 30.0  # the card is redrawn (and keys read) this often
ENTER = frozenset({10, 13})
BACKSPACE = frozenset({8, 127})
STOP_KEYS = frozenset({27, ord("q")})  # Esc, q: the person stops before the exercises
YES_KEYS = frozenset({ord("y"), ord("Y")})
NO_KEYS = frozenset({ord("n"), ord("N")})
YES_NO_HINT = "y = yes      n = no      Esc = stop"
PAIN_HINT = f"type {PAIN_MIN} to {PAIN_MAX}, then Enter      Enter alone = skip      Esc = stop"


class PromptWindow(Protocol):
    """Shows a picture and returns the key pressed meanwhile (as ``OverlayWindow``)."""

    CLOSED: int

    def show(self, image: np.ndarray) -> int:
        """Show ``image``; the key pressed, -1 for none, ``CLOSED`` once closed."""
        ...


class WindowPrompter:
    """Asks in the window and reads each question aloud.

    Args:
        window: Where the questions are shown and the keys come from.
        speaker: Says each question; silenced when the person answers.
        style: How the question card looks.
        sleep: Waits between two redraws (tests pass a no-op).

    ``KeyboardInterrupt`` is raised when the person closes the window or
    presses Esc or q, as Ctrl-C does in the terminal.
    """

    def __init__(
        self,
        window: PromptWindow,
        speaker: Speaker,
        style: OverlayStyle = STANDARD,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._window = window
        self._speaker = speaker
        self._style = style
        self._sleep = sleep

    def ask_safety(self, given: Mapping[str, bool] | None = None) -> dict[str, bool]:
        """Every red-flag answer: those given, and the rest asked one by one."""
        answers = dict(given or {})
        missing = [flag for flag in RED_FLAGS if flag.key not in answers]
        for number, flag in enumerate(missing, start=1):
            intro = f"{SAFETY_INTRO} Press y for yes, or n for no. " if number == 1 else ""
            prompt = PromptView(
                heading=f"Safety question {number} of {len(missing)}",
                question=flag.question,
                keys=YES_NO_HINT,
            )
            answers[flag.key] = self._yes_no(prompt, intro + flag.question)
        return answers

    def ask_pain(self, when: str, given: int | None = None) -> int | None:
        """A pain rating 0-10: the one given, or asked; None when skipped with Enter."""
        if given is not None:
            return validate_pain(given)
        question = pain_question(when)
        heading = "Pain before the exercises" if when == "before" else "Pain after the exercises"
        prompt = PromptView(heading=heading, question=question, keys=PAIN_HINT)
        self._say(question + ". Type the number, then press Enter.")
        entry = ""
        while True:
            key = self._key(prompt)
            if key in ENTER:
                if not entry:
                    self._speaker.silence()
                    return None
                try:
                    score = validate_pain(entry)
                except ValueError:
                    prompt = self._note(prompt, f"{entry} is not {PAIN_MIN} to {PAIN_MAX}.", "")
                    entry = ""
                    continue
                self._speaker.silence()
                return score
            if key in BACKSPACE:
                entry = entry[:-1]
            elif ord("0") <= key <= ord("9") and len(entry) < 2:
                entry += chr(key)
            else:
                prompt = self._note(prompt, "Type a number, then press Enter.", entry)
                continue
            prompt = PromptView(
                heading=prompt.heading, question=prompt.question, keys=prompt.keys, entry=entry
            )

    # --------------------------------------------------------------------- parts
    def _yes_no(self, prompt: PromptView, spoken: str) -> bool:
        self._say(spoken)
        while True:
            key = self._key(prompt)
            if key in YES_KEYS or key in NO_KEYS:
                self._speaker.silence()
                return key in YES_KEYS
            if key >= 0:
                prompt = self._note(prompt, "Please press y for yes or n for no.", "")

    def _note(self, prompt: PromptView, note: str, entry: str) -> PromptView:
        return PromptView(
            heading=prompt.heading,
            question=prompt.question,
            keys=prompt.keys,
            entry=entry,
            note=note,
        )

    def _say(self, text: str) -> None:
        self._speaker.silence()  # a new question cuts off the last one
        self._speaker.say(text)

    def _key(self, prompt: PromptView) -> int:
        """Show the card until a key comes; the key."""
        card = render_prompt(PROMPT_SIZE, prompt, self._style)
        while True:
            key = self._window.show(card)
            if key == self._window.CLOSED or key in STOP_KEYS:
                self._speaker.silence()
                raise KeyboardInterrupt
            if key >= 0:
                return key
            self._sleep(FRAME_S)
