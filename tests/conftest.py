"""Shared fixtures (where the real data and the bundled model are) and the ``slow`` group.

``python3 -m pytest -m "not slow"`` is the quick loop: pure logic on synthetic
data. A test is slow when it loads the pose model, reads the real data in
``../shared``, starts a subprocess, speaks, opens a browser or a display, or
takes seconds on its own.
Tests that ask for the real-data or display fixtures are put in the group
here; any other test that does one of these things without the ``slow``
marker fails and says so, so the quick loop stays quick.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Libraries ask the platform for the processor once per process, and Python
# answers by running `uname -p`: asked here, before any test, it is no test's
# subprocess.
platform.processor()

# Fixtures that make a test slow by their nature.
SLOW_FIXTURES = frozenset({"realdata", "real_videos", "real_images", "xvfb"})
# Markers that imply the slow group.
SLOW_MARKERS = ("realdata", "realmodel")


def realdata_dir() -> Path | None:
    """The real photos and videos, from COACH_REALDATA or ../shared/realdata."""
    env = os.environ.get("COACH_REALDATA")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "realdata")
    for path in candidates:
        if (path / "images" / "manifest.csv").is_file():
            return path
    return None


ANNOTATION_FILES = ("annotations.json", "annotations-2.json")


def annotated_clips() -> dict[str, dict[str, Any]]:
    """Every annotated clip of both dev sets by file name (none when the real data is missing)."""
    folder = realdata_dir()
    if folder is None:
        return {}
    clips: dict[str, dict[str, Any]] = {}
    for name in ANNOTATION_FILES:
        path = folder / "videos" / name
        if path.is_file():
            clips.update({clip["file"]: clip for clip in json.loads(path.read_text("utf-8"))})
    return clips


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SLOW_FIXTURES or any(item.get_closest_marker(m) for m in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)


class SlowWorkInQuickTest(BaseException):
    """Raised where a test outside the slow group starts slow work.

    A BaseException, so code under test that catches ``Exception`` cannot
    swallow it.
    """


def _refuse(what: str, seen: list[str]) -> Callable[..., Any]:
    def refuse(*args: object, **kwargs: object) -> Any:
        seen.append(what)
        raise SlowWorkInQuickTest(f"{what}: mark the test @pytest.mark.slow")

    return refuse


@pytest.fixture(autouse=True)
def _slow_work_needs_the_marker(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if request.node.get_closest_marker("slow") is not None:
        yield
        return
    from coach.adapters import overlay, pose_model, speech

    seen: list[str] = []
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("starts a subprocess", seen))
    monkeypatch.setattr(pose_model, "open_landmarker", _refuse("loads the pose model", seen))
    monkeypatch.setattr(speech._EngineWorker, "__init__", _refuse("starts the voice", seen))
    monkeypatch.setattr(overlay.OverlayWindow, "__init__", _refuse("opens a window", seen))
    monkeypatch.setattr("webbrowser.open", _refuse("opens a browser", seen))
    yield
    if seen:
        pytest.fail(f"this test {seen[0]}; mark it @pytest.mark.slow", pytrace=False)


def wait_until(
    condition: Callable[[], object], timeout_s: float = 10.0, poll_s: float = 0.005
) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout_s:.0f} s and the condition never held")
        time.sleep(poll_s)


@pytest.fixture(scope="session")
def realdata() -> Path:
    path = realdata_dir()
    if path is None:
        pytest.skip(
            "real data not found: set COACH_REALDATA or put shared/realdata beside the repo"
        )
    return path


@pytest.fixture(scope="session")
def real_videos(realdata: Path) -> Path:
    return realdata / "videos"


@pytest.fixture(scope="session")
def real_images(realdata: Path) -> Path:
    return realdata / "images"
