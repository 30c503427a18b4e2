"""``coach export PATIENT``: one archive of a patient's session records, for the therapist."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def export(
    patient: Annotated[str, typer.Argument(help="The patient whose sessions go out.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The archive to write (default: PATIENT-sessions.zip)."),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option("--from", help="The folder of sessions (default: the recordings folder)."),
    ] = None,
) -> None:
    """Write one archive of a patient's sessions, without video, to send to the therapist.

    The therapist reads it directly: coach history ARCHIVE, coach report ARCHIVE.
    """
    from rich.console import Console

    from coach.adapters.archive import write_archive
    from coach.adapters.storage import default_recordings_dir
    from coach.app.commands.sessions import read_sessions
    from coach.core.routine import is_routine_name
    from coach.errors import SessionDataError

    if not is_routine_name(patient):
        raise SessionDataError(
            f"{patient!r} is not a patient name; use lower-case letters, digits and '-'"
        )
    root = source if source is not None else default_recordings_dir()
    target = out if out is not None else Path(f"{patient}-sessions.zip")
    with read_sessions(root, patient) as (sessions, problems):
        path, count = write_archive([s.folder for s in sessions], patient, target)
    console = Console()
    for problem in problems:
        console.print(f"[yellow]skipped:[/] {problem}")
    console.print(
        f"{count} session{'s' if count != 1 else ''} of {patient} written to [bold]{path}[/] "
        "(records only, no video)."
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("export")(export)
