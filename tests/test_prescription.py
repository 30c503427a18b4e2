"""Routines as prescriptions: a short routine extends another and names only what changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.adapters.routine_store import open_routine, routine_text
from coach.core.catalog import exercise_texts, session_texts
from coach.core.exercises import EXERCISES
from coach.core.routine import Dose, parse_routine, resolved_toml
from coach.core.states import ExerciseKind
from coach.errors import RoutineError

# A therapist's routine for one patient: two doses changed, everything else as bundled.
THERAPIST = """\
extends = "back-spasm-relief"
name = "anna-week-2"
patient = "anna-k"

[[exercises]]
kind = "childs_pose"
dose = { hold_s = 20 }

[[exercises]]
kind = "hip_lift"
dose = { hold_s = 10, reps = 6 }
"""


def parse(text: str, source: str = "anna.toml") -> object:
    return parse_routine(text, source, resolve=routine_text)


def test_a_ten_line_routine_changes_two_doses_and_inherits_the_rest() -> None:
    assert len(THERAPIST.strip().splitlines()) <= 11
    mine = parse_routine(THERAPIST, "anna.toml", resolve=routine_text)
    base = open_routine("back-spasm-relief")
    assert (mine.name, mine.patient, mine.extends) == ("anna-week-2", "anna-k", "back-spasm-relief")
    assert [s.kind for s in mine.exercises] == [ExerciseKind.CHILDS_POSE, ExerciseKind.HIP_LIFT]
    child, hip = mine.exercises
    assert child.dose == Dose(hold_s=20.0, reps=3, reps_max=3, rest_s=15.0)
    # "reps" alone is a fixed count, as everywhere in a routine.
    assert hip.dose == Dose(hold_s=10.0, reps=6, reps_max=6, rest_s=0.0)
    assert child.cues == base.exercises[0].cues and child.intro == base.exercises[0].intro
    assert hip.thresholds == base.exercises[2].thresholds
    assert mine.session == base.session and mine.session_cues == base.session_cues
    assert mine.title == base.title and mine.notes == base.notes
    assert mine.own >= {"childs_pose.dose.hold_s", "hip_lift.dose.hold_s", "hip_lift.dose.reps"}
    assert "hip_lift.dose.reps_max" not in mine.own and "title" not in mine.own


def test_without_exercises_a_routine_keeps_those_it_extends() -> None:
    mine = parse_routine(
        'extends = "back-spasm-relief"\nname = "slow"\n[session]\nbreath_max_s = 7.0\n',
        "slow.toml",
        resolve=routine_text,
    )
    base = open_routine("back-spasm-relief")
    assert mine.exercises == base.exercises
    assert mine.session.breath_max_s == 7.0
    assert mine.own == {"extends", "name", "session.breath_max_s"}


def test_a_routine_can_extend_one_that_extends_another(tmp_path: Path) -> None:
    (tmp_path / "anna-base.toml").write_text(THERAPIST.replace("anna-week-2", "anna-base"))
    week3 = tmp_path / "anna-week-3.toml"
    week3.write_text(
        'extends = "anna-base"\nname = "anna-week-3"\n'
        '[[exercises]]\nkind = "hip_lift"\ndose = { hold_s = 12 }\n'
    )
    routine = open_routine(str(week3))  # the base is found beside it
    (hip,) = routine.exercises
    assert hip.dose == Dose(hold_s=12.0, reps=6, reps_max=6, rest_s=0.0)
    assert routine.patient == "anna-k"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('extends = "no-such"\nname = "x"\n', "extends: no routine named 'no-such'"),
        ('extends = "Back Spasm"\nname = "x"\n', "is not a routine name"),
        ('extends = "back-spasm-relief"\n', "name: is missing"),
        (
            'extends = "back-spasm-relief"\nname = "x"\n[[exercises]]\nkind = "hip_lift"\n'
            "dose = { hold_s = 600 }\n",
            "exercises[0].dose.hold_s: 600 is outside the allowed range 5.0..120.0 s",
        ),
        (
            'extends = "back-spasm-relief"\nname = "x"\n[[exercises]]\nkind = "cat_cow"\n'
            "dose = { reps = 12 }\n",
            "",  # a fixed count of 12 is fine: reps_max follows reps
        ),
        (
            'extends = "back-spasm-relief"\nname = "x"\n[[exercises]]\nkind = "cat_cow"\n'
            "dose = { reps_max = 3 }\n",
            "reps (5) must not be more than reps_max (3)",
        ),
        (
            'extends = "back-spasm-relief"\nname = "x"\nlanguage = "tlh"\n',
            "language: no texts in the language 'tlh'",
        ),
        ('extends = "back-spasm-relief"\nname = "x"\npatient = "Anna K"\n', "patient:"),
    ],
)
def test_every_value_keeps_its_range_and_its_refusal(text: str, message: str) -> None:
    if not message:
        parse(text)
        return
    with pytest.raises(RoutineError) as info:
        parse(text)
    assert str(info.value).startswith("anna.toml: ")
    assert message in str(info.value)


def test_routines_that_extend_each_other_in_a_circle_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extends = "b"\nname = "a"\n')
    (tmp_path / "b.toml").write_text('extends = "a"\nname = "b"\n')
    with pytest.raises(RoutineError, match=r"in a circle \(a -> b -> a\)"):
        open_routine(str(tmp_path / "a.toml"))


def test_without_a_way_to_look_it_up_extends_is_refused_clearly() -> None:
    with pytest.raises(RoutineError, match="cannot be looked up here"):
        parse_routine(THERAPIST, "record/routine.toml")


def test_left_out_texts_come_from_the_catalogue_and_a_routine_may_change_one() -> None:
    text = THERAPIST + 'cues = { relax = "Let your hips rest." }\n'
    mine = parse_routine(text, "anna.toml", resolve=routine_text)
    hip = mine.exercises[1]
    assert hip.cues["relax"] == "Let your hips rest."
    assert "hip_lift.cues.relax" in mine.own
    catalogue = exercise_texts("hip_lift")
    assert {k: v for k, v in hip.cues.items() if k != "relax"} == {
        k: v for k, v in catalogue.cues.items() if k != "relax"
    }
    assert hip.intro == catalogue.intro and hip.title == "Hip lifts"
    assert dict(mine.session_cues) == dict(session_texts())


def test_every_exercise_has_every_text_it_needs_in_the_catalogue() -> None:
    from coach.core.routine import required_cue_keys

    for kind in EXERCISES:
        texts = exercise_texts(kind)
        assert texts.intro, kind
        assert set(required_cue_keys(kind)) <= set(texts.cues), kind


def test_the_resolved_routine_reads_back_the_same_on_its_own() -> None:
    mine = parse_routine(THERAPIST, "anna.toml", resolve=routine_text)
    full = resolved_toml(mine)
    assert "extends" not in full.split("\n\n", 1)[1]
    again = parse_routine(full, "record/routine.toml")  # no lookups needed
    for field in ("name", "title", "notes", "patient", "language", "exercises", "cues"):
        assert getattr(again, field) == getattr(mine, field), field
    for field in ("session_cues", "session", "camera", "classifier"):
        assert getattr(again, field) == getattr(mine, field), field
