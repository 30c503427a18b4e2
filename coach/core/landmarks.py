"""Domain tables for the 33 BlazePose landmarks: names, sides, angles, skeleton."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Landmark(IntEnum):
    """The 33 BlazePose landmarks, in MediaPipe's order."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


NUM_LANDMARKS = len(Landmark)


class Side(StrEnum):
    """A side of the body."""

    LEFT = "left"
    RIGHT = "right"


class Joint(StrEnum):
    """Side-free names of the joints the exercises are judged on."""

    EAR = "ear"
    SHOULDER = "shoulder"
    ELBOW = "elbow"
    WRIST = "wrist"
    HIP = "hip"
    KNEE = "knee"
    ANKLE = "ankle"
    HEEL = "heel"
    FOOT = "foot"


SIDE_LANDMARKS: dict[Side, dict[Joint, Landmark]] = {
    Side.LEFT: {
        Joint.EAR: Landmark.LEFT_EAR,
        Joint.SHOULDER: Landmark.LEFT_SHOULDER,
        Joint.ELBOW: Landmark.LEFT_ELBOW,
        Joint.WRIST: Landmark.LEFT_WRIST,
        Joint.HIP: Landmark.LEFT_HIP,
        Joint.KNEE: Landmark.LEFT_KNEE,
        Joint.ANKLE: Landmark.LEFT_ANKLE,
        Joint.HEEL: Landmark.LEFT_HEEL,
        Joint.FOOT: Landmark.LEFT_FOOT_INDEX,
    },
    Side.RIGHT: {
        Joint.EAR: Landmark.RIGHT_EAR,
        Joint.SHOULDER: Landmark.RIGHT_SHOULDER,
        Joint.ELBOW: Landmark.RIGHT_ELBOW,
        Joint.WRIST: Landmark.RIGHT_WRIST,
        Joint.HIP: Landmark.RIGHT_HIP,
        Joint.KNEE: Landmark.RIGHT_KNEE,
        Joint.ANKLE: Landmark.RIGHT_ANKLE,
        Joint.HEEL: Landmark.RIGHT_HEEL,
        Joint.FOOT: Landmark.RIGHT_FOOT_INDEX,
    },
}

# Joint angles measured on one side of the body: (first, vertex, last).
ANGLE_TABLE: dict[str, tuple[Joint, Joint, Joint]] = {
    "hip": (Joint.SHOULDER, Joint.HIP, Joint.KNEE),
    "knee": (Joint.HIP, Joint.KNEE, Joint.ANKLE),
    "shoulder": (Joint.ELBOW, Joint.SHOULDER, Joint.HIP),
    "elbow": (Joint.SHOULDER, Joint.ELBOW, Joint.WRIST),
    "neck": (Joint.EAR, Joint.SHOULDER, Joint.HIP),
}

# Joints whose visibility decides which side faces the camera.
SIDE_VOTE_JOINTS: tuple[Joint, ...] = (
    Joint.SHOULDER,
    Joint.ELBOW,
    Joint.HIP,
    Joint.KNEE,
    Joint.ANKLE,
)

# Joints that must be in the frame for the exercises to be judged.
BODY_JOINTS: tuple[Joint, ...] = (
    Joint.SHOULDER,
    Joint.HIP,
    Joint.KNEE,
    Joint.ANKLE,
)

SKELETON_EDGES: tuple[tuple[Landmark, Landmark], ...] = (
    (Landmark.LEFT_EAR, Landmark.LEFT_EYE),
    (Landmark.LEFT_EYE, Landmark.NOSE),
    (Landmark.NOSE, Landmark.RIGHT_EYE),
    (Landmark.RIGHT_EYE, Landmark.RIGHT_EAR),
    (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER),
    (Landmark.LEFT_SHOULDER, Landmark.LEFT_ELBOW),
    (Landmark.LEFT_ELBOW, Landmark.LEFT_WRIST),
    (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_ELBOW),
    (Landmark.RIGHT_ELBOW, Landmark.RIGHT_WRIST),
    (Landmark.LEFT_SHOULDER, Landmark.LEFT_HIP),
    (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_HIP),
    (Landmark.LEFT_HIP, Landmark.RIGHT_HIP),
    (Landmark.LEFT_HIP, Landmark.LEFT_KNEE),
    (Landmark.LEFT_KNEE, Landmark.LEFT_ANKLE),
    (Landmark.LEFT_ANKLE, Landmark.LEFT_HEEL),
    (Landmark.LEFT_HEEL, Landmark.LEFT_FOOT_INDEX),
    (Landmark.LEFT_ANKLE, Landmark.LEFT_FOOT_INDEX),
    (Landmark.RIGHT_HIP, Landmark.RIGHT_KNEE),
    (Landmark.RIGHT_KNEE, Landmark.RIGHT_ANKLE),
    (Landmark.RIGHT_ANKLE, Landmark.RIGHT_HEEL),
    (Landmark.RIGHT_HEEL, Landmark.RIGHT_FOOT_INDEX),
    (Landmark.RIGHT_ANKLE, Landmark.RIGHT_FOOT_INDEX),
)
