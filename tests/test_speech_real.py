"""Speech with the real engine (espeak-ng through pyttsx3): audio written, caller never waits."""

from __future__ import annotations

import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from coach.adapters.routine_store import open_routine
from coach.adapters.speech import (
    NullSpeaker,
    Pyttsx3Speaker,
    RecordingSpeaker,
    WavSpeaker,
    open_speaker,
)
from coach.core.routine import Routine
from coach.errors import SpeechError

SAY_LIMIT_S = 0.020  # say() must return this fast while the worker speaks
SECONDS_PER_CHAR = (0.04, 0.2)  # plausible speech length for a text
END_PAUSE_S = 0.5  # espeak-ng ends each utterance with a short pause
MIN_PEAK = 1000  # 16-bit samples: anything quieter is silence
DONE_TIMEOUT_S = 60.0

pytestmark = pytest.mark.slow  # the real voice


def wait_idle(speaker: WavSpeaker | Pyttsx3Speaker) -> None:
    deadline = time.monotonic() + DONE_TIMEOUT_S
    while speaker.busy:
        assert time.monotonic() < deadline, "the speech worker never finished"
        time.sleep(0.01)


def timed_say(speaker: WavSpeaker | Pyttsx3Speaker, text: str, *, urgent: bool = False) -> float:
    start = time.perf_counter()
    speaker.say(text, urgent=urgent)
    return time.perf_counter() - start


def expected_cues(routine: Routine) -> list[str]:
    """A representative cue of every kind the session says, filled as it would be."""
    values = {"remaining": 20, "count": 3, "seconds": 15, "title": "Cat-cow", "target": 5}
    texts = [routine.session_cues["welcome"], routine.session_cues["setup_move_back"]]
    for spec in routine.exercises:
        texts.append(spec.intro)
        for key in ("hold_countdown", "rep_counted", "breathe_in", "breathe_out"):
            if key in spec.cues:
                texts.append(spec.cues[key].format(**values))
    texts += [routine.session_cues["safety_stop"], routine.session_cues["rest"].format(**values)]
    return texts


def wav_facts(path: Path) -> tuple[float, int]:
    """Duration in seconds and peak amplitude of a 16-bit mono WAV file."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1, path.name
        frames = wav.readframes(wav.getnframes())
        duration = wav.getnframes() / wav.getframerate()
    samples = np.frombuffer(frames, dtype="<i2")
    return duration, int(np.abs(samples.astype(np.int32)).max(initial=0))


@pytest.fixture(scope="module")
def routine() -> Routine:
    return open_routine("back-spasm-relief")


def test_every_expected_cue_becomes_audio_of_plausible_length(
    routine: Routine, tmp_path: Path
) -> None:
    texts = expected_cues(routine)
    assert any("Breathe in" in t for t in texts) and any("urgently" in t for t in texts)
    speaker = WavSpeaker(tmp_path)
    try:
        say_times = [timed_say(speaker, text) for text in texts]
        wait_idle(speaker)
        assert speaker.error is None
    finally:
        speaker.close()
    durations = {p.name: wav_facts(p)[0] for p in tmp_path.glob("*.wav")}
    print(f"{len(durations)} cues, {sum(durations.values()):.1f} s of speech")
    assert max(say_times) < SAY_LIMIT_S, f"say() took {max(say_times) * 1000:.1f} ms"
    files = sorted(tmp_path.glob("*.wav"))
    assert [f.name[:3] for f in files] == [f"{i:03d}" for i in range(1, len(texts) + 1)]
    assert files == list(speaker.files)
    for path, text in zip(files, texts, strict=True):
        duration, peak = wav_facts(path)
        lo, hi = SECONDS_PER_CHAR
        plausible = lo * len(text) <= duration <= hi * len(text) + END_PAUSE_S
        assert plausible, f"{path.name}: {duration:.2f} s for {len(text)} chars"
        assert peak > MIN_PEAK, f"{path.name} is silent"


def test_the_first_cue_is_written_before_the_speaker_is_free(tmp_path: Path) -> None:
    """pyttsx3's first runAndWait() returns while espeak is still speaking; the speaker waits."""
    long_text = "Lie on your back with your knees bent and your feet flat on the floor. " * 3
    speaker = WavSpeaker(tmp_path)
    try:
        speaker.say(long_text)
        wait_idle(speaker)
        first = sorted(tmp_path.glob("*.wav"))
        assert [p.name[:3] for p in first] == ["001"], "idle before the first file was written"
        speaker.say("Second one.")  # at once: must not take over the first one's file
        wait_idle(speaker)
        assert speaker.error is None
    finally:
        speaker.close()
    files = sorted(tmp_path.glob("*.wav"))
    assert [p.name[:3] for p in files] == ["001", "002"]
    assert wav_facts(files[0])[0] > 0.04 * len(long_text)
    assert wav_facts(files[1])[0] > 0.3


