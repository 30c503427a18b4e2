"""Session folders: written as the session goes, crash-safe, read back."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from records_helpers import STARTED_AT, bundled_routine, play, record

from coach.adapters.storage import (
    EVENTS_FILE,
    FRAMES_FILE,
    ROUTINE_FILE,
    SAFETY_FILE,
    SESSION_FILE,
    SUMMARY_FILE,
    SessionRecorder,
    default_recordings_dir,
    list_sessions,
    load_session,
)
from coach.core.events import Event, EventKind
from coach.core.record import summarize
from coach.core.routine import Routine, resolved_toml
from coach.errors import SessionDataError

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def routine() -> Routine:
    return bundled_routine()


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A permissive umask, so the modes checked are the ones the recorder sets."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_a_session_reads_back_as_written(routine: Routine, tmp_path: Path) -> None:
    folder = record(routine, tmp_path)
    steps = list(play(routine))
    events = [e for s in steps for e in s.events]
    frames = [s for s in steps if s.exercise is not None]

    data = load_session(folder)
    assert data.finished and data.complete
    assert data.warnings == ()
    # The routine as prescribed, written out in full: it reads back the same.
    assert (folder / ROUTINE_FILE).read_text(encoding="utf-8") == resolved_toml(routine)
    assert "extends" not in tomllib.loads((folder / ROUTINE_FILE).read_text(encoding="utf-8"))
    assert data.routine.exercises == routine.exercises
    assert data.routine.session_cues == routine.session_cues
    assert data.routine.name == routine.name
    assert data.meta["routine"] == routine.name
    assert data.meta["source"] == "synthetic"
    assert data.meta["started_at"] == STARTED_AT.isoformat()
    assert "coach" in data.meta["versions"]
    assert [e.to_dict() for e in data.events] == [e.to_dict() for e in events]
    assert len(data.frames) == len(frames)
    assert data.frames.t_s[5] == pytest.approx(frames[5].t_s, abs=1e-3)
    assert data.frames.column("hip")[5] == pytest.approx(frames[5].values["hip"], abs=1e-3)
    assert data.frames.state[5] == frames[5].state
    assert data.summary == json.loads(json.dumps(summarize(routine, events, complete=True)))
    assert data.safety["answers"]["night_pain"] is False
    assert (data.pain_before, data.pain_after) == (6, 3)
    assert folder.name == STARTED_AT.strftime("%Y%m%d-%H%M%S")


def test_folders_and_files_are_readable_by_the_user_only(
    routine: Routine, tmp_path: Path, open_umask: None
) -> None:
    folder = record(routine, tmp_path / "new" / "root")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    names = {p.name for p in folder.iterdir()}
    assert {
        SESSION_FILE,
        ROUTINE_FILE,
        SAFETY_FILE,
        FRAMES_FILE,
        EVENTS_FILE,
        SUMMARY_FILE,
    } <= names
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_two_sessions_in_the_same_second_get_two_folders(routine: Routine, tmp_path: Path) -> None:
    first = SessionRecorder(tmp_path, name="Anna K.", started_at=STARTED_AT)
    second = SessionRecorder(tmp_path, name="Anna K.", started_at=STARTED_AT)
    assert first.folder != second.folder
    assert first.folder.name == "20261123-093000-Anna-K"
    assert second.folder.name == "20261123-093000-Anna-K-2"


CHILD = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from records_helpers import STARTED_AT, SAFE_ANSWERS, bundled_routine, play
from coach.adapters.storage import SessionRecorder

routine = bundled_routine()
recorder = SessionRecorder(Path({root!r}), started_at=STARTED_AT)
recorder.start(routine=routine, source="camera 0", started_at=STARTED_AT)
recorder.safety(SAFE_ANSWERS, 7)
frames = events = 0
for step in play(routine):
    if step.t_s > {stop_s}:
        break
    if step.exercise is not None:
        recorder.frame(step.t_s, step.exercise, step.state, step.values)
        frames += 1
    for event in step.events:
        recorder.event(event)
        events += 1
print(recorder.folder, frames, events, flush=True)
{die}
"""

