"""Hands-free controls on synthetic bodies: what pauses, resumes, skips and stops, and what not."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import numpy as np
import pytest
from control_helpers import ARMS_UP, half_raised_other, one_hand_up, with_points
from synthetic_body import POSTURES, Camera, Segment, render, sequence

from coach.core.controls import (
    BodyControls,
    Command,
    ControlsConfig,
    ControlUse,
    Gesture,
    hands_up,
    trunk_rise_deg,
)
from coach.core.features import FeatureExtractor
from coach.core.landmarks import Landmark, Side
from coach.core.pose import Pose

FPS = 30.0
CONFIG = ControlsConfig()
SITTING = POSTURES["kneeling"].with_(knee=20.0, hip=95.0)  # on the heels, trunk upright
# The four ways a laptop sees the mat: head to either side, either side of the body nearer.
# No silhouette: the controls do not read it, and it is the slow part of drawing a body.
CAMERAS = [
    Camera(mask=False),
    Camera(head_right=False, mask=False),
    Camera(near=Side.RIGHT, mask=False),
    Camera(head_right=False, near=Side.RIGHT, torso_px=90.0, mask=False),
]
CAM = CAMERAS[0]


def held(pose_at: object, seconds: float, t0_s: float) -> Iterator[Pose]:
    """Frames of a pose made by ``pose_at(t_s)`` for ``seconds`` from ``t0_s``."""
    n = round(seconds * FPS)
    for i in range(n):
        yield pose_at(round(t0_s + i / FPS, 6))  # type: ignore[operator]


def run(
    poses: Iterable[Pose],
    *,
    paused: bool | None = None,
    watch_pause: bool = True,
    watch_leave: bool = True,
    config: ControlsConfig = CONFIG,
) -> list[ControlUse]:
    """Controls given over a pose sequence; pause and resume take effect as the session's would."""
    controls = BodyControls(config)
    extractor = FeatureExtractor()
    state = bool(paused)
    used: list[ControlUse] = []
    for pose in poses:
        features = extractor.update(pose)
        got = controls.update(
            features, pose.t_s, watch_pause=watch_pause, watch_leave=watch_leave, paused=state
        )
        used += got
        if paused is None:
            for use in got:
                state = use.command is Command.PAUSE
    return used


def commands(used: list[ControlUse]) -> list[tuple[str, float]]:
    return [(u.command.value, round(u.t_s, 2)) for u in used]


# ------------------------------------------------------------------------ measures
@pytest.mark.parametrize("camera", CAMERAS)
@pytest.mark.parametrize(
    ("posture", "low", "high"),
    [
        ("kneeling", 80.0, 90.0),
        ("standing", 80.0, 90.0),
        ("tabletop", -5.0, 5.0),
        ("cat", -10.0, 5.0),
        ("childs_pose", -20.0, 0.0),
        ("bridge_down", -5.0, 5.0),
        ("bridge_up", -40.0, -20.0),
        ("down_dog", -50.0, -40.0),
        ("plank", 5.0, 20.0),
    ],
)
def test_the_trunk_rise_is_the_same_whichever_way_the_camera_sees_the_body(
    camera: Camera, posture: str, low: float, high: float
) -> None:
    assert low <= trunk_rise_deg(render(posture, 0.0, camera)) <= high


def test_a_trunk_along_the_line_of_sight_is_not_upright() -> None:
    # Lying feet toward the camera: on the image the shoulders sit just above the hips,
    # but the world landmarks put the trunk flat along the camera's axis.
    pose = render("supine", 0.0, CAM)
    xy = np.array(pose.xy, dtype=np.float64)
    hips = xy[[int(Landmark.LEFT_HIP), int(Landmark.RIGHT_HIP)]].mean(axis=0)
    squashed = hips + (xy - hips) * np.array([0.05, 1.0])
    squashed[:, 1] -= np.where(np.arange(len(xy)) < 23, 20.0, 0.0)  # the upper body higher
    world = np.zeros((len(xy), 3))
    world[:, 2] = (xy[:, 0] - hips[0]) / 400.0  # head to feet along the line of sight
    seen = with_points(pose, squashed, world)
    assert trunk_rise_deg(seen) < 10.0


@pytest.mark.parametrize("camera", CAMERAS)
def test_hands_are_counted_above_the_head(camera: Camera) -> None:
    count = [
        hands_up(render(ARMS_UP, 0.0, camera), 0.25, 0.2),
        hands_up(one_hand_up(0.0, camera), 0.25, 0.2),
        hands_up(render("kneeling", 0.0, camera), 0.25, 0.2),
        hands_up(half_raised_other(0.0, camera), 0.25, 0.2),
    ]
    assert count == [2, 1, 0, None]


