"""``coach doctor``: check that this computer can run the coach, and say how to fix what cannot.

Needed (exit code 1 when missing): the pose model, exactly one OpenCV wheel,
and a camera for live sessions (``--no-camera`` when only videos are
analysed). Optional (a warning): a display, because the coach then runs
without its window, and the speech engine, because cues are then shown on
screen only. Probes that can abort the process (a window without a display,
a speech engine, the native model loader) run in child processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

OPENCV_WHEELS = (
    "opencv-python",
    "opencv-contrib-python",
    "opencv-python-headless",
    "opencv-contrib-python-headless",
)
PROBE_TIMEOUT_S = 30.0
CAMERA_FRAME_TIMEOUT_S = 3.0


class Status(StrEnum):
    """How one check turned out."""

    OK = "ok"
    WARNING = "warning"
    MISSING = "missing"


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    status: Status
    detail: str
    fix: str = ""
    needed: bool = True

    @property
    def fails(self) -> bool:
        """Whether this check makes the doctor exit non-zero."""
        return self.needed and self.status is Status.MISSING


# ---------------------------------------------------------------- child probes
# Each runs as `python -c "from coach.app.commands.doctor import X; X(...)"` and
# prints one JSON line; a crash or abort of the child is itself the answer.


def probe_display() -> None:
    """Open and close an OpenCV window (child process)."""
    import cv2

    cv2.namedWindow("coach doctor", cv2.WINDOW_NORMAL)
    cv2.waitKey(1)
    cv2.destroyAllWindows()
    cv2.waitKey(1)
    print(json.dumps({"ok": True}))


def probe_speech(out_dir: str) -> None:
    """Speak a short phrase into a WAV file (child process)."""
    import pyttsx3

    path = Path(out_dir) / "coach-doctor.wav"
    engine = pyttsx3.init()
    engine.save_to_file("Coach check.", str(path))
    engine.runAndWait()
    size = path.stat().st_size if path.is_file() else 0
    print(json.dumps({"ok": size > 0, "bytes": size}))


def probe_model(model: str) -> None:
    """Load the pose model and run it on one blank frame (child process)."""
    from importlib import metadata

    import numpy as np

    from coach.adapters.pose_model import MediaPipePoseEstimator
    from coach.errors import CoachError

    try:
        with MediaPipePoseEstimator(Path(model) if model else None) as estimator:
            estimator.estimate(np.zeros((240, 320, 3), dtype=np.uint8), 0.0)
    except CoachError as exc:
        print(json.dumps({"ok": False, "error": str(exc).splitlines()[0]}))
        return
    print(json.dumps({"ok": True, "mediapipe": metadata.version("mediapipe")}))


class _Child:
    """A probe running in a child Python process."""

    def __init__(self, call: str, env: dict[str, str] | None = None) -> None:
        code = f"from coach.app.commands.doctor import *; {call}"
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {})},
        )

    def result(
        self, timeout_s: float, *, first_line: bool = False
    ) -> tuple[dict[str, object] | None, str]:
        """The probe's JSON answer (None when it failed) and a line of its stderr.

        The last line (a Python error) unless ``first_line`` (a native library's
        first complaint, before the lines that follow from it).
        """
        try:
            out, err = self._proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
            return None, f"no answer within {timeout_s:.0f} s"
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        code = f"exit code {self._proc.returncode}"
        tail = (lines[0] if first_line else lines[-1]) if lines else code
        for line in reversed(out.strip().splitlines()):
            try:
                answer = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(answer, dict):
                return answer, tail
        return None, tail


# ---------------------------------------------------------------------- checks


def check_opencv_wheels() -> Check:
    """Exactly one OpenCV wheel must own the cv2 folder."""
    from importlib import metadata

    installed = []
    for name in OPENCV_WHEELS:
        try:
            installed.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    if len(installed) == 1:
        return Check("OpenCV", Status.OK, installed[0])
    if not installed:
        return Check(
            "OpenCV",
            Status.MISSING,
            "no OpenCV wheel is installed",
            "pip install --force-reinstall mediapipe (it brings opencv-contrib-python)",
        )
    others = [w.split()[0] for w in installed if not w.startswith("opencv-contrib-python ")]
    return Check(
        "OpenCV",
        Status.MISSING,
        f"{len(installed)} OpenCV wheels share one cv2 folder: {', '.join(installed)}",
        f"pip uninstall -y {' '.join(others)} && "
        "pip install --force-reinstall opencv-contrib-python",
    )


def check_model_file(model: Path | None) -> Check:
    """The model file exists and, when bundled, has the known SHA-256."""
    from coach.adapters.pose_model import verify_model
    from coach.errors import ModelError

    try:
        path = verify_model(model)
    except ModelError as exc:
        return Check(
            "Pose model",
            Status.MISSING,
            str(exc),
            "pip install --force-reinstall . (or pass --model PATH)",
        )
    which = "SHA-256 ok" if model is None else "given with --model, zip checksums ok"
    return Check("Pose model", Status.OK, f"{path} ({which})")


def model_load_result(child: _Child, file_check: Check) -> Check:
    """Turn the model probe's answer into the model line."""
    answer, tail = child.result(PROBE_TIMEOUT_S)
    if answer and answer.get("ok"):
        return Check(
            file_check.name,
            Status.OK,
            f"{file_check.detail}; loads (mediapipe {answer.get('mediapipe')})",
        )
    reason = str(answer.get("error", tail)) if answer else tail
    return Check(
        file_check.name,
        Status.MISSING,
        f"does not load: {reason}",
        "pip install --force-reinstall . (or pass --model with a pose_landmarker .task)",
    )


