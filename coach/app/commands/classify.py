"""``coach classify``: the pose state of each image (child's pose, tabletop, cat, ...)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from coach.text import shown

NO_POSE = "no_pose"  # state shown when nobody is found in an image
UNREADABLE = "unreadable"  # state of a file that is not an image the coach can read


def _image_paths(targets: list[Path]) -> list[Path]:
    from coach.adapters.frames import IMAGE_SUFFIXES, list_images
    from coach.errors import SourceError

    paths: list[Path] = []
    for target in targets:
        if not str(target).strip():
            raise SourceError("An image path is empty: give image files or folders.")
        if target.is_dir():
            found = list_images(target)
            if not found:
                raise SourceError(
                    f"No images in {target} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})."
                )
            paths += found
        elif target.is_file():
            paths.append(target)
        else:
            raise SourceError(f"Image or folder not found: {target}. Check the path.")
    return paths


def classify_images(paths: list[Path], model: Path | None = None) -> list[dict[str, Any]]:
    """Run the pose model on each image and classify it; one JSON-ready dict per image."""
    from coach.adapters.frames import read_image
    from coach.app.pipeline import open_pipeline
    from coach.core.classify import ClassifierConfig, body_layout, decide
    from coach.core.features import WITH_SILHOUETTE
    from coach.errors import SourceError

    config = ClassifierConfig()
    rows: list[dict[str, Any]] = []
    # Cat and cow differ in the back's curve, read on the silhouette; still
    # images share no side choice or filter.
    with open_pipeline(
        model=model, mode="image", perception=WITH_SILHOUETTE, stills=True
    ) as pipeline:
        for path in paths:
            try:
                image = read_image(path)
            except SourceError as exc:  # one bad file must not stop the batch
                rows.append({"file": str(path), "state": UNREADABLE, "error": str(exc)})
                continue
            features = pipeline.see(image, 0.0).features
            layout = body_layout(features)
            state = NO_POSE if layout is None else decide(layout, config).value
            measures = {} if layout is None else asdict(layout)
            rows.append(
                {
                    "file": str(path),
                    "state": state,
                    "side": features.side.value if features.side else None,
                    "side_view": features.side_view,
                    "measures": {
                        k: round(v, 3) if math.isfinite(v) else None for k, v in measures.items()
                    },
                }
            )
    return rows


def classify_command(
    images: Annotated[
        list[Path], typer.Argument(help="Image files or folders of images.", show_default=False)
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of {file, state, ...}.")
    ] = False,
    model: Annotated[
        Path | None, typer.Option("--model", help="Pose model file instead of the bundled one.")
    ] = None,
) -> None:
    """Print the pose state of each image: childs_pose, tabletop, cat, cow, bridge_down,
    bridge_up or other (no_pose when nobody is found)."""
    from rich.console import Console

    rows = classify_images(_image_paths(images), model)
    unreadable = [row for row in rows if row["state"] == UNREADABLE]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        from rich.table import Table

        table = Table("image", "state", "side")
        for row in rows:
            table.add_row(shown(row["file"]), row["state"], row.get("side") or "")
        Console().print(table)
    err = Console(stderr=True)
    for row in unreadable:
        err.print(f"[yellow]skipped:[/] {shown(row['error'], 1000)}")
    if unreadable:
        err.print(f"{len(unreadable)} of {len(rows)} files could not be read.")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``coach classify`` to the app."""
    app.command("classify")(classify_command)
