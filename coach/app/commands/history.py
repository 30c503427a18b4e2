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
    from coach.core.record import HistoryRow

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
            help="A folder of sessions (default: the recordings folder), or one a patient sent."
        ),
    ] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Also write the table to this CSV file.")
    ] = None,
) -> None:
    """Show the sessions: date, routine, completion, doses against prescription, pain."""
    from rich.console import Console
    from rich.table import Table

    from coach.adapters.storage import (
        damage_named,
        default_recordings_dir,
        list_sessions,
        load_session,
    )
    from coach.core.record import history_row, weekly_adherence
    from coach.errors import SessionDataError

    console = Console()
    root = folder if folder is not None else default_recordings_dir()
    rows = []
    problems: list[str] = []
    # The default folder does not exist before the first session: nothing to show yet.
    paths = list_sessions(root) if folder is not None or root.is_dir() else []
    for path in paths:
        try:
            with damage_named(path):
                rows.append(history_row(load_session(path)))
        except SessionDataError as exc:
            problems.append(f"{path.name}: {exc}")
    rows.sort(key=lambda r: (r.started_at is None, r.started_at or datetime.min, r.folder))
    if not rows:
        console.print(f"No sessions in {shown(root)}.")
    else:
        weeks = weekly_adherence(rows)
        span = sum(week.weeks for week in weeks)
        completed = sum(r.complete for r in rows)
        console.print(
            f"[bold]{len(rows)} sessions[/] in {shown(root)} ({completed} completed) over "
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
                row.started_at.strftime("%Y-%m-%d %H:%M") if row.started_at else shown(row.folder),
                shown(row.routine),
                status,
                doses,
                _pain(row.pain_before),
                _pain(row.pain_after),
            )
        console.print(table)
    for problem in problems:
        console.print(f"[yellow]skipped:[/] {shown(problem, 1000)}")
    if csv_out is not None:
        _write_csv(csv_out, rows, inputs=paths)
        console.print(f"Table written to [bold]{shown(csv_out)}[/]")


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
    header = ["date", "folder", "routine", "status", "completed", "pain_before", "pain_after"]
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
