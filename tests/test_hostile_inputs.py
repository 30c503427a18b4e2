"""Bad, damaged and hostile inputs: one clear error or the right result, and nothing lost.

Answers that contradict themselves, arguments out of range, tampered records,
outputs aimed at inputs, routine values that are not numbers, cue texts that
ask for formats, huge and deeply nested files, byte-order marks, markup in
paths and texts, cut-off videos, odd frame rates, folders and pipes where
files belong, damaged sessions, far-apart dates, formula cells and the
permissions of what the coach writes.
"""

from __future__ import annotations

import json
import math
import os
import stat
import threading
import time
import tomllib
from dataclasses import fields, is_dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import coach, toml_text
from records_helpers import BUNDLED, bundled_routine, record

from coach.adapters.storage import load_session
from coach.app.prompts import AnswersError, parse_answers
from coach.core.routine import ROUTINE_MAX_BYTES, is_routine_name, parse_routine, resolved_toml
from coach.core.safety import RED_FLAG_KEYS
from coach.errors import ModelError, RoutineError, SessionDataError, SourceError

SAFE = ",".join(f"{key}=no" for key in RED_FLAG_KEYS)


def bundled_data() -> dict[str, object]:
    """The bundled routine written out in full: every text, dose and threshold."""
    return tomllib.loads(resolved_toml(bundled_routine()))


def one_line_error(text: str) -> None:
    """One error, said plainly: no traceback, no markup error, no panel."""
    assert "Traceback" not in text
    assert "MarkupError" not in text
    assert "coach:" in text or "Not valid:" in text


# ------------------------------------------------------------------ safety first
@pytest.mark.parametrize(
    "spec",
    [
        f"{SAFE},bladder_bowel=yes,bladder_bowel=no",
        "bladder_bowel=yes,bladder_bowel=no",
        "night_pain=no,night_pain=yes",
    ],
)
def test_a_question_answered_both_ways_refuses_to_start(spec: str) -> None:
    with pytest.raises(AnswersError, match="answered both yes and no"):
        parse_answers(spec)


def test_a_json_answers_file_with_a_key_twice_refuses_to_start(tmp_path: Path) -> None:
    conflicting = tmp_path / "answers.json"
    conflicting.write_text(
        '{"bladder_bowel": true, "groin_numbness": false, "bladder_bowel": false}'
    )
    with pytest.raises(AnswersError, match="bladder_bowel is answered both yes and no"):
        parse_answers(str(conflicting))
    nested = tmp_path / "safety.json"
    nested.write_text('{"answers": {"night_pain": false, "night_pain": true}}')
    with pytest.raises(AnswersError, match="night_pain is answered both"):
        parse_answers(str(nested))
    same = tmp_path / "same.json"
    same.write_text('{"night_pain": false, "night_pain": false}')
    assert parse_answers(str(same)) == {"night_pain": False}


def test_conflicting_answers_record_nothing_and_run_nothing(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    done = coach(
        "run", "--answers", f"{SAFE},bladder_bowel=yes,bladder_bowel=no", "--out", str(out)
    )
    assert done.code == 2
    assert "answered both yes and no" in done.err
    one_line_error(done.err)
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--pain-after", "11"), "--pain-after: pain must be from 0 to 10, got 11"),
        (("--pain-after", "-5"), "--pain-after: pain must be from 0 to 10, got -5"),
        (("--pain-before", "99"), "--pain-before: pain must be from 0 to 10, got 99"),
        (("--camera", "-1"), "a camera number is 0 or more"),
        (("--source", "missing.mp4"), "missing.mp4 does not exist"),
        (("--out", "FILE"), "is a file, not a folder"),
        (("--voice-to", "FILE"), "is a file, not a folder"),
        (("--model", "FOLDER"), "is a folder, not a pose model file"),
        (("--routine", "nope.toml"), "no such routine file"),
    ],
)
def test_every_run_argument_is_checked_before_the_first_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FILE").write_text("x")
    (tmp_path / "FOLDER").mkdir()
    started = time.monotonic()
    # Nobody answers the questions: had they been asked, the error would be about them.
    out = [] if "--out" in args else ["--out", str(tmp_path / "rec")]
    done = coach("run", *args, *out)
    assert done.code == 2, done.text
    assert message in " ".join(done.err.split())
    assert "safety questions" not in done.text
    one_line_error(done.err)
    assert not (tmp_path / "rec").exists()
    assert time.monotonic() - started < 10


