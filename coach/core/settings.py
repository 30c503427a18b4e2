"""Config fields that carry their default and the safe range a routine may set."""

from __future__ import annotations

from dataclasses import field
from typing import Any


def knob(default: Any, low: float, high: float, unit: str, help_text: str) -> Any:
    """A config field with its clinical default and the range a routine may set it to.

    The routine loader reads ``min`` and ``max`` from the metadata to refuse
    values outside the range, and ``unit`` and ``help`` to explain them.
    """
    return field(
        default=default, metadata={"min": low, "max": high, "unit": unit, "help": help_text}
    )
