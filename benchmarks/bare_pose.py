"""The bare model on a video: decode every frame and run MediaPipe's pose landmarker on it.

The least any program that finds poses in a video must do, for comparing the
coach's whole process against (see bench_pipeline.py). It does not import the
coach. Prints the number of frames and of frames with a pose.

    python benchmarks/bare_pose.py VIDEO MODEL [--masks] [--lean-import]

--lean-import loads the pose landmarker without the rest of MediaPipe, as the
coach does, so that a comparison shows what the coach adds per frame rather
than what it saves at start-up.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from typing import Any


def lean_tasks() -> tuple[Any, Any, Any, Any, Any]:
    """Landmarker, options, base options, running mode and image, skipping the __init__ files."""
    for name in ("mediapipe", "mediapipe.tasks", "mediapipe.tasks.python"):
        spec = importlib.util.find_spec(name)
        assert spec is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
    vision_spec = importlib.util.find_spec("mediapipe.tasks.python.vision")
    assert vision_spec is not None
    sys.modules["mediapipe.tasks.python.vision"] = importlib.util.module_from_spec(vision_spec)
    landmarker = importlib.import_module("mediapipe.tasks.python.vision.pose_landmarker")
    base = importlib.import_module("mediapipe.tasks.python.core.base_options")
    mode = importlib.import_module("mediapipe.tasks.python.vision.core.vision_task_running_mode")
    image = importlib.import_module("mediapipe.tasks.python.vision.core.image")
    return (
        landmarker.PoseLandmarker,
        landmarker.PoseLandmarkerOptions,
        base.BaseOptions,
        mode.VisionTaskRunningMode,
        image,
    )


def plain_tasks() -> tuple[Any, Any, Any, Any, Any]:
    """The same, imported the usual way."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    return vision.PoseLandmarker, vision.PoseLandmarkerOptions, BaseOptions, vision.RunningMode, mp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video")
    parser.add_argument("model")
    parser.add_argument("--masks", action="store_true", help="ask for segmentation masks")
    parser.add_argument("--lean-import", action="store_true", help="see the module notes")
    args = parser.parse_args()

    import cv2

    landmarker_type, options_type, base_options, running_mode, image_module = (
        lean_tasks() if args.lean_import else plain_tasks()
    )
    options = options_type(
        base_options=base_options(model_asset_path=args.model),
        running_mode=running_mode.VIDEO,
        num_poses=1,
        output_segmentation_masks=args.masks,
    )
    capture = cv2.VideoCapture(args.video)
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    frames = found = 0
    with landmarker_type.create_from_options(options) as landmarker:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            image = image_module.Image(image_format=image_module.ImageFormat.SRGB, data=rgb)
            result = landmarker.detect_for_video(image, round(frames * 1000.0 / fps))
            found += bool(result.pose_landmarks)
            frames += 1
    capture.release()
    print(f"{frames} frames, pose in {found}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
