"""Red flags and the pain scale."""

from __future__ import annotations

import pytest

from coach.core.safety import (
    RED_FLAG_KEYS,
    RED_FLAGS,
    SafetyTexts,
    all_clear,
    assess,
    red_flag,
    validate_pain,
)

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
