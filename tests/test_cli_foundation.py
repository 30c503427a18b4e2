"""The ``coach`` command: fast help, ``coach doctor`` and ``coach pose``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from coach.adapters.frames import VideoFileSource, read_image
from coach.app.cli import app

HEAVY = ("cv2", "mediapipe", "pyttsx3", "matplotlib", "numpy")

HELP_IN_CHILD = f"""
import sys
from coach.app.cli import main
sys.argv = ["coach", "--help"]
try:
    main()
except SystemExit as exc:
    code = exc.code
print("EXIT", code)
print("HEAVY", sorted(m for m in {HEAVY!r} if m in sys.modules))
"""


def coach(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the coach as a person would, in its own process."""
    return subprocess.run(
        [sys.executable, "-c", "from coach.app.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def headless_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["COLUMNS"] = "200"  # keep table cells on one line for the assertions
    return env


@pytest.mark.slow
def test_help_is_fast_and_loads_no_heavy_library():
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", HELP_IN_CHILD], capture_output=True, text=True, timeout=60
    )
    elapsed = time.monotonic() - start
    assert "EXIT 0" in out.stdout, out.stderr
    assert "HEAVY []" in out.stdout
    assert "doctor" in out.stdout and "pose" in out.stdout
    assert elapsed < 4.0  # generous for a busy machine; the module check above is strict


def run_doctor(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-c", "from coach.app.cli import main; main()", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )
    assert "Traceback" not in result.stdout + result.stderr
    for row in ("OpenCV", "Pose model", "Display", "Speech"):
        assert row in result.stdout
    return result


@pytest.mark.slow
def test_doctor_runs_without_display_and_says_what_is_missing():
    env = headless_env()
    result = run_doctor("--camera", "57", env=env)
    # No camera at index 57: needed for live sessions, so the doctor fails and says videos work.
    assert result.returncode == 1
    assert "Camera 57" in result.stdout and "missing" in result.stdout
    assert "Videos still work" in result.stdout
    assert "headless" in result.stdout  # the display is a warning only


@pytest.mark.slow
def test_doctor_passes_for_video_use_with_the_bundled_model():
    result = run_doctor("--no-camera", env=headless_env())
    assert result.returncode == 0, result.stdout
    assert "SHA-256 ok" in result.stdout and "loads" in result.stdout


@pytest.mark.slow
def test_doctor_survives_a_display_that_cannot_open():
    env = headless_env()
    env["DISPLAY"] = ":93"  # no X server there: OpenCV would abort the process
    env.pop("XAUTHORITY", None)
    result = run_doctor("--no-camera", env=env)
    assert result.returncode == 0
    assert "cannot open" in result.stdout


@pytest.mark.slow
def test_doctor_fails_on_a_bad_model(tmp_path):
    bad = tmp_path / "bad.task"
    bad.write_bytes(b"not a model" * 50)
    result = run_doctor("--no-camera", "--model", str(bad), env=headless_env())
    assert result.returncode == 1
    assert "not a MediaPipe model file" in result.stdout


@pytest.fixture(scope="module")
def child_image(real_images: Path) -> Path:
    return real_images / "childs_pose" / "c001.jpg"


def test_pose_prints_angles_and_writes_an_annotated_image(child_image, tmp_path):
    out = tmp_path / "annotated.png"
    result = CliRunner().invoke(
        app, ["pose", str(child_image), "--out", str(out)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    for word in ("shoulder", "hip", "knee", "ankle", "visibility", "trunk", "back_bend"):
        assert word in result.output
    annotated = read_image(out)
    original = read_image(child_image)
    assert annotated.shape == original.shape
    assert np.abs(annotated.astype(int) - original.astype(int)).mean() > 1.0


def test_pose_json_gives_numbers(child_image):
    result = CliRunner().invoke(app, ["pose", str(child_image), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip().splitlines()[0])
    assert record["pose_found"] and record["side"] in ("left", "right")
    assert 0.0 < record["values"]["knee"] < 90.0
    assert set(record["joints"]) >= {"shoulder", "hip", "knee", "ankle"}


def test_pose_on_a_video_prints_frames_and_writes_a_video(real_videos, tmp_path):
    out = tmp_path / "annotated.mp4"
    result = CliRunner().invoke(
        app,
        [
            "pose",
            str(real_videos / "v06_bridge_tj.mp4"),
            "--every",
            "10",
            "--max-frames",
            "30",
            "--no-mask",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("t=")]
    assert len(lines) == 3 and "hip=" in lines[0]
    written = VideoFileSource(out)
    assert sum(1 for _ in written) == 30
    written.close()


def unreadable(folder: Path, kind: str) -> Path:
    """A path the coach cannot read, of the given kind."""
    if kind == "corrupt-video":
        (folder / "x.mp4").write_bytes(os.urandom(4000))
        return folder / "x.mp4"
    if kind == "corrupt-image":
        (folder / "broken.jpg").write_text("text")
        return folder / "broken.jpg"
    return folder / "absent.jpg"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", "does not exist"),
        ("corrupt-video", "Cannot open"),
        ("corrupt-image", "Cannot read"),
    ],
)
@pytest.mark.slow
def test_pose_reports_unreadable_input_clearly(tmp_path, kind, message):
    result = coach("pose", str(unreadable(tmp_path, kind)))
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