def check_camera(index: int) -> Check:
    """A camera answers at ``index`` and sends a picture."""
    from coach.adapters.camera import CameraSource
    from coach.errors import SourceError

    videos_note = "Videos still work (coach pose VIDEO); --no-camera skips this check."
    start = time.monotonic()
    try:
        with CameraSource(
            index,
            first_frame_timeout_s=CAMERA_FRAME_TIMEOUT_S,
            stall_timeout_s=CAMERA_FRAME_TIMEOUT_S,
        ) as camera:
            frame = camera.read()
    except SourceError as exc:
        devices = (
            sorted(str(p) for p in Path("/dev").glob("video*"))
            if sys.platform.startswith("linux")
            else []
        )
        seen = f" Devices here: {', '.join(devices)}." if devices else ""
        return Check(
            f"Camera {index}",
            Status.MISSING,
            f"{exc}{seen}",
            f"Connect a camera or pick another with --camera N. {videos_note}",
        )
    height, width = frame.image.shape[:2]
    return Check(
        f"Camera {index}",
        Status.OK,
        f"{width}x{height}, first picture after {time.monotonic() - start:.1f} s",
    )


def display_result(child: _Child | None) -> Check:
    """Turn the window probe's answer into the display line."""
    fix = (
        "Run the coach from a desktop session, or under xvfb-run; "
        "without a window it runs headless with spoken cues."
    )
    if child is None:
        return Check(
            "Display",
            Status.WARNING,
            "no display (neither DISPLAY nor WAYLAND_DISPLAY is set): the coach runs "
            "headless, without its window",
            fix,
            needed=False,
        )
    answer, tail = child.result(PROBE_TIMEOUT_S, first_line=True)
    if answer and answer.get("ok"):
        return Check("Display", Status.OK, "an OpenCV window opens", needed=False)
    return Check(
        "Display",
        Status.WARNING,
        f"an OpenCV window cannot open ({tail}): the coach runs headless",
        fix,
        needed=False,
    )


def speech_result(child: _Child) -> Check:
    """Turn the speech probe's answer into the speech line."""
    if sys.platform.startswith("linux"):
        fix = "sudo apt-get install espeak-ng (pyttsx3 speaks through it)"
    else:
        fix = "pip install --force-reinstall pyttsx3; check the system's voices"
    fix += "; without it cues are shown on screen only"
    answer, tail = child.result(PROBE_TIMEOUT_S)
    if answer and answer.get("ok"):
        return Check(
            "Speech",
            Status.OK,
            f"pyttsx3 speaks ({answer.get('bytes')} bytes of WAV)",
            needed=False,
        )
    return Check("Speech", Status.WARNING, f"pyttsx3 cannot speak: {tail}", fix, needed=False)


def has_display() -> bool:
    """Whether a window could open at all; OpenCV aborts the process without one on Linux."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def run_checks(*, camera: int | None, model: Path | None) -> list[Check]:
    """Every check, with the slow child probes running side by side."""
    with tempfile.TemporaryDirectory(prefix="coach-doctor-") as tmp:
        model_file = check_model_file(model)
        model_child = (
            _Child(f"probe_model({str(model) if model else ''!r})")
            if model_file.status is Status.OK
            else None
        )
        display_child = _Child("probe_display()") if has_display() else None
        speech_child = _Child(f"probe_speech({tmp!r})")
        checks = [check_opencv_wheels()]
        camera_check = check_camera(camera) if camera is not None else None
        checks.append(model_load_result(model_child, model_file) if model_child else model_file)
        if camera_check is not None:
            checks.append(camera_check)
        checks.append(display_result(display_child))
        checks.append(speech_result(speech_child))
    return checks


def print_report(checks: list[Check]) -> None:
    """The checks as a table."""
    from rich.console import Console
    from rich.table import Table

    from coach.text import shown

    style = {Status.OK: "green", Status.WARNING: "yellow", Status.MISSING: "bold red"}
    table = Table(title="coach doctor", show_lines=True)
    table.add_column("Check", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Details")
    table.add_column("Fix")
    for check in checks:
        table.add_row(
            check.name,
            f"[{style[check.status]}]{check.status.value}[/]",
            shown(check.detail, 1000),
            shown(check.fix, 1000),
        )
    console = Console()
    console.print(table)
    failing = [c.name for c in checks if c.fails]
    if failing:
        console.print(f"[bold red]Not ready:[/] {', '.join(failing)} needed. See the fixes above.")
    else:
        console.print("[green]Ready.[/] Warnings, if any, do not stop the coach.")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""

    @app.command()
    def doctor(
        camera: Annotated[int, typer.Option("--camera", help="Camera index to check.")] = 0,
        no_camera: Annotated[
            bool, typer.Option("--no-camera", help="Skip the camera: only videos will be analysed.")
        ] = False,
        model: Annotated[
            Path | None, typer.Option("--model", help="Check this model file instead.")
        ] = None,
    ) -> None:
        """Check the model, camera, display, speech and OpenCV install, with fixes."""
        checks = run_checks(camera=None if no_camera else camera, model=model)
        print_report(checks)
        if any(c.fails for c in checks):
            raise typer.Exit(code=1)
