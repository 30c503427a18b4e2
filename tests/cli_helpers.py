"""Running the ``coach`` command in this process, as a person would type it."""

from __future__ import annotations

import io
import json
import math
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What one command did: its exit code and what it printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def coach(*args: str, stdin: str = "") -> Outcome:
    """Run ``coach ARGS`` through its entry point (argument checks and error printing included).

    Nobody is at the terminal: stdin is a pipe holding ``stdin``.
    """
    from coach.app.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_stdin = sys.argv, sys.stdin
    saved_columns = os.environ.get("COLUMNS")
    sys.argv = ["coach", *args]
    sys.stdin = io.StringIO(stdin)
    os.environ["COLUMNS"] = "1000"  # one line per message, as the tests read them
    code: int = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.argv, sys.stdin = saved_argv, saved_stdin
        if saved_columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved_columns
    return Outcome(code, out.getvalue(), err.getvalue())


def toml_value(value: object) -> str:
    """A TOML literal for a value read by tomllib (tables become inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {value!r}")


def toml_text(data: dict[str, object]) -> str:
    """A whole TOML document of ``data``, one top-level key a line."""
    return "".join(f"{json.dumps(key)} = {toml_value(value)}\n" for key, value in data.items())
