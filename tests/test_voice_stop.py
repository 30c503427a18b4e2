"""The voice stops when the person does: the real engine and player, cut off within 200 ms.

espeak-ng writes each utterance, aplay plays it into a stand-in sound card
that consumes audio in real time (see ``audio_sink``), and the time from the
request to the last sample reaching the "card" is measured.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from audio_sink import PacedSink, player_processes

from coach.adapters.speech import PlayingSpeaker, player_command

pytestmark = pytest.mark.slow

STOP_LIMIT_S = 0.200
BYTES_PER_S = 22050 * 2  # espeak-ng writes 22.05 kHz 16-bit mono
QUIET_S = 0.4  # this long without audio counts as silence
LONG_TEXT = (
    "Child's pose. Kneel on the mat with your knees apart and your big toes touching. "
    "Sit your hips back toward your heels, and lay your chest down onto your thighs. "
    "Stretch your arms forward, palms and elbows resting on the floor. "
    "Breathe slowly and let your lower back soften with every breath out."
)


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[PacedSink]:
    if shutil.which("aplay") is None:
        pytest.skip("aplay not installed (Debian: apt-get install alsa-utils)")
    sink = PacedSink(tmp_path, BYTES_PER_S)
    yield sink
    sink.close()


def open_playing_speaker(sink: PacedSink) -> PlayingSpeaker:
    command = player_command(sink.device)
    assert command is not None
    return PlayingSpeaker(command)


def seconds_until_quiet(speaker: PlayingSpeaker, start: float) -> float:
    """Wait until the speaker has nothing left to say; seconds since ``start``."""
    while speaker.busy:
        assert time.perf_counter() - start < 20.0, "the voice never finished"
        time.sleep(0.01)
    return time.perf_counter() - start


def cut_while_speaking(speaker: PlayingSpeaker, sink: PacedSink) -> tuple[float, int]:
    """Start the long text and silence it after a second: the delay to silence, bytes played."""
    before = sink.received
    speaker.say(LONG_TEXT)
    assert sink.wait_for_sound(10.0), speaker.player_error
    while sink.received - before < BYTES_PER_S:  # one second of it has been heard
        time.sleep(0.005)
    start = time.perf_counter()
    speaker.silence()
    last = sink.wait_for_silence(QUIET_S, 5.0)
    assert last is not None, "the voice went on"
    return max(0.0, last - start), sink.received - before


def test_silence_cuts_off_a_long_utterance_within_200_ms(sink: PacedSink) -> None:
    speaker = open_playing_speaker(sink)
    delays = []
    try:
        for _ in range(3):
            delay, played = cut_while_speaking(speaker, sink)
            delays.append(delay)
            # Cut off after about a second of the text, not played to its end (about 15 s).
            assert played < 3 * BYTES_PER_S, played
            assert not speaker.busy
            assert player_processes() == []
    finally:
        speaker.close()
    assert max(delays) <= STOP_LIMIT_S, delays
    assert statistics.median(delays) <= STOP_LIMIT_S


def test_an_uncut_utterance_plays_to_its_end_in_real_time(sink: PacedSink) -> None:
    """The stand-in card really paces the player: without a cut, the text lasts seconds."""
    speaker = open_playing_speaker(sink)
    try:
        start = time.perf_counter()
        speaker.say("Breathe in slowly, and breathe out.")
        took = seconds_until_quiet(speaker, start)
    finally:
        speaker.close()
    seconds = sink.received / BYTES_PER_S
    assert 1.0 <= seconds <= 5.0, seconds
    assert took >= seconds * 0.8, (took, seconds)


def test_an_urgent_cue_cuts_in_and_is_heard(sink: PacedSink) -> None:
    speaker = open_playing_speaker(sink)
    try:
        before = sink.received
        speaker.say(LONG_TEXT)
        speaker.say("Next, cat-cow.")  # queued behind it: dropped by the urgent cue
        assert sink.wait_for_sound(10.0)
        while sink.received - before < BYTES_PER_S:
            time.sleep(0.005)
        start = time.perf_counter()
        speaker.say("Stop. Rest for a moment.", urgent=True)
        took = seconds_until_quiet(speaker, start)
    finally:
        speaker.close()
    seconds = (sink.received - before) / BYTES_PER_S
    # About one second of the long text, then the short urgent one (about 1.5 s):
    # far less than the long text alone (about 15 s), and "Next" was never said.
    assert seconds < 5.0, seconds
    assert took < 5.0, took


def test_a_text_still_being_written_when_silenced_is_never_played(sink: PacedSink) -> None:
    speaker = open_playing_speaker(sink)
    try:
        speaker.say(LONG_TEXT)
        speaker.silence()  # before the engine has finished writing it
        deadline = time.perf_counter() + 20.0
        while speaker.busy:
            assert time.perf_counter() < deadline
            time.sleep(0.01)
        time.sleep(QUIET_S)
    finally:
        speaker.close()
    assert sink.received == 0


def test_a_long_first_utterance_is_written_whole(tmp_path: Path) -> None:
    """In a fresh process the engine's first utterance is long (a welcome): none of it is lost."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from coach.adapters.speech import WavSpeaker\n"
        "speaker = WavSpeaker(Path(sys.argv[1]))\n"
        "speaker.say(sys.argv[2])\n"
        "speaker.close()\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path), LONG_TEXT], check=True, timeout=60)
    (wav,) = tmp_path.glob("*.wav")
    with wave.open(str(wav), "rb") as audio:
        seconds = audio.getnframes() / audio.getframerate()
    assert seconds > 8.0, seconds  # about 14 s; an empty file is 0 s


def test_the_player_is_checked_before_the_session(sink: PacedSink) -> None:
    good = open_playing_speaker(sink)
    try:
        assert good.check_player() is None
    finally:
        good.close()
    command = player_command("no-such-device")
    assert command is not None
    bad = PlayingSpeaker(command)
    try:
        problem = bad.check_player()
    finally:
        bad.close()
    assert problem is not None and "audio open error" in problem
