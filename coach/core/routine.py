"""Routines: what the patient does, how much, and what the coach says.

A routine is a TOML file, read once at load into frozen, typed values. Every
value is checked against the field it fills: unknown keys (typos) are refused
with the closest known name, types must match, and numbers must lie inside the
safe range the field declares in its metadata (``{"min": .., "max": ..}``).
Keys left out take the field's default, so a therapist overrides only what a
patient needs. Every problem is a ``RoutineError`` naming the file, the key
path, the bad value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import math
import re
import string
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.core import catalog
from coach.core.catalog import DEFAULT_LANGUAGE
from coach.core.controls_config import ControlsConfig
from coach.core.progression import ProgressionRule
from coach.core.settings import knob
from coach.core.states import ExerciseKind, PoseState
from coach.errors import RoutineError
from coach.files import read_input_text

if TYPE_CHECKING:
    from coach.core.classify import ClassifierConfig
    from coach.core.exercises.base import ExerciseInfo
    from coach.core.features import FeatureConfig


@dataclass(frozen=True, kw_only=True)
class Dose:
    """How much of one exercise: holds or repetitions, sets and rests.

    Attributes:
        hold_s: Seconds per hold (child's pose, hip lifts); None for cat-cow.
        reps: Target count: holds for child's pose, cycles for cat-cow, lifts
            for hip lifts.
        reps_max: Top of the range ("5-10 cycles" is reps 5, reps_max 10);
            equal to ``reps`` when the dose is fixed. Defaults to ``reps``.
        sets: How many times the whole dose is done.
        rest_s: Rest after each set, in seconds.
    """

    hold_s: float | None = field(
        default=None,
        metadata={"min": 5.0, "max": 120.0, "unit": "s", "help": "seconds per hold"},
    )
    reps: int = field(
        default=1, metadata={"min": 1, "max": 30, "unit": "count", "help": "target count"}
    )
    reps_max: int = field(
        default=1,
        metadata={"min": 1, "max": 30, "unit": "count", "help": "top of the range"},
    )
    sets: int = field(
        default=1, metadata={"min": 1, "max": 5, "unit": "count", "help": "sets of the dose"}
    )
    rest_s: float = field(
        default=30.0,
        metadata={"min": 0.0, "max": 300.0, "unit": "s", "help": "rest after each set"},
    )

    def __post_init__(self) -> None:
        if self.reps > self.reps_max:
            raise ValueError(f"reps ({self.reps}) must not be more than reps_max ({self.reps_max})")


@dataclass(frozen=True, kw_only=True)
class CueSettings:
    """When the coach speaks.

    Attributes:
        cooldown_s: The same cue is not repeated within this many seconds.
        max_age_s: A cue not yet spoken after this long is dropped as stale.
        countdown_every_s: Seconds between spoken countdowns during a hold.
    """

    cooldown_s: float = field(
        default=8.0,
        metadata={"min": 0.0, "max": 120.0, "unit": "s", "help": "no repeat of a cue within"},
    )
    max_age_s: float = field(
        default=3.0,
        metadata={"min": 0.5, "max": 30.0, "unit": "s", "help": "drop cues older than"},
    )
    countdown_every_s: float = field(
        default=10.0,
        metadata={"min": 1.0, "max": 60.0, "unit": "s", "help": "seconds between countdowns"},
    )


@dataclass(frozen=True, kw_only=True)
class SessionConfig:
    """Pacing of the session's own steps: set-up, introductions, breath cues, pain.

    Attributes:
        setup_stable_s: The camera view must be right this long before exercises start.
        setup_hint_delay_s: A set-up problem must last this long before it is named.
        setup_hint_repeat_s: An unchanged set-up hint is repeated this often.
        position_repeat_s: "Get into position" is repeated this often while waiting.
        lost_after_s: Nobody seen this long and the coach says so, once. Hold
            timers pause sooner, by each exercise's own ``lost_after_s``.
        words_per_s: Speaking rate, to estimate how long the coach is talking.
        utterance_s: Time every utterance takes beside its words (start, final pause).
        intro_extra_s: Time added after an introduction before waiting for the position.
        intro_max_s: Upper bound on an introduction's estimated length.
        breath_min_s: Cat-cow: shortest time between two breath cues.
        breath_max_s: Cat-cow: longest time between two breath cues, reached or not.
        cue_show_s: How long the last cue stays on screen.
        pain_worse_points: Pain after this many points above before is "sharply worse".
        stall_hint_s: Nothing counted this long while the person is seen in an
            exercise, and the coach says what it sees and what to change
            (repeated at most this often while nothing counts).
        stall_move_on_s: Nothing counted this long and the coach ends the
            exercise and moves on by itself; more than ``stall_hint_s``, so a
            hint always comes first.
        high_contrast: The window in white and yellow on solid black, in large
            type, for a person who sees it from the mat or sees poorly.
        controls: How the body pauses, resumes, skips and stops the session
            (the ``[session.controls]`` table).
    """

    setup_stable_s: float = knob(1.0, 0.0, 30.0, "s", "view right this long before starting")
    setup_hint_delay_s: float = knob(1.0, 0.0, 30.0, "s", "a set-up problem lasts this long")
    setup_hint_repeat_s: float = knob(12.0, 1.0, 120.0, "s", "repeat a set-up hint this often")
    position_repeat_s: float = knob(15.0, 1.0, 120.0, "s", "repeat 'get into position'")
    lost_after_s: float = knob(1.0, 0.0, 10.0, "s", "nobody seen this long is lost")
    words_per_s: float = knob(3.4, 1.0, 20.0, "", "speaking rate, words per second")
    utterance_s: float = knob(0.4, 0.0, 5.0, "s", "time each utterance adds")
    intro_extra_s: float = knob(0.5, 0.0, 30.0, "s", "pause after an introduction")
    intro_max_s: float = knob(60.0, 5.0, 300.0, "s", "longest introduction")
    breath_min_s: float = knob(2.5, 1.0, 15.0, "s", "cat-cow: shortest breath")
    breath_max_s: float = knob(5.0, 1.0, 30.0, "s", "cat-cow: longest breath")
    cue_show_s: float = knob(5.0, 0.0, 60.0, "s", "a cue stays on screen this long")
    pain_worse_points: int = knob(2, 1, 10, "count", "pain this much higher is sharply worse")
    stall_hint_s: float = knob(20.0, 5.0, 120.0, "s", "nothing counted this long: a hint")
    stall_move_on_s: float = knob(60.0, 15.0, 600.0, "s", "nothing counted this long: move on")
    high_contrast: bool = False
    controls: ControlsConfig = field(default_factory=ControlsConfig)

    def __post_init__(self) -> None:
        for name in (
            "setup_stable_s",
            "setup_hint_delay_s",
            "lost_after_s",
            "intro_extra_s",
            "utterance_s",
            "breath_min_s",
            "cue_show_s",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be zero or more, got {getattr(self, name)}")
        for name in (
            "setup_hint_repeat_s",
            "position_repeat_s",
            "words_per_s",
            "intro_max_s",
            "stall_hint_s",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.breath_max_s < self.breath_min_s:
            raise ValueError("breath_max_s must not be less than breath_min_s")
        if self.pain_worse_points < 1:
            raise ValueError(f"pain_worse_points must be 1 or more, got {self.pain_worse_points}")
        if not self.stall_move_on_s > self.stall_hint_s:
            raise ValueError(
                "stall_move_on_s must be more than stall_hint_s, so the coach gives a hint "
                "before it moves on"
            )


@dataclass(frozen=True, kw_only=True)
class ExerciseSpec:
    """One exercise of a routine, with its dose, thresholds and cue texts.

    Attributes:
        kind: Which exercise.
        title: Name shown and printed, e.g. "Child's pose".
        intro: Spoken introduction: how to get into position and what to do.
        dose: How much.
        thresholds: The engine's config dataclass (the exercise's ``config_type``).
        cues: Cue key to text: every fault key of the engine and the event cues.
    """

    kind: ExerciseKind
    title: str
    intro: str
    dose: Dose
    thresholds: Any
    cues: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class Routine:
    """A validated routine: settings, session texts and the exercises in order.

    Attributes:
        name: Short name, e.g. "back-spasm-relief".
        title: Title shown to the patient.
        notes: Notes for the patient.
        exercises: The exercises, in order.
        cues: When the coach speaks.
        session_cues: Session-level texts (welcome, setup hints, rest, stop...).
        classifier: Pose classifier settings.
        camera: How features are taken from each pose.
        session: Pacing of set-up, introductions, breath cues and pain checks.
        source: The file the routine came from, or "<bundled>/name".
        text: The original TOML text.
        extends: The routine this one builds on, or None.
        own: Where this routine's own file sets a value, as ``section.key``
            or ``<kind>.dose.key`` / ``<kind>.thresholds.key`` / ``<kind>.cues.key``.
        patient: Who the routine is for ("" when not named).
        language: The language of the texts the patient sees and hears.
        progression: Rules that grow or step back a dose from the patient's history.
    """

    name: str
    title: str
    notes: str
    exercises: tuple[ExerciseSpec, ...]
    cues: CueSettings
    session_cues: Mapping[str, str]
    classifier: ClassifierConfig
    camera: FeatureConfig
    session: SessionConfig = field(default_factory=SessionConfig)
    source: str
    text: str
    extends: str | None = None
    own: frozenset[str] = frozenset()
    patient: str = ""
    language: str = DEFAULT_LANGUAGE
    progression: tuple[ProgressionRule, ...] = ()


# Cue keys every exercise must give a text for, beside its engine's fault keys.
COMMON_CUE_KEYS: tuple[str, ...] = ("get_into_position", "in_position", "rep_counted", "relax")
HOLD_CUE_KEYS: tuple[str, ...] = ("hold_start", "hold_countdown", "hold_done")
BREATH_CUE_KEYS: tuple[str, ...] = ("breathe_in", "breathe_out")
# What the coach says when nothing has counted for a while (``SessionConfig.stall_hint_s``):
# what it sees and what to change. ``stall_<state>`` fits when the engine sees that
# pose state; otherwise whether the person is in the start position picks the text.
STALL_CUE_KEYS: tuple[str, ...] = (
    *(f"stall_{state.value}" for state in PoseState),
    "stall_in_position",
    "stall_out_of_position",
)
# Cue keys an exercise may give but need not. The stall texts are optional so that
# routines written before them (and the copies kept with old session records) still load.
OPTIONAL_CUE_KEYS: tuple[str, ...] = ("intro_done", "set_done", "last_rep", *STALL_CUE_KEYS)

SESSION_CUE_KEYS: tuple[str, ...] = (
    "welcome",
    "safety_stop",
    "setup_move_back",
    "setup_turn_sideways",
    "setup_come_into_view",
    "setup_ok",
    "pose_lost",
    "rest",
    "paused",
    "resumed",
    "skipped",
    "stopped",
    "done",
    "pain_worse",
)
# What the coach says when a progression rule changed a dose: ``progress_<up|down>_<field>``.
PROGRESS_CUE_KEYS: tuple[str, ...] = tuple(
    f"progress_{way}_{name}" for way in ("up", "down") for name in ("hold_s", "reps", "sets")
)
# Words of the screen itself (the overlay's banners and key help), in the patient's language.
SCREEN_TEXT_KEYS: tuple[str, ...] = (
    "screen_paused",
    "screen_lost",
    "screen_keys",
    "screen_body_help",
    "screen_paused_help",
    "screen_control_pause",
    "screen_control_resume",
    "screen_control_skip",
    "screen_setup_title",
    "screen_setup",
    "screen_progress",
    "screen_set",
    "screen_finished",
    "screen_degrees",
    "screen_not_seen",
)
OPTIONAL_SESSION_CUE_KEYS: tuple[str, ...] = (
    *PROGRESS_CUE_KEYS,
    *SCREEN_TEXT_KEYS,
    "safety_stop_urgent",
    "pain_not_improving",
    "next",
    "stall_move_on",
    "controls",
)

# Placeholders cue texts may use; the coach fills them with str.format.
PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "remaining",
        "count",
        "target",
        "seconds",
        "title",
        "set",
        "sets",
        "index",
        "total",
        "before",
        "after",
        "name",
        "value",
    }
)

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# Limits that keep a damaged or hostile file from hanging the coach (rich wraps
# long words in quadratic time) while leaving room for any real prescription.
ROUTINE_MAX_BYTES = 256 * 1024
TITLE_MAX_CHARS = 120
TEXT_MAX_CHARS = 2000
NESTING_MAX = 16  # tables and lists inside each other; a routine needs 4
_KEY_SHOWN_CHARS = 40
_TOP_KEYS: tuple[str, ...] = (
    "extends",
    "patient",
    "language",
    "name",
    "title",
    "notes",
    "cues",
    "session_cues",
    "camera",
    "classifier",
    "session",
    "exercises",
    "progression",
    "translations",
)
# What a routine's ``[translations.<language>]`` table may give in that language.
_TRANSLATED_KEYS: tuple[str, ...] = ("title", "notes")
_EXERCISE_KEYS: tuple[str, ...] = ("kind", "title", "intro", "dose", "thresholds", "cues")


def is_routine_name(name: str) -> bool:
    """Whether ``name`` can name a routine (lower-case letters, digits, '-' and '_')."""
    return bool(_NAME_RE.fullmatch(name))


def required_cue_keys(kind: ExerciseKind) -> tuple[str, ...]:
    """Cue keys an exercise of ``kind`` must have a text for."""
    info = _exercise_info(kind)
    keys = list(COMMON_CUE_KEYS)
    if info.counting.held:
        keys += HOLD_CUE_KEYS
    if info.breath is not None:
        keys += BREATH_CUE_KEYS
    keys += [k for k in (*info.cue_keys, *info.fault_keys) if k not in keys]
    return tuple(keys)


def _exercise_info(kind: str) -> ExerciseInfo:
    from coach.core.exercises import exercise

    return exercise(kind)


def _registry() -> Mapping[ExerciseKind, ExerciseInfo]:
    from coach.core.exercises import EXERCISES

    return EXERCISES


class _Problems:
    """Collects every problem of one file, so the author sees them all at once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}" if path else message)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        if len(self.items) == 1:
            raise RoutineError(f"{self.source}: {self.items[0]}")
        lines = "\n".join(f"  - {item}" for item in self.items)
        raise RoutineError(f"{self.source}: {len(self.items)} problems:\n{lines}")


