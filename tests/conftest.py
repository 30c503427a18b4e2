"""Shared fixtures: where the real data and the bundled model are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def realdata_dir() -> Path | None:
    """The real photos and videos, from COACH_REALDATA or ../shared/realdata."""
    env = os.environ.get("COACH_REALDATA")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "realdata")
    for path in candidates:
        if (path / "images" / "manifest.csv").is_file():
            return path
    return None


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
