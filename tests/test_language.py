"""The patient's language: catalogues, questions, doses, the handout, the voice and the overlay."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console
from session_helpers import unattended
from test_overlay import colour_pixels, frame, view
from test_session_e2e import assert_voice, coach_run, make_routine, read_events, session_folder
from typer.testing import CliRunner

from coach.adapters import overlay
from coach.adapters.handout import render_handout
from coach.adapters.overlay import CUE_COLOR
from coach.adapters.routine_store import open_routine, routine_text
from coach.adapters.speech import voice_for
from coach.app.cli import app
from coach.app.prompts import ask_pain, ask_safety, safety_texts
from coach.core import catalog
from coach.core.exercises import EXERCISES
from coach.core.routine import describe_dose, parse_routine
from coach.core.safety import RED_FLAG_KEYS, assess
from coach.core.states import ExerciseKind
from coach.errors import RoutineError

KINDS = tuple(k.value for k in EXERCISES)


def test_the_catalogue_ships_english_spanish_and_german_complete() -> None:
    assert catalog.languages() == ("en", "de", "es")
    for language in catalog.languages():
        assert catalog.missing_texts(language, KINDS) == (), language


@pytest.mark.parametrize(
    ("language", "title", "welcome", "dose"),
    [
        ("es", "Elevación de cadera", "Hola.", "Mantén 15 segundos, de 5 a 10 veces"),
        ("de", "Beckenheben", "Hallo.", "15 Sekunden halten, 5 bis 10 Mal"),
    ],
)
def test_a_routine_or_the_command_line_picks_the_language(
    language: str, title: str, welcome: str, dose: str
) -> None:
    text = f'extends = "back-spasm-relief"\nname = "x"\nlanguage = "{language}"\n'
    routine = parse_routine(text, "x.toml", resolve=routine_text)
    hip = routine.exercises[2]
    assert routine.language == language and hip.title == title
    assert routine.session_cues["welcome"].startswith(welcome)
    assert describe_dose(hip, language) == dose
    english = catalog.exercise_texts("hip_lift")
    assert hip.intro != english.intro and set(hip.cues) == set(
        parse_routine(text.replace(language, "en"), "x", resolve=routine_text).exercises[2].cues
    )
    # --language overrides the routine's own.
    assert open_routine("back-spasm-relief", language=language).exercises[2].title == title


@pytest.fixture
def texts_read_afresh() -> Iterator[None]:
    """The catalogue's exercise texts read again in the test, and forgotten after it."""
    catalog.exercise_texts.cache_clear()
    yield
    catalog.exercise_texts.cache_clear()


