"""The catalogue of texts a patient sees and hears, shipped once per language.

``coach/texts/<language>/`` holds ``session.toml`` (what the coach says
between exercises) and one ``<kind>.toml`` per exercise (its ``title``,
``intro``, the names of its measure on screen and in the report's plot, and
``[cues]``). A routine names only the texts it changes; every
other text comes from here. A text missing in a language falls back to
English, and ``missing_texts`` names it.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

from coach.errors import RoutineError

DEFAULT_LANGUAGE = "en"


@functools.cache
def languages() -> tuple[str, ...]:
    """The languages the catalogue ships, English first."""
    root = resources.files("coach.texts")
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))
    return (DEFAULT_LANGUAGE, *(name for name in found if name != DEFAULT_LANGUAGE))


@functools.cache
def _file(language: str, name: str) -> Mapping[str, object]:
    """One catalogue file as read; empty when the language has no such file."""
    path = resources.files("coach.texts").joinpath(language, f"{name}.toml")
    if not path.is_file():
        return MappingProxyType({})
    try:
        return MappingProxyType(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as exc:
        raise RoutineError(f"texts/{language}/{name}.toml: not valid TOML: {exc}") from exc


def _texts(table: object) -> dict[str, str]:
    if not isinstance(table, Mapping):
        return {}
    return {str(k): v.strip() for k, v in table.items() if isinstance(v, str) and v.strip()}


def check_language(language: str) -> str:
    """``language`` when the catalogue ships it.

    Raises:
        RoutineError: It does not; the message names those it does.
    """
    if language not in languages():
        raise RoutineError(
            f"no texts in the language {language!r}; use one of {', '.join(languages())}"
        )
    return language


@dataclass(frozen=True)
class ExerciseTexts:
    """One exercise's texts in one language (English where a text is not translated)."""

    title: str | None  # None: the exercise's own (English) title
    intro: str
    cues: Mapping[str, str]
    dose_one: str | None = None  # one repetition in a dose description, e.g. "slow cycle"
    dose_many: str | None = None
    gauge: str = ""  # the measure's name on screen, e.g. "hip angle"
    plot: str = ""  # the plotted signal's name in the report, e.g. "hip lift above rest"
    plot_fallback: str = ""  # the name of the signal plotted when the key one was never seen
    plot_zones: tuple[str, str] | None = None  # zones below and above a band to reach past


@functools.cache
def exercise_texts(kind: str, language: str = DEFAULT_LANGUAGE) -> ExerciseTexts:
    """The catalogue's texts for one exercise, English filling any gap (read once)."""
    english = _file(DEFAULT_LANGUAGE, kind)
    own = _file(language, kind) if language != DEFAULT_LANGUAGE else english
    cues = {**_texts(english.get("cues")), **_texts(own.get("cues"))}
    top = {**_texts(english), **_texts(own)}
    return ExerciseTexts(
        title=top.get("title"),
        intro=top.get("intro", ""),
        cues=MappingProxyType(cues),
        dose_one=top.get("dose_one"),
        dose_many=top.get("dose_many"),
        gauge=top.get("gauge", ""),
        plot=top.get("plot", ""),
        plot_fallback=top.get("plot_fallback", ""),
        plot_zones=(
            (top["plot_below"], top["plot_above"])
            if "plot_below" in top and "plot_above" in top
            else None
        ),
    )


@functools.cache
def session_texts(language: str = DEFAULT_LANGUAGE) -> Mapping[str, str]:
    """The catalogue's session texts, English filling any gap."""
    english = _texts(_file(DEFAULT_LANGUAGE, "session"))
    own = _texts(_file(language, "session")) if language != DEFAULT_LANGUAGE else {}
    return MappingProxyType({**english, **own})


def missing_texts(language: str, kinds: tuple[str, ...]) -> tuple[str, ...]:
    """Texts English has and ``language`` lacks, as ``file: key`` (none for English)."""
    if language == DEFAULT_LANGUAGE:
        return ()
    missing: list[str] = []
    for name in ("session", "questions", "words", *kinds):
        english, own = _file(DEFAULT_LANGUAGE, name), _file(language, name)
        for key in _texts(english):
            if key not in _texts(own):
                missing.append(f"{name}: {key}")
        for table in ("cues", "questions"):
            theirs = _texts(own.get(table))
            missing += [
                f"{name}: {table}.{key}" for key in _texts(english.get(table)) if key not in theirs
            ]
    return tuple(missing)


@functools.cache
def word_texts(language: str = DEFAULT_LANGUAGE) -> Mapping[str, str]:
    """Words of the printed pages and dose descriptions (``words.toml``), English filling gaps."""
    english = _texts(_file(DEFAULT_LANGUAGE, "words"))
    own = _texts(_file(language, "words")) if language != DEFAULT_LANGUAGE else {}
    return MappingProxyType({**english, **own})


@functools.cache
def question_texts(language: str = DEFAULT_LANGUAGE) -> Mapping[str, str]:
    """The terminal's questions and answers (``questions.toml``), English filling any gap.

    The red-flag questions are under their keys, as ``question.<key>``.
    """
    english, own = _file(DEFAULT_LANGUAGE, "questions"), _file(language, "questions")
    texts = {**_texts(english), **(_texts(own) if language != DEFAULT_LANGUAGE else {})}
    questions = {**_texts(english.get("questions"))}
    if language != DEFAULT_LANGUAGE:
        questions.update(_texts(own.get("questions")))
    texts.update({f"question.{k}": v for k, v in questions.items()})
    return MappingProxyType(texts)