def test_no_person_has_no_measures() -> None:
    empty = Pose.empty(0.0, (640, 480))
    assert math.isnan(trunk_rise_deg(empty))
    assert hands_up(empty, 0.25, 0.2) is None


def test_the_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="down_max_deg"):
        ControlsConfig(down_max_deg=60.0, upright_min_deg=60.0)
    with pytest.raises(ValueError, match="leave_paused_after_s"):
        ControlsConfig(leave_after_s=60.0, leave_paused_after_s=30.0)


# ------------------------------------------------------------------------- pause
def down_then_up(camera: Camera | None = None, up_s: float = 8.0, **kw: float) -> list[Pose]:
    return list(
        sequence(
            [
                Segment("childs_pose", 3.0),
                Segment("kneeling", 1.0, start="childs_pose"),
                Segment("kneeling", up_s),
            ],
            fps=FPS,
            camera=camera or CAM,
            **kw,  # type: ignore[arg-type]
        )
    )


@pytest.mark.parametrize("camera", CAMERAS)
def test_kneeling_up_from_the_exercise_and_keeping_still_pauses(camera: Camera) -> None:
    used = run(down_then_up(camera, noise_px=1.0))
    assert [(u.command, u.gesture) for u in used] == [(Command.PAUSE, Gesture.SIT_UP_STILL)]
    # Still from the first upright frame (about 3.6 s into the rise): paused 5 s later.
    assert 8.0 <= used[0].t_s <= 9.2 and used[0].t_s - used[0].since_s == pytest.approx(5.0, 0.02)


def test_sitting_back_on_the_heels_pauses_too() -> None:
    poses = sequence(
        [Segment("tabletop", 2.0), Segment(SITTING, 1.0, start="tabletop"), Segment(SITTING, 7.0)],
        fps=FPS,
        camera=CAM,
    )
    assert [u.command for u in run(poses)] == [Command.PAUSE]


def test_kneeling_up_without_having_been_down_never_pauses() -> None:
    # Kneeling before child's pose, or sitting while the coach talks.
    assert run(sequence([Segment("kneeling", 20.0)], fps=FPS, camera=CAM)) == []


def test_moving_while_kneeling_up_never_pauses() -> None:
    arm_swing = [Segment("childs_pose", 2.0)]
    for _ in range(6):
        arm_swing += [
            Segment(POSTURES["kneeling"].with_(shoulder=60.0), 1.5, start="kneeling"),
            Segment("kneeling", 1.5, start=POSTURES["kneeling"].with_(shoulder=60.0)),
        ]
    assert run(sequence(arm_swing, fps=FPS, camera=CAM)) == []


def test_kneeling_up_briefly_never_pauses() -> None:
    assert run(down_then_up(up_s=3.5)) == []


def test_outside_an_exercise_nothing_pauses() -> None:
    assert run(down_then_up(), watch_pause=False) == []


def test_after_a_pause_it_takes_another_stay_on_the_floor_to_pause_again() -> None:
    controls = BodyControls(CONFIG)
    extractor = FeatureExtractor()
    used: list[ControlUse] = []
    paused = False
    poses = down_then_up(up_s=30.0)
    for pose in poses:
        got = controls.update(
            extractor.update(pose), pose.t_s, watch_pause=True, watch_leave=True, paused=paused
        )
        used += got
        if pose.t_s >= 12.0:
            paused = False  # resumed by a key; the person is still kneeling up
        elif got:
            paused = True
    assert [u.command for u in used] == [Command.PAUSE]


# ------------------------------------------------------------- resume and skip
def paused_then(pose_at: object, seconds: float) -> list[Pose]:
    start = list(sequence([Segment("kneeling", 1.0)], fps=FPS, camera=CAM))
    return [*start, *held(pose_at, seconds, 1.0)]


@pytest.mark.parametrize("camera", CAMERAS)
def test_both_hands_held_up_resume_and_one_hand_skips(camera: Camera) -> None:
    both = run(paused_then(lambda t: render(ARMS_UP, t, camera), 3.0), paused=True)
    assert [(u.command, u.gesture) for u in both] == [(Command.RESUME, Gesture.BOTH_HANDS_UP)]
    assert both[0].t_s - both[0].since_s == pytest.approx(2.0, abs=0.05)
    one = run(paused_then(lambda t: one_hand_up(t, camera), 3.0), paused=True)
    assert [(u.command, u.gesture) for u in one] == [(Command.SKIP, Gesture.ONE_HAND_UP)]


def test_a_hand_lowered_too_soon_does_nothing() -> None:
    up_down = [
        *paused_then(lambda t: render(ARMS_UP, t, CAM), 1.5),
        *held(lambda t: render("kneeling", t, CAM), 1.0, 2.5),
        *held(lambda t: one_hand_up(t), 1.5, 3.5),
    ]
    assert run(up_down, paused=True) == []


