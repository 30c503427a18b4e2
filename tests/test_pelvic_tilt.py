"""Pelvic tilts: small tilts counted against the person's own neutral; hip lifts never are."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import annotated_clips
from synthetic_body import POSTURES, blend
from test_engines import Stretch, of, play

from coach.core.events import EventKind
from coach.core.exercises import EXERCISES, exercise
from coach.core.exercises.base import Counting
from coach.core.exercises.pelvic_tilt import HIPS_LIFTED, KIND, PelvicTiltConfig
from coach.core.routine import describe_dose, parse_routine
from coach.core.states import PoseState as S

K = EventKind
DOWN = POSTURES["bridge_down"]


def tilts(count: int, tilt_deg: float, rest: object = DOWN, seconds: float = 1.0) -> list[Stretch]:
    """``count`` tilts from ``rest``: the hip angle opens by ``tilt_deg``, then comes back."""
    assert not isinstance(rest, str)
    tilted = rest.with_(hip=rest.hip + tilt_deg)  # type: ignore[attr-defined]
    out: list[Stretch] = []
    for _ in range(count):
        out += [
            Stretch(tilted, 0.4, S.BRIDGE_DOWN, start=rest),  # type: ignore[arg-type]
            Stretch(tilted, seconds, S.BRIDGE_DOWN),
            Stretch(rest, 0.4, S.BRIDGE_DOWN, start=tilted),  # type: ignore[arg-type]
            Stretch(rest, 1.2, S.BRIDGE_DOWN),  # type: ignore[arg-type]
        ]
    return out


def lying(rest: object = DOWN, seconds: float = 2.0) -> Stretch:
    return Stretch(rest, seconds, S.BRIDGE_DOWN)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "stretches", "reps"),
    [
        ("three tilts of 7 degrees", [lying(), *tilts(3, 7.0)], 3),
        (
            "a person who rests more bent",
            [lying(DOWN.with_(hip=118)), *tilts(2, 6.0, DOWN.with_(hip=118))],
            2,
        ),
        ("a wobble of 2 degrees", [lying(), *tilts(3, 2.0)], 0),
        ("a tilt held 4 s is one tilt", [lying(), *tilts(1, 7.0, seconds=4.0)], 1),
        ("lying still", [lying(seconds=8.0)], 0),
    ],
)
def test_tilts_are_counted_against_the_persons_neutral(
    case: str, stretches: list[Stretch], reps: int
) -> None:
    engine, events = play(KIND, stretches)
    assert engine.reps == reps, case
    counted = of(events, K.REP_COUNTED)
    assert [e["count"] for e in counted] == list(range(1, reps + 1))
    assert all(e["tilt_deg"] >= PelvicTiltConfig().tilt_up_deg for e in counted)
    assert engine.in_position


def test_a_hip_lift_is_not_a_tilt() -> None:
    up = POSTURES["bridge_up"]
    small = blend(DOWN, up, 0.3)
    stretches = [
        lying(),
        Stretch(small, 0.5, S.BRIDGE_DOWN, start=DOWN),
        Stretch(small, 3.0, S.BRIDGE_DOWN),
        Stretch(DOWN, 0.5, S.BRIDGE_DOWN, start=small),
        lying(),
        Stretch(up, 0.5, S.BRIDGE_UP, start=DOWN),
        Stretch(up, 3.0, S.BRIDGE_UP),
        Stretch(DOWN, 0.5, S.BRIDGE_DOWN, start=up),
        lying(),
    ]
    engine, events = play(KIND, stretches)
    assert engine.reps == 0
    raised = [e["key"] for e in of(events, K.FAULT_RAISED)]
    assert HIPS_LIFTED in raised


def test_nothing_counts_out_of_the_start_position() -> None:
    fours = POSTURES["tabletop"]
    engine, _ = play(
        KIND,
        [Stretch(fours, 2.0, S.TABLETOP), Stretch(fours.with_(hip=100), 1.0, S.TABLETOP)] * 3,
    )
    assert engine.reps == 0 and not engine.in_position


def test_the_pelvic_tilt_is_declared_once_and_a_routine_can_prescribe_it() -> None:
    info = exercise("pelvic_tilt")
    assert info.kind in EXERCISES and info.counting is Counting.REPS
    assert info.states == (S.BRIDGE_DOWN,)
    routine = parse_routine(
        'name = "tilts"\ntitle = "Tilts"\n[[exercises]]\nkind = "pelvic_tilt"\n', "tilts.toml"
    )
    (spec,) = routine.exercises
    assert spec.title == "Pelvic tilts" and describe_dose(spec) == "10 pelvic tilts"
    assert spec.cues["hips_lifted"].startswith("Keep your hips on the floor")
    assert isinstance(spec.thresholds, PelvicTiltConfig)
    with pytest.raises(Exception, match="counted in tilts"):
        parse_routine(
            'name = "t"\ntitle = "T"\n[[exercises]]\nkind = "pelvic_tilt"\n'
            "dose = { hold_s = 10 }\n",
            "t.toml",
        )


# ------------------------------------------------------------------- real clips
TILT_CLIP = "x20_pelvictilt_prx.mp4"
TILTS_S = ((0.4, 1.2), (3.3, 4.1))  # the two tilts, as annotated


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.realmodel
def test_real_pelvic_tilts_count_and_other_exercises_do_not(realdata: Path) -> None:
    from coach.app.analyze import analyze_video

    clips = annotated_clips()
    result = analyze_video(realdata / "videos" / TILT_CLIP, [KIND], max_fps=30.0)[KIND]
    assert result.reps == 2, result.to_dict()
    counted = [e for e in result.events if e.kind is K.REP_COUNTED]
    for event, (start, end) in zip(counted, TILTS_S, strict=True):
        # Counted once the pelvis is released, from a tilt that began within the annotated one.
        assert start - 0.3 <= event["start_s"] <= end, (event.to_dict(), start, end)
        assert event.t_s >= end - 0.3
    others = [
        name
        for name, clip in clips.items()
        if clip["exercise"] in ("hip_lift", "cat_cow", "childs_pose")
    ]
    assert len(others) >= 10
    for name in others:
        got = analyze_video(realdata / "videos" / name, [KIND], max_fps=30.0)[KIND]
        assert got.reps == 0, (name, got.to_dict()["rep_details"])
