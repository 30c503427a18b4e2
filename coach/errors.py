"""The one exception tree of the coach.

Every error the coach raises on purpose is a ``CoachError``. Messages say what
was wrong, where, and what to do about it, because the person reading them is
often a patient, not a programmer.
"""

from __future__ import annotations


class CoachError(Exception):
    """Base of every error the coach raises on purpose."""


class ModelError(CoachError):
    """The pose model file is missing, corrupt or cannot be loaded."""


class SourceError(CoachError):
    """A camera, video file or image folder cannot deliver frames."""


class CameraNotFoundError(SourceError):
    """No camera answers at the requested index."""


class CameraStalledError(SourceError):
    """A camera that was working stopped delivering frames."""


class VideoReadError(SourceError):
    """A video file is missing or cannot be decoded."""


class RoutineError(CoachError):
    """A routine file is malformed or asks for something unsafe."""


class SessionDataError(CoachError):
    """A session folder is missing, unreadable or not a session."""


class SpeechError(CoachError):
    """The speech engine cannot be started or cannot speak."""


class DisplayError(CoachError):
    """No display is available for the overlay window."""
