"""The ``coach`` command.

Commands live one per module in ``coach.app.commands`` and register
themselves here. Heavy libraries (OpenCV, MediaPipe, pyttsx3, numpy) are
imported inside the commands that need them, so ``coach --help`` stays fast;
for the same reason help is printed by click's plain formatter, not typer's
rich one, which alone takes longer to load than the rest of the start-up.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from coach.app.commands import (
    analyze,
    classify,
    doctor,
    export,
    history,
    pose,
    report,
    routine,
    run,
)
from coach.errors import CoachError
from coach.text import shown, shown_lines

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    name="coach",
    help=(
        "A home-exercise coach for back spasms. Run 'coach' alone to start the "
        "guided session with the laptop camera."
    ),
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

for module in (run, doctor, pose, classify, analyze, routine, report, history, export):
    module.register(app)
for group in app.registered_groups:  # sub-commands print their help the same way
    if group.typer_instance is not None:
        group.typer_instance.rich_markup_mode = None


@app.callback(invoke_without_command=True)
def _start(ctx: typer.Context) -> None:
    """With no command, start the guided session with the defaults."""
    if ctx.invoked_subcommand is None:
        run.run_default()


def empty_argument(args: list[str]) -> str | None:
    """What an empty argument was given for ("--source", "an argument"), or None.

    An empty path means the current folder to the libraries underneath, so
    ``coach classify ""`` would read the working folder and ``--source ""``
    record a session of it: no command takes an empty value.
    """
    for index, arg in enumerate(args):
        if arg == "--":
            continue
        name, sep, value = arg.partition("=")
        if sep and name.startswith("--") and not value.strip():
            return name
        if not arg.strip() and not sep:
            before = args[index - 1] if index else ""
            return before if before.startswith("-") else "an argument"
    return None


def main() -> None:
    """Entry point: run the command and turn the coach's errors into clear messages."""
    empty = empty_argument(sys.argv[1:])
    if empty is not None:
        _console().print(
            f"[bold red]coach:[/] empty value given for {shown(empty, 40)}; give a value."
        )
        sys.exit(2)
    try:
        app()
    except CoachError as exc:
        _console().print(f"[bold red]coach:[/] {shown_lines(exc, 1000)}")
        sys.exit(2)
    except KeyboardInterrupt:
        _console().print("[yellow]Stopped.[/]")
        sys.exit(130)


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


if __name__ == "__main__":
    main()
