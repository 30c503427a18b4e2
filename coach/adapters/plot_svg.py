"""An exercise's key signal over time, drawn as inline SVG for the session report.

Pure Python and numpy: the plot is vector (it prints sharply), its words come
from the caller in the patient's language, and it needs no script or font of
its own. A long session stays small: each pixel column keeps only its lowest
and highest sample, in time order, so no peak is lost.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from coach.core.record import ExercisePlot

WIDTH = 900
# The plotting area, in SVG units (about CSS pixels at full width).
LEFT, RIGHT, TOP, BOTTOM = 76.0, 884.0, 36.0, 252.0
LEGEND_TOP = 310.0  # middle of the legend's first row
LEGEND_ROW = 18.0
FONT_SIZE = 12.0
TITLE_SIZE = 14.0
# A sans-serif letter's mean width, as a share of the font size: enough to lay
# out a legend and to squeeze a text that would run out of its room.
LETTER_WIDTH = 0.56
X_TICKS, Y_TICKS = 9, 5  # about this many ticks per axis
X_MARGIN = 0.03  # room before the first frame and after the last, as a share of the time
Y_MARGIN = 0.05  # room above and below the values, as a share of their range
EXTRA_ROOM = 0.1  # and past them where a shaded zone has no edge of its own
# Values past this are drawn at it, so a corrupt record cannot overflow the scale.
LARGEST = 1e12

INK = "#1d2530"
GRID = "#d5d9df"
BAND = "#2e9d5a"
ABOVE = "#d08a1e"
HOLD_REACHED = "#2d6cdf"
HOLD_SHORT = "#9aa7b8"
FAULT = "#c0392b"
ZONE_OPACITY = 0.15
HOLD_OPACITY = 0.18

# Characters XML does not allow, even escaped: dropped from every text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class _Scale:
    """Maps values in [lo, hi] onto SVG coordinates [first, last]."""

    lo: float
    hi: float
    first: float
    last: float

    def at(self, value: float) -> float:
        return self.first + (value - self.lo) / (self.hi - self.lo) * (self.last - self.first)

    def array(self, values: np.ndarray) -> np.ndarray:
        span = (self.last - self.first) / (self.hi - self.lo)
        result: np.ndarray = self.first + (values - self.lo) * span
        return result

    def inside(self, value: float) -> bool:
        return min(self.lo, self.hi) <= value <= max(self.lo, self.hi)


def plot_svg(data: ExercisePlot, words: Mapping[str, str]) -> str:
    """The plot of one exercise as an ``<svg>`` element, its words taken from ``words``."""
    count = min(len(data.t_s), len(data.values))
    t = np.clip(np.asarray(data.t_s, dtype=float)[:count], -LARGEST, LARGEST)
    values = np.clip(np.asarray(data.values, dtype=float)[:count], -LARGEST, LARGEST)
    low, high = (_finite(edge) for edge in data.band)
    x = _Scale(*_limits(t, X_MARGIN), LEFT, RIGHT)
    y = _Scale(*_limits(_shown_values(values, low, high, data.beyond), Y_MARGIN), BOTTOM, TOP)
    zones, legend = _zones(y, low, high, data.beyond, words)
    for completed, colour, key in (
        (True, HOLD_REACHED, "report_plot_hold_reached"),
        (False, HOLD_SHORT, "report_plot_hold_short"),
    ):
        if any(done is completed for _start, _end, done in data.holds):
            legend.append(("hold", colour, words[key]))
    faults = [t_s for _key, t_s in data.faults if math.isfinite(t_s) and x.inside(t_s)]
    if faults:
        legend.append(("dash", FAULT, words["report_plot_fault"]))
    rows, legend_svg = _legend([("line", INK, data.label), *legend])
    height = _n(LEGEND_TOP + (rows - 1) * LEGEND_ROW + 14)
    parts = [
        f'<svg class="plot" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'font-size="{_n(FONT_SIZE)}" fill="{INK}">',
        f"<title>{_escape(words['report_plot_alt'].format(title=data.title, label=data.label))}"
        "</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
        *zones,
        *_holds(x, data.holds),
        _grid(x, y),
        _signal(x.array(t), y.array(values)),
        *(_fault(x.at(t_s)) for t_s in faults),
        f'<rect class="frame" x="{_n(LEFT)}" y="{_n(TOP)}" width="{_n(RIGHT - LEFT)}" '
        f'height="{_n(BOTTOM - TOP)}" fill="none" stroke="{INK}" stroke-width="1"/>',
        *_tick_labels(x, y),
        *_titles(data, words),
        legend_svg,
        "</svg>",
    ]
    return "".join(parts)


def _zones(
    y: _Scale,
    low: float | None,
    high: float | None,
    beyond: tuple[str, str] | None,
    words: Mapping[str, str],
) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The shaded target band (or the two target zones), and their legend entries."""
    if beyond is not None and low is not None and high is not None:
        # The target is past each edge in turn (cat-cow): shade both zones.
        below, above = beyond
        shapes = [
            _span_y(y, y.lo, low, BAND, "zone below"),
            _span_y(y, high, y.hi, ABOVE, "zone above"),
        ]
        return shapes, [("zone", BAND, below), ("zone", ABOVE, above)]
    if low is None and high is None:
        return [], []
    lo = low if low is not None else y.lo
    hi = high if high is not None else y.hi
    return [_span_y(y, lo, hi, BAND, "band")], [("zone", BAND, words["report_plot_band"])]


