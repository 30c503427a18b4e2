"""Routines: the bundled one loads; malformed ones are refused with file, key, value and range."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import coach.core.routine as routine_module
from coach.adapters.routine_store import (
    bundled_routines,
    find_routine,
    open_routine,
    user_routine_dir,
)
from coach.core.catalog import exercise_texts, session_texts
from coach.core.classify import ClassifierConfig
from coach.core.exercises import ALL_FAULT_KEYS, CONFIG_TYPES
from coach.core.features import FeatureConfig
from coach.core.routine import (
    SESSION_CUE_KEYS,
    STALL_CUE_KEYS,
    Dose,
    SessionConfig,
    describe_dose,
    load_routine,
    parse_routine,
    required_cue_keys,
    resolved_toml,
    settings_of,
)
from coach.core.states import ExerciseKind
from coach.errors import RoutineError

BUNDLED = Path(__file__).resolve().parents[1] / "coach" / "routines" / "back-spasm-relief.toml"
BUNDLED_TEXT = BUNDLED.read_text(encoding="utf-8")
# The bundled routine written out in full: every text, dose and threshold.
TEXT = resolved_toml(open_routine("back-spasm-relief"))
KINDS = [ExerciseKind.CHILDS_POSE, ExerciseKind.CAT_COW, ExerciseKind.HIP_LIFT]


# --------------------------------------------------------------- editing TOML text
def _section(lines: list[str], header: str, index: int) -> tuple[int, int]:
    """Line range (header line, end) of the index-th ``[header]`` section."""
    starts = [i for i, line in enumerate(lines) if line.strip() == f"[{header}]"]
    start = starts[index]
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")),
        len(lines),
    )
    return start, end


def set_key(text: str, header: str, index: int, key: str, value: str) -> str:
    """``text`` with ``key = value`` set in the index-th ``[header]`` section."""
    lines = text.splitlines()
    start, end = _section(lines, header, index)
    for i in range(start + 1, end):
        if re.match(rf"^{re.escape(key)}\s*=", lines[i]):
            lines[i] = f"{key} = {value}"
            return "\n".join(lines) + "\n"
    lines.insert(start + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


def drop_key(text: str, header: str, index: int, key: str) -> str:
    """``text`` without ``key`` in the index-th ``[header]`` section."""
    lines = text.splitlines()
    start, end = _section(lines, header, index)
    kept = [
        line
        for i, line in enumerate(lines)
        if not (start < i < end and re.match(rf"^{re.escape(key)}\s*=", line))
    ]
    assert len(kept) == len(lines) - 1, f"{key} not found in [{header}] #{index}"
    return "\n".join(kept) + "\n"


def ranged_field(cls: type) -> dataclasses.Field[object]:
    """The first numeric field of a config dataclass that declares a max."""
    for f in dataclasses.fields(cls):
        if "max" in f.metadata and isinstance(f.default, (int, float)):
            return f
    raise AssertionError(f"{cls.__name__} declares no ranged field")


def exercise_with_faults() -> tuple[int, str]:
    """Index of the first bundled exercise whose engine has a fault key, and that key."""
    for i, kind in enumerate(KINDS):
        if ALL_FAULT_KEYS[kind]:
            return i, ALL_FAULT_KEYS[kind][0]
    raise AssertionError("no engine has fault keys")


HIP = ranged_field(CONFIG_TYPES[ExerciseKind.HIP_LIFT])
HIP_TOO_HIGH = float(HIP.metadata["max"]) * 10 + 1
FAULT_AT, FAULT_KEY = exercise_with_faults()

# name -> (edit of the bundled text, substrings the error must contain)
MALFORMED: dict[str, tuple[Callable[[str], str], list[str]]] = {
    "syntax error": (
        lambda t: t.replace("reps = 3\n", "reps = = 3\n", 1),
        ["not valid TOML", "line"],
    ),
    "unknown key typo": (
        lambda t: set_key(t, "exercises.dose", 0, "hold_sec", "30"),
        ["exercises[0].dose.hold_sec", "did you mean 'hold_s'"],
    ),
    "hold of ten minutes": (
        lambda t: set_key(t, "exercises.dose", 0, "hold_s", "600"),
        ["exercises[0].dose.hold_s", "600", "5.0..120.0 s"],
    ),
    "500 repetitions": (
        lambda t: set_key(
            set_key(t, "exercises.dose", 2, "reps", "500"), "exercises.dose", 2, "reps_max", "500"
        ),
        ["exercises[2].dose.reps", "500", "1..30"],
    ),
    "reps above reps_max": (
        lambda t: set_key(t, "exercises.dose", 1, "reps", "12"),
        ["exercises[1].dose", "12", "reps_max (10)"],
    ),
    "threshold outside range": (
        lambda t: set_key(t, "exercises.thresholds", 2, HIP.name, str(HIP_TOO_HIGH)),
        [
            f"exercises[2].thresholds.{HIP.name}",
            str(HIP_TOO_HIGH),
            f"{HIP.metadata['min']}..{HIP.metadata['max']}",
        ],
    ),
    "threshold typo": (
        lambda t: set_key(t, "exercises.thresholds", 2, HIP.name + "x", "1"),
        [f"exercises[2].thresholds.{HIP.name}x", f"did you mean '{HIP.name}'"],
    ),
    "hysteresis pair in the wrong order": (
        lambda t: set_key(t, "exercises.thresholds", 1, "min_cycle_s", "3.0"),
        ["exercises[1].thresholds", "slow_cycle_s", "min_cycle_s"],
    ),
    "wrong type": (
        lambda t: set_key(t, "exercises.dose", 0, "hold_s", '"thirty"'),
        ["exercises[0].dose.hold_s", "'thirty'", "expected number"],
    ),
    "boolean is not a number": (
        lambda t: set_key(t, "exercises.dose", 0, "sets", "true"),
        ["exercises[0].dose.sets", "true", "whole number"],
    ),
    "unknown exercise kind": (
        lambda t: t.replace('kind = "cat_cow"', 'kind = "plank"'),
        ["exercises[1].kind", "'plank'", "cat_cow, childs_pose, hip_lift"],
    ),
    "cat-cow is not held": (
        lambda t: set_key(t, "exercises.dose", 1, "hold_s", "10"),
        ["exercises[1].dose.hold_s", "remove hold_s"],
    ),
    "unknown placeholder": (
        lambda t: set_key(t, "exercises.cues", 0, "hold_countdown", '"{remainig} to go."'),
        ["exercises[0].cues.hold_countdown", "{remainig}", "did you mean 'remaining'"],
    ),
    "unknown cue key": (
        lambda t: set_key(t, "exercises.cues", 0, "hold_strat", '"Hold."'),
        ["exercises[0].cues.hold_strat", "did you mean 'hold_start'"],
    ),
    "stall hint too soon": (
        lambda t: set_key(t, "session", 0, "stall_hint_s", "2"),
        ["session.stall_hint_s", "2", "5.0..120.0 s", "nothing counted this long: a hint"],
    ),
    "move-on out of range": (
        lambda t: set_key(t, "session", 0, "stall_move_on_s", "1000"),
        ["session.stall_move_on_s", "1000", "15.0..600.0 s"],
    ),
    "move-on before the hint": (
        lambda t: set_key(
            set_key(t, "session", 0, "stall_hint_s", "40"), "session", 0, "stall_move_on_s", "30"
        ),
        [
            "session",
            "stall_move_on_s must be more than stall_hint_s",
            "stall_hint_s = 40.0",
            "stall_move_on_s = 30.0",
        ],
    ),
    "unknown placeholder in a stall text": (
        lambda t: set_key(t, "exercises.cues", 2, "stall_in_position", '"Lift for {secnds} s."'),
        ["exercises[2].cues.stall_in_position", "{secnds}", "did you mean 'seconds'"],
    ),
    "stall text for a state that does not exist": (
        lambda t: set_key(t, "exercises.cues", 1, "stall_plank", '"Not a plank."'),
        ["exercises[1].cues.stall_plank", "unknown key"],
    ),
    "camera setting refused by its class": (
        lambda t: set_key(t, "camera", 0, "min_visibility", "2.0"),
        ["camera", "min_visibility", "2.0"],
    ),
    "unknown top-level key": (
        lambda t: "titel = 'x'\n" + t,
        ["titel", "did you mean 'title'"],
    ),
    "no exercises": (
        lambda t: t.split("[[exercises]]")[0],
        ["exercises", "add at least one"],
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_routine_is_refused_with_file_key_value_and_range(
    name: str, tmp_path: Path
) -> None:
    edit, expected = MALFORMED[name]
    path = tmp_path / "patient.toml"
    path.write_text(edit(TEXT), encoding="utf-8")
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    for part in expected:
        assert part in message, f"{name}: {part!r} not in {message!r}"


def test_every_problem_is_listed_at_once() -> None:
    text = set_key(TEXT, "exercises.dose", 0, "hold_s", "600")
    text = set_key(text, "exercises.dose", 2, "rest_s", "1000")
    with pytest.raises(RoutineError, match="2 problems") as info:
        parse_routine(text, "two.toml")
    assert "exercises[0].dose.hold_s" in str(info.value)
    assert "exercises[2].dose.rest_s" in str(info.value)


# ------------------------------------------------------------- the bundled routine
def test_bundled_routine_loads() -> None:
    routine = open_routine("back-spasm-relief")
    assert routine.name == "back-spasm-relief"
    assert routine.source == "<bundled>/back-spasm-relief"
    assert routine.text == BUNDLED_TEXT
    assert [spec.kind for spec in routine.exercises] == KINDS
    child, cat_cow, hip = routine.exercises
    assert (child.dose.hold_s, child.dose.reps, child.dose.reps_max) == (30.0, 3, 3)
    assert (cat_cow.dose.hold_s, cat_cow.dose.reps, cat_cow.dose.reps_max) == (None, 5, 10)
    assert (hip.dose.hold_s, hip.dose.reps, hip.dose.reps_max) == (15.0, 5, 10)
    assert cat_cow.cues["breathe_in"] == "Breathe in, arch your back and lift your head."
    assert cat_cow.cues["breathe_out"] == "Breathe out, round your back and tuck your chin."
    assert set(SESSION_CUE_KEYS) <= set(routine.session_cues)
    assert "urgently" in routine.session_cues["safety_stop"]
    assert "bladder" in routine.session_cues["safety_stop"]
    assert routine.session_cues["setup_move_back"] == (
        "Move the laptop further away so I can see all of you."
    )
    assert routine.session_cues["setup_turn_sideways"] == "Turn sideways to the camera."
    assert isinstance(routine.classifier, ClassifierConfig)
    assert isinstance(routine.camera, FeatureConfig)
    for spec in routine.exercises:
        assert isinstance(spec.thresholds, CONFIG_TYPES[spec.kind])
        assert set(required_cue_keys(spec.kind)) <= set(spec.cues)
        assert set(ALL_FAULT_KEYS[spec.kind]) <= set(spec.cues)


def _flat_keys(table: dict[str, object], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in table.items():
        keys |= _flat_keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return keys


def _flat_fields(cls: type, prefix: str = "") -> set[str]:
    names: set[str] = set()
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            names |= _flat_fields(hint, f"{prefix}{f.name}.")
        else:
            names.add(prefix + f.name)
    return names


def _differences(loaded: object, prefix: str) -> list[str]:
    return [
        f"{prefix}{row.name} = {row.value} but the default is {row.default}"
        for row in settings_of(loaded)
        if row.changed
    ]


def test_bundled_routine_lists_every_setting_at_its_default() -> None:
    """The routine written out in full shows every knob, at the clinical default."""
    raw = tomllib.loads(TEXT)
    routine = parse_routine(TEXT, "bundled")
    sections: list[tuple[str, dict[str, object], object, type]] = [
        ("classifier.", raw["classifier"], routine.classifier, ClassifierConfig),
        ("camera.", raw["camera"], routine.camera, FeatureConfig),
        ("session.", raw["session"], routine.session, SessionConfig),
    ]
    for i, (table, spec) in enumerate(zip(raw["exercises"], routine.exercises, strict=True)):
        sections.append(
            (
                f"exercises[{i}].thresholds.",
                table["thresholds"],
                spec.thresholds,
                CONFIG_TYPES[spec.kind],
            )
        )
    for prefix, table, loaded, cls in sections:
        assert _flat_keys(table) == _flat_fields(cls), f"{prefix} must list every field"
        assert loaded == cls(), _differences(loaded, prefix)


def test_session_pacing_comes_from_the_routine() -> None:
    text = TEXT.replace("breath_max_s = 5.0", "breath_max_s = 7.0")
    assert parse_routine(text, "slow.toml").session.breath_max_s == 7.0
    text = set_key(TEXT, "session", 0, "stall_hint_s", "30")
    text = set_key(text, "session", 0, "stall_move_on_s", "90")
    session = parse_routine(text, "patient.toml").session
    assert (session.stall_hint_s, session.stall_move_on_s) == (30.0, 90.0)
    with pytest.raises(RoutineError, match=r"session\.pain_worse_points.*outside the allowed"):
        parse_routine(TEXT.replace("pain_worse_points = 2", "pain_worse_points = 40"), "x.toml")


def test_the_bundled_routine_says_what_it_sees_when_nothing_counts() -> None:
    routine = open_routine("back-spasm-relief")
    assert (routine.session.stall_hint_s, routine.session.stall_move_on_s) == (20.0, 60.0)
    assert "move on" in routine.session_cues["stall_move_on"]
    for spec in routine.exercises:
        for key in ("stall_in_position", "stall_out_of_position"):
            assert "I can" in spec.cues[key], (spec.kind, key)
    _, cat_cow, hip = routine.exercises
    assert cat_cow.cues["stall_in_position"] == (
        "I can see you on all fours, but I can't see your back moving yet. "
        "Round your back up high, then let it sag slowly."
    )
    assert hip.cues["stall_out_of_position"] == (
        "I can't see you lying on your back with your knees bent yet. "
        "Lie on your back, knees bent, feet flat."
    )
    assert set(STALL_CUE_KEYS) >= {"stall_cat", "stall_cow", "stall_tabletop", "stall_other"}


def test_a_routine_without_stall_texts_still_loads() -> None:
    """Routines written before the stall texts, and the copies kept with old records."""
    text = "\n".join(line for line in TEXT.splitlines() if not line.startswith("stall_"))
    routine = parse_routine(text + "\n", "older.toml")
    assert routine.session == SessionConfig()
    # The texts left out come from the catalogue.
    assert routine.session_cues["stall_move_on"] == session_texts()["stall_move_on"]
    for spec in routine.exercises:
        stall = {k: v for k, v in exercise_texts(spec.kind).cues.items() if k.startswith("stall_")}
        assert stall and {k: spec.cues[k] for k in stall} == stall


# ------------------------------------------------------------- per-patient targets
def test_per_patient_overrides_load() -> None:
    smaller = (float(HIP.default) + float(HIP.metadata["min"])) / 2  # type: ignore[arg-type]
    text = set_key(TEXT, "exercises.thresholds", 2, HIP.name, repr(smaller))
    text = set_key(text, "exercises.dose", 0, "hold_s", "15")
    text = set_key(text, "exercises.dose", 2, "hold_s", "8")
    routine = parse_routine(text, "anna.toml")
    child, _, hip = routine.exercises
    assert child.dose.hold_s == 15.0
    assert hip.dose.hold_s == 8.0
    assert getattr(hip.thresholds, HIP.name) == pytest.approx(smaller)
    untouched = [f.name for f in dataclasses.fields(hip.thresholds) if f.name != HIP.name]
    defaults = CONFIG_TYPES[ExerciseKind.HIP_LIFT]()
    assert all(getattr(hip.thresholds, n) == getattr(defaults, n) for n in untouched)


def test_left_out_settings_take_their_defaults() -> None:
    text = re.sub(r"(?ms)^\[exercises\.thresholds\]\n.*?(?=^\[)", "[exercises.thresholds]\n", TEXT)
    routine = parse_routine(text, "minimal.toml")
    for spec in routine.exercises:
        assert spec.thresholds == CONFIG_TYPES[spec.kind]()


def test_routine_is_frozen() -> None:
    routine = open_routine("back-spasm-relief")
    with pytest.raises(dataclasses.FrozenInstanceError):
        routine.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        routine.session_cues["welcome"] = "x"  # type: ignore[index]


# ----------------------------------------------------------- generic field checks
@dataclass(frozen=True, kw_only=True)
class BandConfig:
    enter_below_deg: float = field(
        default=60.0, metadata={"min": 20.0, "max": 120.0, "unit": "deg"}
    )
    exit_above_deg: float = field(default=80.0, metadata={"min": 30.0, "max": 150.0, "unit": "deg"})
    samples: int = field(default=5, metadata={"min": 1, "max": 50})
    names: tuple[str, ...] = ("a",)

    def __post_init__(self) -> None:
        if self.exit_above_deg <= self.enter_below_deg:
            raise ValueError(
                f"exit_above_deg ({self.exit_above_deg}) must be above "
                f"enter_below_deg ({self.enter_below_deg})"
            )


@dataclass(frozen=True, kw_only=True)
class CheckedConfig:
    low: float = 1.0
    high: float = 2.0

    def validate(self) -> None:
        if self.high < self.low:
            raise ValueError("high must not be below low")


GENERIC: list[tuple[str, type, str, list[str]]] = [
    (
        "hysteresis order",
        BandConfig,
        "enter_below_deg = 100\nexit_above_deg = 90",
        ["must be above"],
    ),
    ("int field refuses a float", BandConfig, "samples = 2.5", ["samples", "2.5", "whole number"]),
    ("tuple of text", BandConfig, "names = [1]", ["names[0]", "text"]),
    ("validate() method", CheckedConfig, "low = 3.0", ["high must not be below low"]),
    ("int accepted for float", BandConfig, "enter_below_deg = 50", []),
    ("tuple accepted", BandConfig, 'names = ["x", "y"]', []),
]


@pytest.mark.parametrize("name", [case[0] for case in GENERIC])
def test_generic_config_checks(name: str) -> None:
    _, cls, body, expected = next(case for case in GENERIC if case[0] == name)
    problems = routine_module._Problems("cfg.toml")
    out = routine_module._build_config(cls, tomllib.loads(body), "thresholds", problems)
    if expected:
        message = "\n".join(problems.items)
        assert out is routine_module._MISSING
        for part in expected:
            assert part in message, message
    else:
        assert problems.items == [] and isinstance(out, cls)


# ------------------------------------------------------------------- dose wording
@pytest.mark.parametrize(
    ("kind", "dose", "words"),
    [
        (
            ExerciseKind.CHILDS_POSE,
            Dose(hold_s=30, reps=3, reps_max=3, rest_s=0),
            "Hold 30 seconds, 3 times",
        ),
        (ExerciseKind.CAT_COW, Dose(reps=5, reps_max=10, rest_s=0), "5 to 10 slow cycles"),
        (
            ExerciseKind.HIP_LIFT,
            Dose(hold_s=15, reps=5, reps_max=10, sets=2, rest_s=30),
            "Hold 15 seconds, 5 to 10 times, 2 sets, rest 30 seconds after each set",
        ),
    ],
)
def test_describe_dose(kind: ExerciseKind, dose: Dose, words: str) -> None:
    spec = routine_module.ExerciseSpec(
        kind=kind, title="t", intro="i", dose=dose, thresholds=None, cues={}
    )
    assert describe_dose(spec) == words


# ------------------------------------------------------------------ finding routines
def test_find_routine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert find_routine("back-spasm-relief") == BUNDLED.resolve()
    assert BUNDLED.resolve() in bundled_routines()
    mine = user_routine_dir() / "anna.toml"
    mine.parent.mkdir(parents=True)
    mine.write_text(TEXT.replace('name = "back-spasm-relief"', 'name = "anna"'), encoding="utf-8")
    assert find_routine("anna") == mine
    assert open_routine("anna").source == str(mine)
    assert find_routine(str(mine)) == mine
    with pytest.raises(RoutineError, match="Known routines: back-spasm-relief, anna"):
        find_routine("bob")
    with pytest.raises(RoutineError, match="no such routine file"):
        find_routine(str(tmp_path / "missing.toml"))


def test_unreadable_file_is_a_routine_error(tmp_path: Path) -> None:
    with pytest.raises(RoutineError, match="no such routine file"):
        load_routine(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe name")
    with pytest.raises(RoutineError, match=r"bad\.toml is not UTF-8 text"):
        load_routine(bad)
