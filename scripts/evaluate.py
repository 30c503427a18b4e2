"""Evaluate the coach on the real photos and videos in ../shared/realdata.

Photos (images/manifest.csv): each one through the real pose model in image
mode and the pose classifier; prints the confusion matrix, recall and
precision per state, the overall accuracy and the share of `other` photos
called an exercise state.

Videos (videos/annotations.json): each one through the real pipeline
(``coach.app.analyze.analyze_video``, the pose model in video mode) analysed
as every exercise; prints the frame-level agreement of the pose state with
the annotated segments (frames annotated `transition` or `off_screen` are
left out), and the reps and hold seconds counted beside the annotated ones.
On a negative video (exercise `none`) the targets are zero reps and no hold
longer than two seconds for every exercise.

Usage:
    python scripts/evaluate.py [--realdata DIR] [--images-only | --videos-only] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STATES = ("childs_pose", "tabletop", "cat", "cow", "bridge_down", "bridge_up", "other")
EXERCISE_STATES = frozenset(STATES) - {"other"}
IGNORED_LABELS = frozenset({"transition", "off_screen"})
NEGATIVE_MAX_HOLD_S = 2.0


def find_realdata(given: str | None) -> Path:
    """The real-data folder: the argument, COACH_REALDATA, or ../shared/realdata."""
    candidates = [Path(given)] if given else []
    if os.environ.get("COACH_REALDATA"):
        candidates.append(Path(os.environ["COACH_REALDATA"]))
    candidates.append(ROOT.parent / "shared" / "realdata")
    for path in candidates:
        if (path / "images" / "manifest.csv").is_file():
            return path
    sys.exit(f"real data not found (looked in {', '.join(map(str, candidates))})")


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def confusion_report(pairs: list[tuple[str, str]], title: str) -> dict[str, Any]:
    """Print a confusion matrix (rows: labelled, columns: classified) with recall and precision."""
    matrix: dict[str, Counter[str]] = defaultdict(Counter)
    for label, got in pairs:
        matrix[label][got] += 1
    columns = list(STATES) + sorted({g for _, g in pairs} - set(STATES))
    rows = [["labelled \\ classified", *columns, "recall"]]
    recall: dict[str, float | None] = {}
    precision: dict[str, float | None] = {}
    for state in STATES:
        total = sum(matrix[state].values())
        recall[state] = matrix[state][state] / total if total else None
        called = sum(matrix[label][state] for label in matrix)
        precision[state] = matrix[state][state] / called if called else None
        rec = "-" if recall[state] is None else f"{recall[state]:.2f}"
        rows.append([state, *(str(matrix[state][c]) for c in columns), rec])
    prec = ["-" if precision[s] is None else f"{precision[s]:.2f}" for s in STATES]
    rows.append(["precision", *prec, *([""] * (len(columns) - len(STATES))), ""])
    correct = sum(label == got for label, got in pairs)
    accuracy = correct / len(pairs) if pairs else 0.0
    others = [got for label, got in pairs if label == "other"]
    other_as_exercise = sum(g in EXERCISE_STATES for g in others)
    print(f"\n{title}\n{_table(rows)}")
    print(f"accuracy {correct}/{len(pairs)} = {accuracy:.3f}")
    if others:
        share = other_as_exercise / len(others)
        print(f"`other` called an exercise state: {other_as_exercise}/{len(others)} = {share:.3f}")
    return {
        "accuracy": accuracy,
        "recall": recall,
        "precision": precision,
        "other_as_exercise": other_as_exercise / len(others) if others else None,
        "matrix": {k: dict(v) for k, v in matrix.items()},
    }


def evaluate_images(realdata: Path, model: Path | None) -> dict[str, Any]:
    """Classify every photo of the manifest and report."""
    from coach.app.commands.classify import classify_images

    images = realdata / "images"
    with (images / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    results = classify_images([images / row["file"] for row in rows], model)
    pairs = [(row["state"], r["state"]) for row, r in zip(rows, results, strict=True)]
    report = confusion_report(pairs, f"Photos ({len(pairs)}), real model, image mode")
    wrong = [(row["file"], r["state"]) for row, r in zip(rows, results, strict=True)]
    wrong = [(f, got) for (f, got), (label, _) in zip(wrong, pairs, strict=True) if got != label]
    print("wrong:", ", ".join(f"{f} -> {got}" for f, got in wrong) or "none")
    report["wrong"] = wrong
    return report


def _state_at(timeline: list[dict[str, Any]], t_s: float) -> str:
    for seg in timeline:
        if seg["start_s"] <= t_s < seg["end_s"]:
            return str(seg["state"])
    return "no_pose"


def _label_at(segments: list[dict[str, Any]], t_s: float) -> str:
    for seg in segments:
        if seg["start_s"] <= t_s < seg["end_s"]:
            return str(seg["state"])
    return str(segments[-1]["state"])


def evaluate_videos(realdata: Path, model: Path | None) -> dict[str, Any]:
    """Run the real pipeline over every annotated video and report."""
    from coach.app.analyze import analyze_video
    from coach.core.states import ExerciseKind

    videos = realdata / "videos"
    annotations = json.loads((videos / "annotations.json").read_text())
    kinds = list(ExerciseKind)
    report: dict[str, Any] = {}
    all_pairs: list[tuple[str, str]] = []
    for ann in annotations:
        name = ann["file"]
        print(f"\n{name} ({ann['exercise']}, {ann.get('view', '?')} view)", flush=True)
        results = analyze_video(videos / name, kinds, model_path=model)
        own = ann["exercise"] if ann["exercise"] in {k.value for k in kinds} else None
        first = results[ExerciseKind(own) if own else kinds[0]].to_dict()
        pairs = []
        for i in range(int(ann["n_frames"])):
            t = i / float(ann["fps"])
            label = _label_at(ann["segments"], t)
            if label not in IGNORED_LABELS:
                pairs.append((label, _state_at(first["timeline"], t)))
        all_pairs += pairs
        agree = sum(label == got for label, got in pairs) / len(pairs) if pairs else 0.0
        per_label: dict[str, Counter[str]] = defaultdict(Counter)
        for label, got in pairs:
            per_label[label][got] += 1
        print(f"  frame agreement {agree:.3f} over {len(pairs)} annotated frames")
        for label, counts in per_label.items():
            print(f"    {label}: " + ", ".join(f"{s} {n}" for s, n in counts.most_common()))
        timeline = " | ".join(
            f"{s['state']} {s['start_s']:.2f}-{s['end_s']:.2f}" for s in first["timeline"]
        )
        print(f"  timeline: {timeline}")
        entry: dict[str, Any] = {"agreement": agree, "exercises": {}}
        for kind in kinds:
            res = results[kind]
            holds = [round(h.seconds, 2) for h in res.holds]
            entry["exercises"][kind.value] = {"reps": res.reps, "holds": holds}
            if own == kind.value:
                want_holds = [round(h["seconds"], 2) for h in ann.get("holds", [])]
                print(
                    f"  as {kind.value}: reps {res.reps} (annotated {ann.get('reps')}), "
                    f"holds {holds} s (annotated {want_holds} s)"
                )
            elif own is None:
                longest = max(holds, default=0.0)
                ok = res.reps == 0 and longest <= NEGATIVE_MAX_HOLD_S
                print(
                    f"  as {kind.value}: reps {res.reps}, longest hold {longest:.2f} s "
                    f"({'ok' if ok else 'MISSED'}: want 0 reps, holds <= {NEGATIVE_MAX_HOLD_S} s)"
                )
        report[name] = entry
    report["_all_frames"] = confusion_report(all_pairs, "Video frames, all videos")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realdata", help="folder with images/ and videos/")
    parser.add_argument("--model", type=Path, help="pose model file instead of the bundled one")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--images-only", action="store_true")
    which.add_argument("--videos-only", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    realdata = find_realdata(args.realdata)
    report: dict[str, Any] = {"realdata": str(realdata)}
    if not args.videos_only:
        report["images"] = evaluate_images(realdata, args.model)
    if not args.images_only:
        report["videos"] = evaluate_videos(realdata, args.model)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
