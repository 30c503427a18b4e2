"""One archive of a patient's session records, to send to the therapist, and reading it back.

The archive is a zip file holding ``<patient>/<session folder>/<record files>``:
the records only (no video), so it stays small and shows no one's face or
room. ``coach history`` and ``coach report`` read it as they read a folder.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from coach.errors import SessionDataError

SUFFIX = ".zip"
# Record files that go into an archive: what history and report read. Videos stay home.
RECORD_FILES = (
    "session.json",
    "routine.toml",
    "safety.json",
    "frames.csv",
    "events.jsonl",
    "summary.json",
)
MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 20_000


def is_archive(path: Path) -> bool:
    """Whether ``path`` is a session archive (a zip file) rather than a folder."""
    return path.suffix.lower() == SUFFIX and path.is_file()


def write_archive(sessions: Iterable[Path], patient: str, out: Path) -> tuple[Path, int]:
    """Write the record files of ``sessions`` into one zip at ``out``; the path and the count.

    Raises:
        SessionDataError: The archive cannot be written, or there is nothing to put in it.
    """
    folders = list(sessions)
    if not folders:
        raise SessionDataError(f"No sessions of {patient!r} to export.")
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for folder in folders:
                for name in RECORD_FILES:
                    path = folder / name
                    if path.is_file():
                        archive.write(path, f"{patient}/{folder.name}/{name}")
    except OSError as exc:
        raise SessionDataError(f"Cannot write the archive {out}: {exc}") from exc
    return out, len(folders)


def _safe_name(name: str) -> PurePosixPath:
    """A member name that stays inside the folder it is unpacked into, or an error."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or not path.parts:
        raise SessionDataError(f"The archive holds a file outside its folder: {name!r}.")
    return path


def unpack_archive(path: Path) -> Path:
    """The record files of an archive, unpacked into a new temporary folder.

    Only record files are taken, each checked to stay inside the folder and
    under a size limit. The caller removes the folder (``shutil.rmtree``).

    Raises:
        SessionDataError: The file is not a readable archive of session records.
    """
    target = Path(tempfile.mkdtemp(prefix="coach-archive-"))
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise SessionDataError(f"{path} holds too many files to be session records.")
            for member in members:
                name = _safe_name(member.filename)
                if member.is_dir() or name.name not in RECORD_FILES:
                    continue
                if member.file_size > MAX_MEMBER_BYTES:
                    raise SessionDataError(f"{path}: {member.filename} is too large.")
                dest = target.joinpath(*name.parts)
                dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                with archive.open(member) as src, dest.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, OSError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise SessionDataError(f"{path} is not a readable archive of sessions: {exc}") from exc
    except SessionDataError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target
