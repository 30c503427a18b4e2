"""`coach routines` and `coach routine new/check/show/handout` through the command line."""

from __future__ import annotations

import html
import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coach.adapters.routine_store import open_routine
from coach.app.cli import app
from coach.core.routine import describe_dose, load_routine
from coach.errors import RoutineError

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep user routines in a scratch folder."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.output, result.exception


def test_routines_lists_bundled_and_user_routines(config_home: Path) -> None:
    code, out, _ = invoke("routines")
    assert code == 0, out
    assert "back-spasm-relief" in out and "bundled" in out
    assert "Child's pose, Cat-cow, Hip lifts" in out
    assert invoke("routine", "new", "anna-acute")[0] == 0
    code, out, _ = invoke("routines")
    assert code == 0
    assert "anna-acute" in out and "yours" in out
    assert str(config_home / "coach" / "routines" / "anna-acute.toml") in out
    broken = config_home / "coach" / "routines" / "typo.toml"
    broken.write_text('name = "typo"\ntitel = "x"\n', encoding="utf-8")
    code, out, _ = invoke("routines")
    assert code == 0
    assert "typo" in out and "invalid" in out and "did you mean 'title'" in out


def test_new_writes_a_short_routine_that_extends_its_source(
    config_home: Path, tmp_path: Path
) -> None:
    code, out, _ = invoke("routine", "new", "anna-acute", "--from", "back-spasm-relief")
    assert code == 0, out
    copy = config_home / "coach" / "routines" / "anna-acute.toml"
    text = copy.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["name"] == "anna-acute" and data["extends"] == "back-spasm-relief"
    assert [e["kind"] for e in data["exercises"]] == ["childs_pose", "cat_cow", "hip_lift"]
    settings = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert len(settings) <= 12, settings
    # Every dose is there to edit, behind a '#'.
    assert "# dose = { hold_s = 15, reps = 5, reps_max = 10, sets = 1, rest_s = 0 }" in text
    mine, base = open_routine(str(copy)), open_routine("back-spasm-relief")
    assert mine.name == "anna-acute" and mine.extends == "back-spasm-relief"
    assert mine.exercises == base.exercises
    code, _, exc = invoke("routine", "new", "anna-acute")
    assert code != 0 and isinstance(exc, RoutineError) and "already exists" in str(exc)
    assert invoke("routine", "new", "anna-acute", "--force")[0] == 0
    target = tmp_path / "elsewhere" / "bob.toml"
    code, out, _ = invoke("routine", "new", "bob", "--from", str(copy), "--to", str(target))
    assert code == 0, out
    bob = open_routine(str(target))
    assert bob.name == "bob" and bob.extends == "anna-acute"
    assert bob.exercises == open_routine("back-spasm-relief").exercises


def test_new_full_writes_every_value(tmp_path: Path) -> None:
    target = tmp_path / "full.toml"
    code, out, _ = invoke("routine", "new", "full", "--full", "--to", str(target))
    assert code == 0, out
    data = tomllib.loads(target.read_text(encoding="utf-8"))
    assert "extends" not in data and data["name"] == "full"
    assert {"session_cues", "session", "camera", "classifier"} <= set(data)
    assert all({"dose", "thresholds", "cues", "intro"} <= set(e) for e in data["exercises"])
    full = load_routine(target)  # nothing to look up: it stands alone
    assert full.exercises == open_routine("back-spasm-relief").exercises


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("routine", "new", "back-spasm-relief"), "bundled routine"),
        (("routine", "new", "Bad Name"), "not a routine name"),
        (("routine", "new", "x", "--from", "nothing-like-this"), "Known routines"),
    ],
)
def test_new_refuses(args: tuple[str, ...], message: str) -> None:
    code, _, exc = invoke(*args)
    assert code != 0 and isinstance(exc, RoutineError) and message in str(exc)


def test_check_accepts_a_good_routine(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    assert invoke("routine", "new", "ok", "--to", str(path))[0] == 0
    code, out, _ = invoke("routine", "check", str(path))
    assert code == 0, out
    assert "OK" in out and "3 exercises" in out


def test_check_says_exactly_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    assert invoke("routine", "new", "bad", "--to", str(path))[0] == 0
    text = path.read_text(encoding="utf-8").replace(
        "# dose = { hold_s = 30, reps = 3,", "dose = { hold_s = 600, repz = 3,", 1
    )
    path.write_text(text, encoding="utf-8")
    code, out, _ = invoke("routine", "check", str(path))
    assert code == 1
    assert "Not valid" in out and str(path) in out
    assert "exercises[0].dose.hold_s" in out and "600" in out and "5.0..120.0" in out
    assert "exercises[0].dose.repz" in out and "did you mean 'reps'" in out


def test_show_prints_a_readable_plan(tmp_path: Path) -> None:
    path = tmp_path / "anna.toml"
    assert invoke("routine", "new", "anna", "--to", str(path))[0] == 0
    text = path.read_text(encoding="utf-8").replace(
        "# dose = { hold_s = 15,", "dose = { hold_s = 8,", 1
    )
    path.write_text(text, encoding="utf-8")
    code, out, _ = invoke("routine", "show", str(path), "--cues")
    assert code == 0, out
    routine = open_routine(str(path))
    for spec in routine.exercises:
        assert spec.title in out
        assert describe_dose(spec) in out
    assert "Hold 8 seconds, 5 to 10 times" in out
    assert "Breathe in, arch your back and lift your head." in out
    assert "threshold" in out and "default" in out
    assert "extends back-spasm-relief" in out
    # What the routine itself sets is marked; what it inherits is not.
    assert "*hold_s = 8" in out and "*hold_s = 30" not in out and " hold_s = 30" in out


def test_show_lists_changed_session_settings(tmp_path: Path) -> None:
    path = tmp_path / "anna.toml"
    assert invoke("routine", "new", "anna", "--to", str(path))[0] == 0
    text = path.read_text(encoding="utf-8") + "\n[session]\nstall_move_on_s = 90.0\n"
    path.write_text(text, encoding="utf-8")
    code, out, _ = invoke("routine", "show", str(path))
    assert code == 0, out
    assert "*session.stall_move_on_s = 90.0 (default 60.0)" in out
    assert "stall_hint_s" not in out  # unchanged settings are not listed


def test_handout_has_every_exercise_with_its_dose(tmp_path: Path) -> None:
    out_file = tmp_path / "handout.html"
    code, out, _ = invoke("routine", "handout", "back-spasm-relief", "--out", str(out_file))
    assert code == 0, out
    page = out_file.read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    routine = load_routine(
        Path(__file__).resolve().parents[1] / "coach/routines/back-spasm-relief.toml"
    )
    for spec in routine.exercises:
        assert spec.title in text
        assert describe_dose(spec) in text
    assert "Sit your hips back toward your heels." in text
    assert "Hold 30 seconds, 3 times" in text and "5 to 10 slow cycles" in text
    assert "Kneel on the floor with your knees apart." in text
    assert "bladder or bowel? Get help urgently, today." in text
    assert "<script" not in page and "http" not in page and "src=" not in page
