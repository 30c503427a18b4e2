"""Reading inputs and writing outputs without surprises.

Every file the coach reads is checked to be what it should be before it is
opened: a regular file (a FIFO would block forever, a folder is not "not
found"), readable, and not absurdly large. Every file it writes is written
whole or not at all (a temporary file beside it, then a rename), readable by
the user only (it may hold patient data), and never over one of its inputs.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from coach.errors import CoachError

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB" if size >= 1 << 20 else f"{size // 1024} KB"


def check_input_file(
    path: Path,
    what: str,
    *,
    error: type[CoachError] = CoachError,
    max_bytes: int | None = None,
) -> Path:
    """``path`` when it is a readable regular file, else ``error`` saying what it is instead.

    Args:
        path: The file given.
        what: What the file should be, for the message ("routine file", "video").
        error: The error class to raise.
        max_bytes: Refuse larger files.

    Raises:
        CoachError: (as ``error``) The path is empty, missing, a folder, not a
            regular file, unreadable or too large.
    """
    if not str(path).strip():
        raise error(f"The {what} path is empty: give the path of a {what}.")
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise error(f"{path}: no such {what}; check the path.") from exc
    except PermissionError as exc:
        raise error(f"{path}: permission denied; the {what} cannot be read.") from exc
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}.") from exc
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path} is a folder, not a {what}.")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path} is not a regular file (a pipe or a device), so not a {what}.")
    if not os.access(path, os.R_OK):
        raise error(f"{path}: permission denied; the {what} cannot be read.")
    if max_bytes is not None and info.st_size > max_bytes:
        raise error(
            f"{path} is {_mib(info.st_size)}, too large for a {what} (at most {_mib(max_bytes)})."
        )
    return path


def read_input_text(
    path: Path,
    what: str,
    *,
    error: type[CoachError] = CoachError,
    max_bytes: int | None = None,
) -> str:
    """The UTF-8 text of a checked input file (a leading byte-order mark is dropped).

    Raises:
        CoachError: (as ``error``) The file is not a readable regular file, is
            too large, or is not UTF-8 text; the message names the file.
    """
    check_input_file(path, what, error=error, max_bytes=max_bytes)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}.") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path} is not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x}); save the "
            f"{what} as UTF-8."
        ) from exc


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def refuse_inputs(out: Path, inputs: Iterable[Path], *, error: type[CoachError]) -> None:
    """Raise ``error`` when ``out`` is one of ``inputs``, or a folder holding one by the same name.

    Raises:
        CoachError: (as ``error``) Writing ``out`` would destroy an input.
    """
    if not str(out).strip():
        raise error("The output path is empty: give a file to write.")
    for source in inputs:
        if _same_file(out, source):
            raise error(
                f"{out} is an input of this command; writing there would destroy it. "
                "Choose another output path."
            )


def make_private_dir(folder: Path) -> Path:
    """Create ``folder`` and any missing parents, each readable by the user only.

    Folders that already exist keep their permissions: they are the user's own
    choice (the files the coach writes into them are owner-only anyway).

    Raises:
        OSError: The folder cannot be created.
    """
    folder = Path(folder)
    missing: list[Path] = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue
        os.chmod(path, PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    return folder


class AtomicTarget:
    """A temporary file beside ``path`` that takes its place on ``commit``.

    For writers that want a file name (OpenCV's video writer). The file gets
    ``mode`` whatever the umask; ``discard`` removes it and leaves ``path``
    as it was.

    Raises:
        OSError: The temporary file cannot be created.
    """

    def __init__(self, path: Path, *, mode: int = PRIVATE_FILE) -> None:
        self.path = Path(path)
        self._mode = mode
        fd, tmp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.stem}.", suffix=self.path.suffix
        )
        os.close(fd)
        self.temporary = Path(tmp)
        self._done = False

    def commit(self) -> None:
        """Put the temporary file in place of ``path``; safe to call twice."""
        if self._done:
            return
        self._done = True
        try:
            os.chmod(self.temporary, self._mode)
            os.replace(self.temporary, self.path)
        except OSError:
            self.temporary.unlink(missing_ok=True)
            raise
        fsync_dir(self.path.parent)

    def discard(self) -> None:
        """Remove the temporary file; ``path`` is untouched."""
        self._done = True
        self.temporary.unlink(missing_ok=True)


def write_atomic(path: Path, data: str | bytes, *, mode: int = PRIVATE_FILE) -> Path:
    """Replace ``path`` with ``data`` so a reader sees the old or the new file, never half.

    The file is readable by the user only unless ``mode`` says otherwise.

    Raises:
        OSError: The file cannot be written (the old one, if any, is untouched).
    """
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable, where the file system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename is still atomic
    finally:
        os.close(fd)


def write_output(
    path: Path,
    data: str | bytes,
    what: str,
    *,
    error: type[CoachError] = CoachError,
    inputs: Iterable[Path] = (),
) -> Path:
    """Write an output file atomically and owner-only, never over an input; errors made clear.

    Raises:
        CoachError: (as ``error``) ``path`` is an input, a folder, or cannot be written.
    """
    path = Path(path)
    refuse_inputs(path, inputs, error=error)
    if path.is_dir():
        raise error(f"{path} is a folder; give a file name for the {what}.")
    try:
        if not path.parent.exists():
            make_private_dir(path.parent)
        return write_atomic(path, data)
    except OSError as exc:
        raise error(
            f"Cannot write the {what} {path}: {exc.strerror or exc}. Choose another path, "
            "or free some disk space."
        ) from exc
