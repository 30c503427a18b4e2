"""``coach history [FOLDER]``: every recorded session as a table, with weekly adherence."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coach.text import shown

if TYPE_CHECKING:
    from rich.console import Console

    from coach.core.record import DoseCount, HistoryRow

SESSION_COLUMNS = (
    "Date",
    "Routine",
    "Completion",
    "Achieved / prescribed",
    "Pain before",
    "Pain after",
)


def history(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="A folder of sessions (default: the recordings folder), or one a patient "
            "sent: a folder or an archive written by coach export.",
        ),
    ] = None,
    patient: Annotated[
        str | None, typer.Option("--patient", "-p", help="Only this patient's sessions.")
    ] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Also write the table to this CSV file.")
    ] = None,
) -> None:
    """Show each patient's sessions: date, routine, completion, doses, dose over time, pain."""
    from rich.console import Console

    from coach.adapters.storage import default_recordings_dir
    from coach.app.commands.sessions import read_sessions
    from coach.core.record import history_row

    console = Console()
    root = folder if folder is not None else default_recordings_dir()
    with read_sessions(root, patient, optional=folder is None) as (sessions, problems):
        rows = [history_row(s) for s in sessions]
        inputs = [root, *(s.folder for s in sessions)]
    rows.sort(key=lambda r: (r.started_at is None, r.started_at or datetime.min, r.folder))
    if not rows:
        who = f" of {shown(patient)}" if patient else ""
        console.print(f"No sessions{who} in {shown(root)}.")
    groups: dict[str, list[HistoryRow]] = {}
    for row in rows:
        groups.setdefault(row.patient, []).append(row)
    for name in sorted(groups):
        _print_patient(console, name, groups[name], root)
    for problem in problems:
        console.print(f"[yellow]skipped:[/] {shown(problem, 1000)}")
    if csv_out is not None:
        _write_csv(csv_out, rows, inputs=inputs)
        console.print(f"Table written to [bold]{shown(csv_out)}[/]")


def _print_patient(console: Console, patient: str, rows: list[HistoryRow], root: Path) -> None:
    from rich.table import Table

    from coach.core.record import weekly_adherence

    weeks = weekly_adherence(rows)
    span = sum(week.weeks for week in weeks)
    completed = sum(r.complete for r in rows)
    who = f"[bold]Patient {shown(patient)}[/]: " if patient else ""
    console.print(
        f"{who}[bold]{len(rows)} sessions[/] in {shown(root)} ({completed} completed) over "
        f"{span} week{'s' if span != 1 else ''}: "
        f"{len(rows) / max(span, 1):.1f} sessions per week"
    )
    adherence = Table(title="Sessions per week", title_justify="left")
    for column in ("Week", "Monday", "Sessions", "Completed"):
        adherence.add_column(column)
    for week in weeks:
        if week.weeks > 1:
            adherence.add_row(
                week.week, week.monday.isoformat(), f"0 (for {week.weeks} weeks)", "0"
            )
            continue
        adherence.add_row(
            week.week, week.monday.isoformat(), str(week.sessions), str(week.completed)
        )
    console.print(adherence)
    table = Table(title="Sessions", title_justify="left")
    for column in SESSION_COLUMNS:
        table.add_column(column)
    for row in rows:
        doses = "\n".join(
            shown(f"{d.title}: {d.achieved}/{d.prescribed} {d.unit}") for d in row.doses
        )
        status = shown(row.status) if row.complete else f"[red]{shown(row.status)}[/]"
        table.add_row(
            _date(row),
            shown(row.routine),
            status,
            doses,
            _pain(row.pain_before),
            _pain(row.pain_after),
        )
    console.print(table)
    _print_doses(console, rows)


def _date(row: HistoryRow) -> str:
    return row.started_at.strftime("%Y-%m-%d %H:%M") if row.started_at else shown(row.folder)


def _dose_text(dose: DoseCount) -> str:
    held = f"{dose.hold_s:g} s x " if dose.hold_s is not None else ""
    return f"{held}{dose.prescribed}"


def _print_doses(console: Console, rows: list[HistoryRow]) -> None:
    """The prescribed dose of each exercise, session by session: how it grew or stepped back."""
    from rich.table import Table

    titles: dict[str, str] = {}
    for row in rows:
        for dose in row.doses:
            titles.setdefault(dose.kind, dose.title)
    if not titles:
        return
    table = Table(title="Dose over time (prescribed; * changed)", title_justify="left")
    table.add_column("Date")
    for title in titles.values():
        table.add_column(shown(title))
    last: dict[str, str] = {}
    for row in rows:
        cells = []
        for kind in titles:
            mine = next((d for d in row.doses if d.kind == kind), None)
            if mine is None:
                cells.append("-")
                continue
            text = _dose_text(mine)
            changed = kind in last and last[kind] != text
            last[kind] = text
            cells.append(f"[yellow]{text} *[/]" if changed else text)
        table.add_row(_date(row), *cells)
    console.print(table)


def _pain(value: int | None) -> str:
    return "-" if value is None else str(value)


# A cell starting with one of these is run as a formula by spreadsheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: object) -> object:
    """A value safe for a spreadsheet: text that would start a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_csv(path: Path, rows: list[HistoryRow], *, inputs: list[Path]) -> None:
    from coach.adapters.storage import RECORD_FILES
    from coach.core.exercises import kinds as exercise_kinds
    from coach.errors import SessionDataError
    from coach.files import write_output

    kinds = [k.value for k in exercise_kinds()]
    header = [
        "date",
        "folder",
        "patient",
        "routine",
        "status",
        "completed",
        "pain_before",
        "pain_after",
    ]
    for kind in kinds:
        header += [f"{kind}_achieved", f"{kind}_prescribed"]
    header.append("exercises")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        line: list[object] = [
            row.started_at.isoformat() if row.started_at else "",
            row.folder,
            row.patient,
            row.routine,
            row.status,
            "yes" if row.complete else "no",
            "" if row.pain_before is None else row.pain_before,
            "" if row.pain_after is None else row.pain_after,
        ]
        for kind in kinds:
            mine = [d for d in row.doses if d.kind == kind]
            line += (
                [sum(d.achieved for d in mine), sum(d.prescribed for d in mine)]
                if mine
                else ["", ""]
            )
        line.append("; ".join(f"{d.title} {d.achieved}/{d.prescribed} {d.unit}" for d in row.doses))
        writer.writerow([csv_cell(cell) for cell in line])
    record_files = [folder / name for folder in inputs for name in RECORD_FILES]
    write_output(path, buffer.getvalue(), "CSV file", error=SessionDataError, inputs=record_files)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("history")(history)
