"""A session report as one self-contained HTML file (plots embedded as PNG).

Opens in any browser without a network: no scripts, fonts or images are
fetched; the plots are drawn with matplotlib (Agg) and embedded as base64 PNG.
Every text from the session or the routine is escaped.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from coach.core.record import ExercisePlot, SessionData, exercise_plot
from coach.core.safety import RED_FLAGS
from coach.errors import SessionDataError
from coach.files import write_output

REPORT_FILE = "report.html"
# Why a session stopped, in words, by the reason the session records.
STOP_REASONS = {
    "user": "stopped by the person",
    "left_mat": "the person left the mat (ended when last seen)",
    "interrupted": "interrupted (Ctrl-C)",
    "window_closed": "the window was closed",
    "camera_stalled": "the camera stopped delivering pictures",
    "source_ended": "the video or camera ended before the routine did",
    "safety": "a safety question was answered yes",
}
PLOT_SIZE_IN = (9.0, 3.2)
PLOT_DPI = 100

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  background: #f6f7f9; color: #1d2530; }
main { max-width: 980px; margin: 0 auto; padding: 24px; }
header { border-bottom: 3px solid #2d6cdf; margin-bottom: 16px; }
h1 { margin: 0 0 4px 0; font-size: 1.7em; }
h2 { margin-top: 28px; border-bottom: 1px solid #ccd; padding-bottom: 4px; }
section.exercise { background: #fff; border: 1px solid #dde; border-radius: 8px;
  padding: 4px 18px 14px 18px; margin: 18px 0; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ccd; padding: 4px 10px; text-align: left; }
th { background: #eef1f6; }
.status { display: inline-block; padding: 3px 12px; border-radius: 12px; font-weight: 700;
  color: #fff; }
.status.complete { background: #1f8a4c; }
.status.incomplete { background: #c0392b; }
.yes { color: #c0392b; font-weight: 700; }
.met { color: #1f8a4c; font-weight: 700; }
.short { color: #b06000; font-weight: 700; }
.warn { background: #fff4e0; border: 1px solid #f0c070; padding: 8px 12px; border-radius: 6px; }
.muted { color: #667; }
img.plot { max-width: 100%; height: auto; border: 1px solid #eee; }
.pain { font-size: 1.3em; }
"""


def write_report(session: SessionData, out: Path | None = None) -> Path:
    """Write the report of a session (default: report.html in its folder); return the path.

    Written atomically, readable by the user only, and never over a file of the record.

    Raises:
        SessionDataError: The report cannot be written there, with what to do.
    """
    path = Path(out) if out is not None else session.folder / REPORT_FILE
    html = render_report(session)
    record = [p for p in session.folder.iterdir() if p.name != REPORT_FILE and p.is_file()]
    return write_output(path, html, "report", error=SessionDataError, inputs=record)


def render_report(session: SessionData) -> str:
    """The report of a session as one HTML document."""
    summary = session.summary
    routine = session.routine
    title = f"Session report: {routine.title}"
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head><body><main>",
        _header(session),
        _warnings(session),
        _safety(session),
        _pain(session),
        "<h2>Exercises</h2>",
    ]
    entries = summary.get("exercises", [])
    plots = _plots(session)
    for index, spec in enumerate(routine.exercises):
        entry = entries[index] if isinstance(entries, list) and index < len(entries) else {}
        parts.append(_exercise(spec.title, spec.cues, entry, plots[index]))
    parts.append(
        '<p class="muted">Written by coach from the session folder '
        f"{escape(str(session.folder))}. The coach does not diagnose.</p>"
    )
    parts.append("</main></body></html>")
    return "\n".join(p for p in parts if p)


def _header(session: SessionData) -> str:
    summary = session.summary
    meta = session.meta
    if session.complete:
        status = '<span class="status complete">Completed</span>'
        why = ""
    else:
        status = '<span class="status incomplete">INCOMPLETE</span>'
        if not session.finished:
            why = "The session was cut off before its end (no summary was written)."
        elif summary.get("stopped"):
            reason = str(summary.get("stopped"))
            why = f"The session was stopped: {STOP_REASONS.get(reason, reason)}."
        else:
            why = "The session did not reach its end."
        why = f"<p>{escape(why)}</p>"
    rows = [
        ("Date", _date(session.started_at)),
        ("Routine", f"{session.routine.title} ({session.routine.name})"),
        ("Routine file", str(meta.get("routine_source", session.routine.source))),
        ("Source", str(meta.get("source", ""))),
        ("Duration", _duration(summary.get("duration_s"))),
        ("Pauses", _pauses(summary.get("pauses"))),
    ]
    return (
        f"<header><h1>{escape('Session report: ' + session.routine.title)}</h1>"
        f"<p>{status}</p>{why}</header>" + _table(("", ""), rows, header=False)
    )


