"""MediaPipe Pose Landmarker behind the coach's own ``Pose``.

Nothing outside this module sees a MediaPipe type.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from coach.core.pose import Pose
from coach.errors import ModelError
from coach.files import check_input_file

MODEL_NAME = "pose_landmarker_full.task"
MODEL_SHA256 = "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1"
MAX_WIDTH = 960

RunningMode = Literal["video", "image"]


class PoseEstimator(Protocol):
    """Finds one person's landmarks in a frame."""

    def estimate(self, image_bgr: np.ndarray, t_s: float) -> Pose:
        """Landmarks of the person in ``image_bgr`` at time ``t_s``, or an empty pose."""
        ...

    def close(self) -> None:
        """Release the model."""
        ...


def bundled_model_path() -> Path:
    """Where the model shipped inside the package lies."""
    return Path(str(resources.files("coach.models").joinpath(MODEL_NAME)))


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_model(path: Path | None = None, *, check_hash: bool = True) -> Path:
    """Check that the model file exists and is the expected one.

    Args:
        path: A model file to use instead of the bundled one.
        check_hash: Compare the bundled model with its known SHA-256. A model
            given by path is the user's own choice and is not compared.

    Raises:
        ModelError: The file is missing, empty or corrupt, with what to do.
    """
    bundled = path is None
    model = bundled_model_path() if path is None else Path(path)
    reinstall = "Reinstall the coach (pip install --force-reinstall .) or pass --model PATH."
    if not model.exists():
        raise ModelError(f"Pose model not found at {model}. {reinstall}")
    check_input_file(model, "pose model file", error=ModelError)
    if model.stat().st_size == 0:
        raise ModelError(f"Pose model at {model} is empty. {reinstall}")
    if bundled and check_hash:
        actual = sha256_of(model)
        if actual != MODEL_SHA256:
            raise ModelError(
                f"Pose model at {model} is corrupt (SHA-256 {actual[:12]}..., "
                f"expected {MODEL_SHA256[:12]}...). {reinstall}"
            )
    elif not bundled:
        _check_task_bundle(model)
    return model


def _check_task_bundle(model: Path) -> None:
    """A ``.task`` file is a zip of TFLite models: check every member against its CRC.

    MediaPipe loads a model with a flipped byte without a word and then finds
    wrong landmarks; the zip's checksums catch that before the session.

    Raises:
        ModelError: The file is not a task bundle, or a member is damaged.
    """
    advice = "Use a MediaPipe pose landmarker .task file, or leave out --model."
    try:
        with zipfile.ZipFile(model) as bundle:
            names = bundle.namelist()
            damaged = bundle.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ModelError(
            f"Pose model at {model} is damaged or not a MediaPipe model file ({exc}). {advice}"
        ) from exc
    if damaged is not None:
        raise ModelError(
            f"Pose model at {model} is damaged: {damaged} fails its checksum. {advice}"
        )
    if not any(name.endswith(".tflite") for name in names):
        raise ModelError(f"Pose model at {model} holds no TFLite model. {advice}")


# The MediaPipe Tasks library attaches a usage logger to every task it creates:
# it posts statistics to play.googleapis.com through its built-in libcurl when
# the task closes and every 60 s while it runs, with no option to turn it off.
# libcurl takes its proxy from the environment at each request, so pointing the
# HTTPS proxy at a scheme it does not know makes every upload fail inside
# libcurl, before a name is looked up or a socket is opened. The coach itself
# uses no network, so this costs nothing else.
_NO_UPLOAD_PROXY = "unsupported-no-network://"
_NO_UPLOAD_ENV = {"https_proxy": _NO_UPLOAD_PROXY, "HTTPS_PROXY": _NO_UPLOAD_PROXY}
_PROXY_BYPASS_ENV = ("no_proxy", "NO_PROXY")  # a host listed there would go direct


def block_usage_upload() -> None:
    """Keep MediaPipe's usage statistics on this computer (see the notes above)."""
    for name, value in _NO_UPLOAD_ENV.items():
        os.environ[name] = value
    for name in _PROXY_BYPASS_ENV:
        os.environ.pop(name, None)


# MediaPipe's native code writes start-up and shut-down chatter (LiteRT INFO
# lines, "Sparsity tensors" warnings) straight to the stderr file descriptor;
# no environment variable turns it off, so the descriptor is pointed elsewhere
# while the model loads, runs its first frame and closes.
_STDERR_LOCK = threading.RLock()  # re-entrant: blocks may nest
_NATIVE_LOG_TAIL_CHARS = 2000


