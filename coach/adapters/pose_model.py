"""MediaPipe Pose Landmarker behind the coach's own ``Pose``.

Nothing outside this module sees a MediaPipe type.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import math
import os
import sys
import tempfile
import threading
import types
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from coach.core.pose import Pose
from coach.errors import ModelError
from coach.files import check_input_file

MODEL_NAME = "pose_landmarker_full.task"
MODEL_SHA256 = "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1"
MAX_WIDTH = 960
# The silhouette is made at the size of the image the model is given, and
# making it costs time for every pixel: a third more than the landmarks alone
# on a portrait 720x1280 video. The back's outline is read from it to a
# fraction of a pixel at a camera's 640x480, so larger frames are shrunk
# (by a whole factor) to no more pixels than that.
MASK_MAX_PIXELS = 640 * 480

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


def _downscale(image_bgr: np.ndarray, max_width: int, max_pixels: int | None = None) -> np.ndarray:
    """The image at most ``max_width`` wide and, when given, at most ``max_pixels`` large."""
    import cv2

    height, width = image_bgr.shape[:2]
    if max_pixels is not None and width * height > max_pixels:
        # Shrunk by a whole factor: area averaging over whole blocks of pixels
        # takes a fraction of the time it takes at any other scale.
        factor = max(math.ceil(math.sqrt(width * height / max_pixels)), -(-width // max_width))
        size = (max(1, width // factor), max(1, height // factor))
        whole = width % factor == 0 and height % factor == 0
        return cv2.resize(
            image_bgr, size, interpolation=cv2.INTER_AREA if whole else cv2.INTER_LINEAR
        )
    if width <= max_width:
        return image_bgr
    new_size = (max_width, max(1, round(height * max_width / width)))
    return cv2.resize(image_bgr, new_size, interpolation=cv2.INTER_AREA)


# ------------------------------------------------------------ loading MediaPipe
# ``import mediapipe`` runs the package's __init__ files, which load every task
# MediaPipe has: the audio tasks import sounddevice, whose search for PortAudio
# starts gcc, ld and ldconfig, and the vision drawing helpers import
# matplotlib.pyplot. The coach uses the pose landmarker alone, so the packages
# on the way to it are entered without running their __init__ files; each
# completes itself, as a plain import would have, the first time code asks it
# for a name it does not hold yet.
_MP_PACKAGES = (
    "mediapipe",
    "mediapipe.tasks",
    "mediapipe.tasks.python",
    "mediapipe.tasks.python.vision",
)
_MP_LOCK = threading.RLock()  # re-entrant: completing may load more


@dataclass(frozen=True)
class PoseTasks:
    """The parts of MediaPipe's Tasks API the coach uses."""

    base_options: Any
    options: Any
    landmarker: Any
    running_mode: Any
    image: Any
    image_format: Any


# Packages entered without their __init__, outermost first, with their loaders.
_ENTERED: list[tuple[types.ModuleType, Any]] = []


def _complete_entered() -> None:
    """Run the __init__ of every entered package, innermost first, as a plain import does."""
    while _ENTERED:
        module, loader = _ENTERED.pop()
        module.__dict__.pop("__getattr__", None)
        loader.exec_module(module)


