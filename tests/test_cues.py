"""The cue policy: what is said next, replayed on exact timestamps."""

from __future__ import annotations

import pytest

from coach.core.cues import Cue, CuePolicy, Priority
from coach.core.routine import CueSettings

SETTINGS = CueSettings(cooldown_s=8.0, max_age_s=3.0, countdown_every_s=10.0)
INFO, F, P, U = Priority.INFO, Priority.FORM, Priority.PROGRESS, Priority.URGENT

# Each step: ("offer", key, priority, t_s) or ("next", t_s, busy, expected key or None).
CASES: dict[str, list[tuple[object, ...]]] = {
    "said when offered": [
        ("offer", "hips_high", F, 0.0),
        ("next", 0.0, False, "hips_high"),
        ("next", 0.1, False, None),
    ],
    "cooldown holds back the same form cue": [
        ("offer", "hips_high", F, 0.0),
        ("next", 0.0, False, "hips_high"),
        ("offer", "hips_high", F, 5.0),
        ("next", 5.0, False, None),
        ("offer", "hips_high", F, 8.5),
        ("next", 8.5, False, "hips_high"),
    ],
    "cooldown is per key": [
        ("offer", "hips_high", F, 0.0),
        ("next", 0.0, False, "hips_high"),
        ("offer", "arms_forward", F, 1.0),
        ("next", 1.0, False, "arms_forward"),
    ],
    "progress cues are not cooled": [
        ("offer", "breathe_in", P, 0.0),
        ("next", 0.0, False, "breathe_in"),
        ("offer", "breathe_in", P, 3.5),
        ("next", 3.5, False, "breathe_in"),
    ],
    "stale cue dropped": [
        ("offer", "hips_high", F, 0.0),
        ("next", 1.0, True, None),
        ("next", 3.5, False, None),
    ],
    "cue just inside max age is said": [
        ("offer", "hips_high", F, 0.0),
        ("next", 2.9, True, None),
        ("next", 3.0, False, "hips_high"),
    ],
    "progress cue waits behind a long utterance": [
        ("offer", "in_position", P, 0.0),
        ("next", 0.5, True, None),
        ("next", 12.0, True, None),
        ("next", 12.5, False, "in_position"),
    ],
    "progress cue goes stale while the speaker is free": [
        ("offer", "in_position", P, 0.0),
        ("offer", "hold_start", P, 0.0),
        ("next", 0.0, False, "in_position"),
        ("next", 0.2, True, None),
        ("next", 9.0, True, None),
        ("next", 12.5, False, None),
    ],
    "urgent never stale": [
        ("offer", "stopped", U, 0.0),
        ("next", 10.0, True, None),
        ("next", 20.0, False, "stopped"),
    ],
    "one at a time while busy": [
        ("offer", "in_position", P, 0.0),
        ("offer", "hold_start", P, 0.0),
        ("next", 0.0, False, "in_position"),
        ("next", 0.5, True, None),
        ("next", 1.0, False, "hold_start"),
        ("next", 1.1, False, None),
    ],
    "higher priority first": [
        ("offer", "pose_lost", INFO, 0.0),
        ("offer", "hips_high", F, 0.1),
        ("offer", "hold_countdown", P, 0.2),
        ("next", 0.3, False, "hold_countdown"),
        ("next", 0.4, False, "hips_high"),
        ("next", 0.5, False, "pose_lost"),
    ],
    "urgent goes first and clears the queue": [
        ("offer", "hold_countdown", P, 0.0),
        ("offer", "hips_high", F, 0.0),
        ("offer", "pain_worse", U, 0.1),
        ("next", 0.2, False, "pain_worse"),
        ("next", 0.3, False, None),
    ],
    "urgent ignores cooldown": [
        ("offer", "stopped", U, 0.0),
        ("next", 0.0, False, "stopped"),
        ("offer", "stopped", U, 1.0),
        ("next", 1.0, False, "stopped"),
    ],
    "same key offered again replaces the waiting one": [
        ("offer", "hold_countdown", P, 0.0),
        ("offer", "hold_countdown", P, 1.0),
        ("next", 1.0, False, "hold_countdown"),
        ("next", 1.1, False, None),
    ],
}


@pytest.mark.parametrize("name", list(CASES))
def test_policy(name: str) -> None:
    policy = CuePolicy(SETTINGS)
    for step in CASES[name]:
        if step[0] == "offer":
            _, key, priority, t_s = step
            policy.offer(Cue(str(key), f"text of {key}", priority, float(t_s)))  # type: ignore[arg-type]
        else:
            _, t_s, busy, expected = step
            cue = policy.next(float(t_s), bool(busy))  # type: ignore[arg-type]
            assert (cue.key if cue else None) == expected, f"{name}: at t={t_s}"


def test_replacing_keeps_the_newest_text() -> None:
    policy = CuePolicy(SETTINGS)
    policy.offer(Cue("hold_countdown", "20 seconds to go.", P, 0.0))
    policy.offer(Cue("hold_countdown", "10 seconds to go.", P, 1.0))
    cue = policy.next(1.0, False)
    assert cue is not None and cue.text == "10 seconds to go."


def test_reset_forgets_queue_and_cooldowns() -> None:
    policy = CuePolicy(SETTINGS)
    policy.offer(Cue("hips_high", "Lower your hips.", F, 0.0))
    assert policy.next(0.0, False) is not None
    policy.offer(Cue("arms_forward", "Arms forward.", F, 0.5))
    policy.reset()
    assert policy.pending == ()
    policy.offer(Cue("hips_high", "Lower your hips.", F, 1.0))
    assert policy.next(1.0, False) is not None
