"""Session folders on disk: written as the session goes, read back for reports.

Every session gets its own folder (mode 0700, files 0600: readable by the user
only) holding:

- ``session.json``: start time, routine, source, versions;
- ``routine.toml``: the routine that was used, written out in full (every text,
  dose and threshold), so it reads the same after the defaults change;
- ``safety.json``: the answers to the red-flag questions, pain before and after;
- ``frames.csv``: one row per frame with the key angles and the pose state;
- ``events.jsonl``: one event per line (holds, repetitions, faults, pauses...);
- ``summary.json``: the summary, written last.

Rows and lines are appended and flushed as they happen, so a crash, Ctrl-C or
a pulled camera keeps everything up to that moment. JSON files are replaced
atomically (temporary file in the same folder, fsync, rename).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import platform
import re
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Protocol

import numpy as np

from coach.core.events import Event, EventKind
from coach.core.features import SIGNALS
from coach.core.record import (
    FrameTable,
    SessionData,
    checked_safety,
    checked_summary,
    summarize,
)
from coach.core.routine import resolved_toml
from coach.errors import CoachError, SessionDataError
from coach.files import make_private_dir, read_input_text, write_atomic

if TYPE_CHECKING:
    from coach.core.routine import Routine

SESSION_FILE = "session.json"
ROUTINE_FILE = "routine.toml"
SAFETY_FILE = "safety.json"
FRAMES_FILE = "frames.csv"
EVENTS_FILE = "events.jsonl"
SUMMARY_FILE = "summary.json"
FORMAT_VERSION = 1
RECORD_FILES = (SESSION_FILE, ROUTINE_FILE, SAFETY_FILE, FRAMES_FILE, EVENTS_FILE, SUMMARY_FILE)
JSON_MAX_BYTES = 16 << 20  # a summary with every cue of a long session is well under 1 MB

FRAME_COLUMNS: tuple[str, ...] = ("t_s", "exercise", "state", *SIGNALS)
DIR_MODE = 0o700
FILE_MODE = 0o600
# Libraries whose versions are written with each session (read from package metadata).
VERSIONED_PACKAGES = ("coach", "mediapipe", "opencv-contrib-python", "numpy", "pyttsx3")


def default_recordings_dir(cwd: Path | None = None) -> Path:
    """Where sessions are saved by default.

    ``./recordings`` when the current folder is a coach checkout that has it
    (a ``recordings/README.md`` beside ``pyproject.toml``), otherwise the
    user's data folder: platformdirs ``user_data_dir("coach")/recordings``.
    """
    here = Path.cwd() if cwd is None else cwd
    local = here / "recordings"
    if (local / "README.md").is_file() and (here / "pyproject.toml").is_file():
        return local
    from platformdirs import user_data_dir

    return Path(user_data_dir("coach")) / "recordings"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:60]


def _open_append(path: Path) -> IO[str]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "a", encoding="utf-8", newline="")


def _json_default(value: object) -> object:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "value"):  # enums
        return value.value
    return str(value)


def _dumps(value: object, *, indent: int | None = 2) -> str:
    return json.dumps(value, indent=indent, default=_json_default, allow_nan=False)


def _clean(value: object) -> object:
    """JSON has no NaN: write unknown numbers as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "platform": platform.platform()}
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


class Recorder(Protocol):
    """Keeps what happens in a session as it happens (as ``SessionRecorder``)."""

    def event(self, event: Event) -> None:
        """Keep one event."""
        ...

    def frame(
        self, t_s: float, exercise: str | None, state: str | None, values: Mapping[str, float]
    ) -> None:
        """Keep one frame's measures."""
        ...


