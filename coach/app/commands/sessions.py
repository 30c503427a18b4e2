"""Reading the sessions a command is given: a folder of them, or a patient's archive."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from coach.core.record import SessionData


@contextlib.contextmanager
def read_sessions(
    root: Path, patient: str | None = None, *, optional: bool = False
) -> Iterator[tuple[list[SessionData], list[str]]]:
    """The sessions in a folder or an archive (of one patient, when named), and the problems.

    An archive is unpacked into a temporary folder that is removed on leaving.
    ``optional``: a missing folder (the recordings folder before the first
    session) holds no sessions rather than being an error.

    Raises:
        SessionDataError: ``root`` is neither a folder of sessions nor an archive.
    """
    from coach.adapters.archive import is_archive, unpack_archive
    from coach.adapters.storage import damage_named, list_sessions, load_session
    from coach.errors import SessionDataError

    unpacked = unpack_archive(root) if is_archive(root) else None
    try:
        folder = unpacked if unpacked is not None else root
        paths = list_sessions(folder) if not optional or folder.is_dir() else []
        sessions: list[SessionData] = []
        problems: list[str] = []
        for path in paths:
            try:
                with damage_named(path):
                    data = load_session(path)
            except SessionDataError as exc:
                problems.append(f"{path.name}: {exc}")
                continue
            if patient is None or data.patient == patient:
                sessions.append(data)
        yield sessions, problems
    finally:
        if unpacked is not None:
            shutil.rmtree(unpacked, ignore_errors=True)
