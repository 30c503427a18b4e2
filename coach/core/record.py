"""Session records as data: the summary of a session and a loaded session folder.

``summarize`` turns the events of a session into a JSON-ready summary that
sets each exercise's prescribed dose (from the routine that was assigned)
against what was achieved. ``SessionData`` is what a recorded session folder
holds once read back; the storage adapter reads the files, this module gives
them meaning.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coach.core import catalog
from coach.core.events import Event, EventKind, SkipReason
from coach.core.exercises import exercise
from coach.core.exercises.base import Counting, KeySignal
from coach.core.states import ExerciseKind

if TYPE_CHECKING:
    from coach.core.progression import SessionOutcome
    from coach.core.routine import ExerciseSpec, Routine

SUMMARY_VERSION = 1


def _key_signal(kind: ExerciseKind) -> KeySignal:
    """The measure a physical therapist would look at for the exercise ``kind``."""
    return exercise(kind).key_signal


def target_band(kind: ExerciseKind, thresholds: object) -> tuple[float | None, float | None]:
    """The target band of an exercise's key signal, from its thresholds (an edge may be None)."""
    signal = _key_signal(kind)
    values = _threshold_values(thresholds)
    low = values.get(signal.low_field) if signal.low_field else None
    high = values.get(signal.high_field) if signal.high_field else None
    if low is not None and high is not None and low > high:
        low, high = high, low
    return low, high


def _threshold_values(thresholds: object) -> dict[str, float]:
    """Numeric fields of a config dataclass or a mapping, by name."""
    if is_dataclass(thresholds) and not isinstance(thresholds, type):
        items: Iterable[tuple[str, Any]] = (
            (f.name, getattr(thresholds, f.name)) for f in fields(thresholds)
        )
    elif isinstance(thresholds, Mapping):
        items = thresholds.items()
    else:
        return {}
    return {
        str(k): float(v)
        for k, v in items
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))
    }


def rise_above_rest(frames: FrameTable, signal: KeySignal) -> np.ndarray:
    """The mean rise of the ``signal.above_rest`` columns over the resting position.

    The resting position is the median of each column over the frames in
    ``signal.rest_state``; when no frame was recorded in that state, the
    frames at or under the column's ``signal.rest_percentile`` stand in
    (the hips spend the rests down). NaN where no column is known.
    """
    rest = np.array([s == signal.rest_state for s in frames.state], dtype=bool)
    rises = []
    for name in signal.above_rest:
        column = frames.column(name)
        known = np.isfinite(column)
        if not known.any():
            continue
        resting = column[rest & known]
        if resting.size == 0:
            low = float(np.percentile(column[known], signal.rest_percentile))
            resting = column[known & (column <= low)]
        rises.append(column - float(np.median(resting)))
    if not rises:
        return np.full(len(frames), np.nan)
    stacked = np.vstack(rises)
    counts = np.isfinite(stacked).sum(axis=0)
    total = np.nansum(stacked, axis=0)
    return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


@dataclass
class _Segment:
    """What happened during one exercise of the routine (mutable while summing up)."""

    spec: ExerciseSpec
    started_s: float | None = None
    ended_s: float | None = None
    holds: list[dict[str, Any]] = field(default_factory=list)
    open_hold: dict[str, Any] | None = None
    reps: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    pauses: int = 0
    pose_lost: int = 0
    sets_started: int = 0
    skipped: bool = False
    completed: bool = False
    no_progress_s: float | None = None  # moved on by itself after this long without progress
    stall_hints: int = 0

    def touch(self, t_s: float) -> None:
        if self.started_s is None:
            self.started_s = t_s
        self.ended_s = t_s if self.ended_s is None else max(self.ended_s, t_s)


