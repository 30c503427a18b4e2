"""The HTML report of a session: self-contained, with plots, doses, faults and pain."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from records_helpers import bundled_routine, record, routine_variant

from coach.adapters.report_html import render_report, write_report
from coach.adapters.storage import load_session
from coach.core.record import exercise_plot
from coach.core.routine import Routine

REMOTE = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def routine() -> Routine:
    return bundled_routine()


@pytest.fixture(scope="module")
def complete_html(routine: Routine, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = record(routine, tmp_path_factory.mktemp("complete"))
    return write_report(load_session(folder)).read_text(encoding="utf-8")


def test_the_report_is_self_contained(complete_html: str) -> None:
    assert complete_html.startswith("<!DOCTYPE html>")
    assert not REMOTE.search(complete_html)
    assert "<script" not in complete_html.lower()
    assert "<link" not in complete_html.lower()


def test_the_report_has_a_plot_per_exercise(routine: Routine, complete_html: str) -> None:
    plots = re.findall(r'<svg class="plot".*?</svg>', complete_html, re.DOTALL)
    assert len(plots) == len(routine.exercises)
    for plot, spec in zip(plots, routine.exercises, strict=True):
        root = ET.fromstring(plot)
        assert root.get("role") == "img"
        title = root.find("{http://www.w3.org/2000/svg}title")
        assert title is not None and spec.title in (title.text or "")
        assert 'class="signal"' in plot and 'class="frame"' in plot
    assert "<img" not in complete_html and "image/png" not in complete_html


def test_the_report_shows_doses_faults_pain_and_safety(
    routine: Routine, complete_html: str
) -> None:
    assert "Completed" in complete_html and "INCOMPLETE" not in complete_html
    assert "3 holds of 30 s" in complete_html  # prescribed
    assert "2 of 3 holds" in complete_html  # achieved: the last hold was short
    assert "5 of 5 slow cycles" in complete_html  # counted in the handout's words
    assert "4 of 5 lifts" in complete_html
    assert "fault_a" in complete_html
    assert "before <strong>6</strong>/10" in complete_html
    assert "after <strong>3</strong>/10" in complete_html
    assert "bladder or bowel" in complete_html  # the safety questions, in words
    for spec in routine.exercises:
        assert spec.title.replace("'", "&#x27;") in complete_html


def test_a_cut_off_session_gives_a_report_marked_incomplete(
    routine: Routine, tmp_path: Path
) -> None:
    folder = record(routine, tmp_path, stop_after_s=45.0)
    path = write_report(load_session(folder), tmp_path / "out" / "r.html")
    html = path.read_text(encoding="utf-8")
    assert "INCOMPLETE" in html
    assert "cut off" in html
    assert "not rated" in html  # no pain after
    assert "No frames were recorded for this exercise" in html  # cat-cow and hip lifts never ran
    assert html.count('<svg class="plot"') == 1


def test_the_report_compares_against_the_assigned_routine(tmp_path: Path) -> None:
    patient = routine_variant(
        ('title = "Back spasm relief"', 'title = "Anna <acute> & \\"gentle\\""'),
        ("hold_s = 30", "hold_s = 20"),
    )
    html = render_report(load_session(record(patient, tmp_path)))
    assert "3 holds of 20 s" in html
    assert "Anna &lt;acute&gt; &amp; &quot;gentle&quot;" in html
    assert "<acute>" not in html


def test_plot_data_uses_the_key_signal_and_band(routine: Routine, tmp_path: Path) -> None:
    data = load_session(record(routine, tmp_path))
    plots = [exercise_plot(data, i) for i in range(len(routine.exercises))]
    assert [p.label for p in plots if p] == ["hip angle", "back bend", "hip lift above rest"]
    childs_pose = plots[0]
    assert childs_pose is not None
    assert len(childs_pose.holds) == 3 and childs_pose.faults[0][0] == "fault_a"
    assert all(p is not None and p.band != (None, None) for p in plots)


@pytest.mark.slow  # a fresh interpreter
def test_writing_a_report_never_loads_matplotlib(tmp_path: Path) -> None:
    import subprocess

    folder = record(bundled_routine(), tmp_path)
    code = (
        "import sys; from pathlib import Path; "
        "from coach.adapters.report_html import write_report; "
        "from coach.adapters.storage import load_session; "
        "write_report(load_session(Path(sys.argv[1]))); print('matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
    assert '<svg class="plot"' in (folder / "report.html").read_text(encoding="utf-8")


def test_report_command(routine: Routine, tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from coach.app.cli import main

    folder = record(routine, tmp_path, stop_after_s=30.0)
    monkeypatch.setattr(sys, "argv", ["coach", "report", str(folder)])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code in (0, None)
    assert (folder / "report.html").is_file()
    assert "INCOMPLETE" in capsys.readouterr().out

    # A folder of sessions gives one report per session, beside it.
    monkeypatch.setattr(sys, "argv", ["coach", "report", str(tmp_path)])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code in (0, None)
    reports = tmp_path.with_name(f"{tmp_path.name}-reports") / "sessions"
    assert [p.name for p in reports.glob("*.html")] == [f"{folder.name}.html"]
    assert "1 report written" in " ".join(capsys.readouterr().out.split())


@pytest.mark.realdata
@pytest.mark.realmodel
def test_a_real_video_is_recorded_as_the_engine_saw_it(
    routine: Routine, real_videos: Path, tmp_path: Path
) -> None:
    """Hip lifts on a real video, through the real model: the record holds what the engine saw."""
    from records_helpers import SAFE_ANSWERS, STARTED_AT

    from coach.adapters.frames import VideoFileSource
    from coach.adapters.pose_model import MediaPipePoseEstimator
    from coach.adapters.storage import SessionRecorder
    from coach.core.events import Event, EventKind
    from coach.core.exercises import make_engine
    from coach.core.features import FeatureExtractor
    from coach.core.record import summarize
    from coach.core.states import ExerciseKind

    index, spec = next(
        (i, s) for i, s in enumerate(routine.exercises) if s.kind is ExerciseKind.HIP_LIFT
    )
    engine = make_engine(
        spec.kind, spec.thresholds, hold_s=spec.dose.hold_s, classifier=routine.classifier
    )
    extractor = FeatureExtractor(routine.camera)
    source = VideoFileSource(real_videos / "v06_bridge_tj.mp4")
    events: list[Event] = [Event(EventKind.EXERCISE_STARTED, 0.0, "hip_lift", {"index": index})]
    frames = 0
    with (
        SessionRecorder(tmp_path, started_at=STARTED_AT) as recorder,
        MediaPipePoseEstimator() as model,
    ):
        recorder.start(routine=routine, source=str(source.path), started_at=STARTED_AT)
        recorder.safety(SAFE_ANSWERS, 4)
        recorder.event(events[0])
        try:
            for frame in source:
                features = extractor.update(model.estimate(frame.image, frame.t_s))
                new = engine.update(features, frame.t_s)
                state = engine.state
                recorder.frame(
                    frame.t_s, "hip_lift", state.value if state else None, features.values
                )
                for event in new:
                    recorder.event(event)
                events += new
                frames += 1
        finally:
            source.close()
        recorder.finish(summarize(routine, events, complete=False))

    data = load_session(recorder.folder)
    assert len(data.frames) == frames > 300
    assert len(data.events) == len(events)
    achieved = data.summary["exercises"][index]["achieved"]
    assert engine.reps == 3  # the annotated lifts of this clip
    assert achieved["reps_counted"] == engine.reps
    ended = [h for h in achieved["holds"] if not h.get("unfinished")]
    assert [round(h["seconds"], 1) for h in ended] == [round(h.seconds, 1) for h in engine.holds]
    plot = exercise_plot(data, index)
    assert plot is not None and plot.band != (None, None)
    assert np.isfinite(plot.values).sum() > frames // 2
    html = render_report(data)
    assert html.count('<svg class="plot"') == 1  # only hip lifts ran
    assert f"{achieved['reps_toward_dose']} of {spec.dose.reps} lifts" in html


def test_a_safety_stop_is_reported(routine: Routine, tmp_path: Path) -> None:
    from records_helpers import SAFE_ANSWERS, STARTED_AT

    from coach.adapters.storage import SessionRecorder
    from coach.core.events import Event, EventKind
    from coach.core.record import summarize

    events = [
        Event(EventKind.SAFETY_STOP, 0.0, None, {"flags": ["night_pain"]}),
        Event(EventKind.SESSION_STOPPED, 0.0, None, {"reason": "safety"}),
    ]
    with SessionRecorder(tmp_path, started_at=STARTED_AT) as recorder:
        recorder.start(routine=routine, source="none", started_at=STARTED_AT)
        recorder.safety({**SAFE_ANSWERS, "night_pain": True}, None, result="stop")
        for event in events:
            recorder.event(event)
        recorder.finish(summarize(routine, events, complete=False))
    html = render_report(load_session(recorder.folder))
    assert "INCOMPLETE" in html
    assert "a safety question was answered yes" in html
    assert "The exercises were not started" in html
    assert html.count("keep you up at night") == 2  # in the answers and in the stop notice
    assert '<span class="yes">yes</span>' in html


def test_an_exercise_the_coach_moved_past_is_reported(routine: Routine, tmp_path: Path) -> None:
    from records_helpers import SAFE_ANSWERS, STARTED_AT

    from coach.adapters.storage import SessionRecorder
    from coach.core.events import Event, EventKind
    from coach.core.record import summarize

    cat_cow = routine.exercises[1]
    events = [
        Event(EventKind.EXERCISE_STARTED, 1.0, "childs_pose", {"index": 0, "set": 1}),
        Event(
            EventKind.EXERCISE_SKIPPED, 5.0, "childs_pose", {"index": 0, "set": 1, "reason": "user"}
        ),
        Event(EventKind.EXERCISE_STARTED, 5.0, "cat_cow", {"index": 1, "set": 1}),
        Event(EventKind.STALL_HINT, 25.0, "cat_cow", {"key": "stall_in_position", "seconds": 20.0}),
        Event(EventKind.STALL_HINT, 45.0, "cat_cow", {"key": "stall_in_position", "seconds": 40.0}),
        Event(
            EventKind.EXERCISE_SKIPPED,
            65.0,
            "cat_cow",
            {"index": 1, "set": 1, "reason": "no_progress", "no_progress_s": 60.0},
        ),
    ]
    with SessionRecorder(tmp_path, started_at=STARTED_AT) as recorder:
        recorder.start(routine=routine, source="none", started_at=STARTED_AT)
        recorder.safety(SAFE_ANSWERS, 3, result="proceed")
        for event in events:
            recorder.event(event)
        recorder.finish(summarize(routine, events, complete=False))
    html = render_report(load_session(recorder.folder))
    assert "Status: skipped" in html  # the person's skip
    assert "Status: moved on by the coach: nothing counted for 60 s" in html
    assert "Hints when nothing counted" in html and "2 times" in html
    assert cat_cow.title in html


@pytest.mark.parametrize(
    ("language", "labels", "zones", "doses"),
    [
        (
            "es",
            ["ángulo de cadera", "curvatura de la espalda", "elevación de cadera sobre el reposo"],
            ("vaca (espalda arqueada)", "gato (espalda redondeada)"),
            ("3 posturas de 30 s", "5 de 5 ciclos lentos", "5-10 elevaciones de 15 s"),
        ),
        (
            "de",
            ["Hüftwinkel", "Rückenkrümmung", "Beckenhöhe über der Ruhelage"],
            ("Kuh (Hohlkreuz)", "Katze (runder Rücken)"),
            ("3 Haltungen zu je 30 s", "5 von 5 (langsame Zyklen)", "5-10 Beckenheben zu je 15 s"),
        ),
    ],
)
def test_the_plotted_measures_are_named_in_the_language_of_the_session(
    language: str, labels: list[str], zones: tuple[str, str], doses: tuple[str, ...], tmp_path: Path
) -> None:
    from coach.adapters.routine_store import open_routine

    data = load_session(record(open_routine("back-spasm-relief", language=language), tmp_path))
    plots = [exercise_plot(data, i) for i in range(len(data.routine.exercises))]
    assert [p.label for p in plots if p] == labels
    assert plots[1] is not None and plots[1].beyond == zones
    text = " ".join(re.sub(r"<[^>]+>", " ", render_report(data)).split())
    for words in (*labels, *zones, *doses):
        assert words in text, words
    for english in ("hip angle", "back bend", "above rest", "cow (", "cat (", "holds", "cycles"):
        assert english not in text, english


def test_the_plotted_measures_keep_their_english_names(routine: Routine, tmp_path: Path) -> None:
    data = load_session(record(routine, tmp_path))
    cat_cow = exercise_plot(data, 1)
    assert cat_cow is not None and cat_cow.beyond == ("cow (back arched)", "cat (back rounded)")


@pytest.mark.parametrize(
    ("language", "held", "stopped", "unknown"),
    [
        (
            "en",
            "5-10 repetitions of 15 s, 2 sets, 30 s rest",
            "a safety question was answered yes",
            "unknown",
        ),
        (
            "es",
            "5-10 repeticiones de 15 s, 2 series, 30 s de descanso",
            "se respondió que sí a una pregunta de seguridad",
            "desconocida",
        ),
        (
            "de",
            "5-10 Wiederholungen zu je 15 s, 2 Sätze, je 30 s Pause",
            "eine Sicherheitsfrage wurde mit Ja beantwortet",
            "unbekannt",
        ),
    ],
)
def test_the_report_words_of_doses_stops_and_dates_are_in_the_language(
    language: str, held: str, stopped: str, unknown: str
) -> None:
    from coach.adapters import report_html
    from coach.core.catalog import word_texts

    words = word_texts(language)
    dose = {"reps": 5, "reps_max": 10, "hold_s": 15, "sets": 2, "rest_s": 30}
    assert report_html._dose_text(dose, words) == held
    assert report_html._dose_text({"reps": 3, "unit": "cycles"}, words) == "3 cycles"
    assert report_html._date("", words) == unknown
    assert report_html._date("2026-11-23T09:30:00", words) == "2026-11-23 09:30:00"
    for reason in report_html.STOP_REASONS:
        assert f"report_stop_{reason}" in words, reason
    assert words["report_stop_safety"] == stopped