def test_tampered_pain_and_safety_values_are_checked_not_shown(tmp_path: Path) -> None:
    folder = record(bundled_routine(), tmp_path)
    safety_path = folder / "safety.json"
    safety = json.loads(safety_path.read_text())
    safety["answers"]["bladder_bowel"] = "no"  # text, not a recorded answer
    safety["pain_before"] = 99
    safety_path.write_text(json.dumps(safety)[:-1] + ', "pain_after": ' + "9" * 309 + "}")
    session = load_session(folder)
    assert "bladder_bowel" not in session.safety["answers"]
    assert session.pain_before == 6  # what the events recorded, not the 99
    assert session.pain_after == 3  # likewise
    notes = " ".join(session.warnings)
    assert "'bladder_bowel' = 'no' is not a recorded yes/no" in notes
    assert "pain_before = 99 is not a pain score from 0 to 10" in notes
    assert "(309 characters)" in notes
    done = coach("report", str(folder), "--out", str(tmp_path / "r.html"))
    assert done.code == 0, done.text
    html = (tmp_path / "r.html").read_text()
    assert "99</strong>/10" not in html and "999</strong>" not in html
    assert html.count('class="yes"') == 0


# ------------------------------------------------------------------ files destroyed
def test_pose_never_writes_over_its_input(tmp_path: Path) -> None:
    import cv2

    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), np.zeros((40, 60, 3), np.uint8))
    before = image.read_bytes()
    done = coach("pose", str(image), "--out", str(image))
    assert done.code == 2 and "is an input of this command" in done.err
    one_line_error(done.err)
    assert image.read_bytes() == before
    (tmp_path / "link.png").symlink_to(image)
    assert coach("pose", str(image), "--out", str(tmp_path / "link.png")).code == 2
    assert image.read_bytes() == before
    done = coach("pose", str(tmp_path), "--out", str(tmp_path))
    assert done.code == 2 and "is an input of this command" in done.err
    assert image.read_bytes() == before


def test_pose_folder_out_an_existing_file_is_refused(tmp_path: Path) -> None:
    import cv2

    (tmp_path / "in").mkdir()
    cv2.imwrite(str(tmp_path / "in" / "a.png"), np.zeros((40, 60, 3), np.uint8))
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    done = coach("pose", str(tmp_path / "in"), "--out", str(existing))
    assert done.code == 2
    assert "is a file; for a folder of images give a folder" in " ".join(done.err.split())
    one_line_error(done.err)
    assert existing.read_text() == "keep me"


def test_report_and_handout_never_write_over_their_inputs(tmp_path: Path) -> None:
    folder = record(bundled_routine(), tmp_path)
    events = (folder / "events.jsonl").read_bytes()
    done = coach("report", str(folder), "--out", str(folder / "events.jsonl"))
    assert done.code == 2 and "is an input of this command" in done.err
    assert (folder / "events.jsonl").read_bytes() == events
    mine = tmp_path / "mine.toml"
    mine.write_text(BUNDLED.read_text())
    done = coach("routine", "handout", str(mine), "--out", str(mine))
    assert done.code == 2 and "is an input of this command" in done.err
    assert mine.read_text() == BUNDLED.read_text()
    done = coach("routine", "new", "anna", "--from", str(mine), "--to", str(mine), "--force")
    assert done.code == 2 and "is an input of this command" in done.err
    assert mine.read_text() == BUNDLED.read_text()


# ------------------------------------------------------------------ routine values
def _numeric_fields(config: object, prefix: str = "") -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for f in fields(config):  # type: ignore[arg-type]
        value = getattr(config, f.name)
        if is_dataclass(value) and not isinstance(value, type):
            found += [(f.name, *rest) for rest in _numeric_fields(value)]
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append((f.name,))
        elif value is None and f.name == "hold_s":
            continue
    return found


