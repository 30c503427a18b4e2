"""``coach analyze``: run the coach over a recorded video and report what it counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from coach.app.analyze import AnalysisResult


def summary_lines(result: AnalysisResult) -> list[str]:
    """The analysis of one exercise as lines of plain text."""
    data: dict[str, Any] = result.to_dict()
    lines = [
        f"{data['video']} as {data['exercise']}: {data['frames']} frames, {data['seconds']:.1f} s",
        f"  repetitions: {data['reps']}",
    ]
    for rep in data["rep_details"]:
        held = "" if rep["held_s"] in (None, 0.0) else f", held {rep['held_s']:.1f} s"
        lines.append(f"    #{rep['count']} at {rep['t_s']:.1f} s{held}")
    lines.append(f"  holds: {len(data['holds'])}")
    for i, hold in enumerate(data["holds"], start=1):
        done = " (full hold)" if hold["completed"] else ""
        lines.append(
            f"    {i}. {hold['start_s']:.1f}-{hold['end_s']:.1f} s: {hold['seconds']:.1f} s{done}"
        )
    lines.append("  timeline:")
    for seg in data["timeline"]:
        lines.append(f"    {seg['start_s']:6.1f}-{seg['end_s']:6.1f} s  {seg['state']}")
    if data["faults"]:
        lines.append("  form faults:")
        for fault in data["faults"]:
            end = "end" if fault["end_s"] is None else f"{fault['end_s']:.1f} s"
            lines.append(f"    {fault['start_s']:6.1f} s-{end}  {fault['key']}")
    else:
        lines.append("  form faults: none")
    return lines


def register(app: typer.Typer) -> None:
    """Add ``coach analyze`` to the app."""

    @app.command("analyze")
    def analyze_command(
        video: Annotated[
            Path, typer.Argument(help="A recorded video of the exercise, filmed from the side.")
        ],
        exercise: Annotated[
            str,
            typer.Option(
                "--exercise",
                "-e",
                # Not listed here: the list is the exercise registry, and
                # loading it (numpy and every engine) would slow every --help.
                help="Which exercise the video shows, e.g. hip_lift; an unknown name "
                "is refused with the list of exercises.",
            ),
        ],
        as_json: Annotated[
            bool, typer.Option("--json", help="Print one JSON object instead of a summary.")
        ] = False,
        model: Annotated[
            Path | None, typer.Option("--model", help="Use this pose model file.")
        ] = None,
        routine: Annotated[
            str | None,
            typer.Option(
                "--routine", help="Judge with this routine's thresholds and holds (name or path)."
            ),
        ] = None,
    ) -> None:
        """Count holds and repetitions in a recorded video, as the coach would live."""
        import sys

        from rich.console import Console

        from coach.app.analyze import analyze_video
        from coach.core.exercises import EXERCISES
        from coach.core.states import ExerciseKind
        from coach.text import shown

        kind = ExerciseKind(exercise)
        if kind not in EXERCISES:
            raise typer.BadParameter(
                f"{exercise!r} is not an exercise; use one of {', '.join(EXERCISES)}",
                param_hint="--exercise",
            )
        chosen = None
        if routine is not None:
            from coach.adapters.routine_store import open_routine

            chosen = open_routine(routine)
        err = Console(stderr=True)
        if err.is_terminal:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            with Progress(
                TextColumn("analysing"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} frames"),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            ) as progress:
                task = progress.add_task("frames", total=None)

                def tick(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total or None)

                results = analyze_video(
                    video, [kind], model_path=model, on_progress=tick, routine=chosen
                )
        else:
            results = analyze_video(video, [kind], model_path=model, routine=chosen)
        result = results[kind]
        for note in result.notes:
            err.print(f"[yellow]note:[/] {shown(note, 1000)}")
        if as_json:
            sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
            return
        for line in summary_lines(result):
            typer.echo(line)