@contextmanager
def quiet_native_stderr() -> Iterator[list[str]]:
    """Hide what native code writes to stderr inside the block.

    Yields a list that receives the hidden text when the block ends, so an
    error can still show it. Set ``COACH_NATIVE_LOGS=1`` to see it live.
    """
    captured: list[str] = []
    if os.environ.get("COACH_NATIVE_LOGS") == "1":
        yield captured
        return
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no real stderr descriptor (embedded, pythonw)
            yield captured
            return
        with tempfile.TemporaryFile(mode="w+b") as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield captured
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                captured.append(sink.read().decode("utf-8", "replace"))


def _downscale(image_bgr: np.ndarray, max_width: int) -> np.ndarray:
    import cv2

    height, width = image_bgr.shape[:2]
    if width <= max_width:
        return image_bgr
    new_size = (max_width, max(1, round(height * max_width / width)))
    return cv2.resize(image_bgr, new_size, interpolation=cv2.INTER_AREA)


class MediaPipePoseEstimator:
    """MediaPipe ``PoseLandmarker`` returning the coach's ``Pose``.

    In video mode the model tracks the person from frame to frame, which is
    about twice as fast as detecting anew in every frame; timestamps must then
    rise strictly, so a repeated or older timestamp is nudged forward by 1 ms.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        mode: RunningMode = "video",
        segmentation: bool = False,
        max_width: int = MAX_WIDTH,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        model = verify_model(model_path)
        block_usage_upload()
        try:
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelError("mediapipe is not installed. Run: pip install .") from exc
        self._mode = mode
        self._segmentation = segmentation
        self._max_width = max_width
        self._last_ms = -1
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE,
            num_poses=1,
            min_pose_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
            output_segmentation_masks=segmentation,
        )
        with quiet_native_stderr() as native_log:
            try:
                self._landmarker = vision.PoseLandmarker.create_from_options(options)
            except (RuntimeError, ValueError) as exc:
                failure: Exception | None = exc
            else:
                failure = None
        if failure is not None:
            detail = "".join(native_log).strip()[-_NATIVE_LOG_TAIL_CHARS:]
            raise ModelError(
                f"Pose model at {model} cannot be loaded ({failure}). "
                "The file is not a MediaPipe pose landmarker model or is damaged: "
                "reinstall the coach or pass --model with a good .task file."
                + (f"\nMediaPipe said:\n{detail}" if detail else "")
            ) from failure
        self._closed = False
        self._first_frame = True

    def __enter__(self) -> MediaPipePoseEstimator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the model; safe to call twice."""
        if not self._closed:
            self._closed = True
            with quiet_native_stderr():
                self._landmarker.close()

    def estimate(self, image_bgr: np.ndarray, t_s: float) -> Pose:
        """Landmarks of the person in ``image_bgr`` at time ``t_s``, or an empty pose."""
        import cv2
        import mediapipe as mp

        height, width = image_bgr.shape[:2]
        small = _downscale(image_bgr, self._max_width)
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)  # a new contiguous array
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        if self._first_frame:
            # The first frame prints native warnings once; later frames are silent.
            self._first_frame = False
            with quiet_native_stderr():
                result = self._detect(image, t_s)
        else:
            result = self._detect(image, t_s)
        return self._to_pose(result, t_s, (width, height))

    def _detect(self, image: object, t_s: float) -> object:
        if self._mode == "video":
            ms = max(round(t_s * 1000.0), self._last_ms + 1)
            self._last_ms = ms
            return self._landmarker.detect_for_video(image, ms)
        return self._landmarker.detect(image)

    @staticmethod
    def _to_pose(result: object, t_s: float, size: tuple[int, int]) -> Pose:
        landmarks = getattr(result, "pose_landmarks", None)
        if not landmarks:
            return Pose.empty(t_s, size)
        norm = np.array(
            [[p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0] for p in landmarks[0]],
            dtype=np.float32,
        )
        world_list = getattr(result, "pose_world_landmarks", None)
        if world_list:
            world = np.array([[p.x, p.y, p.z] for p in world_list[0]], dtype=np.float32)
        else:
            world = np.full((len(norm), 3), np.nan, dtype=np.float32)
        mask = None
        masks = getattr(result, "segmentation_masks", None)
        if masks:
            # A read-only view; Pose makes its own copy, so no copy here.
            mask = masks[0].numpy_view().squeeze()
        return Pose.from_normalized(t_s, norm, world, size, mask)