def _every_numeric_path() -> list[tuple[object, ...]]:
    routine = bundled_routine()
    paths: list[tuple[object, ...]] = []
    for section in ("cues", "session", "camera", "classifier"):
        paths += [(section, *p) for p in _numeric_fields(getattr(routine, section))]
    for index, spec in enumerate(routine.exercises):
        paths += [("exercises", index, "thresholds", *p) for p in _numeric_fields(spec.thresholds)]
        paths += [("exercises", index, "dose", *p) for p in _numeric_fields(spec.dose)]
        if spec.dose.hold_s is not None:
            paths.append(("exercises", index, "dose", "hold_s"))
    return sorted(set(paths), key=str)


def _set(data: dict[str, object], path: tuple[object, ...], value: object) -> None:
    node: object = data
    for key in path[:-1]:
        node = node[key] if isinstance(node, list) else node.setdefault(key, {})  # type: ignore[index,union-attr]
    node[path[-1]] = value  # type: ignore[index]


@pytest.mark.slow  # parses the whole routine over 300 times
def test_nan_and_infinity_are_refused_in_every_numeric_field() -> None:
    paths = _every_numeric_path()
    assert len(paths) > 100  # every knob of every section, not a sample
    for bad in (math.nan, math.inf, -math.inf):
        for path in paths:
            data = bundled_data()
            _set(data, path, bad)
            with pytest.raises(RoutineError) as caught:
                parse_routine(toml_text(data), "patient.toml")
            shown = ".".join(str(p) for p in path if not isinstance(p, int))
            assert shown.split(".")[-1] in str(caught.value), (path, str(caught.value))


@pytest.mark.parametrize(
    "text",
    [
        "{count:d} done",
        "{remaining:>1000000000} seconds",
        "{count!r} done",
        "{count!s:>5}",
        "{count.real}",
        "{count[0]}",
        "{} done",
        "{0} done",
    ],
)
def test_cue_texts_allow_only_the_plain_known_placeholders(text: str) -> None:
    data = bundled_data()
    data["exercises"][0]["cues"]["rep_counted"] = text  # type: ignore[index]
    with pytest.raises(RoutineError, match="rep_counted"):
        parse_routine(toml_text(data), "patient.toml")


def test_plain_placeholders_and_doubled_braces_still_pass() -> None:
    data = bundled_data()
    data["exercises"][0]["cues"]["rep_counted"] = "{count} of {target} {{well done}}"  # type: ignore[index]
    parse_routine(toml_text(data), "patient.toml")


@pytest.mark.parametrize(
    "where",
    ["title", "notes", "intro", "cue", "unknown key", "exercise title"],
)
def test_huge_texts_are_refused_at_once(where: str) -> None:
    huge = "x" * 1_000_000
    data = bundled_data()
    exercise = data["exercises"][0]  # type: ignore[index]
    if where in ("title", "notes"):
        data[where] = huge
    elif where == "intro":
        exercise["intro"] = huge
    elif where == "cue":
        exercise["cues"]["relax"] = huge
    elif where == "exercise title":
        exercise["title"] = huge
    else:
        data["session"][huge] = 1  # type: ignore[index]
    text = toml_text(data)
    started = time.monotonic()
    with pytest.raises(RoutineError) as caught:
        parse_routine(text, "patient.toml")
    assert time.monotonic() - started < 5
    assert len(str(caught.value)) < 1000


