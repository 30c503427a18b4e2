"""coach: a home-exercise coach for back spasms that watches through the camera.

The public names are loaded on first use, so ``coach --help`` and other
commands that need no body features do not pay for numpy at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coach.core.features import FeatureConfig, FeatureExtractor, Features
    from coach.core.landmarks import Joint, Landmark, Side
    from coach.core.pose import Pose
    from coach.errors import CoachError

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "CoachError": "coach.errors",
    "FeatureConfig": "coach.core.features",
    "FeatureExtractor": "coach.core.features",
    "Features": "coach.core.features",
    "Joint": "coach.core.landmarks",
    "Landmark": "coach.core.landmarks",
    "Pose": "coach.core.pose",
    "Side": "coach.core.landmarks",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'coach' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "CoachError",
    "FeatureConfig",
    "FeatureExtractor",
    "Features",
    "Joint",
    "Landmark",
    "Pose",
    "Side",
    "__version__",
]
