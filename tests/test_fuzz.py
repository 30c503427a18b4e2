"""Fuzzing the commands with mutated routines, answer files and session records.

Each input is a valid one with a few random, seeded mutations: values
replaced by hostile ones (NaN, huge numbers, markup, format specs, control
characters, deep lists), keys dropped or added, bytes flipped, files cut
short, lines duplicated. Every command must then give a clear error or a
correct run: no traceback, no hang past 30 s, no file over 10 MB.

Most inputs run in this process through the real entry point; a sample runs
again as a real subprocess, which must end the same way.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import Outcome, coach, toml_text
from records_helpers import BUNDLED, bundled_routine, record

from coach.adapters.storage import load_session
from coach.core.safety import RED_FLAG_KEYS

pytestmark = pytest.mark.slow

SEED = 20261202
ROUTINES = 120  # to `routine check`; every fourth also to `run`
ANSWER_FILES = 45  # to `run`
RECORDS = 60  # to `history`; every fourth also to `report`
SUBPROCESS_EVERY = 37  # every n-th command runs again as a subprocess
HANG_S = 30
MAX_FILE_BYTES = 10 << 20
ROOT = Path(__file__).resolve().parents[1]

HOSTILE: tuple[object, ...] = (
    math.nan,
    math.inf,
    -math.inf,
    -1,
    0,
    10**30,
    1e308,
    "",
    " ",
    "x" * 5000,
    "[/]",
    "Breathe in [slowly] [bold]",
    "{count:d}",
    "{remaining:>999999999}",
    "{count!r}",
    "{}",
    "{nope}",
    "\x00\x1b[2J\r\n",
    "\u202eevil",
    True,
    [],
    [1, "a"],
    {},
    {"a": {"b": 1}},
)


def _deep(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def _leaves(node: object, path: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path


def _tables(node: object, path: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    if isinstance(node, dict):
        yield path
        for key, value in node.items():
            yield from _tables(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _tables(value, (*path, index))


def _at(node: object, path: tuple[object, ...]) -> object:
    for key in path:
        node = node[key]  # type: ignore[index]
    return node


def _hostile(rng: random.Random) -> object:
    return _deep(rng.choice((20, 200))) if rng.random() < 0.05 else rng.choice(HOSTILE)


def _mutate_data(data: object, rng: random.Random) -> None:
    """Replace, drop or add one value somewhere in a parsed document."""
    choice = rng.random()
    leaves = [p for p in _leaves(data) if p]
    if choice < 0.6 and leaves:
        path = rng.choice(leaves)
        parent = _at(data, path[:-1])
        parent[path[-1]] = _hostile(rng)  # type: ignore[index]
    elif choice < 0.8 and leaves:
        path = rng.choice(leaves)
        parent = _at(data, path[:-1])
        del parent[path[-1]]  # type: ignore[attr-defined,union-attr]
    else:
        table = _at(data, rng.choice(list(_tables(data))))
        key = rng.choice(("hold_s", "reps", "title", "zz_unknown", "cooldown_s", "\u00e9", "a.b"))
        table[key] = _hostile(rng)  # type: ignore[index]


def _mutate_bytes(raw: bytes, rng: random.Random) -> bytes:
    """Damage a file as a disk, an editor or a person might."""
    choice = rng.randrange(8)
    cut = rng.randrange(max(1, len(raw)))
    if choice == 0:
        return raw[:cut]
    if choice == 1:
        return raw[:cut] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8))) + raw[cut:]
    if choice == 2 and raw:
        flipped = bytearray(raw)
        flipped[cut] ^= 1 << rng.randrange(8)
        return bytes(flipped)
    if choice == 3:
        return b"\xef\xbb\xbf" + raw
    if choice == 4:
        return raw.replace(b"\n", b"\r\n")
    if choice == 5:
        lines = raw.split(b"\n")
        line = rng.choice(lines)
        lines.insert(rng.randrange(len(lines) + 1), line)
        return b"\n".join(lines)
    if choice == 6:
        return raw + b"\nx = " + b"[" * 2000 + b"]" * 2000 + b"\n"
    return raw.replace(b"=", b"", 1)


def mutated_routine(rng: random.Random) -> bytes:
    """The bundled routine with one to three mutations, in its values or its bytes."""
    if rng.random() < 0.6:
        data = tomllib.loads(BUNDLED.read_text(encoding="utf-8"))
        for _ in range(rng.randint(1, 3)):
            _mutate_data(data, rng)
        return toml_text(data).encode("utf-8")
    return _mutate_bytes(BUNDLED.read_bytes(), rng)


def mutated_answers(rng: random.Random) -> bytes:
    """A JSON answers file: keys left out or given twice, values of any type, damaged bytes."""
    values: tuple[object, ...] = (
        False,
        False,
        False,
        True,
        "no",
        "yes",
        "maybe",
        0,
        1,
        None,
        [],
        {},
    )
    pairs: list[tuple[str, object]] = [(key, False) for key in RED_FLAG_KEYS]
    for _ in range(rng.randint(0, 3)):
        choice = rng.random()
        if choice < 0.4:
            index = rng.randrange(len(pairs))
            pairs[index] = (pairs[index][0], rng.choice(values))
        elif choice < 0.6:
            pairs.append((rng.choice(RED_FLAG_KEYS), rng.choice(values)))
        elif choice < 0.8 and pairs:
            pairs.pop(rng.randrange(len(pairs)))
        else:
            pairs.append((rng.choice(("unknown", "", "[/]", "x" * 300)), False))
    body = "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}"
    if rng.random() < 0.2:
        body = '{"answers": ' + body + "}"
    raw = body.encode("utf-8")
    if rng.random() < 0.25:
        raw = rng.choice(
            (
                _mutate_bytes(raw, rng),
                b"[" * 100_000 + b"]" * 100_000,
                b'{"answers": "no"}',
                b"\xff\xfe",
                b"",
            )
        )
    return raw


RECORD_FILES = (
    "session.json",
    "safety.json",
    "summary.json",
    "events.jsonl",
    "frames.csv",
    "routine.toml",
)


def mutate_record(folder: Path, rng: random.Random) -> None:
    """One to three kinds of damage to the files of a session folder."""
    for _ in range(rng.randint(1, 3)):
        path = folder / rng.choice(RECORD_FILES)
        if not path.exists():
            continue
        choice = rng.random()
        if choice < 0.1:
            path.unlink()
        elif path.suffix == ".json" and choice < 0.6:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue
            if path.name == "session.json" and rng.random() < 0.5:
                data["started_at"] = rng.choice(
                    ("9999-12-31T23:59:59", "0001-01-01T00:00:00", "2026-11-20T10:00:00+05:00")
                )
            else:
                _mutate_data(data, rng)
            try:
                path.write_text(json.dumps(data), encoding="utf-8")
            except ValueError:  # a value JSON cannot hold (a deep list): the raw damage instead
                path.write_text("[" * 5000, encoding="utf-8")
        elif path.name == "events.jsonl" and choice < 0.8:
            extra = rng.choice(
                (
                    "[1, 2]",
                    '"x"',
                    '{"kind": "nope", "t_s": 1}',
                    '{"kind": "paused", "t_s": "soon"}',
                    '{"kind": "paused", "t_s": NaN}',
                    '{"kind": "rep_counted", "t_s": 2.0, "exercise": "cat_cow", "count": [1]}',
                    '{"kind": "pain_rated", "t_s": 2.0, "when": "after", "score": 1e400}',
                )
            )
            with path.open("a", encoding="utf-8") as handle:
                handle.write(extra + "\n")
        elif path.name == "frames.csv" and choice < 0.8:
            with path.open("a", encoding="utf-8") as handle:
                handle.write(rng.choice(('1.0,cat_cow,"' + "x" * 140_000 + '"', "a,b", "\x00\x01")))
                handle.write("\n")
        else:
            path.write_bytes(_mutate_bytes(path.read_bytes(), rng))


# ---------------------------------------------------------------- the checks
class Hang(Exception):
    """A command ran past the time limit."""


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise ``Hang`` in this (the main) thread when the block runs too long."""

    def expire(signum: int, frame: object) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Tally:
    """What the fuzzing did, per command, for the report at the end."""

    inputs: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    subprocesses: int = 0
    slowest: float = 0.0

    def line(self) -> str:
        parts = [
            f"{name}: {self.calls[name]} runs, {self.errors.get(name, 0)} clear errors, "
            f"{self.seconds[name]:.1f} s"
            for name in sorted(self.calls)
        ]
        inputs = ", ".join(f"{k} {v}" for k, v in self.inputs.items())
        return (
            f"inputs: {inputs} ({sum(self.inputs.values())} in all); "
            + "; ".join(parts)
            + f"; {self.subprocesses} again as subprocesses; slowest {self.slowest:.1f} s"
        )