DEATHS = {
    "SIGKILL": "os.kill(os.getpid(), signal.SIGKILL)",
    "os._exit": "os._exit(3)",
}


@pytest.mark.slow
@pytest.mark.parametrize("death", list(DEATHS))
def test_a_killed_session_keeps_everything_written_before(tmp_path: Path, death: str) -> None:
    code = CHILD.format(tests=str(TESTS), root=str(tmp_path), stop_s=40.0, die=DEATHS[death])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0, proc.stderr
    folder_text, frames, events = proc.stdout.split()
    folder = Path(folder_text)
    assert not (folder / SUMMARY_FILE).exists()

    data = load_session(folder)
    assert not data.finished and not data.complete
    assert len(data.frames) == int(frames) > 0
    assert len(data.events) == int(events) > 0
    assert data.pain_before == 7
    assert data.summary["completed"] is False
    childs_pose = data.summary["exercises"][0]
    assert childs_pose["started"] and not childs_pose["completed"]
    assert childs_pose["achieved"]["holds_completed"] == 1  # the first 30 s hold ended by 33 s
    assert any("cut off" in w for w in data.warnings)


def test_a_truncated_last_line_is_tolerated(routine: Routine, tmp_path: Path) -> None:
    folder = record(routine, tmp_path, stop_after_s=50.0)
    before = load_session(folder)
    with (folder / EVENTS_FILE).open("a", encoding="utf-8") as handle:
        handle.write('{"kind": "hold_ended", "t_s": 51.0, "exerc')
    with (folder / FRAMES_FILE).open("a", encoding="utf-8") as handle:
        handle.write("51.000,childs_pose,chil")

    after = load_session(folder)
    assert len(after.events) == len(before.events)
    assert len(after.frames) == len(before.frames)
    assert not after.complete
    assert any(EVENTS_FILE in w and "cut off" in w for w in after.warnings)
    assert any(FRAMES_FILE in w and "cut off" in w for w in after.warnings)


def _empty(tmp: Path) -> Path:
    (tmp / "holiday").mkdir()
    (tmp / "holiday" / "photo.jpg").write_bytes(b"x")
    return tmp / "holiday"


def _file(tmp: Path) -> Path:
    path = tmp / "notes.txt"
    path.write_text("hello")
    return path


def _missing(tmp: Path) -> Path:
    return tmp / "nowhere"


def _no_routine(tmp: Path) -> Path:
    folder = tmp / "20260101-100000"
    folder.mkdir()
    (folder / SESSION_FILE).write_text("{}")
    return folder


def _bad_json(tmp: Path) -> Path:
    folder = tmp / "20260101-100000"
    folder.mkdir()
    (folder / SESSION_FILE).write_text("{not json")
    (folder / ROUTINE_FILE).write_text(bundled_routine().text)
    return folder


def _bad_routine(tmp: Path) -> Path:
    folder = tmp / "20260101-100000"
    folder.mkdir()
    (folder / SESSION_FILE).write_text("{}")
    (folder / ROUTINE_FILE).write_text('name = "x"\ntitel = "typo"\n')
    return folder


NOT_SESSIONS = [
    ("a folder of photos", _empty, ["not a session folder", "session.json", "routine.toml"]),
    ("a file", _file, ["is a file, not a session folder"]),
    ("a path that does not exist", _missing, ["No session folder", "nowhere"]),
    ("no routine saved", _no_routine, ["routine.toml missing"]),
    ("a damaged session.json", _bad_json, ["session.json cannot be read"]),
    ("a damaged routine.toml", _bad_routine, ["routine saved with the session", "titel"]),
]