def summarize(routine: Routine, events: Iterable[Event], *, complete: bool) -> dict[str, Any]:
    """A JSON-ready summary: per exercise the prescribed dose against what was achieved.

    Args:
        routine: The routine that was assigned (the one saved with the session).
        events: The session's events in time order.
        complete: The session ran to its end (False for a stopped or crashed session).

    Returns:
        A dict with ``routine``, ``completed``, ``duration_s``, ``pain``,
        ``safety``, ``pauses``, ``stopped`` and ``exercises``: one entry per
        exercise of the routine with ``prescribed``, ``achieved``, ``faults``,
        ``pauses``, ``skipped`` (by the person), ``completed`` and ``ended``:
        how it ended ("completed", "skipped", "no_progress" when the coach
        moved on by itself after ``no_progress_s`` seconds in which nothing
        counted, or None when it never ended), with ``stall_hints``, the
        number of times the coach said what it saw because nothing counted.
    """
    segments = [_Segment(spec) for spec in routine.exercises]
    cursor = -1
    first_t: float | None = None
    last_t: float | None = None
    pain: dict[str, int | None] = {"before": None, "after": None}
    safety_flags: list[str] = []
    safety_stop = False
    stopped: str | None = None
    finished = False
    session_pauses: list[dict[str, float | None]] = []
    # When the session ended; a stop may be dated back (to when the person
    # left the mat), so the wait before it is not session time.
    end_t: float | None = None

    for event in events:
        first_t = event.t_s if first_t is None else min(first_t, event.t_s)
        last_t = event.t_s if last_t is None else max(last_t, event.t_s)
        kind = event.kind
        data = event.data
        if kind is EventKind.PAIN_RATED:
            when = str(data.get("when", ""))
            if when in pain:
                pain[when] = _int_or_none(data.get("score"))
            continue
        if kind is EventKind.SAFETY_STOP:
            safety_stop = True
            safety_flags.extend(str(f) for f in data.get("flags", ()))
            continue
        if kind is EventKind.SESSION_STOPPED:
            stopped = str(data.get("reason", "stopped"))
            end_t = event.t_s if end_t is None else min(end_t, event.t_s)
            continue
        if kind is EventKind.SESSION_COMPLETED:
            finished = True
            end_t = event.t_s if end_t is None else min(end_t, event.t_s)
            continue
        if kind is EventKind.EXERCISE_STARTED:
            cursor = _locate(segments, cursor, event)
        elif event.exercise is not None and (
            cursor < 0 or segments[cursor].spec.kind.value != event.exercise
        ):
            cursor = _next_of_kind(segments, cursor, event.exercise)

        if kind is EventKind.PAUSED:
            session_pauses.append({"start_s": event.t_s, "end_s": None})
        elif kind is EventKind.RESUMED and session_pauses and session_pauses[-1]["end_s"] is None:
            session_pauses[-1]["end_s"] = event.t_s

        segment = segments[cursor] if 0 <= cursor < len(segments) else None
        if segment is None or (event.exercise is None and kind not in _SEGMENT_EVENTS):
            continue
        segment.touch(event.t_s)
        _apply(segment, event)

    if end_t is not None and last_t is not None:
        last_t = min(last_t, end_t)
    if session_pauses and session_pauses[-1]["end_s"] is None and last_t is not None:
        session_pauses[-1]["end_s"] = last_t
    duration = (last_t - first_t) if first_t is not None and last_t is not None else 0.0
    before, after = pain["before"], pain["after"]
    return {
        "version": SUMMARY_VERSION,
        "routine": routine.name,
        "title": routine.title,
        "completed": bool(complete),
        "session_completed_event": finished,
        "stopped": stopped,
        "duration_s": round(duration, 2),
        "pain": {
            "before": before,
            "after": after,
            "change": (after - before) if before is not None and after is not None else None,
        },
        "safety": {"stop": safety_stop, "flags": safety_flags},
        "pauses": {
            "count": len(session_pauses),
            "seconds": round(
                sum((p["end_s"] or 0.0) - (p["start_s"] or 0.0) for p in session_pauses), 2
            ),
        },
        "exercises": [_segment_summary(s) for s in segments],
    }


# Session-level events (no exercise) that still belong to the current exercise.
_SEGMENT_EVENTS = frozenset(
    {
        EventKind.EXERCISE_STARTED,
        EventKind.EXERCISE_COMPLETED,
        EventKind.EXERCISE_SKIPPED,
        EventKind.PAUSED,
        EventKind.RESUMED,
        EventKind.POSE_LOST,
        EventKind.IN_POSITION,
        EventKind.STALL_HINT,
    }
)