class SessionRecorder:
    """Writes one session to its own folder, appending and flushing as it goes.

    Use as a context manager; ``close`` (or leaving the ``with`` block) closes
    the files. A session that never reaches ``finish`` has no summary.json and
    is read back as incomplete.
    """

    def __init__(
        self, root: Path, *, name: str | None = None, started_at: datetime | None = None
    ) -> None:
        stamp = (started_at or datetime.now()).strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{_slug(name)}" if name and _slug(name) else stamp
        try:
            make_private_dir(root)
            folder = root / base
            for n in range(2, 1000):
                try:
                    folder.mkdir(mode=DIR_MODE)
                    break
                except FileExistsError:
                    folder = root / f"{base}-{n}"
            os.chmod(folder, DIR_MODE)
        except OSError as exc:
            raise SessionDataError(
                f"Cannot create a session folder in {root}: {exc.strerror or exc}. "
                "Choose another folder with --out, or check its permissions."
            ) from exc
        self._folder = folder
        self._frames: IO[str] | None = None
        self._frames_writer: Any = None
        self._frame_columns: tuple[str, ...] = ()
        self._events: IO[str] | None = None
        self._safety: dict[str, Any] = {"answers": {}, "pain_before": None, "pain_after": None}
        self._closed = False

    @property
    def folder(self) -> Path:
        """The session's folder."""
        return self._folder

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(
        self,
        *,
        routine: Routine,
        source: str,
        started_at: datetime,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        """Write session.json and routine.toml (the routine written out in full)."""
        meta: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "started_at": started_at.isoformat(timespec="seconds"),
            "routine": routine.name,
            "routine_title": routine.title,
            "routine_source": routine.source,
            "patient": routine.patient,
            "language": routine.language,
            "source": source,
            "versions": _versions(),
            "argv": list(sys.argv[1:]),
        }
        if extra:
            meta.update(extra)
        # routine.toml first: session.json marks a session, so it must never lack its routine.
        self._guard(lambda: write_atomic(self._folder / ROUTINE_FILE, resolved_toml(routine)))
        self._write_json(SESSION_FILE, meta)

    def safety(
        self,
        answers: Mapping[str, bool],
        pain_before: int | None,
        *,
        result: str | None = None,
    ) -> None:
        """Write safety.json: the red-flag answers and the pain before."""
        self._safety["answers"] = {str(k): bool(v) for k, v in answers.items()}
        self._safety["pain_before"] = pain_before
        if result is not None:
            self._safety["result"] = result
        self._write_json(SAFETY_FILE, self._safety)

    def pain_after(self, score: int | None) -> None:
        """Add the pain after the session to safety.json."""
        self._safety["pain_after"] = score
        self._write_json(SAFETY_FILE, self._safety)

    def frame(
        self,
        t_s: float,
        exercise: str | None,
        state: str | None,
        values: Mapping[str, float],
    ) -> None:
        """Append one row to frames.csv (unknown values are left empty)."""
        if self._closed:
            return
        if self._frames is None:
            extra = tuple(sorted(k for k in values if k not in FRAME_COLUMNS))
            self._frame_columns = (*FRAME_COLUMNS, *extra)
            self._frames = self._guard(lambda: _open_append(self._folder / FRAMES_FILE))
            self._frames_writer = csv.writer(self._frames, lineterminator="\n")
            self._frames_writer.writerow(self._frame_columns)
        row: list[str] = [f"{t_s:.3f}", exercise or "", state or ""]
        for column in self._frame_columns[3:]:
            value = values.get(column)
            row.append(_format_number(value))
        self._guard(lambda: self._write_row(row))

    def _write_row(self, row: list[str]) -> None:
        assert self._frames is not None
        self._frames_writer.writerow(row)
        self._frames.flush()

    def event(self, event: Event) -> None:
        """Append one event to events.jsonl."""
        if self._closed:
            return
        if self._events is None:
            self._events = self._guard(lambda: _open_append(self._folder / EVENTS_FILE))
        line = _dumps(_clean(event.to_dict()), indent=None) + "\n"
        handle = self._events

        def write() -> None:
            handle.write(line)
            handle.flush()

        self._guard(write)
        if event.kind is EventKind.PAIN_RATED and event.data.get("when") == "after":
            self.pain_after(event.data.get("score"))

    def finish(self, summary: Mapping[str, object]) -> None:
        """Write summary.json atomically, after flushing everything else."""
        for handle in (self._frames, self._events):
            if handle is not None and not handle.closed:
                self._guard(handle.flush)
        self._write_json(SUMMARY_FILE, summary)

    def close(self) -> None:
        """Close the files. Safe to call twice, and quiet: a write error was reported already.

        On a full disk, closing flushes what could not be written and fails
        again; the lines that made it are whole (a cut last line is read as
        cut), so the folder still loads.
        """
        self._closed = True
        for handle in (self._frames, self._events):
            if handle is not None and not handle.closed:
                try:
                    handle.close()
                except OSError:
                    with contextlib.suppress(OSError, ValueError):
                        os.close(handle.fileno())

    def _write_json(self, name: str, value: object) -> None:
        text = _dumps(_clean(value)) + "\n"
        self._guard(lambda: write_atomic(self._folder / name, text))

    def _guard(self, action: Any) -> Any:
        try:
            return action()
        except OSError as exc:
            raise SessionDataError(
                f"Cannot write the session record in {self._folder}: {exc.strerror or exc}. "
                "Free some disk space or choose another folder with --out."
            ) from exc