def test_huge_texts_just_inside_the_file_limit_are_refused_quickly(tmp_path: Path) -> None:
    data = bundled_data()
    data["title"] = "y" * (ROUTINE_MAX_BYTES // 2)
    path = tmp_path / "big.toml"
    path.write_text(toml_text(data))
    started = time.monotonic()
    done = coach("routine", "check", str(path))
    assert done.code == 1 and "at most 120 are allowed" in done.err
    assert time.monotonic() - started < 5
    path.write_text("# " + "z" * ROUTINE_MAX_BYTES)
    done = coach("routine", "check", str(path))
    assert done.code == 1 and "too large for a routine file" in " ".join(done.err.split())


DEEP = "a = " + "[" * 1000 + "]" * 1000 + "\n"
DEEP_TABLES = "a = " + "{b = " * 1000 + "1" + "}" * 1000 + "\n"


@pytest.mark.parametrize("text", [DEEP, DEEP_TABLES, "x = " + "[" * 50 + "]" * 50])
def test_deep_nesting_is_refused_cleanly(text: str) -> None:
    with pytest.raises(RoutineError, match="nested more than 16 deep"):
        parse_routine(text, "deep.toml")


def test_a_deep_file_in_the_routines_folder_is_listed_as_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    folder = tmp_path / "coach" / "routines"
    folder.mkdir(parents=True)
    (folder / "deep.toml").write_text(DEEP)
    monkeypatch.setenv("COLUMNS", "300")
    done = coach("routines")
    assert done.code == 0, done.text
    assert "deep" in done.out and "invalid" in done.out and "nested more than 16" in done.out


def test_a_routine_saved_with_a_byte_order_mark_is_read() -> None:
    text = "\ufeff" + BUNDLED.read_text(encoding="utf-8")
    assert parse_routine(text, "bom.toml").name == "back-spasm-relief"


def test_a_routine_file_with_a_byte_order_mark_checks_ok(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BUNDLED.read_bytes())
    done = coach("routine", "check", str(path))
    assert done.code == 0 and "OK" in done.out


def test_copying_a_non_utf8_routine_names_the_source(tmp_path: Path) -> None:
    source = tmp_path / "latin1.toml"
    source.write_bytes(BUNDLED.read_bytes().replace(b"child's", b"child\xe9s"))
    target = tmp_path / "copy.toml"
    done = coach("routine", "new", "anna", "--from", str(source), "--to", str(target))
    assert done.code == 2
    flat = " ".join(done.err.split())
    assert "latin1.toml is not UTF-8 text" in flat and "copy.toml" not in flat
    one_line_error(done.err)
    assert not target.exists()


@pytest.mark.parametrize("name", ["evil\n", "evil\r", "ev\til", "evil\x00", "évil", "a" * 65])
def test_routine_names_with_control_characters_are_refused(tmp_path: Path, name: str) -> None:
    assert not is_routine_name(name)
    done = coach("routine", "new", name, "--to", str(tmp_path / "x.toml"))
    assert done.code == 2 and "is not a routine name" in done.err
    assert not (tmp_path / "x.toml").exists()


# ------------------------------------------------------------------ square brackets
def test_bracketed_text_is_shown_as_written(tmp_path: Path) -> None:
    data = bundled_data()
    data["title"] = "Anna [/] week [bold]2"
    data["exercises"][1]["cues"]["breathe_in"] = "Breathe in [slowly]"  # type: ignore[index]
    folder = tmp_path / "r[" / "]x"  # the path holds "[/]"
    folder.mkdir(parents=True)
    path = folder / "anna.toml"
    path.write_text(toml_text(data))
    done = coach("routine", "show", str(path), "--cues")
    assert done.code == 0, done.text
    assert "Anna [/] week [bold]2" in done.out and "Breathe in [slowly]" in done.out
    done = coach("routine", "check", str(path))
    assert done.code == 0 and "r[/]x" in done.out


@pytest.mark.slow
def test_a_headless_session_with_brackets_everywhere_runs_and_keeps_its_record(
    tmp_path: Path,
) -> None:
    import cv2

    data = bundled_data()
    data["title"] = "Anna [/] week [bold]2"
    data["session_cues"]["welcome"] = "Hello [slowly] [/]"  # type: ignore[index]
    folder = tmp_path / "a[" / "]b"  # every path below holds "[/]"
    (folder / "images").mkdir(parents=True)
    cv2.imwrite(str(folder / "images" / "0.png"), np.zeros((48, 64, 3), np.uint8))
    (folder / "anna.toml").write_text(toml_text(data))
    args = ["run", "--routine", str(folder / "anna.toml"), "--source", str(folder / "images")]
    args += ["--answers", "no", "--headless", "--mute", "--no-realtime"]
    done = coach(*args, "--out", str(folder / "rec"))
    assert done.code == 0, done.text
    assert "Anna [/] week [bold]2" in done.out and "coach: Hello [slowly] [/]" in done.out
    assert f"Record saved in {folder / 'rec'}" in done.out
    session = load_session(next((folder / "rec").iterdir()))
    assert session.routine.title == "Anna [/] week [bold]2" and session.finished


def test_the_yes_no_hint_stays_in_the_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from coach.app import prompts

    screen = io.StringIO()
    console = Console(file=screen, width=200)
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n" * 7))
    monkeypatch.setattr(prompts, "interactive", lambda: True)
    answers = prompts.ask_safety(console)
    assert answers == dict.fromkeys(answers, False) and len(answers) == 7
    assert screen.getvalue().count("[y/n]") == 7


def test_errors_with_brackets_in_paths_are_printed_not_parsed(tmp_path: Path) -> None:
    done = coach("report", str(tmp_path / "[" / "]missing"))
    assert done.code == 2 and "[/]missing" in done.err
    one_line_error(done.err)
    done = coach("run", "--source", str(tmp_path / "[bold]x[/].mp4"), "--answers", "no")
    assert done.code == 2 and "[bold]x[/].mp4 does not exist" in done.err


# ------------------------------------------------------------------ media
def _video(path: Path, fps: float, frames: int) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), (i * 40) % 255, np.uint8))
    writer.release()
    return path