def _signal(x: np.ndarray, y: np.ndarray) -> str:
    line = _line_path(x, y)
    if not line:
        return ""
    return (
        f'<path class="signal" d="{line}" fill="none" stroke="{INK}" stroke-width="1.4" '
        'stroke-linejoin="round" stroke-linecap="round"/>'
    )


def _fault(at: float) -> str:
    return (
        f'<line class="fault" x1="{_n(at)}" y1="{_n(TOP)}" x2="{_n(at)}" y2="{_n(BOTTOM)}" '
        f'stroke="{FAULT}" stroke-width="1" stroke-dasharray="5 3"/>'
    )


def _titles(data: ExercisePlot, words: Mapping[str, str]) -> list[str]:
    """The plot's title and its axes' titles."""
    unit = words["report_plot_degrees"] if data.unit == "deg" else words["report_plot_torso"]
    title = words["report_plot_title"].format(title=data.title, label=data.label)
    middle = (TOP + BOTTOM) / 2
    return [
        _text((LEFT + RIGHT) / 2, BOTTOM + 36, words["report_plot_time"], "middle"),
        _text(
            20,
            middle,
            f"{data.label} ({unit})",
            "middle",
            room=BOTTOM - TOP,
            extra=f' transform="rotate(-90 20 {_n(middle)})"',
        ),
        _text(
            (LEFT + RIGHT) / 2,
            22,
            title,
            "middle",
            size=TITLE_SIZE,
            room=WIDTH - 16,
            extra=' font-weight="600"',
        ),
    ]


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(min(max(value, -LARGEST), LARGEST))


def _shown_values(
    values: np.ndarray, low: float | None, high: float | None, beyond: tuple[str, str] | None
) -> np.ndarray:
    """The values the vertical axis must show: the signal, the band's edges, and room
    past the data on each side where a shaded zone is open-ended, so it is seen."""
    edges = [e for e in (low, high) if e is not None]
    known = np.concatenate([values[np.isfinite(values)], np.array(edges, dtype=float)])
    if known.size == 0:
        return known
    bottom, top = float(known.min()), float(known.max())
    reach = EXTRA_ROOM * (top - bottom)
    both = beyond is not None and low is not None and high is not None
    extra = []
    if both or (low is None and high is not None):
        extra.append(bottom - reach)
    if both or (high is None and low is not None):
        extra.append(top + reach)
    return np.concatenate([known, np.array(extra, dtype=float)])