def _format_number(value: object) -> str:
    if value is None or isinstance(value, bool):
        return ""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return f"{number:.4f}" if math.isfinite(number) else ""


# ---------------------------------------------------------------- reading back


def is_session(folder: Path) -> bool:
    """The folder looks like a recorded session (it has session.json).

    A session folder that cannot be entered still counts, so that it is named
    as unreadable instead of silently left out.
    """
    try:
        return (folder / SESSION_FILE).is_file()
    except PermissionError:
        return folder.is_dir() and folder.name[:1].isdigit()
    except OSError:
        return False


def list_sessions(root: Path) -> list[Path]:
    """Session folders in ``root`` (or ``root`` itself when it is one), oldest first.

    Raises:
        SessionDataError: ``root`` is not a folder, or cannot be read.
    """
    try:
        return _list_sessions(root)
    except PermissionError as exc:
        raise SessionDataError(
            f"Permission denied reading {exc.filename or root}: the sessions cannot be listed."
        ) from exc
    except OSError as exc:
        raise SessionDataError(
            f"Cannot read {exc.filename or root}: {exc.strerror or exc}."
        ) from exc


def _list_sessions(root: Path) -> list[Path]:
    if is_session(root):
        return [root]
    if not root.is_dir():
        raise SessionDataError(
            f"No folder of sessions at {root}. Give the recordings folder, or a folder "
            "of sessions someone sent you."
        )
    found = [p for p in root.iterdir() if p.is_dir() and is_session(p)]
    # Folders that hold session folders one level down (a patient's sent archive).
    if not found:
        for child in root.iterdir():
            if child.is_dir():
                with contextlib.suppress(PermissionError):
                    found.extend(p for p in child.iterdir() if p.is_dir() and is_session(p))
    return sorted(found, key=lambda p: (p.name, str(p)))


def load_session(folder: Path) -> SessionData:
    """Read a session folder back; a session cut off before its end loads as incomplete.

    Raises:
        SessionDataError: The folder is missing, is not a session, or its
            session.json or routine.toml cannot be read.
    """
    folder = Path(folder)
    try:
        return _load_session(folder)
    except PermissionError as exc:
        raise SessionDataError(
            f"{exc.filename or folder}: permission denied; the session cannot be read."
        ) from exc
    except OSError as exc:
        raise SessionDataError(
            f"Cannot read {exc.filename or folder}: {exc.strerror or exc}."
        ) from exc


def _load_session(folder: Path) -> SessionData:
    from coach.core.routine import parse_routine, read_routine_text

    if not folder.exists():
        raise SessionDataError(f"No session folder at {folder}: check the path.")
    if not folder.is_dir():
        raise SessionDataError(
            f"{folder} is a file, not a session folder. Give the folder that holds "
            f"{SESSION_FILE} and {EVENTS_FILE}."
        )
    missing = [n for n in (SESSION_FILE, ROUTINE_FILE) if not (folder / n).is_file()]
    if missing:
        inner = [p.name for p in sorted(folder.iterdir()) if p.is_dir() and is_session(p)]
        if inner:
            shown = ", ".join(inner[:3]) + (" ..." if len(inner) > 3 else "")
            raise SessionDataError(
                f"{folder} is a folder of sessions, not one session (it holds {shown}). "
                "Give one of them, or use 'coach history' for the whole folder."
            )
        raise SessionDataError(
            f"{folder} is not a session folder: {' and '.join(missing)} missing. "
            "Give a folder written by the coach (inside recordings/)."
        )
    warnings: list[str] = []
    meta = _read_json(folder / SESSION_FILE, required=True)
    routine_path = folder / ROUTINE_FILE
    try:
        routine = parse_routine(read_routine_text(routine_path), str(routine_path))
    except CoachError as exc:
        raise SessionDataError(
            f"The routine saved with the session cannot be read ({routine_path}): {exc}"
        ) from exc
    with damage_named(folder):
        return _load_checked(folder, meta, routine, warnings)


# What damage no check foresaw raises from code reading a record.
UNFORESEEN_DAMAGE = (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError)


@contextlib.contextmanager
def damage_named(folder: Path) -> Iterator[None]:
    """Inside the block, damage no check foresaw becomes a ``SessionDataError`` naming the folder.

    A guard for reading and showing records, which anyone may have edited:
    the person is told which session is damaged, never shown the code.
    """
    try:
        yield
    except UNFORESEEN_DAMAGE as exc:
        raise SessionDataError(
            f"{folder}: the session record is damaged and cannot be shown "
            f"({type(exc).__name__}: {str(exc)[:120]})."
        ) from exc


