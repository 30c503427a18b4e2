"""``coach pose``: what the coach sees in an image, a video or the camera.

Prints the near side's main joints and the body features (angles, side,
view and framing checks) and can write an annotated copy. This is how a
person checks that the camera is placed well before a session.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from coach.text import shown

if TYPE_CHECKING:
    import numpy as np

    from coach.core.features import Features

# Values shown on the annotated copy, in this order, with their units.
OVERLAY_VALUES: tuple[tuple[str, str], ...] = (
    ("hip", "deg"),
    ("knee", "deg"),
    ("shoulder", "deg"),
    ("trunk", "deg"),
    ("hip_lift", "torso"),
    ("back_bend", "torso"),
    ("head_pitch", "deg"),
)


def _number(value: float, digits: int = 2) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def frame_record(index: int, features: Features) -> dict[str, Any]:
    """One frame as a JSON-ready dict: checks, signals and the near side's joints."""
    from coach.core.landmarks import SIDE_LANDMARKS

    record: dict[str, Any] = {
        "frame": index,
        "t_s": round(features.t_s, 3),
        "pose_found": not features.pose.is_empty,
        "present": features.present,
        "side": features.side.value if features.side else None,
        "side_view": features.side_view,
        "whole_body": features.whole_body,
        "visibility": _number(features.visibility, 3),
        "values": {k: _number(v) for k, v in features.values.items()},
        "joints": {},
    }
    if features.side is not None:
        pose = features.pose
        for joint, landmark in SIDE_LANDMARKS[features.side].items():
            x, y = pose.xy[int(landmark)]
            record["joints"][joint.value] = {
                "x": _number(x, 1),
                "y": _number(y, 1),
                "visibility": _number(pose.visibility[int(landmark)], 3),
            }
    return record


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if unit == "deg" else f"{value:.2f}"


def summary_line(record: Mapping[str, Any]) -> str:
    """One frame in one line of text."""
    head = f"t={record['t_s']:7.2f}s"
    if not record["pose_found"]:
        return f"{head}  no person found"
    checks = (
        f"side={record['side']:<5} view={'side' if record['side_view'] else 'NOT side'} "
        f"body={'in frame' if record['whole_body'] else 'CUT OFF'} vis={record['visibility']:.2f}"
    )
    values = record["values"]
    signals = " ".join(f"{name}={_fmt(values.get(name), unit)}" for name, unit in OVERLAY_VALUES)
    return f"{head}  {checks}  {signals}"