def largest_file(folder: Path) -> tuple[int, Path | None]:
    biggest, where = 0, None
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_size > biggest:
            biggest, where = path.stat().st_size, path
    return biggest, where


def check(
    tally: Tally,
    work: Path,
    name: str,
    args: list[str],
    verify: Callable[[Outcome], None],
) -> Outcome:
    """Run one command in this process and check it ended well, within time and size."""
    started = time.monotonic()
    with time_limit(HANG_S):
        done = coach(*args)
    took = time.monotonic() - started
    tally.calls[name] = tally.calls.get(name, 0) + 1
    tally.seconds[name] = tally.seconds.get(name, 0.0) + took
    tally.slowest = max(tally.slowest, took)
    context = f"coach {' '.join(a[:80] for a in args)}\n{done.text[-2000:]}"
    assert "Traceback" not in done.text, context
    if done.code != 0:
        tally.errors[name] = tally.errors.get(name, 0) + 1
        first = done.err.strip().splitlines()[0] if done.err.strip() else ""
        assert first.startswith(("coach:", "Not valid:", "skipped:")), context
        assert len(done.err) < 20_000, context
    verify(done)
    size, where = largest_file(work)
    assert size <= MAX_FILE_BYTES, f"{where} is {size} bytes after {context}"
    total = sum(tally.calls.values())
    if total % SUBPROCESS_EVERY == 0:
        again = subprocess.run(
            [sys.executable, "-c", "from coach.app.cli import main; main()", *args],
            capture_output=True,
            text=True,
            timeout=HANG_S,
            env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "1000"},
            stdin=subprocess.DEVNULL,
        )
        tally.subprocesses += 1
        assert "Traceback" not in again.stderr, again.stderr[-2000:]
        assert again.returncode == done.code, (context, again.stderr[-2000:])
    return done


