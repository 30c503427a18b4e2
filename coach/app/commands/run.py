"""``coach run`` (and ``coach`` alone): the guided session."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

RUN_HELP = (
    "Start the guided session. The coach first checks its voice, the camera and the pose "
    "model, then asks the safety questions and your pain (in the window, read aloud: y/n "
    "and number keys; in the terminal without a window), helps you set up the camera, "
    "guides the routine's exercises with voice and on-screen cues, asks your pain after and "
    "shows a summary. Keys in the window: space pause/resume (and hush the voice), s skip, "
    "q or Esc stop; Ctrl-C also stops and keeps the record."
)


def run_default() -> None:
    """Run the session with every default (what ``coach`` alone does)."""
    from coach.app.session_loop import RunOptions, run_session

    raise typer.Exit(run_session(RunOptions()).exit_code)


def run(
    routine: Annotated[
        str | None,
        typer.Option("--routine", "-r", help="Routine name or path of a .toml file."),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            "-l",
            help="The language the coach speaks and shows: en, es or de "
            "(default: the routine's, else English).",
        ),
    ] = None,
    patient: Annotated[
        str | None,
        typer.Option(
            "--patient", "-p", help="Who the session is for (default: the routine's patient)."
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Camera index, a video file or a folder of images (default: the camera).",
        ),
    ] = None,
    camera: Annotated[
        int, typer.Option("--camera", help="Camera index when no --source is given.")
    ] = 0,
    answers: Annotated[
        str | None,
        typer.Option(
            "--answers",
            help=(
                "Safety answers: 'no' (every answer no), a list such as "
                "'night_pain=no,leg_symptoms=yes', or a JSON file. Asked when not given."
            ),
        ),
    ] = None,
    pain_before: Annotated[
        int | None,
        typer.Option("--pain-before", help="Pain 0-10 before (asked when not given)."),
    ] = None,
    pain_after: Annotated[
        int | None,
        typer.Option("--pain-after", help="Pain 0-10 after (asked when not given)."),
    ] = None,
    headless: Annotated[
        bool, typer.Option("--headless", help="No window (cues in the terminal).")
    ] = False,
    mute: Annotated[bool, typer.Option("--mute", help="No voice.")] = False,
    voice_to: Annotated[
        Path | None,
        typer.Option(
            "--voice-to",
            help="Write each spoken cue as a WAV file in this folder instead of playing it.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the session record (default: recordings/)."),
    ] = None,
    save_video: Annotated[
        bool, typer.Option("--save-video", help="Save the annotated video.")
    ] = False,
    model: Annotated[
        Path | None, typer.Option("--model", help="Pose model file instead of the bundled one.")
    ] = None,
    high_contrast: Annotated[
        bool | None,
        typer.Option(
            "--high-contrast/--standard-contrast",
            help="Window in white and yellow on black, in large type (default: as the "
            "routine's [session] high_contrast says, else standard).",
            show_default=False,
        ),
    ] = None,
    realtime: Annotated[
        bool,
        typer.Option(
            "--realtime/--no-realtime",
            help="Play a video source at its own speed, as if live (--no-realtime: every "
            "frame, as fast as possible).",
        ),
    ] = True,
) -> None:
    """Start the guided session."""
    from coach.app.session_loop import RunOptions, run_session

    options = RunOptions(
        routine=routine,
        patient=patient,
        language=language,
        source=source,
        camera=camera,
        answers=answers,
        pain_before=pain_before,
        pain_after=pain_after,
        headless=headless,
        mute=mute,
        voice_to=voice_to,
        out=out,
        save_video=save_video,
        model=model,
        realtime=realtime,
        high_contrast=high_contrast,
    )
    raise typer.Exit(run_session(options).exit_code)


def register(app: typer.Typer) -> None:
    """Add ``coach run`` to the app."""
    app.command("run", help=RUN_HELP)(run)