def annotate(image: np.ndarray, features: Features) -> np.ndarray:
    """A copy of ``image`` with the skeleton and the main values written on it."""
    import cv2

    from coach.adapters.overlay import draw_skeleton

    out = draw_skeleton(image, features.pose, side=features.side)
    record = frame_record(0, features)
    if not record["pose_found"]:
        lines = ["no person found"]
    else:
        lines = [
            f"side {record['side']}  "
            f"{'side view' if record['side_view'] else 'NOT a side view'}  "
            f"{'whole body' if record['whole_body'] else 'body CUT OFF'}",
            "  ".join(
                f"{name} {_fmt(record['values'].get(name), unit)}" for name, unit in OVERLAY_VALUES
            ),
        ]
    scale = max(0.4, out.shape[0] / 900)
    thickness = max(1, round(1.5 * scale))
    font = cv2.FONT_HERSHEY_SIMPLEX
    sizes = [cv2.getTextSize(line, font, scale, thickness)[0] for line in lines]
    step = max(h for _, h in sizes) * 2
    # A dark band under light text: readable on any background.
    cv2.rectangle(
        out, (0, 0), (max(w for w, _ in sizes) + 20, step * len(lines) + step // 2), (0, 0, 0), -1
    )
    for i, line in enumerate(lines):
        cv2.putText(
            out, line, (10, step * (i + 1)), font, scale, (255, 255, 255), thickness, cv2.LINE_AA
        )
    return out


def print_image_report(record: Mapping[str, Any], name: str) -> None:
    """A single image's joints and signals as two tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not record["pose_found"]:
        console.print(f"[yellow]{shown(name)}: no person found.[/]")
        return
    console.print(
        f"[bold]{shown(name)}[/]: near side {record['side']}, "
        f"{'side view' if record['side_view'] else '[yellow]not a side view[/]'}, "
        f"{'whole body in frame' if record['whole_body'] else '[yellow]body cut off[/]'}, "
        f"visibility {record['visibility']:.2f}"
    )
    joints = Table(title="Near-side joints (pixels)")
    for column in ("joint", "x", "y", "visibility"):
        joints.add_column(column, justify="left" if column == "joint" else "right")
    for joint, point in record["joints"].items():
        joints.add_row(joint, _fmt(point["x"]), _fmt(point["y"]), _fmt(point["visibility"]))
    values = Table(title="Features")
    values.add_column("signal")
    values.add_column("value", justify="right")
    for signal, value in record["values"].items():
        values.add_row(signal, "-" if value is None else f"{value:.2f}")
    console.print(joints)
    console.print(values)


def inspect(
    spec: str,
    *,
    out: Path | None,
    as_json: bool,
    model: Path | None,
    every: int,
    segmentation: bool,
    max_frames: int | None,
) -> int:
    """Run the pose model over ``spec`` and report; returns the number of frames with a pose."""
    from rich.console import Console

    from coach.adapters.frames import (
        ImageFileSource,
        ImageFolderSource,
        VideoFileWriter,
        open_source,
        write_image,
    )
    from coach.app.pipeline import open_pipeline
    from coach.core.features import LANDMARKS_ONLY, WITH_SILHOUETTE

    console = Console(stderr=True)
    source = open_source(spec)
    stills = isinstance(source, ImageFileSource | ImageFolderSource)
    single = isinstance(source, ImageFileSource)
    try:
        if out is not None:
            _check_out(out, Path(spec).expanduser(), source)
    except BaseException:
        source.close()
        raise
    writer: VideoFileWriter | None = None
    found = 0
    count = 0
    try:
        with open_pipeline(
            model=model,
            mode="image" if stills else "video",
            perception=WITH_SILHOUETTE if segmentation else LANDMARKS_ONLY,
            stills=stills,  # unrelated photos: nothing carries over
        ) as pipeline:
            frames = source if max_frames is None else itertools.islice(source, max_frames)
            for index, seen in enumerate(pipeline.run(frames)):
                features = seen.features
                count += 1
                found += not features.pose.is_empty
                record = frame_record(index, features)
                image_path = source.current if isinstance(source, ImageFolderSource) else None
                if image_path is not None:
                    record["file"] = image_path.name
                if index % every == 0:
                    if as_json:
                        print(json.dumps(record), flush=True)
                    elif single:
                        print_image_report(record, Path(spec).name)
                    else:
                        prefix = f"{record['file']}  " if "file" in record else ""
                        print(prefix + summary_line(record), flush=True)
                if out is None:
                    continue
                annotated = annotate(seen.image, features)
                if single:
                    write_image(out, annotated)
                elif image_path is not None:
                    write_image(out / image_path.name, annotated)
                else:
                    if writer is None:
                        fps = float(getattr(source, "fps", 30.0))
                        size = (annotated.shape[1], annotated.shape[0])
                        writer = VideoFileWriter(out, fps, size)
                    writer.write(annotated)
    finally:
        source.close()
        if writer is not None:
            writer.close()
    for note in getattr(source, "notes", ()):
        console.print(f"[yellow]{shown(note, 1000)}[/]")
    if not as_json:
        console.print(f"{found} of {count} frames with a person.")
        if out is not None:
            console.print(f"Annotated copy written to {shown(out)}")
    return found


def _check_out(out: Path, given: Path, source: object) -> None:
    """Refuse an output that would write over the input, or that cannot be what is asked.

    Raises:
        SourceError: With what to give instead.
    """
    from coach.adapters.frames import ImageFolderSource
    from coach.errors import SourceError
    from coach.files import make_private_dir, refuse_inputs

    if isinstance(source, ImageFolderSource):
        if out.exists() and not out.is_dir():
            raise SourceError(
                f"--out {out} is a file; for a folder of images give a folder to write into."
            )
        refuse_inputs(out, [given], error=SourceError)
        try:
            make_private_dir(out)
        except OSError as exc:
            raise SourceError(f"Cannot create {out}: {exc.strerror or exc}.") from exc
        return
    if out.is_dir():
        raise SourceError(f"--out {out} is a folder; give a file name for the annotated copy.")
    if given.exists():
        refuse_inputs(out, [given], error=SourceError)
    if not out.parent.is_dir():
        raise SourceError(f"Cannot write {out}: folder {out.parent} does not exist.")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""

    @app.command("pose")
    def pose_command(
        source: Annotated[
            str,
            typer.Argument(
                help="An image, a video, a folder of images, or a camera number (0, 1, ...)."
            ),
        ],
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                help="Write an annotated copy: an image for an image, an .mp4 for a video "
                "or camera, a folder for a folder.",
            ),
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="One JSON object per frame instead of text.")
        ] = False,
        model: Annotated[
            Path | None, typer.Option("--model", help="Use this pose model file.")
        ] = None,
        every: Annotated[
            int, typer.Option("--every", min=1, help="Print every N-th frame (all are analysed).")
        ] = 1,
        mask: Annotated[
            bool,
            typer.Option("--mask/--no-mask", help="Segment the silhouette to measure the back."),
        ] = True,
        max_frames: Annotated[
            int | None,
            typer.Option("--max-frames", min=1, help="Stop after this many frames (camera)."),
        ] = None,
    ) -> None:
        """Show the landmarks and angles the coach sees in an image, a video or the camera."""
        inspect(
            source,
            out=out,
            as_json=as_json,
            model=model,
            every=every,
            segmentation=mask,
            max_frames=max_frames,
        )