def _load_checked(
    folder: Path, meta: dict[str, Any], routine: Routine, warnings: list[str]
) -> SessionData:
    raw_safety = _read_json(folder / SAFETY_FILE, required=False, warnings=warnings)
    safety, notes = checked_safety(raw_safety)
    warnings.extend(f"{SAFETY_FILE}: {note}" for note in notes)
    if not isinstance(meta.get("started_at", ""), str):
        warnings.append(f"{SESSION_FILE}: started_at is not a date; left out.")
        meta = {k: v for k, v in meta.items() if k != "started_at"}
    events = _read_events(folder / EVENTS_FILE, warnings)
    frames = _read_frames(folder / FRAMES_FILE, warnings)
    summary_path = folder / SUMMARY_FILE
    summary: Mapping[str, Any] | None = None
    if summary_path.is_file():
        summary = _read_json(summary_path, required=False, warnings=warnings) or None
    finished = summary is not None
    rebuilt = summarize(
        routine, events, complete=any(e.kind is EventKind.SESSION_COMPLETED for e in events)
    )
    if summary is None:
        summary = {**rebuilt, "completed": False}
        warnings.append(f"{SUMMARY_FILE} is missing: the session was cut off before its end.")
    else:
        summary, problem = checked_summary(summary, rebuilt)
        if problem is not None:
            warnings.append(
                f"{SUMMARY_FILE} is damaged ({problem}); the summary was rebuilt from the events."
            )
    return SessionData(
        folder=folder,
        meta=meta,
        routine=routine,
        safety=safety,
        events=tuple(events),
        frames=frames,
        summary=summary,
        finished=finished,
        warnings=tuple(warnings),
    )


def _read_json(path: Path, *, required: bool, warnings: list[str] | None = None) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        text = read_input_text(path, path.name, error=SessionDataError, max_bytes=JSON_MAX_BYTES)
        try:
            value = json.loads(text)
        except RecursionError as exc:
            raise ValueError("nested too deep") from exc
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
    except (SessionDataError, ValueError) as exc:
        if required:
            raise SessionDataError(
                f"{path} cannot be read ({exc}): the session folder is damaged."
            ) from exc
        if warnings is not None:
            warnings.append(f"{path.name} cannot be read ({exc}); it was left out.")
        return {}
    return value


def _read_events(path: Path, warnings: list[str]) -> list[Event]:
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SessionDataError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    lines = text.split("\n")
    events: list[Event] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise TypeError("not a JSON object")
            event = Event.from_dict(row)
            if not math.isfinite(event.t_s):
                raise ValueError("its time is not a number")
            events.append(event)
        except (ValueError, KeyError, TypeError, RecursionError, OverflowError) as exc:
            last = number == len(lines) or all(not rest.strip() for rest in lines[number:])
            if last and isinstance(exc, json.JSONDecodeError):
                warnings.append(f"{path.name}: the last line was cut off and was left out.")
            else:
                warnings.append(f"{path.name} line {number} cannot be read ({exc}); left out.")
    return events


def _read_frames(path: Path, warnings: list[str]) -> FrameTable:
    if not path.is_file():
        return FrameTable.empty()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SessionDataError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    complete_text = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
    if complete_text != text:
        warnings.append(f"{path.name}: the last row was cut off and was left out.")
    try:
        return _parse_frames(complete_text, path, warnings)
    except csv.Error as exc:
        warnings.append(f"{path.name} is damaged ({exc}); the per-frame table was left out.")
        return FrameTable.empty()


def _parse_frames(complete_text: str, path: Path, warnings: list[str]) -> FrameTable:
    reader = csv.reader(io.StringIO(complete_text))
    header = next(reader, None)
    if not header or header[0] != "t_s":
        return FrameTable.empty()
    times: list[float] = []
    exercises: list[str | None] = []
    states: list[str | None] = []
    columns: dict[str, list[float]] = {name: [] for name in header[3:]}
    for row in reader:
        if len(row) != len(header):
            warnings.append(f"{path.name}: a row with {len(row)} fields was left out.")
            continue
        try:
            t_s = float(row[0])
        except ValueError:
            continue
        times.append(t_s)
        exercises.append(row[1] or None)
        states.append(row[2] or None)
        for name, cell in zip(header[3:], row[3:], strict=True):
            columns[name].append(_parse_float(cell))
    return FrameTable(
        np.asarray(times, dtype=float),
        tuple(exercises),
        tuple(states),
        {name: np.asarray(values, dtype=float) for name, values in columns.items()},
    )


def _parse_float(cell: str) -> float:
    try:
        return float(cell) if cell else math.nan
    except ValueError:
        return math.nan
