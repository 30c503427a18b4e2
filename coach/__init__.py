"""coach: a home-exercise coach for back spasms that watches through the camera."""

from coach.core.features import FeatureConfig, FeatureExtractor, Features
from coach.core.landmarks import Joint, Landmark, Side
from coach.core.pose import Pose
from coach.errors import CoachError

__version__ = "0.1.0"

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