def _images(folder: Path) -> Path:
    import cv2

    folder.mkdir()
    for index in range(2):
        cv2.imwrite(str(folder / f"{index}.png"), np.zeros((48, 64, 3), np.uint8))
    return folder


def _saved_session(done: Outcome) -> None:
    """A run that ends well has saved a record that loads."""
    if done.code != 0:
        return
    line = next(line for line in done.out.splitlines() if line.startswith("Record saved in "))
    session = load_session(Path(line.removeprefix("Record saved in ")))
    assert session.safety.get("answers"), "a session ran without its safety answers"


def test_mutated_inputs_give_clear_errors_or_correct_runs(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    tally = Tally()
    images = _images(tmp_path / "images")
    recordings = tmp_path / "recordings"
    run_args = ["--source", str(images), "--headless", "--mute", "--no-realtime"]
    run_args += ["--out", str(recordings)]
    started = time.monotonic()

    routines = tmp_path / "routines"
    routines.mkdir()
    for index in range(ROUTINES):
        path = routines / f"r{index:03d}.toml"
        path.write_bytes(mutated_routine(rng))

        def checked(done: Outcome) -> None:
            assert done.code in (0, 1, 2)
            assert ("OK" in done.out) == (done.code == 0)

        check(tally, tmp_path, "routine check", ["routine", "check", str(path)], checked)
        if index % 4 == 0:
            args = ["run", "--routine", str(path), "--answers", "no", *run_args]
            check(tally, tmp_path, "run", args, _saved_session)
    tally.inputs["routines"] = ROUTINES

    answers = tmp_path / "answers"
    answers.mkdir()
    for index in range(ANSWER_FILES):
        path = answers / f"a{index:03d}.json"
        path.write_bytes(mutated_answers(rng))
        check(tally, tmp_path, "run", ["run", "--answers", str(path), *run_args], _saved_session)
    tally.inputs["answer files"] = ANSWER_FILES

    records = tmp_path / "records"
    template = record(bundled_routine(), tmp_path / "template")
    for index in range(RECORDS):
        folder = records / f"2026112{index % 10}-0900{index:02d}"
        shutil.copytree(template, folder)
        mutate_record(folder, rng)

        def shown(done: Outcome, folder: Path = folder) -> None:
            assert done.code in (0, 2)
            if done.code == 2:
                assert folder.name in done.err

        check(tally, tmp_path, "history", ["history", str(folder)], shown)
        if index % 4 == 0:
            out = tmp_path / "reports" / f"{folder.name}.html"
            out.parent.mkdir(exist_ok=True)
            check(tally, tmp_path, "report", ["report", str(folder), "--out", str(out)], shown)
    tally.inputs["records"] = RECORDS

    sessions = sum(1 for p in records.iterdir() if (p / "session.json").is_file())

    def every_session_accounted_for(done: Outcome) -> None:
        assert done.code == 0
        listed = 0
        for line in done.out.splitlines():
            if " sessions in " in line:
                listed = int(line.split(" sessions in ")[0].split()[-1])
        skipped = done.out.count("skipped: ")
        assert listed + skipped == sessions, done.out[-3000:]

    check(tally, tmp_path, "history", ["history", str(records)], every_session_accounted_for)
    table = tmp_path / "history.csv"
    check(
        tally, tmp_path, "history", ["history", str(records), "--csv", str(table)], lambda d: None
    )

    total = sum(tally.inputs.values())
    print(f"\nfuzz: {tally.line()}; {time.monotonic() - started:.1f} s in all")
    assert total >= 200
    assert tally.calls["run"] >= 70 and tally.errors.get("run", 0) < tally.calls["run"]
    assert tally.errors.get("routine check", 0) < tally.calls["routine check"]
