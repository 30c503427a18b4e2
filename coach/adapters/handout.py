"""A printable handout of a routine for the patient: one self-contained HTML page."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path

from coach.core.catalog import question_texts, word_texts
from coach.core.routine import Routine, describe_dose
from coach.core.safety import RED_FLAGS
from coach.errors import RoutineError
from coach.files import write_output

_CSS = """
body { font-family: Georgia, "Times New Roman", serif; max-width: 46rem; margin: 2rem auto;
       padding: 0 1rem; color: #111; line-height: 1.5; font-size: 13pt; }
h1 { font-size: 1.8rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.3rem; margin: 0 0 0.4rem 0; }
.notes { white-space: pre-line; }
.exercise { border: 1px solid #999; border-radius: 6px; padding: 0.8rem 1rem; margin: 1rem 0;
            page-break-inside: avoid; break-inside: avoid; }
.dose { font-weight: bold; font-size: 1.1rem; margin: 0.3rem 0 0.5rem 0; }
.steps { margin: 0.3rem 0 0 1.2rem; padding: 0; }
.safety { border: 2px solid #a00; border-radius: 6px; padding: 0.6rem 1rem; margin: 1.2rem 0; }
.safety h2 { color: #a00; }
table.log { border-collapse: collapse; width: 100%; margin-top: 0.5rem; }
table.log th, table.log td { border: 1px solid #999; padding: 0.4rem; text-align: left;
                             height: 1.4rem; }
.small { font-size: 0.85rem; color: #444; }
@media print { body { margin: 0; } }
"""

_LOG_ROWS = 7


def _steps(intro: str, title: str) -> list[str]:
    # The spoken introduction is short sentences; one per line reads best on
    # paper. It opens with the exercise's name, which the heading already shows.
    sentences = [s.strip() for s in intro.replace("\n", " ").split(". ")]
    steps = [s if s.endswith((".", "!", "?")) else s + "." for s in sentences if s]
    if steps and steps[0].rstrip(".").lower() == title.lower():
        steps = steps[1:]
    return steps


_LOG_COLUMNS = ("handout_date", "handout_pain_before", "handout_pain_after", "handout_notes")


def _safety(routine: Routine, words: Mapping[str, str]) -> str:
    stops = [flag for flag in RED_FLAGS if flag.stops]
    advice = [flag for flag in RED_FLAGS if not flag.stops]
    questions = question_texts(routine.language)
    urgent = f" <b>{escape(words['handout_urgent'])}</b>"
    items = "".join(
        f"<li>{escape(questions.get(f'question.{flag.key}', flag.question))}"
        f"{urgent if flag.urgent else ''}</li>"
        for flag in stops
    )
    parts = [
        f'<section class="safety"><h2>{escape(words["handout_safety"])}</h2>',
        f"<p>{escape(words['handout_before'])}</p>",
        f"<ul>{items}</ul>",
    ]
    cues = routine.session_cues
    during = []
    if "pain_worse" in cues:
        during.append(f"{words['handout_pain_worse']} {cues['pain_worse']}")
    if advice and "pain_not_improving" in cues:
        during.append(cues["pain_not_improving"])
    kept = "".join(f"<li>{escape(text)}</li>" for text in during)
    if kept:
        parts.append(f"<p>{escape(words['handout_during'])}</p><ul>{kept}</ul>")
    parts.append("</section>")
    return "".join(parts)


def render_handout(routine: Routine) -> str:
    """The handout as a self-contained HTML page (no scripts, no network), in the
    routine's language."""
    words = word_texts(routine.language)
    parts: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(routine.language)}"><head><meta charset="utf-8">',
        f"<title>{escape(routine.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{escape(routine.title)}</h1>",
    ]
    if routine.notes:
        parts.append(f'<p class="notes">{escape(routine.notes)}</p>')
    for number, spec in enumerate(routine.exercises, start=1):
        steps = "".join(f"<li>{escape(step)}</li>" for step in _steps(spec.intro, spec.title))
        parts += [
            f'<section class="exercise" id="exercise-{number}">',
            f"<h2>{number}. {escape(spec.title)}</h2>",
            f'<p class="dose">{escape(describe_dose(spec, routine.language))}</p>',
            f'<ul class="steps">{steps}</ul>',
            "</section>",
        ]
    parts.append(_safety(routine, words))
    controls = routine.session_cues.get("controls")
    if controls and routine.session.controls.enabled:
        # The same words the coach says after its welcome.
        parts += [
            f'<section class="controls"><h2>{escape(words["handout_controls"])}</h2>',
            f"<p>{escape(controls)}</p></section>",
        ]
    rows = "".join("<tr><td></td><td></td><td></td><td></td></tr>" for _ in range(_LOG_ROWS))
    parts += [
        f"<h2>{escape(words['handout_sessions'])}</h2>",
        '<table class="log"><tr>'
        + "".join(
            f"<th>{escape(words[key])}</th>"
            for key in (
                "handout_date",
                "handout_pain_before",
                "handout_pain_after",
                "handout_notes",
            )
        )
        + "</tr>",
        rows,
        "</table>",
        f'<p class="small">{escape(words["handout_routine"])}: {escape(routine.name)}</p>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_handout(routine: Routine, out: Path) -> Path:
    """Write the handout to ``out``; returns the path written.

    Raises:
        RoutineError: The file cannot be written.
    """
    source = Path(routine.source)
    inputs = [source] if source.is_file() else []
    return write_output(
        Path(out), render_handout(routine), "handout", error=RoutineError, inputs=inputs
    )