def _locate(segments: Sequence[_Segment], cursor: int, event: Event) -> int:
    """The routine position an EXERCISE_STARTED event refers to."""
    kind = event.exercise
    index = event.data.get("index")
    if isinstance(index, int) and not isinstance(index, bool):
        for candidate in (index, index - 1):
            if 0 <= candidate < len(segments) and (
                kind is None or segments[candidate].spec.kind.value == kind
            ):
                return candidate
    set_no = event.data.get("set")
    if (
        0 <= cursor < len(segments)
        and (kind is None or segments[cursor].spec.kind.value == kind)
        and isinstance(set_no, int)
        and set_no > 1
    ):
        return cursor
    if kind is None:
        return min(cursor + 1, len(segments) - 1)
    return _next_of_kind(segments, cursor, kind)


def _next_of_kind(segments: Sequence[_Segment], cursor: int, kind: str) -> int:
    """The next exercise of this kind after the cursor (or the first one at all)."""
    for i in range(max(cursor, 0), len(segments)):
        if segments[i].spec.kind.value == kind and (i > cursor or segments[i].started_s is None):
            return i
    for i, segment in enumerate(segments):
        if segment.spec.kind.value == kind:
            return i
    return cursor


def _apply(segment: _Segment, event: Event) -> None:
    """Add one event to what is known about an exercise."""
    kind = event.kind
    data = event.data
    if kind is EventKind.EXERCISE_STARTED:
        segment.sets_started += 1
    elif kind is EventKind.EXERCISE_COMPLETED:
        segment.completed = True
    elif kind is EventKind.EXERCISE_SKIPPED:
        # Older records give no reason: only the person could skip then.
        if data.get("reason") == SkipReason.NO_PROGRESS:
            segment.no_progress_s = _float(data.get("no_progress_s"), 0.0)
        else:
            segment.skipped = True
    elif kind is EventKind.STALL_HINT:
        segment.stall_hints += 1
    elif kind is EventKind.PAUSED:
        segment.pauses += 1
    elif kind is EventKind.POSE_LOST:
        segment.pose_lost += 1
    elif kind is EventKind.HOLD_STARTED:
        segment.open_hold = {"start_s": event.t_s, "seconds": 0.0, "completed": False}
    elif kind in (EventKind.HOLD_PROGRESS, EventKind.HOLD_PAUSED, EventKind.HOLD_RESUMED):
        if segment.open_hold is not None:
            segment.open_hold["seconds"] = _float(data.get("elapsed_s"), 0.0)
    elif kind is EventKind.HOLD_COMPLETED:
        if segment.open_hold is None:
            segment.open_hold = {"start_s": _float(data.get("start_s"), event.t_s)}
        segment.open_hold["seconds"] = _float(data.get("seconds"), 0.0)
        segment.open_hold["completed"] = True
    elif kind is EventKind.HOLD_ENDED:
        start = segment.open_hold["start_s"] if segment.open_hold else event.t_s
        segment.holds.append(
            {
                "start_s": round(_float(data.get("start_s"), start), 2),
                "end_s": round(event.t_s, 2),
                "seconds": round(_float(data.get("seconds"), 0.0), 2),
                "completed": bool(data.get("completed", False)),
            }
        )
        segment.open_hold = None
    elif kind is EventKind.REP_COUNTED:
        segment.reps.append(
            {
                "t_s": round(event.t_s, 2),
                "held_s": _float_or_none(data.get("held_s")),
                "met_hold": bool(data.get("met_hold", True)),
            }
        )
    elif kind is EventKind.FAULT_RAISED:
        key = str(data.get("key", "unknown"))
        fault = segment.faults.setdefault(key, {"key": key, "count": 0, "first_s": event.t_s})
        fault["count"] += 1


