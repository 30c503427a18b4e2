"""The report's plots: inline SVG of an exercise's signal, band, holds and faults."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from coach.adapters.plot_svg import BAND, plot_svg
from coach.core.catalog import word_texts
from coach.core.record import ExercisePlot

SVG = "{http://www.w3.org/2000/svg}"
ENGLISH = word_texts("en")


def _plot(**changes: object) -> ExercisePlot:
    """A minute and a half of a hip angle in 0..50 degrees, band 10-20, two holds, one fault."""
    t = np.linspace(0.0, 100.0, 101)
    fields: dict[str, object] = {
        "title": "Child's pose",
        "label": "hip angle",
        "unit": "deg",
        "t_s": t,
        "values": t / 2.0,
        "band": (10.0, 20.0),
        "holds": ((20.0, 40.0, True), (60.0, 70.0, False)),
        "faults": (("knees_apart", 50.0),),
    }
    fields.update(changes)
    return ExercisePlot(**fields)  # type: ignore[arg-type]


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("class") == "plot" and root.get("role") == "img"
    return root


def _by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def _area(root: ET.Element) -> tuple[float, float, float, float]:
    """The plotting area (x, y, width, height), from its frame."""
    (frame,) = _by_class(root, "frame")
    return tuple(float(frame.get(k, "nan")) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def _texts(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter() if e.tag in (f"{SVG}text", f"{SVG}title")]


def _points(path: str) -> np.ndarray:
    """The (x, y) of each point of a path's M and L commands."""
    pairs = re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", path)
    return np.array(pairs, dtype=float).reshape(-1, 2)


def test_band_holds_and_faults_are_drawn_where_they_happened() -> None:
    root = _parse(plot_svg(_plot(), ENGLISH))
    x0, y0, width, height = _area(root)

    def x_at(t_s: float) -> float:  # 0 to 100 s, with 3 % room before and after
        return x0 + (t_s + 3.0) / 106.0 * width

    def y_at(value: float) -> float:  # values 0..50, with 5 % room above and below
        return y0 + height - (value + 2.5) / 55.0 * height

    (band,) = _by_class(root, "band")
    assert band.get("fill") == BAND and band.get("fill-opacity") == "0.15"
    assert float(band.get("y", "nan")) == pytest.approx(y_at(20.0), abs=0.1)
    assert float(band.get("height", "nan")) == pytest.approx(y_at(10.0) - y_at(20.0), abs=0.1)
    (reached,) = _by_class(root, "reached")
    (short,) = _by_class(root, "short")
    for hold, start, end in ((reached, 20.0, 40.0), (short, 60.0, 70.0)):
        assert float(hold.get("x", "nan")) == pytest.approx(x_at(start), abs=0.1)
        assert float(hold.get("width", "nan")) == pytest.approx(x_at(end) - x_at(start), abs=0.1)
    assert reached.get("fill") != short.get("fill")
    (fault,) = _by_class(root, "fault")
    assert float(fault.get("x1", "nan")) == pytest.approx(x_at(50.0), abs=0.1)
    assert fault.get("stroke-dasharray")

    (signal,) = _by_class(root, "signal")
    points = _points(signal.get("d", ""))
    assert points[0] == pytest.approx((x_at(0.0), y_at(0.0)), abs=0.1)
    assert points[-1] == pytest.approx((x_at(100.0), y_at(50.0)), abs=0.1)

    texts = _texts(root)
    for words in ("time (s)", "hip angle (degrees)", "Child's pose: hip angle", "fault"):
        assert words in texts, words
    assert "target band" in texts and "hold (target reached)" in texts
    assert "hold (short)" in texts
    assert "hip angle over time for Child's pose" in texts  # the plot's text alternative
    assert {"0", "20", "40", "100"} <= set(texts)  # round ticks on both axes


def test_a_target_past_both_edges_shades_the_two_zones() -> None:
    data = _plot(band=(10.0, 20.0), beyond=("cow (back arched)", "cat (back rounded)"))
    root = _parse(plot_svg(data, ENGLISH))
    _x0, y0, _width, height = _area(root)
    assert not _by_class(root, "band")
    (below,) = _by_class(root, "below")
    (above,) = _by_class(root, "above")
    assert float(above.get("y", "nan")) == pytest.approx(y0, abs=0.1)
    bottom = float(below.get("y", "nan")) + float(below.get("height", "nan"))
    assert bottom == pytest.approx(y0 + height, abs=0.1)
    assert below.get("fill") != above.get("fill")
    assert {"cow (back arched)", "cat (back rounded)"} <= set(_texts(root))