def test_a_slow_video_is_timed_at_its_own_rate(tmp_path: Path) -> None:
    from coach.adapters.frames import VideoFileSource

    source = VideoFileSource(_video(tmp_path / "slow.mp4", 0.5, 4), prefetch=0)
    times = [frame.t_s for frame in source]
    source.close()
    assert times == [0.0, 2.0, 4.0, 6.0]
    assert source.notes == []


def test_an_impossible_frame_rate_is_named_and_replaced(tmp_path: Path) -> None:
    import cv2

    from coach.adapters.frames import DEFAULT_FPS, VideoFileSource

    path = tmp_path / "odd.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 0.01, (64, 48))
    for _ in range(3):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    source = VideoFileSource(path, prefetch=0)
    times = [frame.t_s for frame in source]
    source.close()
    assert source.fps == DEFAULT_FPS
    assert times == pytest.approx([0.0, 1 / DEFAULT_FPS, 2 / DEFAULT_FPS])
    assert "declares 0.01 frames a second, which cannot be right" in source.notes[0]


def test_a_cut_off_video_is_warned_about(tmp_path: Path) -> None:
    from coach.adapters.frames import VideoFileSource

    whole = _video(tmp_path / "whole.avi", 10.0, 1)
    import cv2

    writer = cv2.VideoWriter(str(whole), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
    for i in range(60):
        writer.write(np.random.default_rng(i).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    writer.release()
    data = whole.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    source = VideoFileSource(cut, prefetch=0)
    read = sum(1 for _ in source)
    source.close()
    assert 0 < read < 60
    assert source.frame_count == 60
    assert any(f"ends after {read} of the 60 frames" in note for note in source.notes)
    whole_source = VideoFileSource(whole, prefetch=0)
    assert sum(1 for _ in whole_source) == 60 and whole_source.notes == []


@pytest.mark.parametrize(
    "args",
    [
        ("classify", ""),
        ("pose", ""),
        ("analyze", "", "-e", "cat_cow"),
        ("report", ""),
        ("history", ""),
        ("run", "--source", ""),
        ("run", "--source="),
        ("run", "--out", "", "--answers", "no"),
        ("routine", "check", ""),
    ],
)
def test_an_empty_argument_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.chdir(tmp_path)
    done = coach(*args)
    assert done.code == 2 and "empty value given" in done.err
    one_line_error(done.err)
    assert list(tmp_path.iterdir()) == []


def test_folders_are_named_as_folders(tmp_path: Path) -> None:
    from coach.adapters.frames import VideoFileSource
    from coach.adapters.pose_model import verify_model

    with pytest.raises(ModelError, match="is a folder, not a pose model file"):
        verify_model(tmp_path)
    with pytest.raises(SourceError, match="is a folder, not a video file"):
        VideoFileSource(tmp_path)
    done = coach("analyze", str(tmp_path), "-e", "cat_cow")
    assert done.code == 2 and "is a folder, not a video file" in done.err


def test_a_pipe_is_not_taken_for_a_file(tmp_path: Path) -> None:
    from coach.adapters.frames import open_source

    fifo = tmp_path / "answers.json"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            parse_answers(str(fifo))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(5.0)
    assert not worker.is_alive(), "reading a FIFO as --answers blocked"
    assert isinstance(outcome[0], AnswersError)
    assert "not a regular file" in str(outcome[0])
    plain_fifo = tmp_path / "fifo"
    os.mkfifo(plain_fifo)
    with pytest.raises(AnswersError, match="not a regular file"):
        parse_answers(str(plain_fifo))
    with pytest.raises(SourceError, match="not a regular file"):
        open_source(str(plain_fifo))


def test_a_damaged_model_file_is_found_before_loading(tmp_path: Path) -> None:
    from coach.adapters.pose_model import bundled_model_path, verify_model

    good = bundled_model_path().read_bytes()
    copy = tmp_path / "copy.task"
    copy.write_bytes(good)
    assert verify_model(copy) == copy
    for offset in (200, len(good) // 2, len(good) - 200):
        flipped = bytearray(good)
        flipped[offset] ^= 0x01
        bad = tmp_path / f"flipped-{offset}.task"
        bad.write_bytes(bytes(flipped))
        with pytest.raises(ModelError, match="damaged"):
            verify_model(bad)
    done = coach("run", "--model", str(bad), "--answers", "no", "--out", str(tmp_path / "rec"))
    assert done.code == 2 and "damaged" in done.err
    assert not (tmp_path / "rec").exists()


@pytest.mark.slow
def test_batches_go_on_past_unreadable_images_and_write_owner_only_copies(
    tmp_path: Path,
) -> None:
    import cv2

    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((48, 64, 3), np.uint8))
    (folder / "b.jpg").write_bytes(b"not a picture")
    cv2.imwrite(str(folder / "c.png"), np.zeros((48, 64, 3), np.uint8))
    done = coach("classify", str(folder), "--json")
    assert done.code == 1, done.text
    rows = json.loads(done.out)
    assert [Path(row["file"]).name for row in rows] == ["a.png", "b.jpg", "c.png"]
    assert [row["state"] for row in rows] == ["no_pose", "unreadable", "no_pose"]
    assert "skipped: Cannot read image" in done.err and "b.jpg" in done.err
    old = os.umask(0)
    try:
        done = coach("pose", str(folder), "--out", str(tmp_path / "annotated"))
        assert done.code == 0, done.text
        assert "a.png" in done.out and "c.png" in done.out and "b.jpg" in done.err
        written = sorted((tmp_path / "annotated").iterdir())
        assert [p.name for p in written] == ["a.png", "c.png"]
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
        assert stat.S_IMODE((tmp_path / "annotated").stat().st_mode) == 0o700
        video = _video(tmp_path / "clip.mp4", 10.0, 3)
        done = coach("pose", str(video), "--out", str(tmp_path / "copy.mp4"))
        assert done.code == 0, done.text
        assert stat.S_IMODE((tmp_path / "copy.mp4").stat().st_mode) == 0o600
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    finally:
        os.umask(old)


# ------------------------------------------------------------------ permissions
def _without_root_powers() -> list[str]:
    """A prefix that runs a command as root without the power to ignore permissions."""
    import shutil

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to take away the power to ignore permissions")
    drop = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}"]


def _coach_without_root_powers(*args: str) -> tuple[int, str]:
    import subprocess
    import sys

    prefix = _without_root_powers()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "COLUMNS": "300"}
    done = subprocess.run(
        [*prefix, sys.executable, "-c", "from coach.app.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.slow
def test_permission_errors_are_reported_as_such(tmp_path: Path) -> None:
    import cv2

    image = tmp_path / "locked.png"
    cv2.imwrite(str(image), np.zeros((40, 60, 3), np.uint8))
    image.chmod(0)
    code, text = _coach_without_root_powers("pose", str(image))
    assert code == 2 and "permission denied" in text and "Traceback" not in text
    rec = tmp_path / "rec"
    record(bundled_routine(), rec)
    locked = record(bundled_routine(), rec, started_at=datetime(2026, 11, 30, 9, 0))
    (locked / "session.json").chmod(0)
    code, text = _coach_without_root_powers("history", str(rec))
    assert code == 0 and "Traceback" not in text
    assert (
        "1 sessions" in text and f"skipped: {locked.name}" in text and "permission denied" in text
    )
    code, text = _coach_without_root_powers("report", str(locked))
    assert code == 2 and "permission denied" in text and "Traceback" not in text


# ------------------------------------------------------------------ records
def _damage(folder: Path, how: str) -> None:
    if how == "event not an object":
        with (folder / "events.jsonl").open("a") as handle:
            handle.write("[1, 2]\n")
            handle.write('{"kind": "paused", "t_s": 1.0}\n')
    elif how == "huge csv field":
        with (folder / "frames.csv").open("a") as handle:
            handle.write('1.0,childs_pose,"' + "x" * 131_072 + '"\n')
    elif how == "exercises null":
        summary = json.loads((folder / "summary.json").read_text())
        summary["exercises"] = [None]
        (folder / "summary.json").write_text(json.dumps(summary))
    elif how == "hold without times":
        summary = json.loads((folder / "summary.json").read_text())
        summary["exercises"][0]["achieved"]["holds"][0].pop("start_s")
        summary["exercises"][2]["achieved"]["holds"] = [{"x": 1}]
        (folder / "summary.json").write_text(json.dumps(summary))
    elif how == "year 9999":
        meta = json.loads((folder / "session.json").read_text())
        meta["started_at"] = "9999-12-31T23:59:59"
        (folder / "session.json").write_text(json.dumps(meta))
    elif how == "deep summary":
        (folder / "summary.json").write_text("[" * 100_000 + "]" * 100_000)
    elif how == "deep routine":
        (folder / "routine.toml").write_text(DEEP)
    elif how == "not json":
        (folder / "session.json").write_text("{")


@pytest.mark.parametrize(
    "how",
    [
        "event not an object",
        "huge csv field",
        "exercises null",
        "hold without times",
        "year 9999",
        "deep summary",
        "deep routine",
        "not json",
    ],
)
def test_a_damaged_session_is_named_and_the_others_still_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    routine = bundled_routine()
    good = record(routine, tmp_path, started_at=datetime(2026, 11, 23, 9, 0))
    bad = record(routine, tmp_path, started_at=datetime(2026, 11, 24, 9, 0))
    _damage(bad, how)
    done = coach("history", str(tmp_path))
    assert done.code == 0, done.text
    assert "Traceback" not in done.text
    assert good.name not in done.out or "2026-11-23" in done.out
    shown_or_skipped = "2 sessions" in done.out or f"skipped: {bad.name}" in done.out
    assert shown_or_skipped, done.out
    report = coach("report", str(bad), "--out", str(tmp_path / "bad.html"))
    assert report.code in (0, 2), report.text
    assert "Traceback" not in report.text
    if report.code == 2:
        assert bad.name in " ".join(report.err.split())
    else:
        assert (tmp_path / "bad.html").is_file()


def test_history_of_sessions_years_apart_is_short(tmp_path: Path) -> None:
    routine = bundled_routine()
    record(routine, tmp_path, started_at=datetime(1, 1, 1, 9, 0))
    record(routine, tmp_path, started_at=datetime(9999, 12, 31, 9, 0))
    started = time.monotonic()
    done = coach("history", str(tmp_path))
    assert done.code == 0, done.text
    assert time.monotonic() - started < 5
    assert len(done.out.splitlines()) < 60
    first, last = datetime(1, 1, 1).date(), datetime(9999, 12, 27).date()  # both Mondays
    weeks = (last - first).days // 7 + 1
    assert f"(for {weeks - 2} weeks)" in done.out
    assert f"over {weeks} weeks" in done.out


def test_formula_cells_are_neutralised_in_the_csv(tmp_path: Path) -> None:
    import csv

    folder = record(bundled_routine(), tmp_path / "rec")
    evil = folder.with_name('=HYPERLINK("x","y")')
    folder.rename(evil)
    out = tmp_path / "table.csv"
    done = coach("history", str(tmp_path / "rec"), "--csv", str(out))
    assert done.code == 0, done.text
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["folder"] == "'" + evil.name
    for cell in (value for row in rows for value in row.values()):
        assert not cell.startswith(("=", "+", "-", "@"))


def test_patient_files_written_outside_sessions_are_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cv2

    old = os.umask(0)
    try:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
        rec = tmp_path / "data" / "coach" / "recordings"
        record(bundled_routine(), rec)
        assert coach("history", str(rec), "--csv", str(tmp_path / "t.csv")).code == 0
        assert coach("routine", "new", "anna").code == 0
        image = tmp_path / "in.png"
        cv2.imwrite(str(image), np.zeros((40, 60, 3), np.uint8))
        folder = next(rec.iterdir())
        assert coach("report", str(folder), "--out", str(tmp_path / "r.html")).code == 0
        written = [
            tmp_path / "t.csv",
            tmp_path / "config" / "coach" / "routines" / "anna.toml",
            tmp_path / "r.html",
        ]
        for path in written:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        for path in (tmp_path / "data", rec.parent, rec, tmp_path / "config" / "coach"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
        shared = tmp_path / "shared"
        shared.mkdir(mode=0o755)
        assert coach("report", str(folder), "--out", str(shared / "r.html")).code == 0
        assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # the user's own folder, untouched
        assert stat.S_IMODE((shared / "r.html").stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_outputs_replace_whole_files_only(tmp_path: Path) -> None:
    from coach.files import write_atomic, write_output

    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]
    with pytest.raises(SessionDataError, match="is a folder"):
        write_output(tmp_path, "x", "CSV file", error=SessionDataError)


def _mount_tmpfs(where: Path, size: str) -> None:
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("a small file system to fill needs root")
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)])
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")