def _segment_summary(segment: _Segment) -> dict[str, Any]:
    """One exercise's entry in the summary."""
    spec = segment.spec
    dose = spec.dose
    holds = list(segment.holds)
    if segment.open_hold is not None:
        # The session ended (or crashed) while the person was holding.
        open_hold = segment.open_hold
        holds.append(
            {
                "start_s": round(float(open_hold["start_s"]), 2),
                "end_s": round(segment.ended_s or float(open_hold["start_s"]), 2),
                "seconds": round(float(open_hold.get("seconds", 0.0)), 2),
                "completed": bool(open_hold.get("completed", False)),
                "unfinished": True,
            }
        )
    holds_completed = sum(1 for h in holds if h["completed"])
    reps_counted = len(segment.reps)
    reps_met = sum(1 for r in segment.reps if r["met_hold"])
    if dose.hold_s is None:
        toward = reps_counted
    elif _counting(spec) is Counting.HOLDS or not segment.reps:
        toward = holds_completed
    else:
        toward = reps_met
    target = dose.reps * dose.sets
    return {
        "kind": spec.kind.value,
        "title": spec.title,
        "prescribed": {
            "hold_s": dose.hold_s,
            "reps": dose.reps,
            "reps_max": dose.reps_max,
            "sets": dose.sets,
            "rest_s": dose.rest_s,
            "target": target,
            "unit": _dose_unit(spec),
        },
        "achieved": {
            "holds": holds,
            "holds_count": len(holds),
            "holds_completed": holds_completed,
            "reps_counted": reps_counted,
            "reps_toward_dose": toward,
            "dose_met": toward >= target,
        },
        "faults": sorted(segment.faults.values(), key=lambda f: f["first_s"]),
        "pauses": segment.pauses,
        "pose_lost": segment.pose_lost,
        "sets_started": segment.sets_started,
        "started": segment.started_s is not None,
        "started_s": None if segment.started_s is None else round(segment.started_s, 2),
        "ended_s": None if segment.ended_s is None else round(segment.ended_s, 2),
        "skipped": segment.skipped,
        "completed": segment.completed,
        "ended": _ended(segment),
        "no_progress_s": (
            None if segment.no_progress_s is None else round(segment.no_progress_s, 2)
        ),
        "stall_hints": segment.stall_hints,
    }


def _ended(segment: _Segment) -> str | None:
    """How an exercise ended, or None when it did not (never started, or cut off)."""
    if segment.completed:
        return "completed"
    if segment.skipped:
        return "skipped"
    return SkipReason.NO_PROGRESS.value if segment.no_progress_s is not None else None


def _dose_unit(spec: ExerciseSpec) -> str:
    """What the dose counts, in words."""
    return exercise(spec.kind).unit


def _counting(spec: ExerciseSpec) -> Counting:
    return exercise(spec.kind).counting


def _float(value: object, default: float) -> float:
    result = _float_or_none(value)
    return default if result is None else result


