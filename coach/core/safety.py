"""Red flags asked before any exercise, and the pain scale.

The coach never diagnoses. When a red flag is present it does not start the
exercises and tells the person to contact a clinician (urgently for the two
flags that can mean nerve compression). Pain that has not improved after a few
days is not a reason to stop, but the coach advises seeing a clinician.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

PAIN_MIN = 0
PAIN_MAX = 10
_PAIN_RULE = f"pain must be a whole number from {PAIN_MIN} to {PAIN_MAX}"


@dataclass(frozen=True, kw_only=True)
class RedFlag:
    """One safety question.

    Attributes:
        key: Stable name used in answers, records and on the command line.
        question: What the person is asked; "yes" means the flag is present.
        urgent: A "yes" calls for a clinician today, not just soon.
        stops: A "yes" means no exercises today; False for advice only.
    """

    key: str
    question: str
    urgent: bool
    stops: bool = True


RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        key="bladder_bowel",
        question="Do you have new trouble controlling your bladder or bowel?",
        urgent=True,
    ),
    RedFlag(
        key="groin_numbness",
        question="Do you have numbness in your groin or buttocks?",
        urgent=True,
    ),
    RedFlag(
        key="leg_symptoms",
        question=(
            "Do you have weakness or numbness in your legs, or pain running down them "
            "that is worse when you cough, sneeze or sit?"
        ),
        urgent=False,
    ),
    RedFlag(
        key="night_pain",
        question="Is your pain worse lying down, or does it keep you up at night?",
        urgent=False,
    ),
    RedFlag(
        key="fever_weight_loss",
        question="Do you have a fever, or have you lost weight without trying?",
        urgent=False,
    ),
    RedFlag(
        key="fall_or_accident",
        question="Did the pain start after a fall or an accident?",
        urgent=False,
    ),
    RedFlag(
        key="not_improving",
        question="Has your pain lasted about three days or more without getting better?",
        urgent=False,
        stops=False,
    ),
)

RED_FLAG_KEYS: tuple[str, ...] = tuple(flag.key for flag in RED_FLAGS)
_BY_KEY: Mapping[str, RedFlag] = MappingProxyType({flag.key: flag for flag in RED_FLAGS})


@dataclass(frozen=True, kw_only=True)
class SafetyTexts:
    """What the coach says after the questions; the wording a clinician would sign off."""

    clear: str = "Thank you. Nothing in your answers stops today's exercises."
    stop: str = (
        "Please do not do these exercises today. Contact your doctor or physical therapist "
        "about your symptoms before exercising."
    )
    urgent: str = (
        "Please do not exercise. Contact a doctor urgently, today: go to urgent care or an "
        "emergency department now if you cannot reach your doctor."
    )
    advice: str = (
        "Pain that has not improved after about three days is worth checking: please contact "
        "your doctor or physical therapist. You may continue gently today."
    )


@dataclass(frozen=True)
class SafetyResult:
    """The outcome of the red-flag questions.

    Attributes:
        answers: Every flag's key and whether it was answered yes.
        flags: Keys answered yes that stop the exercises, in table order.
        urgent: Keys answered yes that call for a clinician today.
        advisories: Keys answered yes that only call for advice.
        message: What to tell the person.
    """

    answers: Mapping[str, bool]
    flags: tuple[str, ...]
    urgent: tuple[str, ...]
    advisories: tuple[str, ...]
    message: str = field(default="")

    @property
    def proceed(self) -> bool:
        """No red flag stops the exercises."""
        return not self.flags

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of the result."""
        return {
            "answers": dict(self.answers),
            "flags": list(self.flags),
            "urgent": list(self.urgent),
            "advisories": list(self.advisories),
            "proceed": self.proceed,
            "message": self.message,
        }


def assess(answers: Mapping[str, bool], texts: SafetyTexts | None = None) -> SafetyResult:
    """Judge the answers to every red-flag question.

    Raises:
        ValueError: A question was not answered, or an answer names no known flag.
    """
    texts = texts or SafetyTexts()
    unknown = sorted(set(answers) - set(RED_FLAG_KEYS))
    if unknown:
        raise ValueError(
            f"unknown safety question(s): {', '.join(unknown)}; "
            f"the questions are: {', '.join(RED_FLAG_KEYS)}"
        )
    missing = [key for key in RED_FLAG_KEYS if key not in answers]
    if missing:
        raise ValueError(f"safety question(s) not answered: {', '.join(missing)}")
    yes = [flag for flag in RED_FLAGS if bool(answers[flag.key])]
    flags = tuple(flag.key for flag in yes if flag.stops)
    urgent = tuple(flag.key for flag in yes if flag.stops and flag.urgent)
    advisories = tuple(flag.key for flag in yes if not flag.stops)
    if urgent:
        message = texts.urgent
    elif flags:
        message = texts.stop
    else:
        message = texts.clear
    if advisories:
        message = f"{message} {texts.advice}"
    return SafetyResult(
        answers=MappingProxyType({key: bool(answers[key]) for key in RED_FLAG_KEYS}),
        flags=flags,
        urgent=urgent,
        advisories=advisories,
        message=message,
    )


def all_clear() -> dict[str, bool]:
    """Answers with every question answered no."""
    return dict.fromkeys(RED_FLAG_KEYS, False)


def red_flag(key: str) -> RedFlag:
    """The flag with this key.

    Raises:
        KeyError: No flag has this key.
    """
    return _BY_KEY[key]


def validate_pain(value: object) -> int:
    """A pain rating as a whole number from 0 to 10.

    Raises:
        ValueError: The value is not a whole number in range.
    """
    if isinstance(value, bool):
        raise ValueError(f"{_PAIN_RULE}, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit():
            raise ValueError(f"{_PAIN_RULE}, got {value!r}")
        score = int(text)
    elif isinstance(value, int):
        score = value
    elif isinstance(value, float) and value.is_integer():
        score = int(value)
    else:
        raise ValueError(f"{_PAIN_RULE}, got {value!r}")
    if not PAIN_MIN <= score <= PAIN_MAX:
        raise ValueError(f"pain must be from {PAIN_MIN} to {PAIN_MAX}, got {score}")
    return score
