"""A session report as one self-contained HTML file, its plots drawn inline as SVG.

Opens in any browser without a network: no scripts, fonts or images are
fetched. The plots are vector, so they print sharply, and their words are in
the language of the routine. Every text from the session or the routine is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from coach.adapters.plot_svg import plot_svg
from coach.core.catalog import exercise_texts, question_texts, word_texts
from coach.core.record import SessionData, exercise_plot
from coach.core.safety import RED_FLAGS
from coach.errors import SessionDataError
from coach.files import write_output

REPORT_FILE = "report.html"
# Why a session stopped, by the reason the session records: the words are
# ``report_stop_<reason>`` in the catalogue.
STOP_REASONS = (
    "user",
    "left_mat",
    "interrupted",
    "window_closed",
    "camera_stalled",
    "source_ended",
    "safety",
)

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
svg.plot { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
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
    """The report of a session as one HTML document, in the language of its routine."""
    summary = session.summary
    routine = session.routine
    w = word_texts(routine.language)
    title = w["report_title"].format(title=routine.title)
    parts: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(routine.language)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head><body><main>",
        _header(session, w),
        _warnings(session, w),
        _safety(session, w),
        _pain(session, w),
        f"<h2>{escape(w['report_exercises'])}</h2>",
    ]
    entries = summary.get("exercises", [])
    plots = _plots(session, w)
    for index, spec in enumerate(routine.exercises):
        entry = entries[index] if isinstance(entries, list) and index < len(entries) else {}
        unit = exercise_texts(spec.kind, routine.language).dose_many
        parts.append(_exercise(spec.title, spec.cues, entry, plots[index], w, unit))
    written = w["report_written_by"].format(folder=session.folder)
    parts.append(f'<p class="muted">{escape(written)}</p>')
    parts.append("</main></body></html>")
    return "\n".join(p for p in parts if p)


def _header(session: SessionData, w: Mapping[str, str]) -> str:
    summary = session.summary
    meta = session.meta
    if session.complete:
        status = f'<span class="status complete">{escape(w["report_completed"])}</span>'
        why = ""
    else:
        status = f'<span class="status incomplete">{escape(w["report_incomplete"])}</span>'
        if not session.finished:
            why = w["report_cut_off"]
        elif summary.get("stopped"):
            reason = str(summary.get("stopped"))
            why = w["report_stopped"].format(reason=w.get(f"report_stop_{reason}", reason))
        else:
            why = w["report_not_ended"]
        why = f"<p>{escape(why)}</p>"
    rows = [
        (w["report_date"], _date(session.started_at, w)),
        (w["report_routine"], f"{session.routine.title} ({session.routine.name})"),
        (w["report_routine_file"], str(meta.get("routine_source", session.routine.source))),
        (w["report_source"], str(meta.get("source", ""))),
        (w["report_duration"], _duration(summary.get("duration_s"))),
        (w["report_pauses"], _pauses(summary.get("pauses"))),
    ]
    return (
        f"<header><h1>{escape(w['report_title'].format(title=session.routine.title))}</h1>"
        f"<p>{status}</p>{why}</header>" + _table(("", ""), rows, header=False)
    )


def _warnings(session: SessionData, w: Mapping[str, str]) -> str:
    if not session.warnings:
        return ""
    items = "".join(f"<li>{escape(text)}</li>" for text in session.warnings)
    notes = escape(w["report_notes"])
    return f'<div class="warn"><strong>{notes}</strong><ul>{items}</ul></div>'


def _safety(session: SessionData, w: Mapping[str, str]) -> str:
    answers = session.safety.get("answers", {})
    summary_safety = session.summary.get("safety", {})
    out = [f"<h2>{escape(w['report_safety'])}</h2>"]
    asked = question_texts(session.routine.language)
    questions = {flag.key: asked.get(f"question.{flag.key}", flag.question) for flag in RED_FLAGS}
    if not isinstance(answers, Mapping) or not answers:
        out.append(f'<p class="muted">{escape(w["report_no_answers"])}</p>')
    else:
        rows = []
        for key, value in answers.items():
            yes, no = escape(w["report_yes"]), escape(w["report_no"])
            answer = f'<span class="yes">{yes}</span>' if value else no
            rows.append((escape(questions.get(str(key), str(key))), answer))
        out.append(_table((w["report_question"], w["report_answer"]), rows, escape_cells=False))
    result = session.safety.get("result")
    if isinstance(summary_safety, Mapping) and summary_safety.get("stop"):
        flags = [questions.get(str(f), str(f)) for f in summary_safety.get("flags", [])]
        items = "".join(f"<li>{escape(f)}</li>" for f in flags)
        out.append(f'<p class="yes">{escape(w["report_not_started_because"])}</p><ul>{items}</ul>')
    elif result:
        out.append(f"<p>{escape(w['report_outcome'].format(outcome=result))}</p>")
    return "\n".join(out)


def _pain(session: SessionData, w: Mapping[str, str]) -> str:
    before, after = session.pain_before, session.pain_after
    text = escape(w["report_pain_line"]).format(before=_score(before, w), after=_score(after, w))
    if before is not None and after is not None:
        change = after - before
        word = (
            w["report_better"]
            if change < 0
            else w["report_worse"]
            if change > 0
            else w["report_unchanged"]
        )
        text += f" ({change:+d}, {escape(word)})"
    return f'<h2>{escape(w["report_pain"])}</h2><p class="pain">{text}</p>'


def _score(value: int | None, w: Mapping[str, str]) -> str:
    return escape(w["report_not_rated"]) if value is None else f"<strong>{int(value)}</strong>/10"


def _exercise(
    title: str,
    cues: Mapping[str, str],
    entry: Mapping[str, Any],
    plot_html: str,
    w: Mapping[str, str],
    unit_word: str | None = None,
) -> str:
    """One exercise's section; its dose is counted in ``unit_word`` (else the recorded unit)."""
    prescribed = entry.get("prescribed", {})
    achieved = entry.get("achieved", {})
    state = (
        w["report_skipped"]
        if entry.get("skipped")
        else w["report_completed_lower"]
        if entry.get("completed")
        else w["report_moved_on"].format(seconds=_num(entry.get("no_progress_s")))
        if entry.get("ended") == "no_progress"
        else w["report_not_started"]
        if not entry.get("started")
        else w["report_not_finished"]
    )
    out = [
        f'<section class="exercise"><h3>{escape(title)}</h3>',
        f"<p>{escape(w['report_status'].format(status=state))}</p>",
    ]
    unit = unit_word or str(prescribed.get("unit", w["report_unit"]))
    target = prescribed.get("target", prescribed.get("reps", 0))
    done = achieved.get("reps_toward_dose", 0)
    cls = "met" if achieved.get("dose_met") else "short"
    hold_s = prescribed.get("hold_s")
    dose_text = _dose_text({**prescribed, "unit": unit}, w)
    line = w["report_achieved_line"].format(done=done, target=target, unit=unit)
    rows = [
        (w["report_prescribed"], escape(dose_text)),
        (w["report_achieved"], f'<span class="{cls}">{escape(line)}</span>'),
        (w["report_reps_counted"], escape(str(achieved.get("reps_counted", 0)))),
    ]
    if hold_s is not None:
        held = achieved.get("holds_count", 0)
        reached = achieved.get("holds_completed", 0)
        holds_line = w["report_holds_line"].format(held=held, reached=reached, seconds=_num(hold_s))
        rows.append((w["report_holds"], escape(holds_line)))
    rows += [
        (w["report_pauses"], escape(str(entry.get("pauses", 0)))),
        (
            w["report_out_of_view"],
            escape(w["report_times"].format(count=entry.get("pose_lost", 0))),
        ),
    ]
    hints = entry.get("stall_hints", 0)
    if hints:
        rows.append((w["report_hints"], escape(w["report_times"].format(count=hints))))
    out.append(_table(("", ""), rows, header=False, escape_cells=False))
    holds = achieved.get("holds", [])
    if holds:
        hold_rows = [
            (
                str(i),
                _num(h.get("start_s")),
                _num(h.get("seconds")),
                (w["report_yes"] if h.get("completed") else w["report_no"])
                + (" " + w["report_hold_cut_off"] if h.get("unfinished") else ""),
            )
            for i, h in enumerate(holds, start=1)
        ]
        out.append(f"<h4>{escape(w['report_holds'])}</h4>")
        columns = ("#", w["report_hold_start"], w["report_hold_seconds"], w["report_hold_reached"])
        out.append(_table(columns, hold_rows))
    faults = entry.get("faults", [])
    out.append(f"<h4>{escape(w['report_faults'])}</h4>")
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
        columns = (
            w["report_fault"],
            w["report_cue_given"],
            w["report_times_header"],
            w["report_first_at"],
        )
        out.append(_table(columns, fault_rows))
    else:
        out.append(f'<p class="muted">{escape(w["report_none"])}</p>')
    out.append(plot_html)
    out.append("</section>")
    return "\n".join(out)