@pytest.mark.parametrize(("case", "make", "words"), NOT_SESSIONS, ids=[c[0] for c in NOT_SESSIONS])
def test_a_folder_that_is_not_a_session_is_refused_clearly(
    tmp_path: Path, case: str, make: object, words: list[str]
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(SessionDataError) as info:
        load_session(path)
    message = str(info.value)
    assert path.name in message or str(path) in message
    for word in words:
        assert word in message, (case, message)


def test_a_folder_of_sessions_is_named_as_such(routine: Routine, tmp_path: Path) -> None:
    record(routine, tmp_path)
    record(routine, tmp_path, started_at=datetime(2026, 11, 24, 9, 0, 0))
    with pytest.raises(SessionDataError, match="folder of sessions"):
        load_session(tmp_path)
    assert [p.name for p in list_sessions(tmp_path)] == ["20261123-093000", "20261124-090000"]


def test_a_sent_folder_holding_the_recordings_one_level_down(
    routine: Routine, tmp_path: Path
) -> None:
    record(routine, tmp_path / "from-anna" / "recordings")
    (tmp_path / "from-anna" / "notes").mkdir()
    assert len(list_sessions(tmp_path / "from-anna")) == 1


def test_an_event_after_close_is_ignored_not_raised(routine: Routine, tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path, started_at=STARTED_AT)
    recorder.start(routine=routine, source="x", started_at=STARTED_AT)
    recorder.event(Event(EventKind.PAUSED, 1.0))
    recorder.close()
    recorder.close()
    recorder.event(Event(EventKind.RESUMED, 2.0))
    recorder.frame(2.0, None, None, {})
    assert len(load_session(recorder.folder).events) == 1


def test_pain_after_is_added_to_safety_json(routine: Routine, tmp_path: Path) -> None:
    with SessionRecorder(tmp_path, started_at=STARTED_AT) as recorder:
        recorder.start(routine=routine, source="x", started_at=STARTED_AT)
        recorder.safety({"night_pain": False}, 5)
        recorder.event(Event(EventKind.PAIN_RATED, 9.0, None, {"when": "after", "score": 2}))
    safety = json.loads((recorder.folder / SAFETY_FILE).read_text())
    assert safety == {"answers": {"night_pain": False}, "pain_before": 5, "pain_after": 2}


def test_unknown_values_are_empty_cells_and_extra_signals_are_kept(
    routine: Routine, tmp_path: Path
) -> None:
    with SessionRecorder(tmp_path, started_at=STARTED_AT) as recorder:
        recorder.start(routine=routine, source="x", started_at=STARTED_AT)
        recorder.frame(0.0, "hip_lift", None, {"hip": float("nan"), "gauge": 0.5})
        recorder.frame(0.1, "hip_lift", "bridge_up", {"hip": 140.0})
    data = load_session(recorder.folder)
    assert list(data.frames.state) == [None, "bridge_up"]
    hip = data.frames.column("hip")
    assert hip[1] == 140.0 and hip[0] != hip[0]  # NaN
    assert data.frames.column("gauge")[0] == 0.5


@pytest.mark.parametrize("checkout", [True, False])
def test_default_recordings_dir(tmp_path: Path, checkout: bool) -> None:
    if checkout:
        (tmp_path / "pyproject.toml").write_text("")
        (tmp_path / "recordings").mkdir()
        (tmp_path / "recordings" / "README.md").write_text("")
    found = default_recordings_dir(tmp_path)
    if checkout:
        assert found == tmp_path / "recordings"
    else:
        assert found.name == "recordings" and tmp_path not in found.parents
        assert "coach" in found.parts


def test_the_annotated_video_is_written_to_the_session_folder(
    tmp_path: Path, open_umask: None
) -> None:
    import cv2
    import numpy as np

    from coach.adapters.video_writer import AnnotatedVideoWriter

    with AnnotatedVideoWriter(tmp_path, fps=15.0) as writer:
        for i in range(20):
            image = np.full((120, 160, 3), 40, np.uint8)
            cv2.circle(image, (8 * i, 60), 10, (0, 255, 0), -1)
            writer.write(image)
        writer.write(np.zeros((240, 320, 3), np.uint8))  # another size is fitted, not refused
    assert writer.frames == 21
    assert stat.S_IMODE(writer.path.stat().st_mode) == 0o600
    capture = cv2.VideoCapture(str(writer.path))
    try:
        ok, first = capture.read()
        assert ok and first.shape == (120, 160, 3)
        assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 21
    finally:
        capture.release()