def _umount(where: Path) -> None:
    import subprocess

    subprocess.run(["umount", str(where)], check=False)


@pytest.mark.slow  # mounts a small disk
def test_a_full_disk_gives_one_error_and_a_loadable_folder(tmp_path: Path) -> None:
    from records_helpers import SAFE_ANSWERS, play

    from coach.adapters.storage import SessionRecorder

    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "40k")
    try:
        routine = bundled_routine()
        recorder = SessionRecorder(disk, name="full")
        with pytest.raises(SessionDataError, match="No space left on device"):
            recorder.start(routine=routine, source="synthetic", started_at=datetime(2026, 1, 1))
            recorder.safety(SAFE_ANSWERS, 4)
            for _ in range(50):
                for step in play(routine):
                    recorder.frame(step.t_s, step.exercise, step.state, step.values)
                    for event in step.events:
                        recorder.event(event)
        recorder.close()  # the second failure, on close, stays quiet
        recorder.close()
        session = load_session(recorder.folder)
        assert not session.complete and session.pain_before == 4
        assert len(session.frames) > 0
        target = disk / "keep.txt"
        with pytest.raises(OSError):
            target.write_text("x" * 100_000)
        assert sorted(p.name for p in disk.iterdir() if p.name.startswith(".")) == []
    finally:
        _umount(disk)


@pytest.mark.slow
def test_a_full_disk_during_a_real_session_is_one_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    import cv2

    images = tmp_path / "images"
    images.mkdir()
    for i in range(3):
        cv2.imwrite(str(images / f"{i}.png"), np.zeros((48, 64, 3), np.uint8))
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "28k")
    try:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        args = ["run", "--source", str(images), "--answers", "no", "--headless", "--mute"]
        args += ["--no-realtime", "--out", str(disk / "rec")]
        done = subprocess.run(
            [sys.executable, "-c", "from coach.app.cli import main; main()", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert " ".join(done.stderr.split()).count("No space left on device") == 1
        history = coach("history", str(disk / "rec"))
        assert history.code == 0 and "Traceback" not in history.text
    finally:
        _umount(disk)


# ------------------------------------------------------------------ small
def test_the_summary_never_says_none() -> None:
    from coach.app.session_loop import _summary_lines

    lines = _summary_lines({"exercises": [], "pain": {"before": 3, "after": None}})
    assert lines == ["  Pain: before 3, after -"]
    lines = _summary_lines({"exercises": [], "pain": {"before": None, "after": 2}})
    assert lines == ["  Pain: before -, after 2"]