def _enter_package(name: str) -> None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"no package {name}")
    module = importlib.util.module_from_spec(spec)

    def complete(attribute: str) -> Any:
        if not attribute.startswith("__"):
            try:
                submodule = importlib.util.find_spec(f"{name}.{attribute}")
            except (ImportError, ValueError):
                submodule = None
            if submodule is not None:
                return importlib.import_module(f"{name}.{attribute}")
        # Asked for something only the packages' own __init__ files provide.
        with _MP_LOCK:
            _complete_entered()
        return getattr(module, attribute)

    module.__getattr__ = complete  # type: ignore[method-assign]
    sys.modules[name] = module
    _ENTERED.append((module, spec.loader))
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def _lean_import() -> PoseTasks:
    staged: list[str] = []
    try:
        for name in _MP_PACKAGES:
            if name not in sys.modules:
                _enter_package(name)
                staged.append(name)
        base_options = importlib.import_module("mediapipe.tasks.python.core.base_options")
        pose_landmarker = importlib.import_module("mediapipe.tasks.python.vision.pose_landmarker")
        image = importlib.import_module("mediapipe.tasks.python.vision.core.image")
        vision_task_running_mode = importlib.import_module(
            "mediapipe.tasks.python.vision.core.vision_task_running_mode"
        )
    except Exception as exc:
        # Leave mediapipe as if it had never been touched, for the plain import.
        fresh = staged[:1] == ["mediapipe"]
        _ENTERED.clear()
        for name in list(sys.modules):
            if name in staged or (fresh and name.startswith("mediapipe.")):
                del sys.modules[name]
        raise ImportError(f"mediapipe's pose landmarker cannot be loaded alone: {exc}") from exc
    return PoseTasks(
        base_options=base_options.BaseOptions,
        options=pose_landmarker.PoseLandmarkerOptions,
        landmarker=pose_landmarker.PoseLandmarker,
        running_mode=vision_task_running_mode.VisionTaskRunningMode,
        image=image.Image,
        image_format=image.ImageFormat,
    )


def _full_import() -> PoseTasks:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    return PoseTasks(
        base_options=BaseOptions,
        options=vision.PoseLandmarkerOptions,
        landmarker=vision.PoseLandmarker,
        running_mode=vision.RunningMode,
        image=mp.Image,
        image_format=mp.ImageFormat,
    )


@functools.cache
def pose_tasks() -> PoseTasks:
    """MediaPipe's pose landmarker and image types, loaded without its other tasks.

    Falls back to the plain ``import mediapipe`` when this MediaPipe is laid
    out differently.

    Raises:
        ModelError: MediaPipe is not installed.
    """
    with _MP_LOCK:
        try:
            return _lean_import()
        except ImportError:
            pass
        try:
            return _full_import()
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelError("mediapipe is not installed. Run: pip install .") from exc


def open_landmarker(
    model: Path,
    *,
    mode: RunningMode,
    segmentation: bool,
    min_detection_confidence: float = 0.5,
    min_tracking_confidence: float = 0.5,
) -> Any:
    """A MediaPipe pose landmarker for one person, its start-up chatter hidden.

    Raises:
        ModelError: The model file cannot be loaded, with what MediaPipe said.
    """
    tasks = pose_tasks()
    block_usage_upload()
    options = tasks.options(
        base_options=tasks.base_options(model_asset_path=str(model)),
        running_mode=tasks.running_mode.VIDEO if mode == "video" else tasks.running_mode.IMAGE,
        num_poses=1,
        min_pose_detection_confidence=min_detection_confidence,
        min_tracking_confidence=min_tracking_confidence,
        output_segmentation_masks=segmentation,
    )
    with quiet_native_stderr() as native_log:
        try:
            landmarker = tasks.landmarker.create_from_options(options)
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
    return landmarker


class _Landmarker:
    """One MediaPipe landmarker and the last timestamp it was given."""

    def __init__(self, handle: Any, mode: RunningMode, segmentation: bool) -> None:
        self.handle = handle
        self.mode = mode
        self.segmentation = segmentation
        self.last_ms = -1
        self.first_frame = True

    def detect(self, image: Any, t_s: float) -> Any:
        if self.first_frame:
            # The first frame prints native warnings once; later frames are silent.
            self.first_frame = False
            with quiet_native_stderr():
                return self._detect(image, t_s)
        return self._detect(image, t_s)

    def _detect(self, image: Any, t_s: float) -> Any:
        if self.mode == "video":
            ms = max(round(t_s * 1000.0), self.last_ms + 1)
            self.last_ms = ms
            return self.handle.detect_for_video(image, ms)
        return self.handle.detect(image)

    def close(self) -> None:
        with quiet_native_stderr():
            self.handle.close()