def _limits(values: np.ndarray, margin: float) -> tuple[float, float]:
    """The range to show ``values`` in: theirs, widened by ``margin``, never empty."""
    known = values[np.isfinite(values)]
    if known.size == 0:
        return 0.0, 1.0
    lo, hi = float(known.min()), float(known.max())
    if hi - lo <= 1e-9 * max(1.0, abs(lo)):
        half = max(abs(lo) * 0.1, 0.5)
        return lo - half, hi + half
    pad = margin * (hi - lo)
    return lo - pad, hi + pad


def _ticks(lo: float, hi: float, count: int) -> tuple[list[float], int]:
    """Round tick values inside [lo, hi], about ``count`` of them, and their decimals."""
    raw = (hi - lo) / count
    power = math.floor(math.log10(raw))
    for mantissa in (1.0, 2.0, 2.5, 5.0, 10.0):
        if mantissa * 10.0**power >= raw * (1 - 1e-9):
            break
    if mantissa == 10.0:
        mantissa, power = 1.0, power + 1
    step = mantissa * 10.0**power
    decimals = max(0, -power + (1 if mantissa == 2.5 else 0))
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [k * step for k in range(first, last + 1)], decimals


def _label(value: float, decimals: int) -> str:
    return f"{round(value, decimals) or 0.0:.{decimals}f}"  # never "-0"


def _grid(x: _Scale, y: _Scale) -> str:
    lines = [f"M{_n(x.at(v))} {_n(TOP)}V{_n(BOTTOM)}" for v in _ticks(x.lo, x.hi, X_TICKS)[0]]
    lines += [f"M{_n(LEFT)} {_n(y.at(v))}H{_n(RIGHT)}" for v in _ticks(y.lo, y.hi, Y_TICKS)[0]]
    return f'<path class="grid" d="{"".join(lines)}" stroke="{GRID}" stroke-width="1"/>'


def _tick_labels(x: _Scale, y: _Scale) -> list[str]:
    x_ticks, x_decimals = _ticks(x.lo, x.hi, X_TICKS)
    y_ticks, y_decimals = _ticks(y.lo, y.hi, Y_TICKS)
    out = [_text(x.at(v), BOTTOM + 16, _label(v, x_decimals), "middle") for v in x_ticks]
    out += [_text(LEFT - 6, y.at(v) + 4, _label(v, y_decimals), "end") for v in y_ticks]
    marks = [f"M{_n(x.at(v))} {_n(BOTTOM)}v4" for v in x_ticks]
    marks += [f"M{_n(LEFT)} {_n(y.at(v))}h-4" for v in y_ticks]
    out.append(f'<path class="ticks" d="{"".join(marks)}" stroke="{INK}" stroke-width="1"/>')
    return out


def _span_y(y: _Scale, lo: float, hi: float, colour: str, name: str) -> str:
    """A shaded band across the plot between two values (clipped to the plot)."""
    top = min(max(y.at(max(lo, hi)), TOP), BOTTOM)
    bottom = min(max(y.at(min(lo, hi)), TOP), BOTTOM)
    return (
        f'<rect class="{name}" x="{_n(LEFT)}" y="{_n(top)}" width="{_n(RIGHT - LEFT)}" '
        f'height="{_n(bottom - top)}" fill="{colour}" fill-opacity="{ZONE_OPACITY}"/>'
    )


def _holds(x: _Scale, holds: Sequence[tuple[float, float, bool]]) -> list[str]:
    """Each hold as a shaded span of time, blue when it reached its target, grey when short."""
    out = []
    for start, end, completed in holds:
        if not (math.isfinite(start) and math.isfinite(end)) or end < start:
            continue
        left = min(max(x.at(start), LEFT), RIGHT)
        right = min(max(x.at(end), LEFT), RIGHT)
        if right <= left and not (x.inside(start) or x.inside(end)):
            continue  # wholly outside the plotted time
        colour, name = (HOLD_REACHED, "reached") if completed else (HOLD_SHORT, "short")
        out.append(
            f'<rect class="hold {name}" x="{_n(left)}" y="{_n(TOP)}" '
            f'width="{_n(max(right - left, 1.0))}" height="{_n(BOTTOM - TOP)}" '
            f'fill="{colour}" fill-opacity="{HOLD_OPACITY}"/>'
        )
    return out


