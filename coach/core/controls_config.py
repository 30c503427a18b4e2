"""The body controls' settings, apart from the detector: reading a routine stays light."""

from __future__ import annotations

from dataclasses import dataclass

from coach.core.settings import knob


@dataclass(frozen=True, kw_only=True)
class ControlsConfig:
    """How the body controls the session; every length is in torso lengths.

    Attributes:
        enabled: Read controls from the body at all (keys always work).
        upright_min_deg: The trunk rises at least this steeply (hips to
            shoulders above the horizontal) when sitting or kneeling up.
        down_max_deg: The trunk rises at most this steeply when down on the
            floor in an exercise (all fours, child's pose, lying); seeing it
            arms the pause.
        still_max: Sitting still: no body point moves further than this from
            where it was when the stillness began (the one point that moves
            most is left out, so a single misplaced landmark does not count).
        pause_after_s: Sitting or kneeling up and still this long pauses.
        hand_above_head: A wrist this far above the top of the head is raised.
        hand_down_below: The other hand counts as down when its wrist is this
            far below the shoulders; between the two it is neither.
        gesture_hold_s: A raised hand (or both) held this long resumes (skips).
        gesture_gap_s: A gesture unseen for at most this long is still held.
        leave_after_s: Nobody seen this long ends the session.
        leave_paused_after_s: The same while paused: the person asked to wait.
    """

    enabled: bool = True
    upright_min_deg: float = knob(60.0, 40.0, 85.0, "deg", "trunk this steep is sitting up")
    down_max_deg: float = knob(35.0, 5.0, 50.0, "deg", "trunk this flat is down on the floor")
    still_max: float = knob(0.15, 0.02, 0.5, "torso", "movement within this is still")
    pause_after_s: float = knob(5.0, 2.0, 30.0, "s", "sit up and keep still this long")
    hand_above_head: float = knob(0.25, 0.05, 1.0, "torso", "wrist this far above the head")
    hand_down_below: float = knob(0.2, 0.0, 1.0, "torso", "other wrist this far below shoulders")
    gesture_hold_s: float = knob(2.0, 0.5, 10.0, "s", "hold a raised hand this long")
    gesture_gap_s: float = knob(0.3, 0.0, 2.0, "s", "a gesture unseen this long is held")
    leave_after_s: float = knob(30.0, 5.0, 600.0, "s", "out of sight this long stops")
    leave_paused_after_s: float = knob(300.0, 5.0, 3600.0, "s", "the same while paused")

    def __post_init__(self) -> None:
        if not self.down_max_deg < self.upright_min_deg:
            raise ValueError("down_max_deg must be less than upright_min_deg")
        if self.leave_paused_after_s < self.leave_after_s:
            raise ValueError("leave_paused_after_s must not be less than leave_after_s")