def _short_key(key: str) -> str:
    shown = key if key.isprintable() else repr(key)[1:-1]
    return shown if len(shown) <= _KEY_SHOWN_CHARS else shown[: _KEY_SHOWN_CHARS - 3] + "..."


def _join(path: str, key: str) -> str:
    key = _short_key(key)
    return f"{path}.{key}" if path else key


def _suggest(key: str, known: typing.Iterable[str]) -> str:
    names = sorted(known)
    close = (
        difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        if len(key) <= _KEY_SHOWN_CHARS
        else []
    )
    if close:
        return f"did you mean '{close[0]}'?"
    return f"known keys: {', '.join(names)}"


def _unknown_key(problems: _Problems, path: str, key: str, known: typing.Iterable[str]) -> None:
    problems.add(_join(path, key), f"unknown key '{_short_key(key)}'; {_suggest(key, known)}")


def _show(value: object) -> str:
    text = str(value).lower() if isinstance(value, bool) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(hint: object) -> str:
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return "table"
        if issubclass(hint, enum.Enum):
            return "one of " + ", ".join(repr(m.value) for m in hint)
        return {"float": "number", "int": "whole number", "str": "text", "bool": "true/false"}.get(
            hint.__name__, hint.__name__
        )
    return str(hint)


def _range_text(meta: Mapping[str, Any]) -> str:
    lo, hi, unit = meta.get("min"), meta.get("max"), meta.get("unit", "")
    unit_text = f" {unit}" if unit and unit != "count" else ""
    if lo is not None and hi is not None:
        return f"{lo}..{hi}{unit_text}"
    if lo is not None:
        return f"{lo} or more{unit_text}"
    return f"{hi} or less{unit_text}"