@pytest.mark.usefixtures("texts_read_afresh")
def test_a_missing_translation_falls_back_to_english_and_check_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = catalog._file.__wrapped__

    def without_relax(language: str, name: str) -> object:
        table = dict(real(language, name))
        if language == "es" and name == "hip_lift":
            table["cues"] = {k: v for k, v in table["cues"].items() if k != "relax"}
        return table

    monkeypatch.setattr(catalog, "_file", without_relax)
    path = tmp_path / "ana.toml"
    path.write_text('extends = "back-spasm-relief"\nname = "ana"\nlanguage = "es"\n')
    routine = open_routine(str(path))
    assert routine.exercises[2].cues["relax"] == "Rest for a moment."  # English
    assert routine.exercises[2].cues["hold_done"] == "Y baja despacio."
    result = CliRunner().invoke(app, ["routine", "check", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "1 texts are not translated into es" in result.output
    assert "hip_lift: cues.relax" in result.output


@pytest.mark.usefixtures("texts_read_afresh")
def test_a_missing_measure_name_falls_back_to_english_and_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = catalog._file.__wrapped__

    def without(language: str, name: str) -> object:
        table = dict(real(language, name))
        if language == "de" and name == "cat_cow":
            table.pop("gauge")
            table.pop("plot_below")
        if language == "es" and name == "words":
            table.pop("report_stop_safety")
        return table

    monkeypatch.setattr(catalog, "_file", without)
    assert catalog.missing_texts("de", KINDS) == ("cat_cow: gauge", "cat_cow: plot_below")
    assert catalog.missing_texts("es", KINDS) == ("words: report_stop_safety",)
    texts = catalog.exercise_texts("cat_cow", "de")
    assert texts.gauge == "back bend" and texts.plot == "Rückenkrümmung"
    assert texts.plot_zones == ("cow (back arched)", "Katze (runder Rücken)")


@pytest.mark.parametrize("kind", KINDS)
def test_every_exercise_names_its_measures(kind: str) -> None:
    from coach.core.exercises import KEY_SIGNALS

    signal = KEY_SIGNALS[ExerciseKind(kind)]
    for language in catalog.languages():
        texts = catalog.exercise_texts(kind, language)
        assert texts.gauge and texts.plot, (kind, language)
        assert bool(texts.plot_fallback) == (signal.fallback is not None), (kind, language)
        assert (texts.plot_zones is not None) == signal.beyond, (kind, language)


def test_the_safety_questions_and_pain_are_asked_in_the_language() -> None:
    console = Console(record=True, width=200)
    asked: list[str] = []

    def reply(prompt: str) -> str:
        asked.append(prompt)
        return "sí" if "caída" in prompt else "n"

    answers = ask_safety(console, input_fn=reply, language="es")
    assert answers == {**dict.fromkeys(RED_FLAG_KEYS, False), "fall_or_accident": True}
    assert asked[0].startswith("¿Tienes problemas nuevos para controlar la vejiga")
    assert all(prompt.endswith("[s/n] ") for prompt in asked)
    assert "Antes de empezar, unas preguntas de seguridad." in console.export_text()
    result = assess(answers, safety_texts("es"))
    assert not result.proceed and result.message.startswith("Por favor, no hagas estos")
    pain = ask_pain(console, "before", input_fn=lambda q: asked.append(q) or "3", language="de")
    assert pain == 3 and asked[-1].startswith("Wie stark sind deine Rückenschmerzen jetzt")


def test_the_handout_is_in_the_language() -> None:
    page = render_handout(open_routine("back-spasm-relief", language="de"))
    text = re.sub(r"<[^>]+>", " ", page)
    assert '<html lang="de">' in page
    for words in (
        "Kindhaltung",
        "30 Sekunden halten, 3 Mal",
        "Sicherheit zuerst",
        "Hast du neue Probleme, Blase oder Darm zu kontrollieren?",
        "Hol dir dringend Hilfe, noch heute.",
        "Meine Sitzungen",
        "Schmerz vorher (0-10)",
    ):
        assert words in text, words
    assert "Safety first" not in text and "Hold 30 seconds" not in text
    assert "Linderung bei Rückenkrämpfen" in text and "Drei sanfte Übungen" in text
    assert "Back spasm relief" not in text


def test_a_routine_carries_its_title_and_notes_in_other_languages(tmp_path: Path) -> None:
    spanish = open_routine("back-spasm-relief", language="es")
    assert spanish.title == "Alivio del espasmo de espalda"
    assert spanish.notes.startswith("Tres ejercicios suaves")
    assert open_routine("back-spasm-relief").title == "Back spasm relief"
    # A routine that writes its own title shows it in every language, not the base's translation.
    head = 'extends = "back-spasm-relief"\nname = "anna"\nlanguage = "es"\n'
    mine = parse_routine(head + 'title = "Anna por la mañana"\n', "a.toml", resolve=routine_text)
    assert mine.title == "Anna por la mañana" and mine.notes.startswith("Tres ejercicios")
    bad = head + '[translations.fr]\ntitle = "Dos"\n[translations.es]\ntitel = "x"\n'
    with pytest.raises(RoutineError) as refused:
        parse_routine(bad, "bad.toml", resolve=routine_text)
    assert "translations.fr" in str(refused.value) and "did you mean 'title'" in str(refused.value)


def test_a_voice_is_chosen_by_its_language() -> None:
    voices = [
        ("gmw/en", ["en-gb"]),
        ("roa/es-419", ["es-419"]),
        ("roa/es", ["es"]),
        ("gmw/de", ["de"]),
    ]
    assert voice_for(voices, "es") == "roa/es"
    assert voice_for(voices, "de") == "gmw/de"
    assert voice_for(voices, "en") == "gmw/en"  # a regional voice when no plain one
    assert voice_for(voices, "fi") is None


def _cue_region(image: np.ndarray) -> np.ndarray:
    """The bottom band where the cue is drawn."""
    return image[-140:, :, :].astype(np.int32)


def test_the_overlay_draws_accented_letters_with_a_real_font() -> None:
    assert overlay._font_file() is not None, "no TrueType font (DejaVu Sans) found"
    accented = overlay.render(frame(), None, view(cue_text="Mantén la cadera, señora Müller"))
    plain = overlay.render(frame(), None, view(cue_text="Manten la cadera, senora Muller"))
    # The same words without accents draw the same letters except the accents themselves.
    diff = np.abs(_cue_region(accented) - _cue_region(plain)).max(axis=2)
    changed = int((diff > 60).sum())
    assert 10 < changed < 2000, changed
    # Each accented letter alone leaves ink.
    for letter in "éñü":
        drawn = overlay.render(frame(), None, view(cue_text=letter))
        blank = overlay.render(frame(), None, view(cue_text=" "))
        assert colour_pixels(drawn, CUE_COLOR) > colour_pixels(blank, CUE_COLOR), letter


def test_the_overlay_words_come_from_the_language() -> None:
    labels = open_routine("back-spasm-relief", language="es").session_cues
    paused_es = overlay.render(frame(), None, view(paused=True), labels=labels)
    paused_en = overlay.render(frame(), None, view(paused=True))
    assert not np.array_equal(paused_es, paused_en)
    again = overlay.render(frame(), None, view(paused=True), labels={"screen_paused": "PAUSED"})
    assert np.array_equal(again[:400], paused_en[:400])


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.realmodel
@pytest.mark.parametrize(
    ("language", "voice", "welcome"),
    [("es", "roa/es", "Hola."), ("de", "gmw/de", "Hallo.")],
)
def test_a_whole_session_runs_in_the_language(
    real_videos: Path, tmp_path: Path, language: str, voice: str, welcome: str
) -> None:
    routine = make_routine(tmp_path)
    routine.write_text(
        routine.read_text(encoding="utf-8").replace('"Hello."', f'"{welcome}"'), encoding="utf-8"
    )
    out, wavs = tmp_path / "records", tmp_path / "voice"
    result = coach_run(
        "--routine",
        str(routine),
        "--language",
        language,
        *unattended(real_videos / "v03_child_tj.mp4", out, wavs),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    folder = session_folder(out)
    meta = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    assert meta["language"] == language and meta["voice"] == voice
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    spoken = summary["spoken"]
    texts = {c["key"]: c["text"] for c in spoken}
    expected = open_routine("back-spasm-relief", language=language)
    assert texts["welcome"] == welcome
    assert texts["setup_ok"] == expected.session_cues["setup_ok"]
    assert texts["hold_start"] == expected.exercises[0].cues["hold_start"]
    assert_voice(wavs, spoken, result.stdout + result.stderr)
    assert read_events(folder)


def _drawn_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the overlay draws from now on, as drawn."""
    drawn: list[str] = []
    real = overlay._text

    def recording(image: np.ndarray, text: str, *args: Any) -> None:
        drawn.append(text)
        real(image, text, *args)

    monkeypatch.setattr(overlay, "_text", recording)
    return drawn


@pytest.mark.parametrize(
    ("language", "name", "seen", "unseen"),
    [
        ("en", "hip angle", "hip angle 50 deg  [40-70]", "hip angle: not seen"),
        ("es", "ángulo de cadera", "ángulo de cadera 50°  [40-70]", "ángulo de cadera: no se ve"),
        ("de", "Hüftwinkel", "Hüftwinkel 50°  [40-70]", "Hüftwinkel: nicht erkannt"),
    ],
)
def test_the_gauge_names_its_measure_in_the_language(
    monkeypatch: pytest.MonkeyPatch, language: str, name: str, seen: str, unseen: str
) -> None:
    from session_helpers import Scripts, routine, spec, timeline
    from test_session import drive, make_controller

    from coach.core.exercises.base import Gauge
    from coach.core.states import PoseState

    child = ExerciseKind.CHILDS_POSE
    mine = dataclasses.replace(routine(spec(child, hold_s=10.0, reps=3)), language=language)
    controller = make_controller(
        mine, engine_factory=Scripts({child: timeline((0.0, PoseState.CHILDS_POSE))})
    )
    drive(controller, 6.0)
    shown = controller.view
    assert shown.gauge is not None and shown.gauge_name == name
    labels = open_routine("back-spasm-relief", language=language).session_cues
    drawn = _drawn_texts(monkeypatch)
    for value in (50.0, float("nan")):
        gauge = Gauge(value, 40.0, 70.0, "deg")
        overlay.render(frame(), None, view(gauge=gauge, gauge_name=name), labels=labels)
    assert seen in drawn and unseen in drawn


def test_the_session_screen_texts_are_in_the_language() -> None:
    from session_helpers import Scripts

    from coach.core.session import SessionController

    routine = open_routine("back-spasm-relief", language="de")
    controller = SessionController(routine, engine_factory=Scripts({}))
    controller.start(0.0)
    shown = controller.view
    assert shown.title == "Kamera einrichten"
    assert shown.progress == "Kamera einrichten · 3 Übungen"


def test_the_report_is_in_the_language_of_the_session(tmp_path: Path) -> None:
    from records_helpers import record

    from coach.adapters.report_html import render_report
    from coach.adapters.storage import load_session

    routine = open_routine("back-spasm-relief", language="es")
    folder = record(routine, tmp_path)
    data = load_session(folder)
    assert data.routine.language == "es" and data.meta["language"] == "es"
    page = render_report(data)
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    for words in (
        "Informe de la sesión: Alivio del espasmo de espalda",
        "Preguntas de seguridad",
        "¿Tienes problemas nuevos para controlar la vejiga o el intestino?",
        "Dolor (0-10)",
        "antes 6 /10 → después 3 /10 (-3, mejor)",
        "Postura del niño",
        "Fallos de postura",
        "El coach no diagnostica.",
        "tiempo (s)",  # the plots' words too
        "franja objetivo",
        "mantenimiento (objetivo alcanzado)",
        "a lo largo del tiempo en Postura del niño",
    ):
        assert words in text, words
    assert "Safety questions" not in text and "Session report" not in text
    assert "time (s)" not in text and "target band" not in text and "hold (" not in text
