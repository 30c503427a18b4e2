"""Writing TOML: the few shapes routines, catalogues and records use.

Tables nest; a list of tables is an array of tables (``[[exercises]]``); other
values are text, true/false, whole and decimal numbers, and lists of those.
``None`` means "not set" and is left out.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    """A key as TOML writes it: bare when it can be, quoted otherwise."""
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: object) -> str:
    """One value as TOML text.

    Raises:
        ValueError: The value has no TOML form (not a number, text, true/false or a list).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} has no TOML form")
        return repr(value)
    if isinstance(value, str):
        # JSON's string escapes are TOML's basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise ValueError(f"{value!r} has no TOML form")


def _is_table_list(value: object) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and bool(value)
        and all(isinstance(v, Mapping) for v in value)
    )


def dumps(data: Mapping[str, object]) -> str:
    """``data`` as a TOML document; tables and arrays of tables after the plain values."""
    lines: list[str] = []
    _table(data, "", lines)
    return "\n".join(lines).strip("\n") + "\n"


def _table(data: Mapping[str, object], path: str, lines: list[str]) -> None:
    for key, value in data.items():
        if value is None or isinstance(value, Mapping) or _is_table_list(value):
            continue
        lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for key, value in data.items():
        inner = f"{path}.{toml_key(key)}" if path else toml_key(key)
        if isinstance(value, Mapping):
            lines += ["", f"[{inner}]"]
            _table(value, inner, lines)
        elif _is_table_list(value):
            assert isinstance(value, Sequence)
            for item in value:
                lines += ["", f"[[{inner}]]"]
                _table(item, inner, lines)
