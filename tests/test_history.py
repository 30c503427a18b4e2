"""``coach history``: the sessions of a folder as a table, CSV and weekly adherence."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path

import pytest
from records_helpers import bundled_routine, record

from coach.adapters.storage import load_session
from coach.core.record import history_row, weekly_adherence


@pytest.fixture(scope="module")
def sent_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a patient sends: one completed session, then one that crashed a week later."""
    root = tmp_path_factory.mktemp("from-patient")
    routine = bundled_routine()
    record(routine, root, started_at=datetime(2026, 11, 16, 18, 5, 0))  # Monday, W47
    record(routine, root, stop_after_s=45.0, started_at=datetime(2026, 11, 26, 8, 0, 0))  # W48
    (root / "notes.txt").write_text("from Anna")
    broken = root / "20261120-090000"  # a session folder whose routine was lost
    broken.mkdir()
    (broken / "session.json").write_text("{}")
    return root


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    from coach.app.cli import main

    monkeypatch.setattr(sys, "argv", ["coach", *args])
    monkeypatch.setenv("COLUMNS", "200")
    try:
        main()
    except SystemExit as done:
        assert done.code in (0, None)


def test_history_table_and_adherence(
    sent_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run(monkeypatch, "history", str(sent_folder))
    out = capsys.readouterr().out
    assert "2 sessions" in out and "1 completed" in out and "2 weeks" in out
    assert "1.0 sessions per week" in out
    assert "2026-W47" in out and "2026-W48" in out
    assert "2026-11-16 18:05" in out and "2026-11-26 08:00" in out
    assert "completed" in out and "INCOMPLETE (cut off)" in out
    assert "Child's pose: 2/3 holds" in out
    assert "Hip lifts: 4/5 lifts" in out  # achieved against prescribed in the full session
    assert "skipped" in out and "20261120-090000" in out and "routine.toml missing" in out


def test_history_csv(
    sent_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "anna.csv"
    run(monkeypatch, "history", str(sent_folder), "--csv", str(out))
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["date"] for r in rows] == ["2026-11-16T18:05:00", "2026-11-26T08:00:00"]
    done, crashed = rows
    assert (done["status"], done["completed"]) == ("completed", "yes")
    assert crashed["status"] == "INCOMPLETE (cut off)" and crashed["completed"] == "no"
    assert (done["pain_before"], done["pain_after"]) == ("6", "3")
    assert (crashed["pain_before"], crashed["pain_after"]) == ("6", "")
    assert (done["childs_pose_achieved"], done["childs_pose_prescribed"]) == ("2", "3")
    assert (done["hip_lift_achieved"], done["hip_lift_prescribed"]) == ("4", "5")
    assert crashed["hip_lift_achieved"] == "0"
    assert done["routine"] == "back-spasm-relief"


def test_adherence_from_loaded_sessions(sent_folder: Path) -> None:
    folders = sorted(p for p in sent_folder.iterdir() if (p / "routine.toml").is_file())
    rows = [history_row(load_session(p)) for p in folders]
    weeks = weekly_adherence(rows)
    assert [(w.week, w.sessions, w.completed) for w in weeks] == [
        ("2026-W47", 1, 1),
        ("2026-W48", 1, 0),
    ]


def test_history_of_an_empty_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run(monkeypatch, "history", str(tmp_path))
    assert "No sessions" in capsys.readouterr().out


def test_history_of_a_missing_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from coach.app.cli import main

    monkeypatch.setattr(sys, "argv", ["coach", "history", str(tmp_path / "nope")])
    with pytest.raises(SystemExit) as refused:
        main()
    assert refused.value.code == 2
    assert "No folder of sessions" in " ".join(capsys.readouterr().err.split())