def _warnings(session: SessionData) -> str:
    if not session.warnings:
        return ""
    items = "".join(f"<li>{escape(w)}</li>" for w in session.warnings)
    return f'<div class="warn"><strong>Notes on the record</strong><ul>{items}</ul></div>'


def _safety(session: SessionData) -> str:
    answers = session.safety.get("answers", {})
    summary_safety = session.summary.get("safety", {})
    out = ["<h2>Safety questions</h2>"]
    if not isinstance(answers, Mapping) or not answers:
        out.append('<p class="muted">No safety answers were recorded.</p>')
    else:
        questions = {flag.key: flag.question for flag in RED_FLAGS}
        rows = []
        for key, value in answers.items():
            answer = '<span class="yes">yes</span>' if value else "no"
            rows.append((escape(questions.get(str(key), str(key))), answer))
        out.append(_table(("Question", "Answer"), rows, escape_cells=False))
    result = session.safety.get("result")
    if isinstance(summary_safety, Mapping) and summary_safety.get("stop"):
        questions = {flag.key: flag.question for flag in RED_FLAGS}
        flags = [questions.get(str(f), str(f)) for f in summary_safety.get("flags", [])]
        items = "".join(f"<li>{escape(f)}</li>" for f in flags)
        out.append(
            '<p class="yes">The exercises were not started: the answer was yes to</p>'
            f"<ul>{items}</ul>"
        )
    elif result:
        out.append(f"<p>Outcome: {escape(str(result))}</p>")
    return "\n".join(out)


def _pain(session: SessionData) -> str:
    before, after = session.pain_before, session.pain_after
    text = f"before {_score(before)} &rarr; after {_score(after)}"
    if before is not None and after is not None:
        change = after - before
        word = "better" if change < 0 else "worse" if change > 0 else "unchanged"
        text += f" ({change:+d}, {word})"
    return f'<h2>Pain (0-10)</h2><p class="pain">{text}</p>'


def _score(value: int | None) -> str:
    return "not rated" if value is None else f"<strong>{int(value)}</strong>/10"


def _exercise(title: str, cues: Mapping[str, str], entry: Mapping[str, Any], plot_html: str) -> str:
    prescribed = entry.get("prescribed", {})
    achieved = entry.get("achieved", {})
    state = (
        "skipped"
        if entry.get("skipped")
        else "completed"
        if entry.get("completed")
        else f"moved on by the coach: nothing counted for {_num(entry.get('no_progress_s'))} s"
        if entry.get("ended") == "no_progress"
        else "not started"
        if not entry.get("started")
        else "not finished"
    )
    out = [f'<section class="exercise"><h3>{escape(title)}</h3>', f"<p>Status: {escape(state)}</p>"]
    unit = str(prescribed.get("unit", "repetitions"))
    target = prescribed.get("target", prescribed.get("reps", 0))
    done = achieved.get("reps_toward_dose", 0)
    cls = "met" if achieved.get("dose_met") else "short"
    hold_s = prescribed.get("hold_s")
    dose_text = _dose_text(prescribed)
    rows = [
        ("Prescribed", escape(dose_text)),
        (
            "Achieved toward the dose",
            f'<span class="{cls}">{escape(f"{done} of {target} {unit}")}</span>',
        ),
        ("Repetitions counted", escape(str(achieved.get("reps_counted", 0)))),
    ]
    if hold_s is not None:
        held = achieved.get("holds_count", 0)
        reached = achieved.get("holds_completed", 0)
        rows.append(("Holds", escape(f"{held} held, {reached} reached {_num(hold_s)} s")))
    rows += [
        ("Pauses", escape(str(entry.get("pauses", 0)))),
        ("Person out of view", escape(f"{entry.get('pose_lost', 0)} times")),
    ]
    hints = entry.get("stall_hints", 0)
    if hints:
        rows.append(("Hints when nothing counted", escape(f"{hints} times")))
    out.append(_table(("", ""), rows, header=False, escape_cells=False))
    holds = achieved.get("holds", [])
    if holds:
        hold_rows = [
            (
                str(i),
                _num(h.get("start_s")),
                _num(h.get("seconds")),
                ("yes" if h.get("completed") else "no")
                + (" (cut off)" if h.get("unfinished") else ""),
            )
            for i, h in enumerate(holds, start=1)
        ]
        out.append("<h4>Holds</h4>")
        out.append(_table(("#", "Start (s)", "Seconds held", "Reached target"), hold_rows))
    faults = entry.get("faults", [])
    out.append("<h4>Form faults</h4>")
    if faults:
        fault_rows = [
            (
                str(f.get("key", "")),
                cues.get(str(f.get("key", "")), ""),
                str(f.get("count", 0)),
                _num(f.get("first_s")),
            )
            for f in faults
        ]
        out.append(_table(("Fault", "Cue given", "Times", "First at (s)"), fault_rows))
    else:
        out.append('<p class="muted">None recorded.</p>')
    out.append(plot_html)
    out.append("</section>")
    return "\n".join(out)


