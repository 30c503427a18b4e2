"""Frame sources: camera (with a scripted capture double), video files, images, and their errors."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_until

from coach.adapters.camera import CameraSource, backends_for_platform
from coach.adapters.frames import (
    ImageFileSource,
    ImageFolderSource,
    VideoFileSource,
    VideoFileWriter,
    open_source,
    write_image,
)
from coach.errors import CameraNotFoundError, CameraStalledError, SourceError, VideoReadError

MISSING_CAMERA = 57  # no machine running these tests has 58 cameras


class ScriptedCapture:
    """Stands in for cv2.VideoCapture: delivers ``frames`` pictures, then nothing."""

    def __init__(self, frames: int | None, interval_s: float = 0.005) -> None:
        self.frames = frames
        self.interval_s = interval_s
        self.sent = 0
        self.released = threading.Event()

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(self.interval_s)
        if self.frames is not None and self.sent >= self.frames:
            return False, None
        self.sent += 1
        return True, np.full((4, 4, 3), self.sent % 256, dtype=np.uint8)

    def release(self) -> None:
        self.released.set()


def camera_with(capture: ScriptedCapture, **kwargs: float) -> CameraSource:
    return CameraSource(0, opener=lambda index, w, h: capture, **kwargs)


# -------------------------------------------------------------------- camera


def test_missing_camera_fails_fast_and_clearly():
    start = time.monotonic()
    with pytest.raises(CameraNotFoundError) as info:
        CameraSource(MISSING_CAMERA)
    assert time.monotonic() - start < 2.0
    message = str(info.value)
    assert f"{MISSING_CAMERA}" in message and "--camera" in message


def test_camera_that_hangs_on_open_fails_within_the_open_timeout():
    def hang(index: int, width: int, height: int) -> ScriptedCapture:
        time.sleep(3.0)
        return ScriptedCapture(None)

    start = time.monotonic()
    with pytest.raises(CameraNotFoundError, match="did not open"):
        CameraSource(0, opener=hang, open_timeout_s=0.3)
    assert time.monotonic() - start < 1.0


@pytest.mark.parametrize(
    "opener",
    [lambda i, w, h: None, lambda i, w, h: (_ for _ in ()).throw(RuntimeError("driver error"))],
    ids=["refused", "driver-error"],
)
def test_camera_that_cannot_open_is_not_found(opener):
    with pytest.raises(CameraNotFoundError):
        CameraSource(0, opener=opener)


def test_camera_stamps_frames_in_rising_seconds():
    with camera_with(ScriptedCapture(None)) as camera:
        frames = [camera.read() for _ in range(5)]
    times = [f.t_s for f in frames]
    assert np.all(np.diff(times) > 0)
    assert 0.0 < times[0] < 2.0


def test_slow_reader_gets_the_newest_frame_not_a_backlog():
    capture = ScriptedCapture(None, interval_s=0.002)
    with camera_with(capture) as camera:
        first = int(camera.read().image[0, 0, 0])
        sent = capture.sent
        wait_until(lambda: capture.sent >= sent + 20)  # the model is busy; the camera sends on
        second = int(camera.read().image[0, 0, 0])
    assert (second - first) % 256 > 10  # frames in between were dropped


def test_camera_that_stops_sending_is_reported_as_stalled():
    with camera_with(ScriptedCapture(3), stall_timeout_s=0.3) as camera:
        camera.read()
        start = time.monotonic()
        with pytest.raises(CameraStalledError, match="stopped sending"):
            for _ in range(4):  # at most the other two pictures, then silence
                start = time.monotonic()
                camera.read()
        assert 0.25 < time.monotonic() - start < 1.5


def test_camera_that_never_sends_is_reported():
    with (
        camera_with(ScriptedCapture(0), stall_timeout_s=0.2, first_frame_timeout_s=0.3) as camera,
        pytest.raises(CameraStalledError, match="no picture"),
    ):
        camera.read()


def test_close_stops_the_grabber_and_releases_the_camera():
    capture = ScriptedCapture(None)
    camera = camera_with(capture)
    camera.read()
    camera.close()
    assert capture.released.wait(1.0)
    assert not any(t.name == "camera-0" and t.is_alive() for t in threading.enumerate())
    camera.close()  # twice is fine


@pytest.mark.parametrize(
    ("platform", "first"),
    [("linux", "CAP_V4L2"), ("win32", "CAP_DSHOW"), ("darwin", "CAP_AVFOUNDATION")],
)
def test_each_os_gets_its_own_camera_backend(platform, first):
    assert backends_for_platform(platform)[0] == first
    if platform == "win32":
        assert backends_for_platform(platform)[1] == "CAP_MSMF"


# --------------------------------------------------------------------- video


def test_missing_video_is_a_clear_error(tmp_path):
    with pytest.raises(VideoReadError, match="not found"):
        VideoFileSource(tmp_path / "nothing.mp4")


def test_corrupt_video_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_bytes(np.random.default_rng(3).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(VideoReadError, match=str(bad.name)):
        VideoFileSource(bad)


def write_video(path: Path, frames: int, fps: float = 25.0) -> Path:
    writer = VideoFileWriter(path, fps, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), i * 10 % 256, dtype=np.uint8))
    writer.close()
    return path


@pytest.mark.parametrize("prefetch", [0, 4])
def test_video_frames_are_timed_by_index_and_rate(tmp_path, prefetch):
    video = write_video(tmp_path / "clip.mp4", 12)
    source = VideoFileSource(video, prefetch=prefetch)
    times = [frame.t_s for frame in source]
    source.close()
    assert source.fps == pytest.approx(25.0)
    assert times == pytest.approx([i / 25.0 for i in range(12)])


def test_video_frames_can_be_resized_while_decoding(tmp_path):
    video = write_video(tmp_path / "clip.mp4", 3)
    source = VideoFileSource(video, size=(32, 24))
    shapes = {frame.image.shape for frame in source}
    source.close()
    assert shapes == {(24, 32, 3)}
    assert source.size == (32, 24)


def test_closing_a_video_early_stops_decoding(tmp_path):
    video = write_video(tmp_path / "clip.mp4", 40)
    source = VideoFileSource(video, prefetch=2)
    frames = iter(source)
    next(frames)
    next(frames)
    source.close()
    assert not any(t.name == "decode-clip.mp4" and t.is_alive() for t in threading.enumerate())


def test_real_video_decodes_every_frame(real_videos):
    source = VideoFileSource(real_videos / "v06_bridge_tj.mp4")
    frames = list(source)
    source.close()
    assert len(frames) >= 0.95 * source.frame_count > 0
    assert frames[0].image.shape[:2] == (source.size[1], source.size[0])
    times = [f.t_s for f in frames]
    assert np.all(np.diff(times) > 0)


# -------------------------------------------------------------------- images


def test_image_folder_yields_images_in_name_order(tmp_path):
    for name, value in (("b.png", 20), ("a.jpg", 10)):
        write_image(tmp_path / name, np.full((8, 8, 3), value, dtype=np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    source = ImageFolderSource(tmp_path)
    frames = list(source)
    assert [p.name for p in source.paths] == ["a.jpg", "b.png"]
    assert [f.t_s for f in frames] == pytest.approx([0.0, 1 / 30])


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda d: d / "absent", "not found"),
        (lambda d: d, "No images"),
    ],
    ids=["missing-folder", "empty-folder"],
)
def test_image_folder_errors(tmp_path, make, match):
    with pytest.raises(SourceError, match=match):
        ImageFolderSource(make(tmp_path))


def test_unreadable_image_is_a_clear_error(tmp_path):
    fake = tmp_path / "photo.jpg"
    fake.write_text("not a picture")
    with pytest.raises(SourceError, match="Cannot read image"):
        ImageFileSource(fake)


# --------------------------------------------------------------- open_source


def test_open_source_picks_the_source_by_what_it_is_given(tmp_path):
    image = write_image(tmp_path / "one.png", np.zeros((8, 8, 3), dtype=np.uint8))
    video = write_video(tmp_path / "clip.mp4", 3)
    cases = {image: ImageFileSource, video: VideoFileSource, tmp_path: ImageFolderSource}
    for spec, kind in cases.items():
        for given in (spec, str(spec)):
            source = open_source(given)
            assert isinstance(source, kind), given
            source.close()


@pytest.mark.parametrize("spec", [MISSING_CAMERA, str(MISSING_CAMERA), f" {MISSING_CAMERA} "])
def test_open_source_treats_numbers_as_cameras(spec):
    with pytest.raises(CameraNotFoundError):
        open_source(spec)


def test_open_source_errors_are_clear(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        open_source(tmp_path / "nothing.mp4")
    odd = tmp_path / "notes.txt"
    odd.write_text("hello")
    with pytest.raises(SourceError, match="neither an image"):
        open_source(odd)
