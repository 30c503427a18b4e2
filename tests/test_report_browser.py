"""The report renders in a real headless browser (Debian's chromium), plots included."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from records_helpers import bundled_routine, record

from coach.adapters.report_html import write_report
from coach.adapters.storage import load_session

CHROMIUM_NAMES = ("/usr/bin/chromium", "chromium", "chromium-browser")
WINDOW = (1200, 2000)
# The plots' target band: its green at 15 % over white.
BAND_RGB = (224, 240, 230)

pytestmark = pytest.mark.slow  # a real browser


def _chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _screenshot(html: Path, out: Path, profile: Path) -> np.ndarray:
    chromium = _chromium()
    assert chromium is not None
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--screenshot={out}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        html.resolve().as_uri(),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert out.is_file(), (
        f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-800:]}"
    )
    import cv2

    image = cv2.imread(str(out), cv2.IMREAD_COLOR)
    assert image is not None, f"the screenshot {out} cannot be read"
    return np.asarray(image[..., ::-1], dtype=float)  # as RGB


@pytest.mark.skipif(
    _chromium() is None, reason="chromium is not installed (apt-get install chromium)"
)
@pytest.mark.parametrize("cut_s", [None, 45.0], ids=["complete", "cut off"])
def test_the_report_renders_with_its_plots(tmp_path: Path, cut_s: float | None) -> None:
    folder = record(bundled_routine(), tmp_path / "rec", stop_after_s=cut_s)
    html = write_report(load_session(folder))
    pixels = _screenshot(html, tmp_path / "shot.png", tmp_path / "profile")

    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
    assert float(pixels.std()) > 20.0, "the screenshot is blank"
    not_white = np.any(pixels < 240, axis=2).mean()
    assert not_white > 0.03, f"only {not_white:.1%} of the page is drawn"
    band = np.all(np.abs(pixels - np.array(BAND_RGB)) <= 6, axis=2).sum()
    assert band > 2000, "the plot's target band is not on screen: the plot did not render"