def _float_or_none(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        result = float(value)
    except (ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def _int_or_none(value: object) -> int | None:
    result = _float_or_none(value)
    return None if result is None else round(result)


@dataclass(frozen=True)
class FrameTable:
    """The per-frame table of a session: time, exercise, pose state and signals."""

    t_s: np.ndarray
    exercise: tuple[str | None, ...]
    state: tuple[str | None, ...]
    values: Mapping[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.t_s)

    @classmethod
    def empty(cls) -> FrameTable:
        """A table with no rows."""
        return cls(np.zeros(0), (), (), {})

    def column(self, name: str) -> np.ndarray:
        """One signal's values (NaN where unknown; all NaN when never recorded)."""
        return self.values.get(name, np.full(len(self.t_s), np.nan))

    def select(
        self, exercise: str | None = None, start_s: float | None = None, end_s: float | None = None
    ) -> FrameTable:
        """The rows of one exercise, optionally within a time window."""
        keep = np.ones(len(self.t_s), dtype=bool)
        if exercise is not None:
            keep &= np.array([e == exercise for e in self.exercise], dtype=bool)
        if start_s is not None:
            keep &= self.t_s >= start_s
        if end_s is not None:
            keep &= self.t_s <= end_s
        idx = np.flatnonzero(keep)
        return FrameTable(
            self.t_s[idx],
            tuple(self.exercise[i] for i in idx),
            tuple(self.state[i] for i in idx),
            {k: v[idx] for k, v in self.values.items()},
        )


@dataclass(frozen=True)
class SessionData:
    """Everything a recorded session folder holds, read back.

    Attributes:
        folder: The session folder.
        meta: The contents of session.json (start time, routine, source, versions).
        routine: The routine that was assigned, parsed from the saved routine.toml.
        safety: The contents of safety.json (answers, pain before and after).
        events: The recorded events in order.
        frames: The per-frame table.
        summary: summary.json, or a summary rebuilt from the events when it is missing.
        finished: summary.json was written (the session was not cut off).
        warnings: What was wrong but could be read around (a truncated last line...).
    """

    folder: Path
    meta: Mapping[str, Any]
    routine: Routine
    safety: Mapping[str, Any]
    events: tuple[Event, ...]
    frames: FrameTable
    summary: Mapping[str, Any]
    finished: bool
    warnings: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """The session ran to its end and its summary says so."""
        return self.finished and bool(self.summary.get("completed", False))

    @property
    def started_at(self) -> str:
        """The start time as written (ISO 8601), or an empty string."""
        return str(self.meta.get("started_at", ""))

    @property
    def patient(self) -> str:
        """Who the session was for ("" when not named)."""
        return str(self.meta.get("patient") or self.routine.patient or "")

    @property
    def pain_before(self) -> int | None:
        """Pain before the session (0-10), from safety.json or the events."""
        return _pain(self.safety.get("pain_before"), self.summary, "before")

    @property
    def pain_after(self) -> int | None:
        """Pain after the session (0-10), from safety.json or the events."""
        return _pain(self.safety.get("pain_after"), self.summary, "after")


def _pain(recorded: object, summary: Mapping[str, Any], when: str) -> int | None:
    for value in (recorded, _get(summary.get("pain"), when)):
        score = _int_or_none(value)
        if score is not None and 0 <= score <= 10 and float(value) == score:  # type: ignore[arg-type]
            return score
    return None


def _get(table: object, key: str) -> object:
    return table.get(key) if isinstance(table, Mapping) else None


@dataclass(frozen=True)
class ExercisePlot:
    """What the report draws for one exercise: its key signal over time, band, holds, faults.

    Attributes:
        title: The exercise's title.
        label: Name of the plotted signal, for the axis.
        unit: "deg" or "torso".
        t_s: Frame times.
        values: The signal at those times (NaN where unknown).
        band: Target band (low, high); either edge None when not known.
        beyond: Names of the zones below and above the band when the target
            is to reach past both edges instead of staying inside.
        holds: (start_s, end_s, completed) of each hold.
        faults: (key, t_s) of each form fault raised.
    """

    title: str
    label: str
    unit: str
    t_s: np.ndarray
    values: np.ndarray
    band: tuple[float | None, float | None]
    holds: tuple[tuple[float, float, bool], ...]
    faults: tuple[tuple[str, float], ...]
    beyond: tuple[str, str] | None = None


def exercise_plot(session: SessionData, index: int) -> ExercisePlot | None:
    """The plot data of the routine's ``index``-th exercise, or None when it never ran.

    Its names (the signal's, the zones') are in the language of the session's routine.
    """
    spec = session.routine.exercises[index]
    entries = session.summary.get("exercises", [])
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else {}
    start = entry.get("started_s")
    # Frames run on after the exercise's last event (a rest, or a crash): end at the next one.
    later = [e.get("started_s") for e in entries[index + 1 :] if isinstance(e, Mapping)]
    end = min((t for t in later if t is not None), default=None)
    frames = session.frames.select(spec.kind.value, start, end)
    if len(frames) == 0:
        return None
    signal = _key_signal(spec.kind)
    texts = catalog.exercise_texts(spec.kind, session.routine.language)
    label = texts.plot or signal.name.replace("_", " ")
    values = rise_above_rest(frames, signal) if signal.above_rest else frames.column(signal.name)
    band = target_band(spec.kind, spec.thresholds)
    if not np.isfinite(values).any() and signal.fallback is not None:
        label = texts.plot_fallback or signal.fallback.replace("_", " ")
        values = frames.column(signal.fallback)
        band = (None, None)
    holds = tuple(
        (start_s, end_s, bool(h.get("completed", False)))
        for h in entry.get("achieved", {}).get("holds", [])
        if isinstance(h, Mapping)
        and (start_s := _float_or_none(h.get("start_s"))) is not None
        and (end_s := _float_or_none(h.get("end_s"))) is not None
    )
    faults = tuple(
        (str(e.data.get("key", "")), e.t_s)
        for e in session.events
        if e.kind is EventKind.FAULT_RAISED
        and e.exercise == spec.kind.value
        and (start is None or e.t_s >= start)
        and (end is None or e.t_s <= end)
    )
    return ExercisePlot(
        title=spec.title,
        label=label,
        unit=signal.unit,
        t_s=frames.t_s,
        values=values,
        band=band,
        holds=holds,
        faults=faults,
        beyond=texts.plot_zones if signal.beyond and band != (None, None) else None,
    )


@dataclass(frozen=True)
class DoseCount:
    """One exercise's achievement against its prescription, for tables."""

    kind: str
    title: str
    achieved: int
    prescribed: int
    unit: str
    hold_s: float | None = None  # seconds per hold prescribed, for held exercises


@dataclass(frozen=True)
class HistoryRow:
    """One session as a line of the history table."""

    folder: str
    started_at: datetime | None
    routine: str
    patient: str
    status: str
    complete: bool
    doses: tuple[DoseCount, ...]
    pain_before: int | None
    pain_after: int | None


@dataclass(frozen=True)
class WeekCount:
    """Sessions in one ISO week (Monday to Sunday)."""

    week: str  # "2026-W47"
    monday: date
    sessions: int
    completed: int
    weeks: int = 1  # more than 1 for a run of empty weeks shown as one row


def session_status(session: SessionData) -> str:
    """A short word for how the session ended."""
    summary = session.summary
    safety = summary.get("safety", {})
    if isinstance(safety, Mapping) and safety.get("stop"):
        return "safety stop"
    if session.complete:
        return "completed"
    if not session.finished:
        return "INCOMPLETE (cut off)"
    stopped = summary.get("stopped")
    return f"INCOMPLETE (stopped: {stopped})" if stopped else "INCOMPLETE"


def history_row(session: SessionData) -> HistoryRow:
    """The history line of one session."""
    doses: list[DoseCount] = []
    entries = session.summary.get("exercises", [])
    for entry in entries if isinstance(entries, list) else []:
        prescribed = entry.get("prescribed", {})
        achieved = entry.get("achieved", {})
        doses.append(
            DoseCount(
                kind=str(entry.get("kind", "")),
                title=str(entry.get("title", "")),
                achieved=int(achieved.get("reps_toward_dose", 0)),
                prescribed=int(prescribed.get("target", prescribed.get("reps", 0))),
                unit=str(prescribed.get("unit", "")),
                hold_s=_float_or_none(prescribed.get("hold_s")),
            )
        )
    return HistoryRow(
        folder=session.folder.name,
        started_at=parse_started_at(session.started_at),
        routine=session.routine.name,
        patient=session.patient,
        status=session_status(session),
        complete=session.complete,
        doses=tuple(doses),
        pain_before=session.pain_before,
        pain_after=session.pain_after,
    )


def session_outcome(session: SessionData) -> SessionOutcome | None:
    """How a session went, as the progression rules read it; None when no exercise started."""
    from coach.core.progression import ExerciseOutcome, SessionOutcome

    started = parse_started_at(session.started_at)
    entries = session.summary.get("exercises", [])
    exercises = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or not entry.get("started"):
            continue
        prescribed = entry.get("prescribed", {})
        achieved = entry.get("achieved", {})
        exercises.append(
            ExerciseOutcome(
                kind=str(entry.get("kind", "")),
                hold_s=_float_or_none(prescribed.get("hold_s")),
                reps=int(_float(prescribed.get("reps"), 0)),
                sets=int(_float(prescribed.get("sets"), 1)),
                dose_met=bool(achieved.get("dose_met", False)),
            )
        )
    if started is None or not exercises:
        return None
    return SessionOutcome(
        started_at=started,
        routine=session.routine.name,
        pain_before=session.pain_before,
        pain_after=session.pain_after,
        exercises=tuple(exercises),
    )


def parse_started_at(text: str) -> datetime | None:
    """The start time written in session.json, or None when it is missing or malformed."""
    try:
        when = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    # The coach writes local time without a zone; a zone added by hand is dropped so
    # that every start time compares with every other.
    return when.replace(tzinfo=None) if when is not None else None


def weekly_adherence(rows: Iterable[HistoryRow]) -> list[WeekCount]:
    """Sessions per ISO week from the first session's week to the last, empty weeks included.

    Consecutive empty weeks come as one ``WeekCount`` whose ``weeks`` says how many.
    """
    dated = [r for r in rows if r.started_at is not None]
    if not dated:
        return []
    counts: dict[date, list[int]] = {}
    for row in dated:
        assert row.started_at is not None
        day = row.started_at.date()
        monday = day - timedelta(days=day.weekday())
        tally = counts.setdefault(monday, [0, 0])
        tally[0] += 1
        tally[1] += int(row.complete)
    weeks: list[WeekCount] = []
    previous: date | None = None
    for monday in sorted(counts):
        gap = 0 if previous is None else (monday - previous).days // 7 - 1
        if gap > 0:
            assert previous is not None
            # A run of empty weeks is one row, however long: sessions years apart
            # must not print a row for every week between them.
            first = previous + timedelta(days=7)
            weeks.append(WeekCount(_week_name(first), first, 0, 0, weeks=gap))
        sessions, completed = counts[monday]
        weeks.append(WeekCount(_week_name(monday), monday, sessions, completed))
        previous = monday
    return weeks


def _week_name(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


# ------------------------------------------------------------ checking a record read back
# A record may have been damaged or edited by hand. What it holds is checked
# before it is shown, so a "99" pain or a "no" stored as text is never shown
# as if the coach had recorded it.
RECORD_NUMBER_MAX = 1e7  # larger than any count or second of a real session


def _plain_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value) and abs(value) <= RECORD_NUMBER_MAX
    except OverflowError:  # an int too large for a float
        return False


def _shape_problem(expected: object, actual: object, path: str) -> str | None:
    """Where ``actual`` departs from the shape of ``expected`` (a summary built the same way)."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return f"{path or 'the summary'} is not a table"
        for key, value in expected.items():
            if key in actual:
                problem = _shape_problem(value, actual[key], f"{path}.{key}" if path else key)
                if problem:
                    return problem
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path} is not a list"
        if path == "exercises" and len(actual) != len(expected):
            return f"exercises lists {len(actual)} exercises, the routine has {len(expected)}"
        for index, item in enumerate(actual):
            model = expected[min(index, len(expected) - 1)] if expected else None
            if model is None:
                if isinstance(item, Mapping):
                    model = {key: 0 for key in item}
                elif isinstance(item, list):
                    return f"{path}[{index}] is nested too deep"
            problem = _shape_problem(model, item, f"{path}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(actual, (Mapping, list)):
        return f"{path} is a {'table' if isinstance(actual, Mapping) else 'list'}, not a value"
    number = _is_number(actual)
    if number and not _plain_number(actual):
        return f"{path} = {_brief(actual)} is not plausible"
    if isinstance(actual, str) and len(actual) > 10_000:
        return f"{path} is a text of {len(actual)} characters"
    if expected is None or type(actual) is type(expected) or (number and _is_number(expected)):
        return None
    return f"{path} = {_brief(actual)} should be {type(expected).__name__}"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def checked_summary(
    summary: Mapping[str, Any], rebuilt: Mapping[str, Any]
) -> tuple[Mapping[str, Any], str | None]:
    """``summary`` when it has the shape of ``rebuilt`` (the same routine's summary of the
    events), else ``rebuilt`` and what was wrong."""
    problem = _shape_problem(rebuilt, summary, "")
    if problem is None:
        return summary, None
    return rebuilt, problem


def checked_safety(safety: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """safety.json's answers (true/false per known question) and pain (0-10), checked.

    Returns:
        The values that hold up, and a note for each one left out.
    """
    from coach.core.safety import RED_FLAG_KEYS, validate_pain

    notes: list[str] = []
    clean: dict[str, Any] = {}
    answers = safety.get("answers", {})
    if isinstance(answers, Mapping):
        clean["answers"] = {}
        for key, value in answers.items():
            if key in RED_FLAG_KEYS and isinstance(value, bool):
                clean["answers"][key] = value
            else:
                shown = f"{_brief(key)!r} = {_brief(value)!r}"
                notes.append(f"safety answer {shown} is not a recorded yes/no; left out.")
    else:
        notes.append("the safety answers are not a table of yes/no; left out.")
    for key in ("pain_before", "pain_after"):
        value = safety.get(key)
        if value is None:
            continue
        try:
            clean[key] = validate_pain(value) if _plain_number(value) else validate_pain("x")
        except ValueError:
            notes.append(f"{key} = {_brief(value)} is not a pain score from 0 to 10; left out.")
    result = safety.get("result")
    if isinstance(result, str) and len(result) <= 100:
        clean["result"] = result
    elif result is not None:
        notes.append("the recorded safety outcome is not a short text; left out.")
    return clean, notes


def _brief(value: object) -> str:
    """A stored value as a short text: long ones cut, with their length."""
    text = str(value)
    return text if len(text) <= 20 else f"{text[:12]}... ({len(text)} characters)"
