"""Questions in the window: shown in large type, read aloud, answered with single keys."""

from __future__ import annotations

import numpy as np
import pytest

from coach.adapters.overlay import HIGH_CONTRAST, STANDARD, PromptView, render_prompt
from coach.adapters.speech import RecordingSpeaker
from coach.app.window_prompts import PROMPT_SIZE, WindowPrompter
from coach.core.catalog import question_texts
from coach.core.safety import RED_FLAGS

ENTER, BACKSPACE, ESC = 13, 8, 27


class ScriptedWindow:
    """Returns the keys given, one per shown card, with a few empty frames between."""

    CLOSED = -2

    def __init__(self, keys: list[int | str]) -> None:
        self.keys = [ord(k) if isinstance(k, str) else k for k in keys]
        self.cards: list[np.ndarray] = []

    def show(self, image: np.ndarray) -> int:
        self.cards.append(image)
        if len(self.cards) % 3:  # two frames without a key, then the next key
            return -1
        return self.keys.pop(0) if self.keys else self.CLOSED


def prompter(keys: list[int | str]) -> tuple[WindowPrompter, ScriptedWindow, RecordingSpeaker]:
    window, speaker = ScriptedWindow(keys), RecordingSpeaker()
    return WindowPrompter(window, speaker, sleep=lambda s: None), window, speaker


def test_every_safety_question_is_shown_read_aloud_and_answered_by_key() -> None:
    keys: list[int | str] = ["n"] * len(RED_FLAGS)
    keys[2] = "Y"
    ask, window, speaker = prompter(keys)
    answers = ask.ask_safety()
    assert list(answers) == [flag.key for flag in RED_FLAGS]
    assert [answers[f.key] for f in RED_FLAGS] == [i == 2 for i in range(len(RED_FLAGS))]
    assert len(speaker.spoken) == len(RED_FLAGS)
    assert "Press y for yes" in speaker.spoken[0]
    for flag, said in zip(RED_FLAGS, speaker.spoken, strict=True):
        assert said.endswith(flag.question)
    # Each answer cuts off the question being read, and a new question too.
    assert speaker.silenced >= len(RED_FLAGS)
    assert window.cards[0].shape == (PROMPT_SIZE[1], PROMPT_SIZE[0], 3)


def test_answers_given_are_not_asked_again() -> None:
    given = {flag.key: False for flag in RED_FLAGS[1:]}
    ask, _, speaker = prompter(["y"])
    answers = ask.ask_safety(given)
    assert answers[RED_FLAGS[0].key] is True
    assert len(speaker.spoken) == 1 and speaker.spoken[0].endswith(RED_FLAGS[0].question)


def test_another_key_is_not_an_answer() -> None:
    ask, window, _ = prompter(["x", " ", "n"] + ["n"] * (len(RED_FLAGS) - 1))
    answers = ask.ask_safety()
    assert not any(answers.values())
    # The card changed to say which keys answer.
    assert not np.array_equal(window.cards[0], window.cards[3])


@pytest.mark.parametrize(
    ("keys", "score"),
    [
        (["4", ENTER], 4),
        (["1", "0", ENTER], 10),
        (["7", BACKSPACE, "3", ENTER], 3),
        (["1", "1", ENTER, "6", ENTER], 6),  # 11 is refused, then 6
        (["a", "2", ENTER], 2),
        ([ENTER], None),  # skipped
    ],
)
def test_pain_is_typed_with_number_keys(keys: list[int | str], score: int | None) -> None:
    ask, _, speaker = prompter(keys)
    assert ask.ask_pain("before") == score
    assert "How strong is your back pain now, before we start?" in speaker.spoken[0]


def test_pain_given_on_the_command_line_is_not_asked() -> None:
    ask, window, speaker = prompter([])
    assert ask.ask_pain("after", 3) == 3
    assert window.cards == [] and speaker.spoken == []


@pytest.mark.parametrize("key", [ESC, "q", ScriptedWindow.CLOSED])
def test_esc_q_or_closing_the_window_stops(key: int | str) -> None:
    ask, _, speaker = prompter([key])
    with pytest.raises(KeyboardInterrupt):
        ask.ask_safety()
    assert speaker.silenced >= 1


def test_the_card_is_large_type_and_high_contrast_is_larger_still() -> None:
    prompt = PromptView(
        heading="Safety question 1 of 7",
        question=RED_FLAGS[0].question,
        keys="y = yes      n = no",
    )
    plain = render_prompt(PROMPT_SIZE, prompt, STANDARD)
    bold = render_prompt(PROMPT_SIZE, prompt, HIGH_CONTRAST)
    lit_plain = int((plain.max(axis=2) > 128).sum())
    lit_bold = int((bold.max(axis=2) > 128).sum())
    assert lit_plain > 5000  # text drawn, in large strokes
    assert lit_bold > lit_plain * 1.5
    assert int(bold.min()) == 0  # a solid black card


@pytest.mark.parametrize(("language", "yes", "no"), [("es", "s", "n"), ("de", "j", "n")])
def test_the_window_asks_in_the_patients_language_and_takes_its_yes_key(
    language: str, yes: str, no: str
) -> None:
    texts = question_texts(language)
    keys: list[int | str] = [no] * len(RED_FLAGS)
    keys[1] = yes
    # "y" answers nothing in either language: the first question waits for its own keys.
    window, speaker = ScriptedWindow(["y", *keys, "4", ENTER]), RecordingSpeaker()
    ask = WindowPrompter(window, speaker, language=language, sleep=lambda s: None)
    answers = ask.ask_safety()
    assert [answers[f.key] for f in RED_FLAGS] == [False, True] + [False] * (len(RED_FLAGS) - 2)
    assert speaker.spoken[0].startswith(texts["window_intro"])
    assert speaker.spoken[0].endswith(texts[f"question.{RED_FLAGS[0].key}"])
    assert ask.ask_pain("before") == 4
    assert speaker.spoken[-1].startswith(texts["window_pain_before"].format(min=0, max=10))
    assert texts["window_pain_before"] != question_texts("en")["window_pain_before"]
