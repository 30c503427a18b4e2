"""Patients: sessions name them; history and report filter by them; export and read back."""

from __future__ import annotations

import dataclasses
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from records_helpers import bundled_routine, record
from test_history import run

from coach.adapters.archive import RECORD_FILES, unpack_archive
from coach.adapters.storage import load_session
from coach.errors import SessionDataError


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sessions of anna-k a week apart, one of bob, in one recordings folder."""
    root = tmp_path_factory.mktemp("recordings")
    base = bundled_routine()
    anna = dataclasses.replace(base, patient="anna-k")
    bob = dataclasses.replace(base, patient="bob")
    first = record(anna, root, started_at=datetime(2026, 11, 16, 18, 5, 0))
    record(bob, root, started_at=datetime(2026, 11, 17, 9, 0, 0))
    record(anna, root, started_at=datetime(2026, 11, 23, 18, 0, 0))
    (first / "session.mp4").write_bytes(b"\0" * 1024)  # a saved video: it never leaves home
    return root


def test_a_session_names_its_patient(recordings: Path) -> None:
    folders = sorted(p for p in recordings.iterdir() if p.is_dir())
    assert [load_session(f).patient for f in folders] == ["anna-k", "bob", "anna-k"]
    assert load_session(folders[0]).meta["patient"] == "anna-k"


def test_history_groups_and_filters_by_patient(
    recordings: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run(monkeypatch, "history", str(recordings))
    out = capsys.readouterr().out
    assert "Patient anna-k: 2 sessions" in out and "Patient bob: 1 sessions" in out
    assert out.index("Patient anna-k") < out.index("Patient bob")
    run(monkeypatch, "history", str(recordings), "--patient", "bob")
    out = capsys.readouterr().out
    assert "Patient bob: 1 sessions" in out and "anna-k" not in out
    assert "2026-11-17 09:00" in out and "2026-11-16 18:05" not in out


def test_export_writes_one_archive_without_video_that_history_and_report_read(
    recordings: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    archive = tmp_path / "anna.zip"
    run(monkeypatch, "export", "anna-k", "--from", str(recordings), "--out", str(archive))
    out = capsys.readouterr().out
    assert "2 sessions of anna-k" in out and "no video" in out
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
    assert names and all(n.startswith("anna-k/") for n in names)
    assert {Path(n).name for n in names} <= set(RECORD_FILES)
    assert not any(n.endswith(".mp4") for n in names)
    assert len({Path(n).parent for n in names}) == 2

    run(monkeypatch, "history", str(archive))
    out = capsys.readouterr().out
    assert "Patient anna-k: 2 sessions" in out and "bob" not in out
    assert "2026-11-16 18:05" in out and "2026-11-23 18:00" in out

    reports = tmp_path / "reports"
    run(monkeypatch, "report", str(archive), "--out", str(reports))
    out = capsys.readouterr().out
    pages = sorted((reports / "anna-k").glob("*.html"))
    assert len(pages) == 2 and "2 reports written" in out
    assert "Hip lifts" in pages[0].read_text(encoding="utf-8")


def test_export_of_an_unknown_patient_is_refused(
    recordings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.app.cli import main

    monkeypatch.setattr(
        sys, "argv", ["coach", "export", "carol", "--from", str(recordings), "--out", "x.zip"]
    )
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code != 0
    assert not (tmp_path / "x.zip").exists()


def test_an_archive_cannot_write_outside_its_folder(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../outside/session.json", "{}")
    with pytest.raises(SessionDataError, match="outside its folder"):
        unpack_archive(evil)
    assert not (tmp_path.parent / "outside").exists()
    junk = tmp_path / "junk.zip"
    junk.write_text("not a zip")
    with pytest.raises(SessionDataError, match="not a readable archive"):
        unpack_archive(junk)
