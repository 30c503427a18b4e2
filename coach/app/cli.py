"""The ``coach`` command.

Commands live one per module in ``coach.app.commands`` and register
themselves here. Heavy libraries (OpenCV, MediaPipe, pyttsx3) are imported
inside the commands that need them, so ``coach --help`` stays fast.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from coach.app.commands import analyze, classify, doctor, history, pose, report, routine, run
from coach.errors import CoachError

app = typer.Typer(
    name="coach",
    help=(
        "A home-exercise coach for back spasms. Run 'coach' alone to start the "
        "guided session with the laptop camera."
    ),
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

for module in (run, doctor, pose, classify, analyze, routine, report, history):
    module.register(app)


@app.callback(invoke_without_command=True)
def _start(ctx: typer.Context) -> None:
    """With no command, start the guided session with the defaults."""
    if ctx.invoked_subcommand is None:
        run.run_default()


def main() -> None:
    """Entry point: run the command and turn the coach's errors into clear messages."""
    err = Console(stderr=True)
    try:
        app()
    except CoachError as exc:
        err.print(f"[bold red]coach:[/] {exc}")
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("[yellow]Stopped.[/]")
        sys.exit(130)


if __name__ == "__main__":
    main()