def _dose_text(prescribed: Mapping[str, Any]) -> str:
    reps, reps_max = prescribed.get("reps"), prescribed.get("reps_max")
    count = f"{reps}" if reps_max in (None, reps) else f"{reps}-{reps_max}"
    text = f"{count} {prescribed.get('unit', 'repetitions')}"
    if prescribed.get("hold_s") is not None:
        text += f" of {_num(prescribed.get('hold_s'))} s"
    sets = prescribed.get("sets", 1)
    if sets and sets != 1:
        text += f", {sets} sets, {_num(prescribed.get('rest_s'))} s rest"
    return text


def _plots(session: SessionData) -> list[str]:
    """One HTML fragment per exercise: an embedded plot, or a note why there is none."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt

    fragments: list[str] = []
    for index in range(len(session.routine.exercises)):
        data = exercise_plot(session, index)
        if data is None:
            fragments.append('<p class="muted">No frames were recorded for this exercise.</p>')
            continue
        fig, ax = plt.subplots(figsize=PLOT_SIZE_IN, dpi=PLOT_DPI)
        try:
            _draw(ax, data)
            fig.tight_layout()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png")
        finally:
            plt.close(fig)
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        alt = f"{data.label} over time for {data.title}"
        fragments.append(
            f'<img class="plot" alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'
        )
    return fragments


def _draw(ax: Any, data: ExercisePlot) -> None:
    unit = "degrees" if data.unit == "deg" else "torso lengths"
    low, high = data.band
    finite = data.values[np.isfinite(data.values)]
    top = float(finite.max()) if finite.size else 1.0
    bottom = float(finite.min()) if finite.size else 0.0
    pad = 0.1 * (top - bottom) + 1e-6
    if data.beyond is not None and low is not None and high is not None:
        # The target is past each edge in turn (cat-cow): shade both zones.
        below, above = data.beyond
        ax.axhspan(min(bottom, low) - pad, low, color="#2e9d5a", alpha=0.15, label=below)
        ax.axhspan(high, max(top, high) + pad, color="#d08a1e", alpha=0.15, label=above)
    elif low is not None or high is not None:
        lo = low if low is not None else min(bottom, high if high is not None else bottom) - pad
        hi = high if high is not None else max(top, lo) + pad
        ax.axhspan(lo, hi, color="#2e9d5a", alpha=0.15, label="target band")
    labelled: set[bool] = set()
    for start, end, completed in data.holds:
        label = None
        if completed not in labelled:
            label = "hold (target reached)" if completed else "hold (short)"
            labelled.add(completed)
        ax.axvspan(start, end, color="#2d6cdf" if completed else "#9aa7b8", alpha=0.18, label=label)
    ax.plot(data.t_s, data.values, color="#1d2530", linewidth=1.4, label=data.label)
    for i, (_key, t_s) in enumerate(data.faults):
        ax.axvline(
            t_s, color="#c0392b", linestyle="--", linewidth=1, label=("fault" if i == 0 else None)
        )
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"{data.label} ({unit})")
    ax.set_title(f"{data.title}: {data.label}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")


def _table(
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    header: bool = True,
    escape_cells: bool = True,
) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>")
    for row in rows:
        cells = [escape(c) if escape_cells else c for c in row]
        if not header:
            tail = "".join(f"<td>{c}</td>" for c in cells[1:])
            out.append(f"<tr><th>{cells[0]}</th>{tail}</tr>")
        else:
            out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _num(value: object) -> str:
    if value is None or isinstance(value, bool):
        return "-"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return escape(str(value))
    if not math.isfinite(number):
        return "-"
    return f"{number:.0f}" if number == int(number) else f"{number:.1f}"


def _date(iso: str) -> str:
    return iso.replace("T", " ") if iso else "unknown"


def _duration(value: object) -> str:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "-"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _pauses(value: object) -> str:
    if not isinstance(value, Mapping):
        return "-"
    return f"{value.get('count', 0)} ({_num(value.get('seconds', 0))} s)"
