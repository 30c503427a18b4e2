"""``coach history [FOLDER]``: every recorded session as a table, with weekly adherence."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

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

    from coach.adapters.storage import default_recordings_dir, list_sessions, load_session
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
            rows.append(history_row(load_session(path)))
        except SessionDataError as exc:
            problems.append(str(exc))
    rows.sort(key=lambda r: (r.started_at is None, r.started_at or 0, r.folder))
    if not rows:
        console.print(f"No sessions in {root}.")
    else:
        weeks = weekly_adherence(rows)
        completed = sum(r.complete for r in rows)
        console.print(
            f"[bold]{len(rows)} sessions[/] in {root} ({completed} completed) over "
            f"{len(weeks)} week{'s' if len(weeks) != 1 else ''}: "
            f"{len(rows) / max(len(weeks), 1):.1f} sessions per week"
        )
        adherence = Table(title="Sessions per week", title_justify="left")
        for column in ("Week", "Monday", "Sessions", "Completed"):
            adherence.add_column(column)
        for week in weeks:
            adherence.add_row(
                week.week, week.monday.isoformat(), str(week.sessions), str(week.completed)
            )
        console.print(adherence)
        table = Table(title="Sessions", title_justify="left")
        for column in SESSION_COLUMNS:
            table.add_column(column)
        for row in rows:
            doses = "\n".join(f"{d.title}: {d.achieved}/{d.prescribed} {d.unit}" for d in row.doses)
            status = row.status if row.complete else f"[red]{row.status}[/]"
            table.add_row(
                row.started_at.strftime("%Y-%m-%d %H:%M") if row.started_at else row.folder,
                row.routine,
                status,
                doses,
                _pain(row.pain_before),
                _pain(row.pain_after),
            )
        console.print(table)
    for problem in problems:
        console.print(f"[yellow]skipped:[/] {problem}")
    if csv_out is not None:
        _write_csv(csv_out, rows)
        console.print(f"Table written to [bold]{csv_out}[/]")


def _pain(value: int | None) -> str:
    return "-" if value is None else str(value)


def _write_csv(path: Path, rows: list) -> None:  # type: ignore[type-arg]
    from coach.core.states import ExerciseKind
    from coach.errors import SessionDataError

    kinds = [k.value for k in ExerciseKind]
    header = ["date", "folder", "routine", "status", "completed", "pain_before", "pain_after"]
    for kind in kinds:
        header += [f"{kind}_achieved", f"{kind}_prescribed"]
    header.append("exercises")
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in rows:
                line = [
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
                line.append(
                    "; ".join(f"{d.title} {d.achieved}/{d.prescribed} {d.unit}" for d in row.doses)
                )
                writer.writerow(line)
    except OSError as exc:
        raise SessionDataError(
            f"Cannot write the CSV file {path}: {exc.strerror or exc}. Choose another path."
        ) from exc


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("history")(history)
