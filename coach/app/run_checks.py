"""Every ``coach run`` argument checked before the first question.

A pain score of 11 or a missing video found after the session would waste
the person's effort, and could lose the summary: everything that can be
checked without the camera is checked here, before anything is asked or
recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from coach.core.safety import validate_pain
from coach.errors import CoachError, SourceError
from coach.files import check_input_file

if TYPE_CHECKING:
    from coach.app.session_loop import RunOptions


def _folder_option(path: Path | None, option: str) -> None:
    if path is None:
        return
    if not str(path).strip():
        raise CoachError(f"{option} is empty; give a folder.")
    if path.exists() and not path.is_dir():
        raise CoachError(f"{option} {path} is a file, not a folder; give a folder.")


def check_run_options(options: RunOptions) -> None:
    """Refuse options that cannot work, before anything is asked or recorded.

    Raises:
        CoachError: Naming the option, the value and what is allowed.
    """
    for when, given in (("before", options.pain_before), ("after", options.pain_after)):
        if given is not None:
            try:
                validate_pain(given)
            except ValueError as exc:
                raise CoachError(f"--pain-{when}: {exc}.") from exc
    if options.camera < 0:
        raise CoachError(f"--camera {options.camera}: a camera number is 0 or more.")
    source = options.source
    if source is not None:
        if not source.strip():
            raise SourceError(
                "--source is empty; give a camera number, a video file, an image or a folder."
            )
        path = Path(source).expanduser()
        if not source.strip().isdigit() and not path.is_dir():
            if not path.exists():
                raise SourceError(
                    f"{path} does not exist. Give a camera number (0 is the built-in camera), "
                    "a video file, an image, or a folder of images."
                )
            check_input_file(path, "video or image", error=SourceError)
    _folder_option(options.out, "--out")
    _folder_option(options.voice_to, "--voice-to")
    if options.model is not None:
        from coach.adapters.pose_model import verify_model

        verify_model(options.model)
