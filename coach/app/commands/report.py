"""``coach report SESSION``: a self-contained HTML report of one recorded session."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def report(
    session: Annotated[
        Path, typer.Argument(help="A session folder (inside recordings/, or one a patient sent).")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the HTML file (default: SESSION/report.html)."),
    ] = None,
    open_: Annotated[
        bool, typer.Option("--open", help="Open the report in the web browser.")
    ] = False,
) -> None:
    """Write an HTML report of a session: doses prescribed and achieved, plots, faults, pain."""
    from rich.console import Console

    from coach.adapters.report_html import write_report
    from coach.adapters.storage import damage_named, load_session
    from coach.text import shown

    console = Console()
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


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("report")(report)
