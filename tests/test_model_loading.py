"""Loading the pose model loads MediaPipe's pose landmarker and no other task."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # a fresh interpreter loads the real model

LOAD_AND_RUN = """
import json, subprocess, sys
started = []
real_init = subprocess.Popen.__init__
def spy(self, args, *rest, **kwargs):
    started.append(str(args))
    real_init(self, args, *rest, **kwargs)
subprocess.Popen.__init__ = spy

import numpy as np
from coach.adapters.pose_model import MediaPipePoseEstimator
with MediaPipePoseEstimator(segmentation=True) as estimator:
    pose = estimator.estimate(np.zeros((240, 320, 3), np.uint8), 0.0)
report = {
    "subprocesses": list(started),
    "loaded": sorted(m for m in ("sounddevice", "matplotlib", "mediapipe.tasks.python.audio")
                     if m in sys.modules),
    "empty": bool(pose.is_empty),
}
# Whoever imports mediapipe afterwards gets the whole package, as usual.
import mediapipe as mp
from mediapipe.tasks.python import BaseOptions, audio, vision
report["later"] = [mp.Image.__name__, vision.PoseLandmarker.__name__, BaseOptions.__name__,
                   audio.AudioClassifier.__name__, mp.ImageFormat.SRGB.name]
print(json.dumps(report))
"""


def test_the_model_loads_without_mediapipes_other_tasks() -> None:
    out = subprocess.run(
        [sys.executable, "-c", LOAD_AND_RUN],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["subprocesses"] == []  # no gcc, ld or ldconfig looking for PortAudio
    assert report["loaded"] == []
    assert report["empty"] is True  # a black frame: nobody, and no error
    assert report["later"] == [
        "Image",
        "PoseLandmarker",
        "BaseOptions",
        "AudioClassifier",
        "SRGB",
    ]
