"""High contrast and large type: a routine setting and a command-line option; cues shown muted."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from loop_helpers import quiet_loop

from coach.adapters.frames import Frame
from coach.adapters.overlay import HIGH_CONTRAST, STANDARD, overlay_style, render
from coach.adapters.routine_store import open_routine, routine_text
from coach.adapters.speech import NullSpeaker
from coach.core.routine import parse_routine
from coach.core.session import OverlayView, Phase
from coach.errors import RoutineError

VIEW = OverlayView(
    phase=Phase.ACTIVE,
    title="Child's pose",
    gauge=None,
    timer_text="12 s",
    count_text="1 / 3",
    cue_text="Hold here, and breathe slowly.",
    progress="exercise 1 of 3",
    paused=False,
    lost=False,
)


def lit_rows(image: np.ndarray, rows: slice) -> int:
    """Rows in the band that hold bright text."""
    return int((image[rows].max(axis=(1, 2)) > 200).sum())


def test_high_contrast_draws_solid_panels_and_larger_type() -> None:
    frame = np.full((480, 640, 3), 140, np.uint8)
    plain = render(frame, None, VIEW, STANDARD)
    bold = render(frame, None, VIEW, HIGH_CONTRAST)
    # The top panel: blended grey in the standard look, solid black in high contrast.
    assert int(plain[2, 320].max()) > 40
    assert int(bold[2, 320].max()) == 0
    # Text takes more rows (larger type) and more bright pixels (bolder strokes).
    assert lit_rows(bold, slice(0, 240)) > lit_rows(plain, slice(0, 240))
    assert int((bold > 200).sum()) > 1.5 * int((plain > 200).sum())
    assert overlay_style(high_contrast=True) is HIGH_CONTRAST
    assert overlay_style(high_contrast=False) is STANDARD


def test_a_routine_can_ask_for_high_contrast() -> None:
    assert open_routine("back-spasm-relief").session.high_contrast is False
    head = 'extends = "back-spasm-relief"\nname = "bright"\n[session]\n'
    on = parse_routine(head + "high_contrast = true\n", "on.toml", resolve=routine_text)
    assert on.session.high_contrast is True
    with pytest.raises(RoutineError, match="high_contrast"):
        parse_routine(head + 'high_contrast = "yes"\n', "wrong.toml", resolve=routine_text)


class CaptureWindow:
    CLOSED = -2

    def __init__(self) -> None:
        self.shown: list[np.ndarray] = []

    def show(self, image: np.ndarray) -> int:
        self.shown.append(image)
        return -1

    def close(self) -> None:
        pass


def test_muted_cues_are_still_shown_in_the_window() -> None:
    window = CaptureWindow()
    loop = quiet_loop(NullSpeaker(), window=window, style=HIGH_CONTRAST)
    image = np.full((480, 640, 3), 140, np.uint8)
    loop.step(Frame(image, 0.1))
    said = loop.spoken[0]["text"]
    assert loop.controller.view.cue_text == said
    expected = render(image, None, loop.controller.view, HIGH_CONTRAST)
    assert np.array_equal(window.shown[-1], expected)
    assert not np.array_equal(window.shown[-1], render(image, None, loop.controller.view))


@pytest.mark.slow
def test_no_camera_is_said_before_the_first_question(tmp_path: Path) -> None:
    """At a terminal, with nothing given: the missing camera comes first, no question is asked."""
    missing = next(i for i in range(10, 64) if not Path(f"/dev/video{i}").exists())
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["HOME"] = str(tmp_path)
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "coach.app.cli", "run", "--camera", str(missing), "--mute"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        close_fds=True,
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 120.0
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed: the process ended
                break
            if not chunk:
                break
            output += chunk
            if b"[y/n]" in output or b"bladder" in output.lower():
                break  # a question came
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(controller)
    text = output.decode("utf-8", "replace")
    assert "No camera" in text, text
    assert "bladder" not in text.lower() and "safety questions" not in text.lower(), text
    assert code == 2, text