def test_unknown_values_break_the_line() -> None:
    values = np.arange(101, dtype=float)
    values[40:45] = np.nan
    values[70] = np.nan
    values[72] = np.nan  # 71 is known alone: a dot
    root = _parse(plot_svg(_plot(values=values), ENGLISH))
    (signal,) = _by_class(root, "signal")
    path = signal.get("d", "")
    assert path.count("M") == 4
    assert path.count("h0") == 1
    whole = _by_class(_parse(plot_svg(_plot(), ENGLISH)), "signal")[0].get("d", "")
    assert whole.count("M") == 1


def test_a_long_session_stays_small_and_keeps_its_peaks() -> None:
    t = np.arange(18_000) / 30.0  # ten minutes at 30 frames a second
    values = 90.0 + 20.0 * np.sin(t / 3.0) + np.random.default_rng(1).normal(0.0, 2.0, t.size)
    values[12_345] = 400.0  # one sample far above the rest
    values[3_210] = -220.0  # and one far below
    values[5_000:5_003] = np.nan
    svg = plot_svg(_plot(t_s=t, values=values, holds=(), faults=()), ENGLISH)
    assert len(svg.encode()) < 60_000
    root = _parse(svg)
    _x0, y0, _width, height = _area(root)
    points = _points(_by_class(root, "signal")[0].get("d", ""))
    assert len(points) <= 2 * 812
    # The peak and the trough are the ends of the value range, 5 % of it inside the plot.
    assert points[:, 1].min() == pytest.approx(y0 + height * 0.05 / 1.1, abs=0.2)
    assert points[:, 1].max() == pytest.approx(y0 + height * 1.05 / 1.1, abs=0.2)
    assert _by_class(root, "signal")[0].get("d", "").count("M") == 2


@pytest.mark.parametrize(
    "changes",
    [
        {"values": np.full(101, np.nan)},
        {"values": np.full(101, np.nan), "band": (None, None)},
        {"t_s": np.array([12.0]), "values": np.array([42.0])},
        {"t_s": np.array([12.0]), "values": np.array([np.nan])},
        {"t_s": np.array([]), "values": np.array([])},
        {"values": np.full(101, 33.0)},
        {"values": np.zeros(101), "band": (None, None)},
        {"band": (None, 20.0)},
        {"band": (10.0, None)},
        {"band": (None, None), "beyond": ("below", "above")},
        {"band": (5_000.0, 9_000.0)},
        {"band": (-1e300, 1e300)},
        {"band": (float("nan"), float("inf"))},
        {"t_s": np.full(101, 7.0)},
        {"values": np.array([-1e308, 1e308] * 50 + [0.0])},
        {"values": np.where(np.arange(101) % 2 == 0, np.inf, 1.0)},
        {"holds": ((-50.0, -10.0, True), (90.0, 500.0, False), (30.0, 30.0, True))},
        {"holds": ((float("nan"), 3.0, True), (40.0, 20.0, False))},
        {"faults": (("a", -5.0), ("b", 1e9), ("c", float("nan")))},
        {"values": np.linspace(0.0, 1e-12, 101)},
    ],
    ids=lambda changes: ",".join(sorted(changes)),
)
def test_awkward_data_still_gives_a_plot(changes: dict[str, object]) -> None:
    svg = plot_svg(_plot(**changes), ENGLISH)
    root = _parse(svg)
    assert _area(root)[2] > 0
    coordinates = re.findall(r'\s(?:x|y|width|height|x1|x2|y1|y2)="([^"]*)"', svg)
    assert coordinates and all(np.isfinite(float(c)) for c in coordinates)
    assert "nan" not in svg.lower() and "inf" not in svg.lower()


def test_every_text_is_escaped() -> None:
    data = _plot(
        title='Anna\'s <b>"pose"</b> & co',
        label="<script>alert(1)</script>",
        beyond=("<below>", "above & \x00beyond"),
    )
    svg = plot_svg(data, ENGLISH)
    assert "<script>" not in svg and "<b>" not in svg and "<below>" not in svg
    texts = _texts(_parse(svg))
    assert 'Anna\'s <b>"pose"</b> & co: <script>alert(1)</script>' in texts
    assert "above & beyond" in texts


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("es", ("tiempo (s)", "franja objetivo", "mantenimiento (corto)", "fallo")),
        ("de", ("Zeit (s)", "Zielbereich", "Halten (Ziel erreicht)", "Fehler")),
    ],
)
def test_the_plot_speaks_the_language_of_the_session(language: str, words: tuple[str, ...]) -> None:
    data = _plot(unit="torso")
    texts = " ".join(_texts(_parse(plot_svg(data, word_texts(language)))))
    for word in words:
        assert word in texts, word
    for english in ("time (s)", "target band", "hold (", "torso lengths", "over time"):
        assert english not in texts, english
