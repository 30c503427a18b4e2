"""The real MediaPipe model on real photos and video, and the model file's failure modes."""

from __future__ import annotations

import csv
import math
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from coach.adapters import pose_model
from coach.adapters.frames import VideoFileSource, read_image
from coach.adapters.pose_model import MediaPipePoseEstimator, verify_model
from coach.core.features import FeatureExtractor
from coach.core.pose import Pose
from coach.errors import ModelError

pytestmark = [pytest.mark.realmodel, pytest.mark.realdata]

# Plausible joint angles (degrees, interior angle as the coach measures it) by
# pose state. In child's pose the hips sit back toward the heels: knees fully
# bent and hips flexed past a right angle. In a hip lift the hips are lifted
# to nearly straight while the knees stay bent with the feet flat.
PLAUSIBLE: dict[str, dict[str, tuple[float, float]]] = {
    "childs_pose": {"knee": (0.0, 90.0), "hip": (0.0, 90.0)},
    "bridge_up": {"hip": (120.0, 180.0), "knee": (20.0, 130.0)},
}


@dataclass(frozen=True)
class Seen:
    file: str
    state: str
    pose: Pose
    image_size: tuple[int, int]
    raw: dict[str, float]


@pytest.fixture(scope="module")
def seen_images(real_images: Path) -> list[Seen]:
    with (real_images / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    with MediaPipePoseEstimator(mode="image") as estimator:
        for row in rows:
            image = read_image(real_images / row["file"])
            pose = estimator.estimate(image, 0.0)
            raw = dict(FeatureExtractor().update(pose).raw) if not pose.is_empty else {}
            size = (image.shape[1], image.shape[0])
            out.append(Seen(row["file"], row["state"], pose, size, raw))
    return out


def test_every_real_image_yields_a_pose(seen_images):
    assert len(seen_images) > 100
    missed = [s.file for s in seen_images if s.pose.is_empty]
    assert missed == [], f"no pose in {len(missed)} of {len(seen_images)}: {missed}"


def test_landmarks_are_pixels_of_the_original_image(seen_images):
    for s in seen_images:
        assert s.pose.image_size == s.image_size
        width, height = s.image_size
        inside = (
            (s.pose.xy[:, 0] > -0.25 * width)
            & (s.pose.xy[:, 0] < 1.25 * width)
            & (s.pose.xy[:, 1] > -0.25 * height)
            & (s.pose.xy[:, 1] < 1.25 * height)
        )
        assert inside.mean() > 0.9, s.file
        # Normalized 0..1 values would also lie inside that box: the body must
        # also span a real share of the frame in pixels.
        spread = np.nanmax(s.pose.xy, axis=0) - np.nanmin(s.pose.xy, axis=0)
        assert spread[0] > 0.1 * width or spread[1] > 0.1 * height, s.file


@pytest.mark.parametrize("state", sorted(PLAUSIBLE))
def test_labelled_poses_have_plausible_angles(seen_images, state):
    ranges = PLAUSIBLE[state]
    group = [s for s in seen_images if s.state == state]
    assert len(group) >= 20
    outside = {
        s.file: {k: round(s.raw.get(k, math.nan)) for k in ranges}
        for s in group
        if not all(lo <= s.raw.get(k, math.nan) <= hi for k, (lo, hi) in ranges.items())
    }
    inside = len(group) - len(outside)
    print(f"{state}: {inside} of {len(group)} images in {ranges}")
    assert outside == {}, f"{inside} of {len(group)} plausible; outside: {outside}"


def test_real_video_in_video_mode(real_videos):
    source = VideoFileSource(real_videos / "v06_bridge_tj.mp4")
    extractor = FeatureExtractor()
    times, found, frames = [], 0, 0
    with MediaPipePoseEstimator(mode="video") as estimator:
        for frame in source:
            pose = estimator.estimate(frame.image, frame.t_s)
            features = extractor.update(pose)
            frames += 1
            found += not pose.is_empty
            times.append(pose.t_s)
            assert pose.t_s == frame.t_s
            assert features.t_s == frame.t_s
    source.close()
    assert frames >= 0.95 * source.frame_count > 0
    assert np.all(np.diff(times) > 0)
    assert found >= 0.95 * frames, f"pose in {found} of {frames} frames"


def test_video_mode_accepts_a_repeated_timestamp(real_images):
    image = read_image(real_images / "bridge_up" / "b004.jpg")
    with MediaPipePoseEstimator(mode="video") as estimator:
        first = estimator.estimate(image, 1.0)
        again = estimator.estimate(image, 1.0)  # the model itself would refuse this
        older = estimator.estimate(image, 0.5)
    assert not first.is_empty and not again.is_empty and not older.is_empty
    assert again.t_s == 1.0 and older.t_s == 0.5


def test_segmentation_mask_comes_with_the_pose(real_images):
    image = read_image(real_images / "bridge_up" / "b004.jpg")
    with MediaPipePoseEstimator(mode="image", segmentation=True) as estimator:
        pose = estimator.estimate(image, 0.0)
    assert pose.mask is not None and pose.mask.ndim == 2
    assert pose.mask.shape[1] / pose.mask.shape[0] == pytest.approx(
        image.shape[1] / image.shape[0], rel=0.02
    )
    assert 0.02 < float((pose.mask > 0.5).mean()) < 0.9


def test_loading_the_model_prints_no_native_noise(capfd):
    with MediaPipePoseEstimator() as estimator:
        estimator.estimate(np.zeros((120, 160, 3), dtype=np.uint8), 0.0)
    err = capfd.readouterr().err
    assert "Sparsity" not in err and "LiteRT" not in err and "INFO:" not in err, err[:500]


# ------------------------------------------------------------ model failures


def test_missing_bundled_model_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(pose_model, "bundled_model_path", lambda: tmp_path / "gone.task")
    with pytest.raises(ModelError, match="not found") as info:
        MediaPipePoseEstimator()
    assert "--model" in str(info.value) and "gone.task" in str(info.value)


def test_corrupt_bundled_model_is_caught_by_its_hash(tmp_path, monkeypatch):
    broken = tmp_path / pose_model.MODEL_NAME
    shutil.copyfile(verify_model(), broken)
    with broken.open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00" * 64)
    monkeypatch.setattr(pose_model, "bundled_model_path", lambda: broken)
    with pytest.raises(ModelError, match="corrupt"):
        MediaPipePoseEstimator()


@pytest.mark.parametrize(
    ("content", "match"),
    [(b"", "empty"), (b"this is not a model" * 100, "not a MediaPipe model file")],
    ids=["empty", "garbage"],
)
def test_bad_model_given_by_path_is_a_clear_error(tmp_path, content, match):
    bad = tmp_path / "model.task"
    bad.write_bytes(content)
    with pytest.raises(ModelError, match=match):
        MediaPipePoseEstimator(bad)


def test_missing_model_given_by_path(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        MediaPipePoseEstimator(tmp_path / "absent.task")


def test_quieting_native_output_can_nest_and_restores_stderr(capfd):
    done = threading.Event()

    def nested() -> None:
        with pose_model.quiet_native_stderr() as outer:
            os.write(2, b"outer chatter\n")
            with pose_model.quiet_native_stderr() as inner:
                os.write(2, b"inner chatter\n")
        assert "inner chatter" in "".join(inner)
        assert "outer chatter" in "".join(outer)
        done.set()

    worker = threading.Thread(target=nested, daemon=True)
    worker.start()
    assert done.wait(5.0), "nested quiet blocks hung"
    os.write(2, b"after\n")
    err = capfd.readouterr().err
    assert "chatter" not in err and "after" in err
