"""Red flags and the pain scale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from coach.app.prompts import AnswersError, ask_pain, ask_safety, parse_answers
from coach.core.safety import (
    RED_FLAG_KEYS,
    RED_FLAGS,
    SafetyTexts,
    all_clear,
    assess,
    red_flag,
    validate_pain,
)
from coach.errors import CoachError

TEXTS = SafetyTexts()


def test_every_red_flag_from_the_design_is_asked() -> None:
    assert RED_FLAG_KEYS == (
        "bladder_bowel",
        "groin_numbness",
        "leg_symptoms",
        "night_pain",
        "fever_weight_loss",
        "fall_or_accident",
        "not_improving",
    )
    assert all(flag.question.endswith("?") for flag in RED_FLAGS)
    assert [f.key for f in RED_FLAGS if f.urgent] == ["bladder_bowel", "groin_numbness"]
    assert [f.key for f in RED_FLAGS if not f.stops] == ["not_improving"]


def test_all_no_proceeds() -> None:
    result = assess(all_clear())
    assert result.proceed
    assert result.flags == () and result.urgent == () and result.advisories == ()
    assert result.message == TEXTS.clear


@pytest.mark.parametrize(
    ("yes", "proceed", "urgent", "message_has"),
    [
        (["bladder_bowel"], False, ["bladder_bowel"], "urgently"),
        (["groin_numbness"], False, ["groin_numbness"], "urgently"),
        (["leg_symptoms"], False, [], "Contact your doctor or physical therapist"),
        (["night_pain"], False, [], "Contact your doctor"),
        (["fever_weight_loss"], False, [], "Contact your doctor"),
        (["fall_or_accident"], False, [], "Contact your doctor"),
        (["night_pain", "groin_numbness"], False, ["groin_numbness"], "urgently"),
        (["not_improving"], True, [], "about three days"),
        (["not_improving", "fall_or_accident"], False, [], "about three days"),
    ],
)
def test_red_flags(yes: list[str], proceed: bool, urgent: list[str], message_has: str) -> None:
    answers = all_clear() | dict.fromkeys(yes, True)
    result = assess(answers)
    assert result.proceed is proceed
    assert list(result.urgent) == urgent
    assert set(result.flags) == {k for k in yes if red_flag(k).stops}
    assert message_has in result.message
    if not proceed:
        assert "do not" in result.message.lower()
    assert result.to_dict()["proceed"] is proceed


def test_the_three_day_flag_is_advice_only() -> None:
    result = assess(all_clear() | {"not_improving": True})
    assert result.proceed
    assert result.advisories == ("not_improving",)
    assert result.flags == ()
    assert "contact your doctor or physical therapist" in result.message


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({"bladder_bowel": False}, "not answered"),
        (all_clear() | {"headache": True}, "unknown safety question"),
    ],
)
def test_incomplete_or_unknown_answers_are_refused(answers: dict[str, bool], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        assess(answers)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (10, 10), ("4", 4), (" 7 ", 7), (3.0, 3)],
)
def test_pain_accepts_whole_numbers_0_to_10(value: object, expected: int) -> None:
    assert validate_pain(value) == expected


@pytest.mark.parametrize("value", [-1, 11, "eleven", "3.5", 3.5, "", None, True, "-2"])
def test_pain_refuses_anything_else(value: object) -> None:
    with pytest.raises(ValueError, match="pain"):
        validate_pain(value)


# ------------------------------------------------------------- asked or given on the command line
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("no", all_clear()),
        ("NO", all_clear()),
        ("night_pain=yes", {"night_pain": True}),
        ("night_pain=y, leg_symptoms=no", {"night_pain": True, "leg_symptoms": False}),
    ],
)
def test_answers_from_the_command_line(spec: str, expected: dict[str, bool]) -> None:
    assert parse_answers(spec) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (all_clear() | {"fall_or_accident": True}, all_clear() | {"fall_or_accident": True}),
        ({"answers": {"night_pain": "yes"}}, {"night_pain": True}),  # a saved safety.json
    ],
)
def test_answers_from_a_json_file(
    tmp_path: Path, content: dict[str, object], expected: dict[str, bool]
) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    assert parse_answers(str(path)) == expected


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("night_pain", "not key=yes/no"),
        ("night_pain=perhaps", "not yes or no"),
        ("backache=no", "unknown question"),
        ("missing.json", "no such safety answers file"),
    ],
)
def test_bad_answers_are_refused(spec: str, problem: str) -> None:
    with pytest.raises(AnswersError, match=problem):
        parse_answers(spec)


def test_unanswered_questions_are_asked() -> None:
    replies = iter(["maybe", "y"] + ["n"] * (len(RED_FLAG_KEYS) - 2))
    asked: list[str] = []

    def reply(question: str) -> str:
        asked.append(question)
        return next(replies)

    answers = ask_safety(Console(quiet=True), {"night_pain": False}, input_fn=reply)
    assert set(answers) == set(RED_FLAG_KEYS)
    assert answers["bladder_bowel"] is True  # "maybe" was asked again
    assert asked[0] == asked[1] == red_flag("bladder_bowel").question + " [y/n] "
    assert len(asked) == len(RED_FLAG_KEYS)  # night_pain was given, not asked


def test_pain_is_asked_until_it_is_a_number_from_0_to_10() -> None:
    replies = iter(["eleven", "12", "6"])
    score = ask_pain(Console(quiet=True), "before", input_fn=lambda q: next(replies))
    assert score == 6
    assert ask_pain(Console(quiet=True), "after", input_fn=lambda q: "") is None  # skipped
    assert ask_pain(Console(quiet=True), "after", 3) == 3
    with pytest.raises(CoachError, match="pain-after"):
        ask_pain(Console(quiet=True), "after", 11)
