"""OpenCV drawing of what the coach sees, on a copy of the frame."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from coach.core.catalog import session_texts
from coach.core.cue_writer import fill
from coach.core.exercises.base import Gauge
from coach.core.landmarks import SIDE_LANDMARKS, SKELETON_EDGES, Side
from coach.core.pose import Pose
from coach.core.view import OverlayView
from coach.errors import DisplayError

# BGR colours and sizes of the skeleton drawing.
SKELETON_COLOR = (200, 200, 200)
NEAR_SIDE_COLOR = (0, 215, 255)
JOINT_COLOR = (255, 255, 255)
LOW_VISIBILITY = 0.5


def draw_skeleton(image: np.ndarray, pose: Pose, *, side: Side | None = None) -> np.ndarray:
    """Draw the skeleton of ``pose`` on a copy of ``image``; the near ``side`` stands out.

    Joints the model barely sees are drawn hollow. The input image is not changed.
    """
    import cv2

    out: np.ndarray = np.array(image, copy=True)
    if pose.is_empty:
        return out
    height, width = out.shape[:2]
    # Poses are in pixels of the frame they came from; the image may be resized.
    scale = np.array(
        [width / max(pose.image_size[0], 1), height / max(pose.image_size[1], 1)],
        dtype=np.float64,
    )
    points = np.rint(pose.xy.astype(np.float64) * scale).astype(np.int64)
    thickness = max(1, round(min(width, height) / 240))
    radius = thickness + 2
    near = {int(lm) for lm in SIDE_LANDMARKS[side].values()} if side is not None else set()
    for a, b in SKELETON_EDGES:
        emphasised = int(a) in near and int(b) in near
        cv2.line(
            out,
            (int(points[a][0]), int(points[a][1])),
            (int(points[b][0]), int(points[b][1])),
            NEAR_SIDE_COLOR if emphasised else SKELETON_COLOR,
            thickness * 2 if emphasised else thickness,
            cv2.LINE_AA,
        )
    for index, (x, y) in enumerate(points):
        emphasised = index in near
        seen = float(pose.visibility[index]) >= LOW_VISIBILITY
        cv2.circle(
            out,
            (int(x), int(y)),
            radius + 1 if emphasised else radius,
            NEAR_SIDE_COLOR if emphasised else JOINT_COLOR,
            -1 if seen else thickness,
            cv2.LINE_AA,
        )
    return out


# ---------------------------------------------------------------- session overlay
# The overlay reads an OverlayView (what the session decided) and draws it; it
# decides nothing itself. Sizes are fractions of the frame's height, so a
# 640x480 camera and a 1080p video look alike.
PANEL_LEVEL = 32  # grey of the panels behind text
PANEL_ALPHA = 0.6
TEXT_COLOR = (255, 255, 255)
MUTED_COLOR = (190, 190, 190)
CUE_COLOR = (80, 240, 255)
BAND_COLOR = (70, 170, 70)
BAR_COLOR = (90, 90, 90)
MARKER_IN_BAND = (80, 255, 80)
MARKER_OUT_OF_BAND = (60, 120, 255)
PAUSED_COLOR = (0, 200, 255)
LOST_COLOR = (60, 120, 255)
BAR_MARGIN = 0.5  # the gauge shows the band and half its width again on each side
FONT_SCALE_PER_PX = 1.0 / 480.0  # sizes below are for a 480 px high frame
TEXT_SCALE = 0.9  # title and cue
MIN_TEXT_SCALE = 0.35
TEXT_THICKNESS = 2
LINE_HEIGHT = 34  # pixels per line of text
PAD_FRACTION = 0.015
SMALL_TEXT = 0.65  # progress, count beside a timer
BIG_TEXT = 1.6  # timer or count
SMALL_CUE_TEXT = 0.75  # a long cue is drawn smaller
MAX_CUE_LINES = 3
HELP_TEXT = 0.5
HELP_LINE = 0.7
BANNER_TEXT = 2.0


@dataclass(frozen=True, kw_only=True)
class OverlayStyle:
    """How the overlay looks: colours, the panels behind text and the size of the type."""

    text: tuple[int, int, int] = TEXT_COLOR
    muted: tuple[int, int, int] = MUTED_COLOR
    cue: tuple[int, int, int] = CUE_COLOR
    panel_level: int = PANEL_LEVEL
    panel_alpha: float = PANEL_ALPHA
    text_scale: float = 1.0  # times the standard size
    weight: int = 0  # extra stroke width


STANDARD = OverlayStyle()
# Pure white and yellow on solid black panels, in type half as large again and
# bolder: readable from a mat two metres away, in a bright room, with poor eyesight.
HIGH_CONTRAST = OverlayStyle(
    text=(255, 255, 255),
    muted=(255, 255, 255),
    cue=(0, 255, 255),
    panel_level=0,
    panel_alpha=1.0,
    text_scale=1.5,
    weight=1,
)


def overlay_style(*, high_contrast: bool) -> OverlayStyle:
    """The high-contrast style, or the standard one."""
    return HIGH_CONTRAST if high_contrast else STANDARD


# Text is drawn with a real font (DejaVu Sans, through Pillow), so any language's
# letters show. Only without one do OpenCV's Hershey fonts stand in, and they draw
# ASCII only: common typography is mapped, the rest dropped.
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Debian/Ubuntu fonts-dejavu-core
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",  # Fedora
    "/usr/share/fonts/TTF/DejaVuSans.ttf",  # Arch
    "/Library/Fonts/DejaVuSans.ttf",
    "C:/Windows/Fonts/DejaVuSans.ttf",
)
FONT_PX_PER_SCALE = 30.0  # font pixel size for an OpenCV text scale of 1
TEXT_MARGIN_PX = 2  # room kept around a text for its anti-aliased edge
_ASCII = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00b7": "|",
        "\u2026": "...",
        "\u00b0": " deg",
    }
)


@functools.lru_cache(maxsize=1)
def _font_file() -> str | None:
    """A TrueType font that draws every European letter: DejaVu Sans from the system,
    else the copy matplotlib ships; None when neither (or Pillow) is there."""
    try:
        import PIL.ImageFont  # noqa: F401
    except ImportError:
        return None
    from pathlib import Path

    for name in FONT_FILES:
        if Path(name).is_file():
            return name
    try:
        import matplotlib

        bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    except ImportError:
        return None
    return str(bundled) if bundled.is_file() else None


@functools.lru_cache(maxsize=64)
def _font(scale: float, thickness: int) -> object | None:
    from PIL import ImageFont

    path = _font_file()
    if path is None:
        return None
    # A heavier stroke in OpenCV reads as a slightly larger face.
    size = max(6, round(scale * FONT_PX_PER_SCALE * (1.0 + 0.04 * max(0, thickness - 1))))
    return ImageFont.truetype(path, size)


def _ascii(text: str) -> str:
    """``text`` as the font in use can draw it: unchanged with a real font."""
    if _font_file() is not None:
        return text
    return text.translate(_ASCII).encode("ascii", "ignore").decode("ascii")


@functools.lru_cache(maxsize=1024)
def _size(text: str, scale: float, thickness: int) -> tuple[int, int]:
    """Width and height (above the baseline) of ``text`` in pixels."""
    font: Any = _font(scale, thickness)
    if font is None:
        import cv2

        (w, h), _ = cv2.getTextSize(_ascii(text), cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        return int(w), int(h)
    left, top, right, _ = font.getbbox(text, anchor="ls")
    return int(right - min(left, 0)), int(max(1, -top))


def _panel(
    image: np.ndarray, x0: int, y0: int, x1: int, y1: int, style: OverlayStyle = STANDARD
) -> None:
    """Darken a rectangle in place so text on it reads on any background."""
    import cv2

    h, w = image.shape[:2]
    x0, x1 = max(0, x0), min(w, x1)
    y0, y1 = max(0, y0), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return
    roi = image[y0:y1, x0:x1]
    # One vectorised pass: roi * (1 - alpha) + grey level * alpha.
    alpha = style.panel_alpha
    cv2.addWeighted(roi, 1.0 - alpha, roi, 0.0, alpha * style.panel_level, dst=roi)


@functools.lru_cache(maxsize=256)
def _wrap(text: str, max_width: int, scale: float, thickness: int) -> tuple[str, ...]:
    words = text.split()
    lines: list[str] = []
    line = ""
    for word in words:
        trial = f"{line} {word}".strip()
        width, _ = _size(trial, scale, thickness)
        if width <= max_width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return tuple(lines)


@functools.lru_cache(maxsize=512)
def _coverage(text: str, scale: float, thickness: int) -> tuple[np.ndarray, int, int]:
    """How much of each pixel ``text`` covers (0-255), and where that patch's top-left
    corner lies from the baseline origin.

    Kept for the texts drawn again and again (title, cue, help), so a frame
    blends ready coverage instead of running the font renderer.
    """
    from PIL import Image, ImageDraw

    font: Any = _font(scale, thickness)
    left, top, right, bottom = (int(v) for v in font.getbbox(text, anchor="ls"))
    margin = TEXT_MARGIN_PX
    size = (max(1, right - left + 2 * margin), max(1, bottom - top + 2 * margin))
    patch = Image.new("L", size, 0)
    ImageDraw.Draw(patch).text(
        (margin - left, margin - top), text, font=font, fill=255, anchor="ls"
    )
    return np.asarray(patch), left - margin, top - margin


def _text(
    image: np.ndarray,
    text: str,
    origin: tuple[int, int],
    scale: float,
    color: tuple[int, int, int],
    thickness: int,
) -> None:
    """Draw ``text`` in place with its baseline starting at ``origin`` (as ``cv2.putText``)."""
    font: Any = _font(scale, thickness)
    if font is None:
        import cv2

        cv2.putText(
            image,
            _ascii(text),
            origin,
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            color,
            thickness,
            cv2.LINE_AA,
        )
        return
    coverage, dx, dy = _coverage(text, scale, thickness)
    h, w = image.shape[:2]
    x0, y0 = origin[0] + dx, origin[1] + dy
    x1, y1 = x0 + coverage.shape[1], y0 + coverage.shape[0]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    alpha = coverage[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0, None] * np.float32(1 / 255)
    roi = image[cy0:cy1, cx0:cx1]
    # The text's colour laid over the frame by its coverage, as a font renderer blends.
    blended = roi + (np.asarray(color, np.float32) - roi) * alpha
    roi[...] = (blended + 0.5).astype(np.uint8)


@functools.lru_cache(maxsize=256)
def _fit(text: str, max_width: int, scale: float, thickness: int) -> str:
    """``text`` cut with "..." to fit ``max_width`` pixels."""

    def width(t: str) -> int:
        return _size(t, scale, thickness)[0]

    if width(text) <= max_width:
        return text
    while text and width(text + "...") > max_width:
        text = text[:-1]
    return text.rstrip() + "..."


def _gauge_text(gauge: Gauge, name: str, words: Mapping[str, str]) -> str:
    """The gauge's line of text: its name and value in ``words``' language, and the band."""
    if not np.isfinite(gauge.value):
        return fill(words["screen_not_seen"], {"name": name}).strip()
    if gauge.unit == "deg":
        value = fill(words["screen_degrees"], {"value": f"{gauge.value:.0f}"})
        band = f"{gauge.low:.0f}-{gauge.high:.0f}"
    else:
        value, band = f"{gauge.value:.2f}", f"{gauge.low:.2f}-{gauge.high:.2f}"
    return f"{name} {value}  [{band}]".strip()


def _draw_gauge(
    image: np.ndarray,
    gauge: Gauge,
    label: str,
    box: tuple[int, int, int, int],
    scale: float,
    thickness: int,
    color: tuple[int, int, int] = TEXT_COLOR,
) -> None:
    """The measure as a marker on a bar, with its target band shaded, under ``label``."""
    import cv2

    x0, y0, x1, y1 = box
    low, high = min(gauge.low, gauge.high), max(gauge.low, gauge.high)
    span = max(high - low, 1e-6)
    lo_end, hi_end = low - BAR_MARGIN * span, high + BAR_MARGIN * span

    def x_of(value: float) -> int:
        frac = (min(max(value, lo_end), hi_end) - lo_end) / (hi_end - lo_end)
        return round(x0 + frac * (x1 - x0))

    bar_top = y0 + (y1 - y0) // 2
    cv2.rectangle(image, (x0, bar_top), (x1, y1), BAR_COLOR, -1)
    cv2.rectangle(image, (x_of(low), bar_top), (x_of(high), y1), BAND_COLOR, -1)
    if np.isfinite(gauge.value):
        in_band = low <= gauge.value <= high
        marker = x_of(float(gauge.value))
        cv2.rectangle(
            image,
            (marker - max(2, thickness), bar_top - thickness * 2),
            (marker + max(2, thickness), y1 + thickness * 2),
            MARKER_IN_BAND if in_band else MARKER_OUT_OF_BAND,
            -1,
        )
    label_scale = scale * 0.6
    label_thick = max(1, thickness - 1)
    _text(
        image,
        _fit(_ascii(label), x1 - x0, label_scale, label_thick),
        (x0, bar_top - thickness * 3),
        label_scale,
        color,
        label_thick,
    )


def render(
    image: np.ndarray,
    pose: Pose | None,
    view: OverlayView,
    style: OverlayStyle = STANDARD,
    *,
    labels: Mapping[str, str] | None = None,
) -> np.ndarray:
    """Draw the session on a copy of ``image``: skeleton, gauge, timer or count, cue, progress.

    ``labels`` gives the screen's own words in the patient's language (the
    ``screen_*`` texts of the catalogue); English without.
    The input image is not changed.
    """
    words = {**session_texts(), **(labels or {})}

    out = draw_skeleton(image, pose, side=view.side) if pose is not None else image.copy()
    height, width = out.shape[:2]
    # Portrait frames are narrow: size text by the width a 4:3 frame would have.
    unit = min(height, width * 0.75) * FONT_SCALE_PER_PX * style.text_scale
    scale = max(MIN_TEXT_SCALE, TEXT_SCALE * unit)
    thick = max(1, round(TEXT_THICKNESS * unit)) + style.weight
    small_scale, small_thick = scale * SMALL_TEXT, max(1, thick - 1)
    pad = max(4, round(height * PAD_FRACTION))
    line_h = round(LINE_HEIGHT * unit)

    # Top: timer or count large on the right, title and progress in the room left.
    top_h = pad * 2 + line_h * 2
    _panel(out, 0, 0, width, top_h, style)
    big = view.timer_text or view.count_text
    big_w = 0
    if big:
        big_scale = scale * BIG_TEXT
        big_w, big_h = _size(big, big_scale, thick + 1)
        _text(
            out,
            big,
            (width - big_w - pad, pad + big_h + pad // 2),
            big_scale,
            style.text,
            thick + 1,
        )
        if view.timer_text and view.count_text:
            sw, _ = _size(view.count_text, small_scale, small_thick)
            _text(
                out,
                view.count_text,
                (width - sw - pad, top_h - pad),
                small_scale,
                style.muted,
                small_thick,
            )
    room = max(0, width - big_w - 3 * pad)
    title = _fit(_ascii(view.title or ""), room, scale, thick)
    _text(out, title, (pad, pad + line_h - pad // 2), scale, style.text, thick)
    progress = _fit(_ascii(view.progress), room, small_scale, small_thick)
    _text(out, progress, (pad, top_h - pad), small_scale, style.muted, small_thick)

    # Bottom: the gauge, the current cue in large text, the keys.
    cue_scale = scale
    cue_lines: tuple[str, ...] = ()
    if view.cue_text:
        cue = _ascii(view.cue_text)
        cue_lines = _wrap(cue, width - 2 * pad, cue_scale, thick)
        if len(cue_lines) > MAX_CUE_LINES - 1:
            cue_scale = scale * SMALL_CUE_TEXT
            cue_lines = _wrap(cue, width - 2 * pad, cue_scale, thick)
        if len(cue_lines) > MAX_CUE_LINES:
            rest = " ".join(cue_lines[MAX_CUE_LINES - 1 :])
            last = _fit(rest, width - 2 * pad, cue_scale, thick)
            cue_lines = (*cue_lines[: MAX_CUE_LINES - 1], last)
    cue_line_h = round(line_h * cue_scale / scale)
    help_h = round(line_h * HELP_LINE) * 2
    gauge_h = line_h * 2 if view.gauge is not None else 0
    y = height - (pad * 2 + len(cue_lines) * cue_line_h + gauge_h + help_h)
    _panel(out, 0, y, width, height, style)
    y += pad
    if view.gauge is not None:
        _draw_gauge(
            out,
            view.gauge,
            _gauge_text(view.gauge, view.gauge_name, words),
            (pad, y + line_h // 2, width - pad, y + gauge_h - pad),
            scale,
            thick,
            style.text,
        )
        y += gauge_h
    for line in cue_lines:
        y += cue_line_h
        _text(out, line, (pad, y - pad // 2), cue_scale, style.cue, thick)
    help_scale = scale * HELP_TEXT
    body_help = _fit(_ascii(words["screen_body_help"]), width - 2 * pad, help_scale, 1)
    body_y = height - pad - round(line_h * HELP_LINE)
    _text(out, body_help, (pad, body_y), help_scale, style.muted, 1)
    keys = _fit(_ascii(words["screen_keys"]), width - 2 * pad, help_scale, 1)
    _text(out, keys, (pad, height - pad), help_scale, style.muted, 1)

    # Centre: why nothing is counted right now.
    banner = (
        words["screen_paused"] if view.paused else (words["screen_lost"] if view.lost else None)
    )
    banner = _ascii(banner) if banner else None
    if banner:
        b_scale = scale * BANNER_TEXT
        bw, bh = _size(banner, b_scale, thick + 2)
        bx, by = (width - bw) // 2, (height + bh) // 2
        _panel(out, bx - pad, by - bh - pad, bx + bw + pad, by + pad, style)
        colour = PAUSED_COLOR if view.paused else LOST_COLOR
        _text(out, banner, (bx, by), b_scale, colour, thick + 2)
    # Under it: what the body can do now, or the control it is giving.
    below = view.control_text or (words["screen_paused_help"] if view.paused else None)
    if below:
        line = _fit(_ascii(below), width - 2 * pad, scale, thick)
        lw, lh = _size(line, scale, thick)
        lx, ly = max(pad, (width - lw) // 2), (height + lh) // 2 + line_h * 2
        _panel(out, lx - pad, ly - lh - pad, min(width, lx + lw + pad), ly + pad, style)
        _text(out, line, (lx, ly), scale, PAUSED_COLOR, thick)
    return out


# ------------------------------------------------------------------ questions
PROMPT_TEXT = 1.3  # the question, times the cue size
PROMPT_ENTRY = 2.5  # what has been typed


@dataclass(frozen=True, kw_only=True)
class PromptView:
    """A question asked in the window, and what has been answered so far."""

    heading: str  # for example "Safety question 2 of 7"
    question: str
    keys: str  # the keys that answer it
    entry: str = ""  # what has been typed
    note: str = ""  # why the last key was not taken


def render_prompt(
    size: tuple[int, int], prompt: PromptView, style: OverlayStyle = STANDARD
) -> np.ndarray:
    """A dark card of ``size`` (width, height) with the question in large type."""

    width, height = size
    out = np.full((height, width, 3), style.panel_level, np.uint8)
    unit = min(height, width * 0.75) * FONT_SCALE_PER_PX * style.text_scale
    scale = max(MIN_TEXT_SCALE, TEXT_SCALE * unit)
    thick = max(1, round(TEXT_THICKNESS * unit)) + style.weight
    pad = max(8, round(height * PAD_FRACTION * 2))
    line_h = round(LINE_HEIGHT * unit)
    _text(out, _ascii(prompt.heading), (pad, pad + line_h), scale * SMALL_TEXT, style.muted, thick)

    q_scale = scale * PROMPT_TEXT
    lines = _wrap(_ascii(prompt.question), width - 2 * pad, q_scale, thick)
    if len(lines) > 5:  # a long question is drawn smaller rather than cut
        q_scale = scale
        lines = _wrap(_ascii(prompt.question), width - 2 * pad, q_scale, thick)
    q_line_h = round(line_h * q_scale / scale)
    y = pad * 2 + line_h * 3  # room for the typed entry, top right
    for line in lines:
        y += q_line_h
        _text(out, line, (pad, y), q_scale, style.text, thick)

    if prompt.entry:
        e_scale = scale * PROMPT_ENTRY
        ew, eh = _size(prompt.entry, e_scale, thick + 2)
        # Top right, like the timer in a session: clear of a question of any length.
        _text(out, prompt.entry, (width - ew - pad, pad + eh), e_scale, style.cue, thick + 2)
    # Bottom up: the keys that answer (wrapped, never cut), then why a key was not taken.
    y = height - pad
    for line in reversed(_wrap(_ascii(prompt.keys), width - 2 * pad, scale, thick)):
        _text(out, line, (pad, y), scale, style.cue, thick)
        y -= line_h
    if prompt.note:
        note = _fit(_ascii(prompt.note), width - 2 * pad, scale, thick)
        _text(out, note, (pad, y - line_h), scale, PAUSED_COLOR, thick)
    return out


_DISPLAY_PROBE = (
    "import cv2, numpy\n"
    "cv2.namedWindow('coach-probe', cv2.WINDOW_AUTOSIZE)\n"
    "cv2.imshow('coach-probe', numpy.zeros((8, 8, 3), numpy.uint8))\n"
    "cv2.waitKey(1)\n"
    "cv2.destroyAllWindows()\n"
)
DISPLAY_PROBE_TIMEOUT_S = 15.0
_display_cache: dict[str, bool] = {}


def display_available() -> bool:
    """Whether a window can be opened; never crashes the process.

    OpenCV aborts the whole process when it opens a window without a display,
    so the first call tries in a child process; the answer is remembered per
    display.
    """
    import os
    import subprocess
    import sys

    if sys.platform.startswith("linux"):
        display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        if not display:
            return False
    else:
        display = sys.platform
    if display in _display_cache:
        return _display_cache[display]
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _DISPLAY_PROBE],
            capture_output=True,
            timeout=DISPLAY_PROBE_TIMEOUT_S,
            check=False,
        )
        ok = probe.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    _display_cache[display] = ok
    return ok


class Window(Protocol):
    """Shows frames and returns the key pressed meanwhile (as ``OverlayWindow``)."""

    CLOSED: int  # returned by ``show`` once the person closed the window

    def show(self, image: np.ndarray) -> int:
        """Show ``image``; the key pressed, -1 for none, ``CLOSED`` once closed."""
        ...

    def close(self) -> None:
        """Close the window; safe to call twice."""
        ...


class OverlayWindow:
    """A window that shows frames and returns the key pressed (``-1`` for none).

    Raises:
        DisplayError: The window cannot be opened.
    """

    CLOSED = -2  # returned by ``show`` once the person closed the window

    def __init__(self, title: str = "coach") -> None:
        import cv2

        self._title = title
        self._shown = 0
        try:
            cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE)
        except cv2.error as exc:
            raise DisplayError(
                f"Cannot open the overlay window: {exc}. Run with --headless to go on "
                "without a window."
            ) from exc
        self._open = True

    def show(self, image: np.ndarray) -> int:
        """Show one frame; the key pressed meanwhile, ``-1`` for none, ``CLOSED`` when closed."""
        import cv2

        if not self._open:
            return self.CLOSED
        cv2.imshow(self._title, image)
        key = cv2.waitKey(1)
        self._shown += 1
        # Some backends report a new window as invisible until it was drawn once.
        if self._shown > 1 and cv2.getWindowProperty(self._title, cv2.WND_PROP_VISIBLE) < 1:
            self._open = False
            return self.CLOSED
        return key & 0xFF if key >= 0 else -1

    def close(self) -> None:
        """Close the window; safe to call twice."""
        import cv2

        if self._open:
            self._open = False
            try:
                cv2.destroyWindow(self._title)
                cv2.waitKey(1)
            except cv2.error:
                pass  # already gone