def test_a_second_hand_joining_starts_the_count_again() -> None:
    poses = [
        *paused_then(lambda t: one_hand_up(t), 1.5),
        *held(lambda t: render(ARMS_UP, t, CAM), 2.5, 2.5),
    ]
    assert commands(run(poses, paused=True)) == [("resume", 4.5)]


def test_a_half_raised_second_hand_is_neither() -> None:
    assert run(paused_then(lambda t: half_raised_other(t), 4.0), paused=True) == []


def test_a_single_frame_gap_does_not_break_a_gesture() -> None:
    def flicker(t: float) -> Pose:
        frame = round(t * FPS)
        return render("kneeling", t, CAM) if frame % 20 == 0 else render(ARMS_UP, t, CAM)

    assert [u.command for u in run(paused_then(flicker, 3.0), paused=True)] == [Command.RESUME]


def test_hands_up_do_nothing_unless_paused() -> None:
    poses = [*down_then_up(up_s=0.5), *held(lambda t: render(ARMS_UP, t, CAM), 4.0, 4.5)]
    assert run(poses, paused=False) == []


@pytest.mark.parametrize("posture", ["tabletop", "supine", "childs_pose", "bird_dog", "prone"])
def test_hands_reaching_past_the_head_on_the_floor_do_nothing(posture: str) -> None:
    reach = POSTURES[posture].with_(shoulder=175.0)
    assert run(held(lambda t: render(reach, t, CAM), 5.0, 0.0), paused=True) == []


def test_one_gesture_per_raise() -> None:
    # Hands kept up after resuming do not count again once paused anew.
    poses = paused_then(lambda t: render(ARMS_UP, t, CAM), 8.0)
    assert [u.command for u in run(poses, paused=True)] == [Command.RESUME]


# --------------------------------------------------------------------- leaving
def test_leaving_the_mat_stops_dated_to_when_the_person_was_last_seen() -> None:
    poses = [
        *sequence([Segment("tabletop", 2.0)], fps=FPS, camera=CAM),
        *sequence([Segment("tabletop", 40.0, lost=True)], fps=FPS, camera=CAM, t0_s=2.0),
    ]
    used = run(poses, paused=False)
    assert [(u.command, u.gesture) for u in used] == [(Command.STOP, Gesture.LEFT_MAT)]
    last_seen = 2.0 - 1.0 / FPS
    assert used[0].t_s == pytest.approx(last_seen) and used[0].since_s == used[0].t_s


def test_coming_back_in_time_stops_nothing() -> None:
    poses = [
        *sequence([Segment("tabletop", 2.0)], fps=FPS, camera=CAM),
        *sequence([Segment("tabletop", 25.0, lost=True)], fps=FPS, camera=CAM, t0_s=2.0),
        *sequence([Segment("tabletop", 2.0)], fps=FPS, camera=CAM, t0_s=27.0),
        *sequence([Segment("tabletop", 25.0, lost=True)], fps=FPS, camera=CAM, t0_s=29.0),
    ]
    assert run(poses, paused=False) == []


def test_a_paused_person_is_waited_for_longer() -> None:
    gone = list(sequence([Segment("tabletop", 200.0, lost=True)], fps=10.0, camera=CAM, t0_s=1.0))
    poses = [*sequence([Segment("kneeling", 1.0)], fps=10.0, camera=CAM), *gone]
    assert run(poses, paused=True) == []
    short = ControlsConfig(leave_after_s=10.0, leave_paused_after_s=100.0)
    assert commands(run(poses, paused=True, config=short)) == [("stop", 0.9)]


def test_nobody_there_before_the_watch_began_is_counted_from_then() -> None:
    poses = list(sequence([Segment("tabletop", 40.0, lost=True)], fps=10.0, camera=CAM))
    assert commands(run(poses, paused=False)) == [("stop", 0.0)]
    assert run(poses, paused=False, watch_leave=False) == []


def test_controls_can_be_turned_off() -> None:
    off = ControlsConfig(enabled=False)
    assert run(down_then_up(), config=off) == []
    assert (
        run(sequence([Segment("tabletop", 40.0, lost=True)], fps=10.0, camera=CAM), config=off)
        == []
    )


def test_progress_shows_the_control_building_up() -> None:
    controls = BodyControls(CONFIG)
    extractor = FeatureExtractor()
    seen = []
    for pose in down_then_up(up_s=4.0):
        controls.update(
            extractor.update(pose), pose.t_s, watch_pause=True, watch_leave=True, paused=False
        )
        seen.append(controls.progress(pose.t_s))
    assert seen[0] is None
    gesture, done = seen[-1]  # type: ignore[misc]
    assert gesture is Gesture.SIT_UP_STILL and 0.5 < done < 1.0