def _line_path(x: np.ndarray, y: np.ndarray) -> str:
    """Path data of the line through the points, broken where a point is unknown.

    Consecutive points in one pixel column are reduced to their lowest and
    highest, in time order: the path's size follows the plot's width, not the
    session's length. A point cut off on both sides by unknown ones is a dot.
    """
    known = np.isfinite(x) & np.isfinite(y)
    index = np.flatnonzero(known)
    if index.size == 0:
        return ""
    gaps = np.cumsum(~known)  # unknown points so far: equal along an unbroken stretch
    column = np.floor(x[index])
    starts_group = np.ones(index.size, dtype=bool)
    starts_group[1:] = column[1:] != column[:-1]
    group = np.cumsum(starts_group)
    order = np.lexsort((y[index], group))  # by column group, then by value
    first = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1]])
    last = np.r_[first[1:] - 1, order.size - 1]
    kept = index[np.unique(np.concatenate([order[first], order[last]]))]
    joined = gaps[kept[1:]] == gaps[kept[:-1]]
    before = np.r_[False, joined]  # joined to the point before
    after = np.r_[joined, False]
    out = []
    for px, py, joins, joined_after in zip(
        x[kept].tolist(), y[kept].tolist(), before.tolist(), after.tolist(), strict=True
    ):
        point = f"{_n(px)} {_n(py)}"
        if joins:
            out.append(f"L{point}")
        else:
            out.append(f"M{point}" if joined_after else f"M{point}h0")
    return "".join(out)


def _legend(entries: Sequence[tuple[str, str, str]]) -> tuple[int, str]:
    """The legend under the plot, wrapped into rows; its number of rows and its SVG.

    Each entry is (kind, colour, text), kind one of "line", "dash", "zone", "hold".
    """
    out, row, cursor = [], 0, LEFT
    for kind, colour, text in entries:
        room = RIGHT - LEFT - 26
        width = 26 + min(_width(text, FONT_SIZE), room)
        if cursor > LEFT and cursor + width > RIGHT:
            row, cursor = row + 1, LEFT
        middle = LEGEND_TOP + row * LEGEND_ROW
        if kind in ("zone", "hold"):
            opacity = ZONE_OPACITY if kind == "zone" else HOLD_OPACITY
            swatch = (
                f'<rect x="{_n(cursor)}" y="{_n(middle - 6)}" width="20" height="12" '
                f'fill="{colour}" fill-opacity="{opacity}"/>'
            )
        else:
            dash = ' stroke-dasharray="5 3"' if kind == "dash" else ""
            swatch = (
                f'<line x1="{_n(cursor)}" y1="{_n(middle)}" x2="{_n(cursor + 20)}" '
                f'y2="{_n(middle)}" stroke="{colour}" stroke-width="1.6"{dash}/>'
            )
        out.append(swatch + _text(cursor + 26, middle + 4, text, room=room))
        cursor += width + 18
    return row + 1, '<g class="legend">' + "".join(out) + "</g>"


def _text(
    x: float,
    y: float,
    text: str,
    anchor: str = "start",
    *,
    size: float = FONT_SIZE,
    room: float | None = None,
    extra: str = "",
) -> str:
    """A text element; squeezed to ``room`` when it would run longer."""
    attrs = f'x="{_n(x)}" y="{_n(y)}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if size != FONT_SIZE:
        attrs += f' font-size="{_n(size)}"'
    if room is not None and _width(text, size) > room:
        attrs += f' textLength="{_n(room)}" lengthAdjust="spacingAndGlyphs"'
    return f"<text {attrs}{extra}>{_escape(text)}</text>"


def _width(text: str, size: float) -> float:
    return len(text) * size * LETTER_WIDTH


def _escape(text: str) -> str:
    return escape(_NOT_XML.sub("", text))


def _n(value: float) -> str:
    """A coordinate, to one decimal."""
    return f"{round(value, 1) or 0.0:.1f}".removesuffix(".0")
