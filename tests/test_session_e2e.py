"""Whole sessions through the real ``coach run``: real model, real videos, real voice to WAV."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest
from session_helpers import unattended, write_bundled_with_doses

from coach.adapters.routine_store import open_routine
from coach.core.routine import parse_routine
from coach.core.safety import RED_FLAG_KEYS

pytestmark = [pytest.mark.realdata, pytest.mark.realmodel]

# Smaller doses than the bundled routine, so a 33 s clip reaches the end of a hold.
TEST_DOSES = {
    "childs_pose": {"hold_s": 5, "reps": 1, "reps_max": 1, "rest_s": 2},
    "cat_cow": {"reps": 2, "reps_max": 2, "rest_s": 2},
    "hip_lift": {"hold_s": 5, "reps": 2, "reps_max": 2, "rest_s": 0},
}
REQUIRED_FILES = ("session.json", "routine.toml", "safety.json", "events.jsonl", "summary.json")


def make_routine(folder: Path) -> Path:
    """The bundled routine with the doses above, written to ``folder``."""
    return write_bundled_with_doses(folder, TEST_DOSES, name="back-spasm-relief-test")


def coach_run(*args: str, timeout: float = 240.0) -> subprocess.CompletedProcess[str]:
    # This checkout's code, whatever other `coach` is on the PATH.
    command = [sys.executable, "-m", "coach.app.cli"]
    env = {**os.environ}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run(
        [*command, "run", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def session_folder(out: Path) -> Path:
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def read_events(folder: Path) -> list[dict[str, object]]:
    lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate())


def assert_in_order(seen: list[str], expected: list[str]) -> None:
    """Every expected item appears in ``seen``, in this order (others may come between)."""
    position = 0
    for item in expected:
        try:
            position = seen.index(item, position) + 1
        except ValueError:
            pytest.fail(f"{item!r} missing after position {position} in {seen}")


def assert_voice(voice: Path, spoken: list[dict[str, object]], output: str = "") -> None:
    """One WAV per spoken cue, in order, each of a length that fits its words."""
    wavs = sorted(voice.glob("*.wav"))
    assert len(wavs) == len(spoken), output[-2000:]
    for wav, cue in zip(wavs, spoken, strict=True):
        words = len(str(cue["text"]).split())
        seconds = wav_seconds(wav)
        assert 0.1 * words <= seconds <= 1.0 * words + 1.0, (wav.name, cue["text"], seconds)


def test_a_session_on_a_real_childs_pose_video(real_videos: Path, tmp_path: Path) -> None:
    video = real_videos / "v03_child_tj.mp4"
    routine = make_routine(tmp_path)
    out, voice = tmp_path / "records", tmp_path / "voice"
    result = coach_run(
        "--routine",
        str(routine),
        *unattended(video, out, voice),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    folder = session_folder(out)
    for name in (*REQUIRED_FILES, "frames.csv"):
        assert (folder / name).is_file(), name
        assert (folder / name).stat().st_mode & 0o077 == 0, name  # the user's alone
    # The record keeps the prescription resolved: it reads alone, with the doses as written.
    kept = parse_routine((folder / "routine.toml").read_text(encoding="utf-8"), "kept")
    assert kept.extends is None and kept.name == "back-spasm-relief-test"
    for spec in kept.exercises:
        for key, value in TEST_DOSES[spec.kind.value].items():
            assert getattr(spec.dose, key) == value, (spec.kind, key)
    assert kept.session_cues["welcome"] == "Hello."
    assert kept.exercises[0].intro == open_routine("back-spasm-relief").exercises[0].intro

    events = read_events(folder)
    kinds = [str(e["kind"]) for e in events]
    assert_in_order(
        kinds,
        [
            "session_started",
            "pain_rated",
            "setup_done",
            "exercise_started",
            "in_position",
            "hold_started",
            "hold_completed",
            "exercise_completed",
            "rest_started",
            "exercise_started",
            "session_stopped",
            "pain_rated",
        ],
    )
    started = [e for e in events if e["kind"] == "exercise_started"]
    assert [e["exercise"] for e in started][:2] == ["childs_pose", "cat_cow"]
    completed = next(e for e in events if e["kind"] == "hold_completed")
    assert completed["exercise"] == "childs_pose" and float(completed["seconds"]) >= 5.0
    # The annotated stay in child's pose is 3.8-29.1 s: the hold lies inside it.
    hold_start = next(e for e in events if e["kind"] == "hold_started")
    assert float(hold_start["t_s"]) >= 3.8 and float(completed["t_s"]) <= 29.5
    stopped = next(e for e in events if e["kind"] == "session_stopped")
    assert stopped["reason"] == "source_ended"
    pains = [(e["when"], e["score"]) for e in events if e["kind"] == "pain_rated"]
    assert pains == [("before", 4), ("after", 3)]

    with (folder / "frames.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 980  # every frame of the clip, one row each
    assert {"t_s", "exercise", "state", "hip"} <= set(rows[0])
    assert any(r["state"] == "childs_pose" for r in rows)

    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["completed"] is False and summary["stopped"] == "source_ended"
    assert summary["pain"] == {"before": 4, "after": 3, "change": -1}
    child = summary["exercises"][0]
    assert child["kind"] == "childs_pose" and child["achieved"]["holds_completed"] == 1
    assert child["completed"] is True

    spoken = summary["spoken"]
    keys = [c["key"] for c in spoken]
    assert_in_order(
        keys,
        [
            "welcome",
            "setup_ok",
            "intro",
            "in_position",
            "hold_start",
            "hold_done",
            "intro",
            "stopped",
        ],
    )
    assert_voice(voice, spoken, result.stdout + result.stderr)
    safety = json.loads((folder / "safety.json").read_text(encoding="utf-8"))
    assert safety["answers"] == dict.fromkeys(RED_FLAG_KEYS, False)
    assert safety["pain_before"] == 4 and safety["pain_after"] == 3


def test_a_red_flag_stops_before_any_exercise(real_videos: Path, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(
        json.dumps(dict.fromkeys(RED_FLAG_KEYS, False) | {"bladder_bowel": True}),
        encoding="utf-8",
    )
    out, voice = tmp_path / "records", tmp_path / "voice"
    result = coach_run(
        "--source",
        str(real_videos / "v03_child_tj.mp4"),
        "--headless",
        "--answers",
        str(answers),
        "--voice-to",
        str(voice),
        "--out",
        str(out),
        timeout=120.0,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "urgently" in result.stdout
    folder = session_folder(out)
    for name in REQUIRED_FILES:
        assert (folder / name).is_file(), name
    assert not (folder / "frames.csv").exists()  # the camera was never opened
    events = read_events(folder)
    assert [e["kind"] for e in events] == [
        "session_started",
        "safety_stop",
        "cue",
        "session_stopped",
    ]
    assert events[1]["flags"] == ["bladder_bowel"] and events[3]["reason"] == "safety"
    assert events[2]["key"] == "safety_stop_urgent"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["safety"] == {"stop": True, "flags": ["bladder_bowel"]}
    assert not any(item["started"] for item in summary["exercises"])
    assert_voice(voice, summary["spoken"], result.stdout + result.stderr)
    assert len(summary["spoken"]) == 1


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ("night_pain=no", "not answered"),
        ("headache=no", "unknown question"),
        ("night_pain=maybe", "not yes or no"),
    ],
)
def test_incomplete_answers_without_a_terminal_are_refused(
    tmp_path: Path, answers: str, message: str
) -> None:
    result = coach_run("--headless", "--answers", answers, "--out", str(tmp_path), timeout=60.0)
    assert result.returncode == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing recorded, nothing started


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_terminate_mid_session_keeps_the_record(
    real_videos: Path, tmp_path: Path, signum: int
) -> None:
    # This checkout's code, whatever other `coach` is on the PATH.
    command = [sys.executable, "-m", "coach.app.cli"]
    out = tmp_path / "records"
    proc = subprocess.Popen(
        [
            *command,
            "run",
            "--source",
            str(real_videos / "v03_child_tj.mp4"),
            "--headless",
            "--answers",
            "no",
            "--pain-before",
            "5",
            "--mute",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        # A child started in the background may inherit "ignore Ctrl-C"; a person's would not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 90.0
        while time.monotonic() < deadline:
            frames = list(out.glob("*/frames.csv"))
            if frames and frames[0].stat().st_size > 2000:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the session did not start")
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stdout[-2000:] + stderr[-2000:]
    folder = session_folder(out)
    events = read_events(folder)
    assert events[-1]["kind"] == "session_stopped" or events[-2]["kind"] == "session_stopped"
    stopped = next(e for e in events if e["kind"] == "session_stopped")
    assert stopped["reason"] == "interrupted"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["completed"] is False and summary["stopped"] == "interrupted"
    assert summary["pain"]["before"] == 5


def _stitch(parts: list[tuple[Path, int]], target: Path, fps: float = 30.0) -> float:
    """One video of the clips in turn, each looped ``n`` times, at one size and frame rate.

    Returns the video's length in seconds.
    """
    import cv2
    import numpy as np

    size = (640, 360)
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    frames = 0
    try:
        for clip, loops in parts:
            capture = cv2.VideoCapture(str(clip))
            clip_fps = capture.get(cv2.CAP_PROP_FPS)
            images = []
            while True:
                ok, image = capture.read()
                if not ok:
                    break
                images.append(image)
            capture.release()
            length = len(images) / clip_fps
            for _ in range(loops):
                for k in range(int(length * fps)):
                    image = images[min(len(images) - 1, int(k / fps * clip_fps))]
                    scale = min(size[0] / image.shape[1], size[1] / image.shape[0])
                    small = cv2.resize(image, None, fx=scale, fy=scale)
                    canvas = np.zeros((size[1], size[0], 3), dtype=np.uint8)
                    top = (size[1] - small.shape[0]) // 2
                    left = (size[0] - small.shape[1]) // 2
                    canvas[top : top + small.shape[0], left : left + small.shape[1]] = small
                    writer.write(canvas)
                    frames += 1
    finally:
        writer.release()
    return frames / fps


def test_a_whole_routine_on_one_video_reaches_every_exercise_without_a_key(
    real_videos: Path, tmp_path: Path
) -> None:
    # Child's pose, then cat-cow, then hip lifts, each repeated as a patient would,
    # by other people in other rooms: the session must get through all three alone.
    video = tmp_path / "routine.mp4"
    seconds = _stitch(
        [
            (real_videos / "v03_child_tj.mp4", 1),
            (real_videos / "x05_catcow_renew.mp4", 3),
            (real_videos / "v07_bridge_ws.mp4", 4),
        ],
        video,
    )
    assert seconds > 100
    routine = make_routine(tmp_path)
    out = tmp_path / "records"
    result = coach_run(
        "--routine",
        str(routine),
        "--source",
        str(video),
        "--headless",
        "--no-realtime",
        "--mute",
        "--answers",
        "no",
        "--pain-before",
        "4",
        "--pain-after",
        "3",
        "--out",
        str(out),
        timeout=600.0,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    events = read_events(session_folder(out))
    started = [e["exercise"] for e in events if e["kind"] == "exercise_started"]
    assert started == ["childs_pose", "cat_cow", "hip_lift"], started
    assert any(e["kind"] == "hold_completed" and e["exercise"] == "childs_pose" for e in events)
    counted = [e["exercise"] for e in events if e["kind"] == "rep_counted"]
    assert counted.count("cat_cow") >= 2, counted
    assert counted.count("hip_lift") >= 2, counted
    # Nothing was skipped: every exercise was reached by counting, not by a key.
    assert not [e for e in events if e["kind"] == "exercise_skipped"]
    completed = [e["exercise"] for e in events if e["kind"] == "exercise_completed"]
    assert completed[:2] == ["childs_pose", "cat_cow"], completed
