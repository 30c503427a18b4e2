"""Pose states of the real photos, through the real pose model (image mode, with silhouettes)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coach.core.states import PoseState

pytestmark = [pytest.mark.realdata, pytest.mark.realmodel]

# Share of photos in the right state, per set: at least 0.97 on each (measured
# 132 of 133 and 63 of 64; the misses are a child's pose filmed from the front
# with the knees hidden, and a mild cow that measures as a tabletop).
MIN_ACCURACY = {"manifest.csv": 0.97, "manifest-2.csv": 0.97}
MAX_OTHER_AS_EXERCISE = 0.03  # share of `other` photos called an exercise state


@pytest.fixture(scope="module")
def by_set(real_images: Path) -> dict[str, list[tuple[str, str, str]]]:
    """(file, labelled state, classified state) for every photo, per manifest."""
    from coach.app.commands.classify import classify_images

    out = {}
    for manifest in MIN_ACCURACY:
        if not (real_images / manifest).is_file():
            continue
        with (real_images / manifest).open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        results = classify_images([real_images / row["file"] for row in rows])
        out[manifest] = [
            (row["file"], row["state"], result["state"])
            for row, result in zip(rows, results, strict=True)
        ]
    return out


@pytest.fixture(scope="module")
def predictions(by_set: dict[str, list[tuple[str, str, str]]]) -> list[tuple[str, str, str]]:
    """Every photo of both sets."""
    return [row for rows in by_set.values() for row in rows]


def test_manifest_covers_every_state(predictions: list[tuple[str, str, str]]) -> None:
    labels = Counter(label for _, label, _ in predictions)
    assert set(labels) == {s.value for s in PoseState}


@pytest.mark.parametrize("manifest", list(MIN_ACCURACY))
def test_photos_are_classified_into_their_state(
    by_set: dict[str, list[tuple[str, str, str]]], manifest: str
) -> None:
    if manifest not in by_set:
        pytest.skip(f"{manifest} is missing from the real data")
    rows = by_set[manifest]
    wrong = [(f, label, got) for f, label, got in rows if got != label]
    accuracy = 1.0 - len(wrong) / len(rows)
    assert accuracy >= MIN_ACCURACY[manifest], f"accuracy {accuracy:.3f}; wrong: {wrong}"


def test_other_photos_are_rarely_called_an_exercise_state(
    predictions: list[tuple[str, str, str]],
) -> None:
    others = [(f, got) for f, label, got in predictions if label == PoseState.OTHER.value]
    called = [(f, got) for f, got in others if got not in (PoseState.OTHER.value, "no_pose")]
    assert others
    assert len(called) / len(others) <= MAX_OTHER_AS_EXERCISE, called


@pytest.mark.parametrize("state", [s.value for s in PoseState])
def test_every_state_is_recognised_in_most_of_its_photos(
    predictions: list[tuple[str, str, str]], state: str
) -> None:
    mine = [got for _, label, got in predictions if label == state]
    assert sum(got == state for got in mine) / len(mine) >= 0.75, Counter(mine)


def test_classify_command_prints_json(real_images: Path) -> None:
    from coach.app.cli import app

    files = [real_images / "cat" / "k001.jpg", real_images / "bridge_up" / "b001.jpg"]
    result = CliRunner().invoke(app, ["classify", "--json", *map(str, files)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(Path(r["file"]).name, r["state"]) for r in rows] == [
        ("k001.jpg", "cat"),
        ("b001.jpg", "bridge_up"),
    ]


def test_classify_command_names_a_missing_file(tmp_path: Path) -> None:
    from coach.app.cli import app
    from coach.errors import SourceError

    result = CliRunner().invoke(app, ["classify", str(tmp_path / "missing.jpg")])
    assert isinstance(result.exception, SourceError)
    assert "missing.jpg" in str(result.exception)