class MediaPipePoseEstimator:
    """MediaPipe ``PoseLandmarker`` returning the coach's ``Pose``.

    In video mode the model tracks the person from frame to frame, which is
    about twice as fast as detecting anew in every frame; timestamps must then
    rise strictly, so a repeated or older timestamp is nudged forward by 1 ms.

    The person's silhouette (segmentation mask) costs time on every frame, so
    it is made only while asked for. A landmarker is set up for masks or
    without them once; ``prepare`` sets the other one up in the background,
    so that ``use_segmentation`` switches between them from one frame to the
    next without a pause. Video frames given the silhouette are first made at
    most ``mask_max_pixels`` large, as frames are made at most ``max_width`` wide.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        mode: RunningMode = "video",
        segmentation: bool = False,
        max_width: int = MAX_WIDTH,
        mask_max_pixels: int = MASK_MAX_PIXELS,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        self._model = verify_model(model_path)
        self._mode: RunningMode = mode
        self._max_width = max_width
        self._mask_max_pixels = mask_max_pixels
        self._confidence = (min_detection_confidence, min_tracking_confidence)
        self._lock = threading.Lock()
        self._ready: dict[bool, _Landmarker] = {segmentation: self._open(segmentation)}
        self._building: dict[bool, threading.Thread] = {}
        self._errors: dict[bool, ModelError] = {}
        self._segmentation = segmentation
        self._closed = False

    def _open(self, segmentation: bool) -> _Landmarker:
        detection, tracking = self._confidence
        handle = open_landmarker(
            self._model,
            mode=self._mode,
            segmentation=segmentation,
            min_detection_confidence=detection,
            min_tracking_confidence=tracking,
        )
        return _Landmarker(handle, self._mode, segmentation)

    def __enter__(self) -> MediaPipePoseEstimator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def segmentation(self) -> bool:
        """Whether frames from now on get the person's silhouette."""
        return self._segmentation

    def prepare(self, segmentation: bool) -> None:
        """Set up the landmarker for ``segmentation`` in a background thread, if not yet done."""
        with self._lock:
            if self._closed or segmentation in self._ready or segmentation in self._building:
                return
            thread = threading.Thread(
                target=self._build, args=(segmentation,), name="coach-landmarker", daemon=True
            )
            self._building[segmentation] = thread
        thread.start()

    def _build(self, segmentation: bool) -> None:
        try:
            landmarker = self._open(segmentation)
        except ModelError as exc:
            with self._lock:
                self._errors[segmentation] = exc
                del self._building[segmentation]
            return
        with self._lock:
            del self._building[segmentation]
            if not self._closed:
                self._ready[segmentation] = landmarker
                return
        landmarker.close()

    def use_segmentation(self, segmentation: bool, *, wait: bool = False) -> None:
        """Give frames the silhouette (or not) from the next frame on.

        The landmarker for it is set up in the background when it is not
        ready; until then frames go on through the current one. With
        ``wait`` the call returns once it is ready.

        Raises:
            ModelError: Setting up the landmarker failed.
        """
        self._segmentation = segmentation
        self.prepare(segmentation)
        if wait:
            with self._lock:
                thread = self._building.get(segmentation)
            if thread is not None:
                thread.join()
        with self._lock:
            error = self._errors.pop(segmentation, None)
        if error is not None:
            raise error

    def _current(self) -> _Landmarker:
        with self._lock:
            chosen = self._ready.get(self._segmentation)
            if chosen is not None:
                return chosen
            return next(iter(self._ready.values()))

    def close(self) -> None:
        """Release the model; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            ready, self._ready = list(self._ready.values()), {}
            building = list(self._building.values())
        for thread in building:
            thread.join()
        for landmarker in ready:
            landmarker.close()

    def estimate(self, image_bgr: np.ndarray, t_s: float) -> Pose:
        """Landmarks of the person in ``image_bgr`` at time ``t_s``, or an empty pose."""
        import cv2

        tasks = pose_tasks()
        height, width = image_bgr.shape[:2]
        landmarker = self._current()
        # Only moving pictures are shrunk for the silhouette: a photo is judged once.
        shrink = landmarker.segmentation and self._mode == "video"
        small = _downscale(image_bgr, self._max_width, self._mask_max_pixels if shrink else None)
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)  # a new contiguous array
        image = tasks.image(image_format=tasks.image_format.SRGB, data=rgb)
        result = landmarker.detect(image, t_s)
        return self._to_pose(result, t_s, (width, height))

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