def test_urgent_cue_drops_queued_ones(tmp_path: Path) -> None:
    long_text = "Lie on your back with your knees bent and your feet flat on the floor. " * 4
    speaker = WavSpeaker(tmp_path)
    try:
        for text in (long_text, "queued one.", "queued two."):
            speaker.say(text)
        speaker.say("Stop now and rest.", urgent=True)
        wait_idle(speaker)
    finally:
        speaker.close()
    names = sorted(p.name for p in tmp_path.glob("*.wav"))
    assert any("stop-now-and-rest" in n for n in names)
    assert not any("queued" in n for n in names), names


def test_live_speaker_never_blocks_the_caller() -> None:
    speaker = Pyttsx3Speaker()
    try:
        first = timed_say(speaker, "Hold here, and breathe slowly. Twenty seconds to go.")
        assert speaker.busy
        during = [timed_say(speaker, f"That's {n}.") for n in range(1, 4)]
        wait_idle(speaker)
        assert speaker.error is None
    finally:
        speaker.close()
    assert max(first, *during) < SAY_LIMIT_S
    assert not speaker.busy


def test_one_real_speaker_at_a_time(tmp_path: Path) -> None:
    speaker = WavSpeaker(tmp_path)
    try:
        with pytest.raises(SpeechError, match="another speaker"):
            Pyttsx3Speaker()
    finally:
        speaker.close()


def test_blank_text_is_not_spoken(tmp_path: Path) -> None:
    speaker = WavSpeaker(tmp_path)
    try:
        speaker.say("   ")
        speaker.say("Relax.")
        wait_idle(speaker)
    finally:
        speaker.close()
    assert [p.name for p in tmp_path.glob("*.wav")] == ["001_relax.wav"]


def test_open_speaker_choices(tmp_path: Path) -> None:
    muted, warning = open_speaker(mute=True, voice_to=None)
    assert isinstance(muted, NullSpeaker) and warning is None
    wav, warning = open_speaker(mute=False, voice_to=tmp_path / "voice")
    try:
        assert isinstance(wav, WavSpeaker) and warning is None
    finally:
        wav.close()


def test_open_speaker_without_engine_warns_once_and_goes_silent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pyttsx3", None)  # as if the engine cannot be imported
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    speaker, warning = open_speaker(mute=False, voice_to=None)
    assert isinstance(speaker, NullSpeaker)
    assert warning is not None and "cannot start" in warning and "--mute" in warning
    speaker.say("Hello.")
    assert not speaker.busy


def test_recording_speaker_keeps_what_it_would_say() -> None:
    speaker = RecordingSpeaker()
    speaker.say("Relax.")
    assert speaker.spoken == ["Relax."] and not speaker.busy


def test_open_speaker_without_audio_player_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr("sys.platform", "linux")
    speaker, warning = open_speaker(mute=False, voice_to=None)
    assert isinstance(speaker, NullSpeaker)
    assert warning is not None and "aplay" in warning