_MISSING = object()


def _convert(value: object, hint: object, path: str, problems: _Problems) -> object:
    """``value`` as the type ``hint`` asks for, or ``_MISSING`` after noting the problem."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return _convert(value, args[0], path, problems)
        for arg in args:
            trial = _Problems(problems.source)
            out = _convert(value, arg, path, trial)
            if not trial.items:
                return out
        problems.add(path, f"{_show(value)} has the wrong type; expected {hint}")
        return _MISSING
    if origin is tuple:
        item_hints = typing.get_args(hint)
        if not isinstance(value, list):
            problems.add(path, f"{_show(value)} has the wrong type; expected a list")
            return _MISSING
        item_hint = item_hints[0] if item_hints else object
        items = [_convert(v, item_hint, f"{path}[{i}]", problems) for i, v in enumerate(value)]
        return _MISSING if any(i is _MISSING for i in items) else tuple(items)
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        if value in allowed:
            return value
        problems.add(path, f"{_show(value)} is not allowed; expected one of {allowed}")
        return _MISSING
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build_config(hint, value, path, problems)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            problems.add(path, f"{_show(value)} is not allowed; expected {_type_name(hint)}")
            return _MISSING
    ok = False
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and not math.isfinite(value):  # type: ignore[arg-type]
            problems.add(path, f"{_show(value)} is not a number; give a finite number")
            return _MISSING
        if ok:
            value = float(value)  # type: ignore[arg-type]
    elif hint is str:
        ok = isinstance(value, str)
    elif isinstance(hint, type):
        ok = isinstance(value, hint)
    else:
        ok = True
    if not ok:
        problems.add(path, f"{_show(value)} has the wrong type; expected {_type_name(hint)}")
        return _MISSING
    return value


def _default(f: dataclasses.Field[Any]) -> object:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _build_config(cls: type, table: object, path: str, problems: _Problems) -> Any:
    """An instance of the config dataclass ``cls`` from a TOML table, checked field by field.

    Unknown keys, wrong types and values outside a field's ``metadata``
    ``min``/``max`` are noted in ``problems``; missing keys take the default.
    A ``ValueError`` from the class itself (cross-field checks in
    ``__post_init__`` or ``validate()``) is noted too. Returns ``_MISSING``
    when the instance could not be built.
    """
    if not isinstance(table, dict):
        problems.add(path, f"{_show(table)} should be a table of settings")
        return _MISSING
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, object] = {}
    before = len(problems.items)
    for key, raw in table.items():
        key_path = _join(path, key)
        if key not in fields:
            _unknown_key(problems, path, key, fields)
            continue
        value = _convert(raw, hints[key], key_path, problems)
        if value is _MISSING:
            continue
        meta = fields[key].metadata
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            lo, hi = meta.get("min"), meta.get("max")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                help_text = f" ({meta['help']})" if meta.get("help") else ""
                problems.add(
                    key_path,
                    f"{_show(raw)} is outside the allowed range {_range_text(meta)}{help_text}",
                )
                continue
        kwargs[key] = value
    if len(problems.items) > before:
        return _MISSING
    try:
        instance = cls(**kwargs)
        validate = getattr(instance, "validate", None)
        if callable(validate):
            validate()
    except (ValueError, TypeError) as exc:
        # Name the values involved, so a cross-field rule reads as a concrete fix.
        named = [
            f"{name} = {_show(kwargs.get(name, _default(f)))}"
            for name, f in fields.items()
            if re.search(rf"\b{re.escape(name)}\b", str(exc))
        ]
        values = f"; here {', '.join(named)}" if named else ""
        problems.add(path or cls.__name__, f"{exc}{values} (in {cls.__name__})")
        return _MISSING
    return instance


def _text(
    table: Mapping[str, object], key: str, path: str, problems: _Problems, *, required: bool
) -> str:
    value = table.get(key)
    if value is None:
        if required:
            problems.add(_join(path, key), "is missing; add a text")
        return ""
    if not isinstance(value, str):
        problems.add(_join(path, key), f"{_show(value)} has the wrong type; expected text")
        return ""
    if required and not value.strip():
        problems.add(_join(path, key), "is empty; add a text")
    limit = TITLE_MAX_CHARS if key in ("title", "name") else TEXT_MAX_CHARS
    if not _length_ok(value, limit, _join(path, key), problems):
        return ""
    return value.strip()


def _length_ok(text: str, limit: int, path: str, problems: _Problems) -> bool:
    if len(text) <= limit:
        return True
    problems.add(path, f"is {len(text)} characters long; at most {limit} are allowed")
    return False


def _check_placeholders(text: str, path: str, problems: _Problems) -> None:
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(text)
            if name is not None
        ]
    except ValueError as exc:
        problems.add(
            path, f"{_show(text)} has a broken {{placeholder}}: {exc}; use {{{{ for a brace"
        )
        return
    for name, spec, conversion in fields:
        if spec or conversion:
            written = "{" + name + ("!" + conversion if conversion else "")
            written += (":" + spec if spec else "") + "}"
            problems.add(
                path,
                f"{_show(written)} in {_show(text)}: write the placeholder plain, as "
                f"{{{name}}}, with no format or conversion after its name",
            )
            continue
        if name not in PLACEHOLDERS:
            problems.add(
                path,
                f"unknown placeholder {{{name}}} in {_show(text)}; "
                f"{_suggest(name, PLACEHOLDERS).replace('known keys', 'known placeholders')}",
            )


def _cue_texts(
    table: object,
    path: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    problems: _Problems,
    defaults: Mapping[str, str],
) -> Mapping[str, str]:
    """The catalogue's texts with the routine's own on top; every required key must end up set."""
    if not isinstance(table, dict):
        problems.add(path, f"{_show(table)} should be a table of cue texts")
        return types.MappingProxyType({})
    known = (*required, *optional)
    texts: dict[str, str] = {k: v for k, v in defaults.items() if k in known}
    for key, value in table.items():
        key_path = _join(path, key)
        if key not in known:
            _unknown_key(problems, path, key, known)
            continue
        if not isinstance(value, str) or not value.strip():
            problems.add(key_path, f"{_show(value)} should be a non-empty text")
            continue
        if not _length_ok(value, TEXT_MAX_CHARS, key_path, problems):
            continue
        _check_placeholders(value, key_path, problems)
        texts[key] = value.strip()
    missing = [key for key in required if key not in texts]
    if len(missing) == 1:
        problems.add(_join(path, missing[0]), "is missing; every cue needs a text")
    elif missing:
        problems.add(path, f"texts are missing for {', '.join(missing)}; every cue needs a text")
    return types.MappingProxyType(texts)


def _classifier_type() -> type:
    from coach.core.classify import ClassifierConfig

    config_type: type = ClassifierConfig
    return config_type


def _fixed_reps(table: Mapping[str, object]) -> dict[str, object]:
    """A dose table where ``reps`` alone means a fixed count (``reps_max`` the same)."""
    table = dict(table)
    if "reps" in table and "reps_max" not in table:
        table["reps_max"] = table["reps"]
    return table


def _dose(kind: ExerciseKind, table: object, path: str, problems: _Problems) -> Dose | None:
    if not isinstance(table, dict):
        problems.add(
            path, f"{_show(table)} should be a table (hold_s, reps, reps_max, sets, rest_s)"
        )
        return None
    info = _exercise_info(kind)
    given = _fixed_reps(table)
    held = info.counting.held
    if held and "hold_s" not in given and "hold_s" not in info.dose:
        problems.add(
            _join(path, "hold_s"), "is missing; this exercise is held, give seconds per hold"
        )
    if not held and "hold_s" in given:
        problems.add(
            _join(path, "hold_s"),
            f"{_show(table['hold_s'])} is not allowed: {kind.value} is counted in "
            f"{_exercise_info(kind).unit}, "
            "not held; remove hold_s",
        )
        return None
    dose = _build_config(Dose, {**_fixed_reps(info.dose), **given}, path, problems)
    return None if dose is _MISSING else dose


def _exercise(
    table: object,
    path: str,
    problems: _Problems,
    language: str,
) -> ExerciseSpec | None:
    if not isinstance(table, dict):
        problems.add(path, f"{_show(table)} should be a table ([[exercises]])")
        return None
    for key in table:
        if key not in _EXERCISE_KEYS:
            _unknown_key(problems, path, key, _EXERCISE_KEYS)
    raw_kind = table.get("kind")
    kinds = [k.value for k in _registry()]
    if raw_kind is None:
        problems.add(_join(path, "kind"), f"is missing; use one of {', '.join(kinds)}")
        return None
    if raw_kind not in kinds:
        close = difflib.get_close_matches(str(raw_kind), kinds, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.add(
            _join(path, "kind"),
            f"unknown exercise {_show(raw_kind)}; {hint}use one of {', '.join(kinds)}",
        )
        return None
    kind = ExerciseKind(raw_kind)
    texts = catalog.exercise_texts(kind, language)
    title = _text(table, "title", path, problems, required=False)
    title = title or texts.title or _exercise_info(kind).title
    intro = _text(table, "intro", path, problems, required=False) or texts.intro
    if not intro:
        problems.add(_join(path, "intro"), "is missing; add a text")
    dose = _dose(kind, table.get("dose", {}), _join(path, "dose"), problems)
    thresholds = _build_config(
        _exercise_info(kind).config_type,
        table.get("thresholds", {}),
        _join(path, "thresholds"),
        problems,
    )
    required = required_cue_keys(kind)
    cues = _cue_texts(
        table.get("cues", {}),
        _join(path, "cues"),
        required,
        OPTIONAL_CUE_KEYS,
        problems,
        texts.cues,
    )
    if dose is None or thresholds is _MISSING:
        return None
    return ExerciseSpec(
        kind=kind, title=title, intro=intro, dose=dose, thresholds=thresholds, cues=cues
    )


Resolver = typing.Callable[[str], tuple[str, str]]
"""Finds a routine by name for ``extends``: its TOML text and its source."""

_MAX_EXTENDS = 8


def _toml(text: str, source: str) -> dict[str, Any]:
    """The TOML data of a routine's text, refused when too long or nested too deep."""
    text = text.removeprefix("\ufeff")
    if len(text) > ROUTINE_MAX_BYTES:
        raise RoutineError(
            f"{source}: {len(text)} characters is too long for a routine "
            f"(at most {ROUTINE_MAX_BYTES}); the file is damaged or not a routine."
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RoutineError(
            f"{source}: not valid TOML: {exc}. Check the quotes, brackets and '=' on that line."
        ) from exc
    except RecursionError as exc:
        raise _too_deep(source) from exc
    if _depth(data) > NESTING_MAX:
        raise _too_deep(source)
    return data


def _too_deep(source: str) -> RoutineError:
    return RoutineError(
        f"{source}: tables or lists are nested more than {NESTING_MAX} deep; "
        "a routine needs no more than 4. The file is damaged or not a routine."
    )


def _depth(value: object) -> int:
    """How deep tables and lists nest in ``value``, without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        )
        if children is None:
            continue
        deepest = max(deepest, level)
        if level > NESTING_MAX:
            return level
        stack.extend((child, level + 1) for child in children)
    return deepest


def _own_paths(data: Mapping[str, Any]) -> frozenset[str]:
    """Where a routine file sets values itself (see ``Routine.own``)."""
    paths: set[str] = set()
    for key, value in data.items():
        if key == "exercises" and isinstance(value, list):
            for entry in value:
                if not isinstance(entry, dict):
                    continue
                kind = str(entry.get("kind", "?"))
                paths.add(kind)
                for part in ("dose", "thresholds", "cues"):
                    table = entry.get(part)
                    if isinstance(table, dict):
                        paths |= {f"{kind}.{part}.{k}" for k in table}
                paths |= {f"{kind}.{k}" for k in ("title", "intro") if k in entry}
        elif isinstance(value, dict):
            paths |= {f"{key}.{k}" for k in value}
        else:
            paths.add(key)
    return frozenset(paths)


def _merge_tables(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        below = out.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            out[key] = _merge_tables(below, value)
        else:
            out[key] = value
    return out


def _drop_stale_translations(merged: dict[str, Any], top: Mapping[str, Any]) -> None:
    """Forget the base's translation of a title or notes that ``top`` writes anew.

    A routine that changes its title without translating it shows the new
    title in every language, not the translation of the old one.
    """
    translations = merged.get("translations")
    if not isinstance(translations, dict):
        return
    own = top.get("translations")
    own = own if isinstance(own, dict) else {}
    kept: dict[str, Any] = {}
    for language, table in translations.items():
        if isinstance(table, dict):
            mine = own.get(language)
            mine = mine if isinstance(mine, dict) else {}
            table = {k: v for k, v in table.items() if k not in top or k in mine}
        kept[language] = table
    merged["translations"] = kept


def _translated(data: Mapping[str, Any], language: str, problems: _Problems) -> dict[str, str]:
    """The routine's own title and notes in ``language``, from ``[translations]``."""
    table = data.get("translations", {})
    if not isinstance(table, dict):
        problems.add("translations", "must be a table of languages, e.g. [translations.es]")
        return {}
    found: dict[str, str] = {}
    for lang, texts in table.items():
        where = f"translations.{lang}"
        try:
            catalog.check_language(lang)
        except RoutineError as exc:
            problems.add(where, str(exc))
            continue
        if not isinstance(texts, dict):
            problems.add(where, 'must be a table, e.g. title = "..."')
            continue
        for key in texts:
            if key not in _TRANSLATED_KEYS:
                _unknown_key(problems, where, key, _TRANSLATED_KEYS)
        given = {
            key: _text(texts, key, where, problems, required=False)
            for key in _TRANSLATED_KEYS
            if key in texts
        }
        if lang == language:
            found = {key: text for key, text in given.items() if text}
    return found


def _merge_exercises(base: list[Any], top: list[Any]) -> list[Any]:
    """The routine's exercises, each on top of the base routine's entry of the same kind."""
    unused = [entry for entry in base if isinstance(entry, dict)]
    merged: list[Any] = []
    for entry in top:
        if not isinstance(entry, dict):
            merged.append(entry)
            continue
        match = next((b for b in unused if b.get("kind") == entry.get("kind")), None)
        if match is None:
            merged.append(entry)
            continue
        unused.remove(match)
        entry = dict(entry)
        if isinstance(entry.get("dose"), dict):
            entry["dose"] = _fixed_reps(entry["dose"])
        merged.append(_merge_tables(match, entry))
    return merged


def _extended(
    data: dict[str, Any], source: str, resolve: Resolver | None, seen: tuple[str, ...]
) -> dict[str, Any]:
    """``data`` on top of the routine it extends (and that one on top of its own base)."""
    base_name = data.get("extends")
    if base_name is None:
        return data
    if not isinstance(base_name, str) or not is_routine_name(base_name):
        raise RoutineError(
            f"{source}: extends: {_show(base_name)} is not a routine name; "
            'give the name of a routine, e.g. extends = "back-spasm-relief"'
        )
    if base_name in seen or len(seen) >= _MAX_EXTENDS:
        chain = " -> ".join((*seen, base_name))
        raise RoutineError(f"{source}: extends: routines extend each other in a circle ({chain})")
    if resolve is None:
        raise RoutineError(
            f"{source}: extends: {base_name!r} cannot be looked up here; "
            "open the routine with coach routine show, or write it out in full"
        )
    try:
        base_text, base_source = resolve(base_name)
    except RoutineError as exc:
        raise RoutineError(f"{source}: extends: {exc}") from exc
    base = _extended(_toml(base_text, base_source), base_source, resolve, (*seen, base_name))
    merged = _merge_tables({k: v for k, v in base.items() if k != "exercises"}, data)
    _drop_stale_translations(merged, data)
    if isinstance(data.get("exercises"), list) and isinstance(base.get("exercises"), list):
        merged["exercises"] = _merge_exercises(base["exercises"], data["exercises"])
    elif "exercises" not in data and "exercises" in base:
        merged["exercises"] = base["exercises"]
    merged.pop("extends", None)
    return merged


def _name(
    table: Mapping[str, object], key: str, example: str, problems: _Problems, *, required: bool
) -> str:
    """A routine's or a patient's name: lower-case letters, digits, '-' and '_'."""
    value = _text(table, key, "", problems, required=required)
    if value and not is_routine_name(value):
        problems.add(
            key,
            f"{_show(value)} is not allowed; use lower-case letters, digits and '-' "
            f"(e.g. '{example}')",
        )
    return value


def parse_routine(
    text: str, source: str, *, resolve: Resolver | None = None, language: str | None = None
) -> Routine:
    """A validated routine from TOML text.

    Keys left out take the coach's defaults: texts from the catalogue of the
    routine's language, doses and thresholds from the exercises. A routine
    that ``extends`` another takes that one's values first.

    Args:
        text: The TOML text.
        source: Where it came from (a path, or "<bundled>/name"), named in errors.
        resolve: Finds the routine named by ``extends``.
        language: The language of the texts, instead of the routine's own.

    Raises:
        RoutineError: Naming ``source``, each bad key's path, its value and the allowed range.
    """
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some editors save UTF-8
    own_data = _toml(text, source)
    try:
        return _routine_from(own_data, text, source, resolve, language)
    except RecursionError as exc:  # a guard: the depth check should prevent it
        raise _too_deep(source) from exc


def _routine_from(
    own_data: dict[str, Any],
    text: str,
    source: str,
    resolve: Resolver | None,
    language: str | None,
) -> Routine:
    problems = _Problems(source)
    for key in own_data:
        if key not in _TOP_KEYS:
            _unknown_key(problems, "", key, _TOP_KEYS)
    if "extends" in own_data and "name" not in own_data:
        problems.add("name", "is missing; a routine that extends another needs its own name")
    extends = own_data.get("extends")
    name_seen = (own_data["name"],) if isinstance(own_data.get("name"), str) else ()
    data = _extended(own_data, source, resolve, name_seen)
    classifier_type = _classifier_type()

    name = _name(data, "name", "my-routine", problems, required=True)
    title = _text(data, "title", "", problems, required=True)
    notes = _text(data, "notes", "", problems, required=False)
    patient = _name(data, "patient", "anna-k", problems, required=False)
    language = language or _text(data, "language", "", problems, required=False) or DEFAULT_LANGUAGE
    try:
        catalog.check_language(language)
    except RoutineError as exc:
        problems.add("language", str(exc))
        language = DEFAULT_LANGUAGE
    translated = _translated(data, language, problems)
    title, notes = translated.get("title", title), translated.get("notes", notes)
    cue_settings = _build_config(CueSettings, data.get("cues", {}), "cues", problems)
    # Imported here: the body features need numpy, which reading a routine does not.
    from coach.core.features import FeatureConfig

    camera = _build_config(FeatureConfig, data.get("camera", {}), "camera", problems)
    session = _build_config(SessionConfig, data.get("session", {}), "session", problems)
    classifier = _build_config(classifier_type, data.get("classifier", {}), "classifier", problems)
    session_cues = _cue_texts(
        data.get("session_cues", {}),
        "session_cues",
        SESSION_CUE_KEYS,
        OPTIONAL_SESSION_CUE_KEYS,
        problems,
        catalog.session_texts(language),
    )
    raw_exercises = data.get("exercises")
    exercises: list[ExerciseSpec] = []
    if not isinstance(raw_exercises, list) or not raw_exercises:
        problems.add("exercises", "is missing; add at least one [[exercises]] table")
    else:
        for i, table in enumerate(raw_exercises):
            spec = _exercise(table, f"exercises[{i}]", problems, language)
            if spec is not None:
                exercises.append(spec)
    progression = _progression(data.get("progression", []), exercises, problems)
    problems.raise_if_any()
    return Routine(
        name=name,
        title=title,
        notes=notes,
        exercises=tuple(exercises),
        cues=cue_settings,
        session_cues=session_cues,
        classifier=classifier,
        camera=camera,
        session=session,
        source=source,
        text=text,
        extends=extends if isinstance(extends, str) else None,
        own=_own_paths(own_data),
        patient=patient,
        language=language,
        progression=progression,
    )


def _progression(
    raw: object, exercises: list[ExerciseSpec], problems: _Problems
) -> tuple[ProgressionRule, ...]:
    """The progression rules, each checked against the routine's exercises and the dose ranges."""
    if not isinstance(raw, list):
        problems.add("progression", f"{_show(raw)} should be a list of [[progression]] tables")
        return ()
    ranges = {f.name: f.metadata for f in dataclasses.fields(Dose)}
    rules: list[ProgressionRule] = []
    for i, table in enumerate(raw):
        path = f"progression[{i}]"
        rule = _build_config(ProgressionRule, table, path, problems)
        if rule is _MISSING:
            continue
        spec = next((s for s in exercises if s.kind == rule.exercise), None)
        if spec is None:
            kinds = ", ".join(s.kind.value for s in exercises) or "none"
            problems.add(
                _join(path, "exercise"),
                f"{_show(rule.exercise)} is not an exercise of this routine; use one of {kinds}",
            )
            continue
        if getattr(spec.dose, rule.dose) is None:
            problems.add(
                _join(path, "dose"),
                f"{_show(rule.dose)}: {rule.exercise} is not held; use reps or sets",
            )
            continue
        meta = ranges[rule.dose]
        for key, value in (("up_to", rule.up_to), ("down_to", rule.down_to)):
            if key == "down_to" and not value:
                continue
            if not meta["min"] <= value <= meta["max"]:
                problems.add(
                    _join(path, key),
                    f"{_show(value)} is outside the safe range of {rule.dose}, {_range_text(meta)}",
                )
                break
        else:
            rules.append(rule)
    return tuple(rules)


def _config_table(config: object) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for f in dataclasses.fields(config):  # type: ignore[arg-type]
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            table[f.name] = _config_table(value)
        elif isinstance(value, enum.Enum):
            table[f.name] = value.value
        elif isinstance(value, tuple):
            table[f.name] = list(value)
        else:
            table[f.name] = value
    return table


def resolved_toml(routine: Routine) -> str:
    """The routine written out in full: every text, dose and threshold, nothing inherited.

    It reads back to the same routine whatever the coach's defaults are by
    then, so a session record stays readable as it was prescribed.
    """
    from coach.core.toml_text import dumps

    data: dict[str, Any] = {
        "name": routine.name,
        "title": routine.title,
        "notes": routine.notes,
        "patient": routine.patient or None,
        "language": routine.language,
        "cues": _config_table(routine.cues),
        "session_cues": dict(routine.session_cues),
        "session": _config_table(routine.session),
        "camera": _config_table(routine.camera),
        "classifier": _config_table(routine.classifier),
        "exercises": [
            {
                "kind": spec.kind.value,
                "title": spec.title,
                "intro": spec.intro,
                "dose": {k: v for k, v in dataclasses.asdict(spec.dose).items() if v is not None},
                "thresholds": _config_table(spec.thresholds),
                "cues": dict(spec.cues),
            }
            for spec in routine.exercises
        ],
        "progression": [_config_table(rule) for rule in routine.progression] or None,
    }
    header = f"# {routine.title}: the routine as prescribed, written out in full.\n"
    if routine.extends:
        header += f"# Written from {routine.source}, which extends {routine.extends}.\n"
    return header + "\n" + dumps(data)


def load_routine(
    path: Path, *, resolve: Resolver | None = None, language: str | None = None
) -> Routine:
    """A validated routine from a TOML file (``resolve`` finds the routine it extends).

    Raises:
        RoutineError: The file cannot be read or is not a valid routine.
    """
    return parse_routine(read_routine_text(path), str(path), resolve=resolve, language=language)


def read_routine_text(path: Path) -> str:
    """The text of a routine file, checked to be a readable UTF-8 file of a routine's size.

    Raises:
        RoutineError: Naming the file and what is wrong with it.
    """
    return read_input_text(
        Path(path), "routine file", error=RoutineError, max_bytes=ROUTINE_MAX_BYTES
    )


def describe_dose(spec: ExerciseSpec, language: str = DEFAULT_LANGUAGE) -> str:
    """The dose in plain words of ``language``, e.g. "Hold 15 seconds, 5 to 10 times"."""
    words = catalog.word_texts(language)
    dose = spec.dose
    count = (
        str(dose.reps)
        if dose.reps == dose.reps_max
        else words["dose_range"].format(low=dose.reps, high=dose.reps_max)
    )
    if dose.hold_s is None:
        texts = catalog.exercise_texts(spec.kind, language)
        one = texts.dose_one or _exercise_info(spec.kind).dose_word
        unit = one if dose.reps_max == 1 else (texts.dose_many or f"{one}s")
        parts = [words["dose_count"].format(count=count, unit=unit)]
    else:
        times = (
            words["dose_once"] if dose.reps_max == 1 else words["dose_times"].format(count=count)
        )
        parts = [words["dose_hold"].format(seconds=f"{dose.hold_s:g}", times=times)]
    if dose.sets > 1:
        parts.append(words["dose_sets"].format(sets=dose.sets))
    if dose.rest_s > 0:
        after = "dose_rest_after_set" if dose.sets > 1 else "dose_rest_after"
        parts.append(words[after].format(seconds=f"{dose.rest_s:g}"))
    text = ", ".join(parts)
    return text[0].upper() + text[1:]


@dataclass(frozen=True)
class Setting:
    """One field of a config dataclass, for printing: value, default and allowed range."""

    name: str
    value: object
    default: object
    low: object
    high: object
    unit: str
    help: str

    @property
    def changed(self) -> bool:
        """The routine sets a value other than the default."""
        return bool(self.value != self.default)


def settings_of(config: object, prefix: str = "") -> tuple[Setting, ...]:
    """Every field of a config dataclass (nested ones flattened as ``outer.inner``)."""
    rows: list[Setting] = []
    defaults = type(config)()  # config dataclasses give every field a default
    for f in dataclasses.fields(config):  # type: ignore[arg-type]
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            rows += settings_of(value, f"{prefix}{f.name}.")
            continue
        meta = f.metadata
        rows.append(
            Setting(
                name=f"{prefix}{f.name}",
                value=value,
                default=getattr(defaults, f.name),
                low=meta.get("min"),
                high=meta.get("max"),
                unit=str(meta.get("unit", "")),
                help=str(meta.get("help", "")),
            )
        )
    return tuple(rows)
