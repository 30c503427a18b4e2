"""``coach report SESSION``: a self-contained HTML report of one recorded session."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console


def report(
    session: Annotated[
        Path,
        typer.Argument(
            help="A session folder (inside recordings/, or one a patient sent), or a folder "
            "or archive (coach export) of sessions: then one report per session."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where to write the HTML file (default: SESSION/report.html); for several "
            "sessions, the folder for their reports (default: SESSION-reports).",
        ),
    ] = None,
    patient: Annotated[
        str | None,
        typer.Option("--patient", "-p", help="Of several sessions, only this patient's."),
    ] = None,
    open_: Annotated[
        bool, typer.Option("--open", help="Open the report in the web browser.")
    ] = False,
) -> None:
    """Write an HTML report of a session (or of each in a folder or an archive): doses, plots.

    The report shows the dose prescribed and achieved, plots, form faults and pain.
    """
    from rich.console import Console

    from coach.adapters.archive import is_archive
    from coach.adapters.report_html import write_report
    from coach.adapters.storage import damage_named, is_session, load_session
    from coach.text import shown

    console = Console()
    if is_archive(session) or (session.is_dir() and not is_session(session)):
        _reports(console, session, out, patient)
        return
    data = load_session(session)
    for warning in data.warnings:
        console.print(f"[yellow]note:[/] {shown(warning, 1000)}")
    with damage_named(data.folder):
        path = write_report(data, out)
    status = "a completed" if data.complete else "an [bold red]INCOMPLETE[/]"
    console.print(f"Report of {status} session written to [bold]{shown(path)}[/]")
    if open_:
        import webbrowser

        if not webbrowser.open(path.resolve().as_uri()):
            console.print("[yellow]No web browser could be started; open the file yourself.[/]")


def _reports(console: Console, source: Path, out: Path | None, patient: str | None) -> None:
    """One report per session of a folder or an archive, grouped in folders by patient."""
    from coach.adapters.report_html import write_report
    from coach.adapters.storage import damage_named
    from coach.app.commands.sessions import read_sessions
    from coach.errors import SessionDataError
    from coach.text import shown

    target = out if out is not None else source.with_name(f"{source.stem}-reports")
    written = 0
    with read_sessions(source, patient) as (sessions, problems):
        for data in sessions:
            folder = target / (data.patient or "sessions")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SessionDataError(f"Cannot make the folder {folder}: {exc}") from exc
            with damage_named(data.folder):
                path = write_report(data, folder / f"{data.folder.name}.html")
            name = shown(data.folder.name)
            console.print(f"{data.patient or '-'}  {name}: [bold]{shown(path)}[/]")
            written += 1
    for problem in problems:
        console.print(f"[yellow]skipped:[/] {shown(problem, 1000)}")
    who = f" of {patient}" if patient else ""
    plural = "s" if written != 1 else ""
    console.print(f"{written} report{plural}{who} written to [bold]{shown(target)}[/]")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("report")(report)
