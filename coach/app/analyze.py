"""Analyse a recorded video: the real pipeline, once, for one or more exercises.

Video file -> the frame pipeline (MediaPipe pose in video mode, features) ->
each exercise engine. Every engine sees the same frames, so a video is
decoded and posed once however many exercises are asked for, and the model
makes the person's silhouette only when one of them reads the back's curve.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.core.events import Event, EventKind
from coach.core.exercises import make_engine, perception_for
from coach.core.exercises.base import ExerciseEngine, Hold
from coach.core.features import FeatureExtractor
from coach.core.states import ExerciseKind, PoseState

if TYPE_CHECKING:
    from coach.core.features import Features
    from coach.core.pose import Pose
    from coach.core.routine import Routine

NO_POSE = "no_pose"  # timeline name for stretches where nobody is seen

ProgressCallback = Callable[[int, int], None]  # frames done, frames expected (0 if unknown)


@dataclass(frozen=True)
class Segment:
    """A stretch of the timeline in one pose state."""

    state: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class FaultSpan:
    """A form fault from when it was raised until it cleared (None: still raised at the end)."""

    key: str
    start_s: float
    end_s: float | None


@dataclass(frozen=True)
class AnalysisResult:
    """What the coach saw one exercise's engine do over a video."""

    exercise: ExerciseKind
    video: str
    reps: int
    holds: tuple[Hold, ...]
    timeline: tuple[Segment, ...]
    faults: tuple[FaultSpan, ...]
    frames: int
    seconds: float
    events: tuple[Event, ...] = field(repr=False)
    notes: tuple[str, ...] = ()  # what was wrong with the video (cut off, odd frame rate)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: reps, holds, timeline, faults, rep details, frames and seconds."""
        reps = [
            {
                "count": e["count"],
                "t_s": round(e.t_s, 3),
                "held_s": e.data.get("held_s"),
                "met_hold": e.data.get("met_hold"),
            }
            for e in self.events
            if e.kind is EventKind.REP_COUNTED
        ]
        return {
            "video": self.video,
            "exercise": self.exercise.value,
            "reps": self.reps,
            "rep_details": reps,
            "holds": [
                {
                    "start_s": round(h.start_s, 3),
                    "end_s": round(h.end_s, 3),
                    "seconds": round(h.seconds, 3),
                    "completed": h.completed,
                }
                for h in self.holds
            ],
            "timeline": [
                {"state": s.state, "start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3)}
                for s in self.timeline
            ],
            "faults": [
                {
                    "key": f.key,
                    "start_s": round(f.start_s, 3),
                    "end_s": None if f.end_s is None else round(f.end_s, 3),
                }
                for f in self.faults
            ],
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
        }


class _Recorder:
    """Follows one engine over the frames: its timeline, faults and events."""

    def __init__(self, kind: ExerciseKind, engine: ExerciseEngine) -> None:
        self.kind = kind
        self.engine = engine
        self.events: list[Event] = []
        self.segments: list[Segment] = []
        self._state: str | None = None
        self._since = 0.0
        self._open_faults: dict[str, float] = {}
        self.faults: list[FaultSpan] = []

    def take(self, events: list[Event], state: PoseState | None, t_s: float) -> None:
        self.events += events
        for event in events:
            if event.kind is EventKind.FAULT_RAISED:
                self._open_faults[event["key"]] = event.t_s
            elif event.kind is EventKind.FAULT_CLEARED and event["key"] in self._open_faults:
                start = self._open_faults.pop(event["key"])
                self.faults.append(FaultSpan(event["key"], start, event.t_s))
        name = NO_POSE if state is None else state.value
        if name != self._state:
            if self._state is not None:
                self.segments.append(Segment(self._state, self._since, t_s))
            self._state, self._since = name, t_s

    def close(self, end_s: float) -> None:
        if self._state is not None:
            self.segments.append(Segment(self._state, self._since, end_s))
            self._state = None
        for key, start in self._open_faults.items():
            self.faults.append(FaultSpan(key, start, None))
        self._open_faults.clear()
        self.faults.sort(key=lambda f: f.start_s)


def _engines(
    exercises: Sequence[ExerciseKind], routine: Routine
) -> dict[ExerciseKind, ExerciseEngine]:
    """An engine per exercise, set up as the routine prescribes it (or as the
    default routine does, or with the coach's defaults, for an exercise this
    routine leaves out)."""
    from coach.adapters.routine_store import DEFAULT_ROUTINE, open_routine
    from coach.core.exercises import exercise

    default: Routine | None = None
    engines: dict[ExerciseKind, ExerciseEngine] = {}
    for raw in exercises:
        kind = ExerciseKind(raw)
        spec = next((s for s in routine.exercises if s.kind is kind), None)
        if spec is None:
            default = default or open_routine(DEFAULT_ROUTINE)
            spec = next((s for s in default.exercises if s.kind is kind), None)
        if spec is None:
            hold_s = exercise(kind).dose.get("hold_s")
            engines[kind] = make_engine(kind, None, hold_s=hold_s, classifier=routine.classifier)
            continue
        engines[kind] = make_engine(
            kind, spec.thresholds, hold_s=spec.dose.hold_s, classifier=routine.classifier
        )
    return engines


def analyze_poses(
    poses: Iterable[Pose],
    exercises: Sequence[ExerciseKind],
    *,
    routine: Routine,
    video: str,
    frame_s: float,
    on_frame: Callable[[], None] | None = None,
) -> dict[ExerciseKind, AnalysisResult]:
    """Judge a sequence of poses as each exercise asked for.

    Features are taken as the exercises need them: the back's outline only
    when one of them reads the back's curve, as ``analyze_video`` does.

    Args:
        poses: The poses of one video, in time order.
        exercises: The exercises to judge them as.
        routine: Thresholds, holds and camera settings.
        video: The video's name, for the results.
        frame_s: Time one frame stands for (the end of the last one ends the video).
        on_frame: Called after each pose.
    """
    extractor = FeatureExtractor(routine.camera, perception=perception_for(exercises))
    return analyze_features(
        (extractor.update(pose) for pose in poses),
        exercises,
        routine=routine,
        video=video,
        frame_s=frame_s,
        on_frame=on_frame,
    )


def analyze_features(
    frames: Iterable[Features],
    exercises: Sequence[ExerciseKind],
    *,
    routine: Routine,
    video: str,
    frame_s: float,
    on_frame: Callable[[], None] | None = None,
) -> dict[ExerciseKind, AnalysisResult]:
    """Judge a sequence of frames' features as each exercise asked for (see ``analyze_poses``)."""
    recorders = [_Recorder(kind, engine) for kind, engine in _engines(exercises, routine).items()]
    count = 0
    last_t = 0.0
    for features in frames:
        for rec in recorders:
            events = rec.engine.update(features, features.t_s)
            rec.take(events, rec.engine.state, features.t_s)
        count += 1
        last_t = features.t_s
        if on_frame is not None:
            on_frame()
    end_s = last_t + frame_s if count else 0.0
    results: dict[ExerciseKind, AnalysisResult] = {}
    for rec in recorders:
        rec.take(rec.engine.finish(last_t), rec.engine.state, last_t)
        rec.close(end_s)
        results[rec.kind] = AnalysisResult(
            exercise=rec.kind,
            video=video,
            reps=rec.engine.reps,
            holds=rec.engine.holds,
            timeline=tuple(rec.segments),
            faults=tuple(rec.faults),
            frames=count,
            seconds=end_s,
            events=tuple(rec.events),
        )
    return results


def analyze_video(
    path: str | Path,
    exercises: Sequence[ExerciseKind],
    *,
    model_path: Path | None = None,
    on_progress: ProgressCallback | None = None,
    routine: Routine | None = None,
    max_fps: float | None = None,
) -> dict[ExerciseKind, AnalysisResult]:
    """Run the coach over a recorded video for each exercise asked for.

    Args:
        path: The video file.
        exercises: The exercises to judge it as.
        model_path: A pose model to use instead of the bundled one.
        on_progress: Called after each frame with (frames done, frames expected).
        routine: Thresholds, holds and camera settings to use; the default
            routine's when None.
        max_fps: Analyse at most this many frames a second (every n-th frame
            of a faster video); all frames when None.

    Raises:
        VideoReadError: The video cannot be opened or read.
        ModelError: The pose model cannot be loaded.
    """
    from coach.adapters.frames import VideoFileSource
    from coach.adapters.routine_store import DEFAULT_ROUTINE, open_routine
    from coach.app.pipeline import open_pipeline

    video = Path(path)
    routine = routine or open_routine(DEFAULT_ROUTINE)
    source = VideoFileSource(video)
    try:
        step = max(1, round(source.fps / max_fps)) if max_fps and source.fps > max_fps else 1
        expected = -(-source.frame_count // step) if source.frame_count else 0
        done = 0

        def progress() -> None:
            nonlocal done
            done += 1
            if on_progress is not None:
                on_progress(done, max(expected, done))

        with open_pipeline(
            model=model_path, perception=perception_for(exercises), camera=routine.camera
        ) as pipeline:
            results = analyze_features(
                (seen.features for seen in pipeline.run(source, step=step)),
                exercises,
                routine=routine,
                video=video.name,
                frame_s=step / source.fps,
                on_frame=progress,
            )
        notes = tuple(source.notes)
        return {kind: replace(result, notes=notes) for kind, result in results.items()}
    finally:
        source.close()
