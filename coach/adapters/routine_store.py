"""Where routine files live: the bundled ones and the user's own (platformdirs)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

import coach.routines
from coach.errors import RoutineError

if TYPE_CHECKING:
    from coach.core.routine import Routine

BUNDLED_PREFIX = "<bundled>"
DEFAULT_ROUTINE = "back-spasm-relief"  # what `coach` runs when no routine is named
SUFFIX = ".toml"


def bundled_dir() -> Path:
    """The folder of the routines shipped with the coach."""
    return Path(coach.routines.__file__).resolve().parent


def bundled_routines() -> list[Path]:
    """The bundled routine files, sorted by name."""
    return sorted(bundled_dir().glob(f"*{SUFFIX}"))


def user_routine_dir() -> Path:
    """The folder of the user's own routines (it may not exist yet)."""
    return Path(platformdirs.user_config_dir("coach")) / "routines"


def user_routines() -> list[Path]:
    """The user's routine files, sorted by name."""
    folder = user_routine_dir()
    return sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []


def is_bundled(path: Path) -> bool:
    """Whether ``path`` is one of the bundled routine files."""
    return Path(path).resolve().parent == bundled_dir()


def _looks_like_path(name_or_path: str) -> bool:
    return name_or_path.endswith(SUFFIX) or "/" in name_or_path or "\\" in name_or_path


def find_routine(name_or_path: str) -> Path:
    """The routine file for a bundled name, a user routine name, or a path.

    Raises:
        RoutineError: Nothing matches; the message lists the routines that exist.
    """
    if not name_or_path.strip():
        raise RoutineError("The routine name is empty: give a routine name or a .toml file.")
    candidate = Path(name_or_path).expanduser()
    if candidate.is_file() or (_looks_like_path(name_or_path) and candidate.exists()):
        return candidate  # loading it says what is wrong with anything but a routine file
    if _looks_like_path(name_or_path):
        raise RoutineError(f"{name_or_path}: no such routine file; check the path")
    for path in (*bundled_routines(), *user_routines()):
        if path.stem == name_or_path:
            return path
    names = [p.stem for p in bundled_routines()] + [p.stem for p in user_routines()]
    known = ", ".join(names) if names else "none"
    raise RoutineError(
        f"no routine named '{name_or_path}'. Known routines: {known}. "
        f"Give a routine name, or the path of a .toml file (user routines live in "
        f"{user_routine_dir()})."
    )


def routine_text(name_or_path: str) -> tuple[str, str]:
    """A routine's TOML text and its source ("<bundled>/name" for a bundled one).

    Raises:
        RoutineError: There is no such routine, or it cannot be read.
    """
    from coach.core.routine import read_routine_text

    path = find_routine(name_or_path)
    source = f"{BUNDLED_PREFIX}/{path.stem}" if is_bundled(path) else str(path)
    return read_routine_text(path), source


def open_routine(name_or_path: str, *, language: str | None = None) -> Routine:
    """Find and load a routine, and the routines it extends, by name or path.

    A bundled routine is named "<bundled>/name" in its source. ``language``
    picks the language of its texts instead of the routine's own.
    """
    # Loaded here, not with the module: reading routines is the heavy part,
    # and `coach --help` needs only the names below.
    from coach.core.routine import load_routine, parse_routine

    path = find_routine(name_or_path)
    if is_bundled(path):
        text, source = routine_text(str(path))
        return parse_routine(text, source, resolve=routine_text, language=language)

    def resolve(name: str) -> tuple[str, str]:
        # A routine extends one beside it first (a therapist's folder), then a known one.
        sibling = path.parent / f"{name}{SUFFIX}"
        return routine_text(str(sibling) if sibling.is_file() else name)

    return load_routine(path, resolve=resolve, language=language)
