"""The safety questions and pain ratings asked in the overlay window, and read aloud.

Once the window is open it is the whole interface: each question is shown in
large type and said by the coach, in the patient's language, and answered with
single keys (the first letter of yes or no in that language; a pain score with
the number keys and Enter). Answers given on the command line are not asked
again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol

import numpy as np

from coach.adapters.overlay import STANDARD, OverlayStyle, PromptView, render_prompt
from coach.adapters.speech import Speaker
from coach.core.catalog import DEFAULT_LANGUAGE, question_texts
from coach.core.safety import PAIN_MAX, PAIN_MIN, RED_FLAGS, validate_pain

PROMPT_SIZE = (960, 540)  # width, height of the question card
FRAME_S = 1.0 / 30.0  # the card is redrawn (and keys read) this often
ENTER = frozenset({10, 13})
BACKSPACE = frozenset({8, 127})
STOP_KEYS = frozenset({27, ord("q")})  # Esc, q: the person stops before the exercises


def answer_keys(words: str) -> frozenset[int]:
    """The keys that answer with one of ``words`` (its one-letter words, either case)."""
    letters = {word for word in words.split() if len(word) == 1 and word.isalpha()}
    return frozenset(ord(c) for letter in letters for c in (letter.lower(), letter.upper()))


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
        language: The language of the questions, their keys and the voice.
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
        language: str = DEFAULT_LANGUAGE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._window = window
        self._speaker = speaker
        self._style = style
        self._sleep = sleep
        self._texts = question_texts(language)
        self._yes = answer_keys(self._texts["yes_words"])
        # A letter that answers both ways (none does in a shipped language) means yes: safer.
        self._no = answer_keys(self._texts["no_words"]) - self._yes

    def ask_safety(self, given: Mapping[str, bool] | None = None) -> dict[str, bool]:
        """Every red-flag answer: those given, and the rest asked one by one."""
        answers = dict(given or {})
        missing = [flag for flag in RED_FLAGS if flag.key not in answers]
        text = self._texts
        for number, flag in enumerate(missing, start=1):
            question = text.get(f"question.{flag.key}", flag.question)
            intro = f"{text['window_intro']} " if number == 1 else ""
            prompt = PromptView(
                heading=self._text("window_heading_safety", number=number, total=len(missing)),
                question=question,
                keys=self._text("window_keys_yes_no"),
            )
            answers[flag.key] = self._yes_no(prompt, intro + question)
        return answers

    def ask_pain(self, when: str, given: int | None = None) -> int | None:
        """A pain rating 0-10: the one given, or asked; None when skipped with Enter."""
        if given is not None:
            return validate_pain(given)
        question = self._text(f"window_pain_{when}")
        heading = self._text(f"window_heading_pain_{when}")
        prompt = PromptView(heading=heading, question=question, keys=self._text("window_keys_pain"))
        self._say(f"{question} {self._text('window_say_pain')}")
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
                    prompt = self._note(prompt, self._text("window_out_of_range", entry=entry), "")
                    entry = ""
                    continue
                self._speaker.silence()
                return score
            if key in BACKSPACE:
                entry = entry[:-1]
            elif ord("0") <= key <= ord("9") and len(entry) < 2:
                entry += chr(key)
            else:
                prompt = self._note(prompt, self._text("window_type_number"), entry)
                continue
            prompt = PromptView(
                heading=prompt.heading, question=prompt.question, keys=prompt.keys, entry=entry
            )

    # --------------------------------------------------------------------- parts
    def _yes_no(self, prompt: PromptView, spoken: str) -> bool:
        self._say(spoken)
        while True:
            key = self._key(prompt)
            if key in self._yes or key in self._no:
                self._speaker.silence()
                return key in self._yes
            if key >= 0:
                prompt = self._note(prompt, self._text("window_press_yes_no"), "")

    def _text(self, key: str, **values: object) -> str:
        """A text of the catalogue, its placeholders filled."""
        return self._texts[key].format(min=PAIN_MIN, max=PAIN_MAX, **values)

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