def _dose_text(prescribed: Mapping[str, Any], w: Mapping[str, str]) -> str:
    reps, reps_max = prescribed.get("reps"), prescribed.get("reps_max")
    count = f"{reps}" if reps_max in (None, reps) else f"{reps}-{reps_max}"
    unit = prescribed.get("unit", w["report_unit"])
    if prescribed.get("hold_s") is not None:
        seconds = _num(prescribed.get("hold_s"))
        text = w["report_dose_held"].format(count=count, unit=unit, seconds=seconds)
    else:
        text = w["dose_count"].format(count=count, unit=unit)
    sets = prescribed.get("sets", 1)
    if sets and sets != 1:
        rest = _num(prescribed.get("rest_s"))
        text += ", " + w["report_dose_sets"].format(sets=sets, seconds=rest)
    return text


def _plots(session: SessionData, w: Mapping[str, str]) -> list[str]:
    """One HTML fragment per exercise: its plot, or a note why there is none."""
    fragments: list[str] = []
    for index in range(len(session.routine.exercises)):
        data = exercise_plot(session, index)
        if data is None:
            fragments.append(f'<p class="muted">{escape(w["report_no_frames"])}</p>')
        else:
            fragments.append(plot_svg(data, w))
    return fragments


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


def _date(iso: str, w: Mapping[str, str]) -> str:
    return iso.replace("T", " ") if iso else w["report_date_unknown"]


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
