"""Questions asked in the terminal before and after a session, or answered on the command line.

The red-flag questions and the pain ratings can all be given up front
(``--answers``, ``--pain-before``, ``--pain-after``) so that a session runs
unattended; whatever is not given is asked when a person is at the terminal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from rich.console import Console

from coach.core.catalog import DEFAULT_LANGUAGE, question_texts
from coach.core.safety import (
    PAIN_MAX,
    PAIN_MIN,
    RED_FLAG_KEYS,
    RED_FLAGS,
    SafetyTexts,
    all_clear,
    validate_pain,
)
from coach.errors import CoachError
from coach.files import read_input_text
from coach.text import plain, shown

ANSWERS_MAX_BYTES = 64 * 1024
YES = frozenset({"y", "yes", "true", "1"})
NO = frozenset({"n", "no", "false", "0"})
ANSWERS_HELP = (
    "Give the safety answers as 'no' (every answer no), a list such as "
    "'night_pain=no,leg_symptoms=yes', or a JSON file of key: true/false. "
    f"The questions are: {', '.join(RED_FLAG_KEYS)}."
)

InputFn = Callable[[str], str]


class AnswersError(CoachError):
    """Safety answers given on the command line cannot be read."""


def _yes_no(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise AnswersError(f"{where}: {plain(repr(value), 60)} is not yes or no. {ANSWERS_HELP}")


def _checked(pairs: list[tuple[str, bool]], where: str) -> dict[str, bool]:
    """The answers as a dict; a question answered twice, differently, refuses to start."""
    unknown = sorted({plain(key, 40) for key, _ in pairs} - set(RED_FLAG_KEYS))
    if unknown:
        raise AnswersError(f"{where}: unknown question(s) {', '.join(unknown)}. {ANSWERS_HELP}")
    answers: dict[str, bool] = {}
    for key, value in pairs:
        if answers.get(key, value) != value:
            raise AnswersError(
                f"{where}: {key} is answered both yes and no. The exercises cannot start on "
                "conflicting safety answers: give each answer once."
            )
        answers[key] = value
    return answers


class _Pairs(dict[str, object]):
    """A JSON object that keeps every key as written, duplicates included."""

    def __init__(self, pairs: list[tuple[str, object]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs


def _read_answers_file(path: Path) -> list[tuple[str, bool]]:
    text = read_input_text(
        path, "safety answers file", error=AnswersError, max_bytes=ANSWERS_MAX_BYTES
    )
    try:
        data = json.loads(text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as exc:
        raise AnswersError(f"Cannot read the safety answers in {path}: {exc}.") from exc
    except RecursionError as exc:
        raise AnswersError(f"{path}: the JSON is nested too deep to be safety answers.") from exc
    if isinstance(data, _Pairs) and isinstance(data.get("answers"), _Pairs):
        if sum(key == "answers" for key, _ in data.pairs) > 1:
            raise AnswersError(f"{path}: 'answers' is given twice; give it once.")
        data = data["answers"]  # a safety.json from an earlier session
    if not isinstance(data, _Pairs):
        raise AnswersError(f"{path}: expected a JSON object of question: true/false.")
    where = plain(path)
    return [(str(k), _yes_no(v, f"{where}: {plain(k, 40)}")) for k, v in data.pairs]


def parse_answers(spec: str) -> dict[str, bool]:
    """Safety answers from the command line: "no", a key=yes/no list, or a JSON file.

    Keys left out of a list or file are not answered (and are asked, or refused).

    Raises:
        AnswersError: The answers cannot be read, name an unknown question, or are not yes/no.
    """
    text = spec.strip()
    if text.lower() in NO:
        return all_clear()
    if not text:
        raise AnswersError(f"--answers is empty. {ANSWERS_HELP}")
    path = Path(text).expanduser()
    if path.suffix.lower() == ".json" or ("=" not in text and path.exists()):
        return _checked(_read_answers_file(path), plain(path))
    pairs: list[tuple[str, bool]] = []
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise AnswersError(f"--answers: {plain(item, 60)!r} is not key=yes/no. {ANSWERS_HELP}")
        pairs.append((key.strip(), _yes_no(value, f"--answers {plain(key.strip(), 40)}")))
    return _checked(pairs, "--answers")


def _console_input(console: Console) -> InputFn:
    """Ask at the terminal, the prompt shown as written ("[y/n]" is not markup)."""
    return lambda prompt: console.input(shown(prompt, 1000))


def interactive() -> bool:
    """A person is at the terminal to answer."""
    return sys.stdin is not None and sys.stdin.isatty()


def ask_safety(
    console: Console,
    given: Mapping[str, bool] | None = None,
    *,
    input_fn: InputFn | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> dict[str, bool]:
    """Every red-flag answer: those given, and the rest asked one by one, in ``language``.

    Raises:
        AnswersError: Some are missing and nobody is at the terminal to answer.
    """
    answers = dict(given or {})
    missing = [flag for flag in RED_FLAGS if flag.key not in answers]
    if not missing:
        return answers
    if input_fn is None:
        if not interactive():
            raise AnswersError(
                "The safety questions must be answered before the exercises: "
                f"{', '.join(f.key for f in missing)} not answered and no one is at the "
                f"terminal. {ANSWERS_HELP}"
            )
        input_fn = _console_input(console)
    texts = question_texts(language)
    yes = YES | set(texts["yes_words"].lower().split())
    no = NO | set(texts["no_words"].lower().split())
    console.print(f"[bold]{texts['intro']}[/]")
    for flag in missing:
        question = texts.get(f"question.{flag.key}", flag.question)
        while True:
            reply = input_fn(f"{question} {texts['yes_no']} ").strip().lower()
            if reply in yes or reply in no:
                answers[flag.key] = reply in yes
                break
            console.print(texts["answer_yes_no"])
    return answers


def safety_texts(language: str = DEFAULT_LANGUAGE) -> SafetyTexts:
    """What the coach says after the questions, in ``language``."""
    texts = question_texts(language)
    return SafetyTexts(
        clear=texts["clear"], stop=texts["stop"], urgent=texts["urgent"], advice=texts["advice"]
    )


def ask_pain(
    console: Console,
    when: str,
    given: int | None = None,
    *,
    input_fn: InputFn | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> int | None:
    """A pain rating 0-10: the one given, or asked in ``language``; None when skipped or
    nobody can answer.

    Raises:
        CoachError: The rating given on the command line is not 0-10.
    """
    if given is not None:
        try:
            return validate_pain(given)
        except ValueError as exc:
            raise CoachError(f"--pain-{when}: {exc}.") from exc
    if input_fn is None:
        if not interactive():
            return None
        input_fn = _console_input(console)
    texts = question_texts(language)
    key = "pain_before" if when == "before" else "pain_after"
    question = texts[key].format(min=PAIN_MIN, max=PAIN_MAX) + " "
    while True:
        reply = input_fn(question).strip()
        if not reply:
            return None
        try:
            return validate_pain(reply)
        except ValueError:
            console.print(texts["pain_number"].format(min=PAIN_MIN, max=PAIN_MAX))
