"""Where the session is: the phases a routine is walked through.

How one leads to the next::

    SETUP ──whole body seen from the side──▶ INTRO ──spoken intro ends──▶ WAIT_POSITION
    WAIT_POSITION ──start position seen──▶ ACTIVE ──dose reached──▶ REST ──▶ next set or exercise
    last set of the last exercise ──▶ DONE
    WAIT_POSITION or ACTIVE ──nothing counted for stall_move_on_s──▶ next exercise (or DONE)
    stop (any phase), or a red flag at start ──▶ DONE

The camera set-up is the ``SetupGuide``'s; INTRO to REST are one exercise's
(its ``ExerciseRun``); the ``SessionController`` goes from one to the next.
"""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """Where the session is."""

    SETUP = "setup"  # waiting until the camera sees the whole body from the side
    INTRO = "intro"  # the exercise is being introduced
    WAIT_POSITION = "wait_position"  # waiting for the starting position
    ACTIVE = "active"  # holds and repetitions are counted
    REST = "rest"  # between sets and exercises
    DONE = "done"  # completed or stopped; nothing more happens


# Phases of an exercise, from its introduction to the rest after it.
IN_EXERCISE: frozenset[Phase] = frozenset(
    {Phase.INTRO, Phase.WAIT_POSITION, Phase.ACTIVE, Phase.REST}
)
# Phases in which the engine watches the person (waiting for the position, or counting).
WATCHED: frozenset[Phase] = frozenset({Phase.WAIT_POSITION, Phase.ACTIVE})

__all__ = ["IN_EXERCISE", "WATCHED", "Phase"]
