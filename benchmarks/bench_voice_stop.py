"""How fast the voice goes quiet when the person says stop: the real engine and player.

espeak-ng (through pyttsx3) writes each utterance and aplay plays it, exactly
as in a session. Each run starts a long introduction, lets it play for a random
0.5 to 3 s, then asks the speaker to be silent, and measures:

  to silence      from ``silence()`` to the last sample reaching the sound device
  player ended    from ``silence()`` to the player process being gone

Without --device the audio goes to a stand-in sound card that consumes it in
real time (ALSA's file device into a paced pipe, see tests/audio_sink.py), so
this runs on machines without sound; with --device (for example ``default``)
it plays aloud and only "player ended" is measured.

With --loop the stop comes as the person gives it: the q key, read by a live
session loop (the bundled routine, the real pose model on a real video played
as live) on its next frame, while the coach is speaking:

  key to player ended   from the key press to the player process being gone

    python benchmarks/bench_voice_stop.py [--runs 20] [--device default] [--loop]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from audio_sink import PacedSink, player_processes  # noqa: E402

from coach.adapters.speech import PlayingSpeaker, player_command  # noqa: E402

BYTES_PER_S = 22050 * 2  # espeak-ng writes 22.05 kHz 16-bit mono
QUIET_S = 0.4
VIDEO = ROOT.parent / "shared" / "realdata" / "videos" / "v03_child_tj.mp4"
INTRO = (
    "Cat-cow. Come onto your hands and knees, hands under your shoulders and knees under "
    "your hips. Breathe in and let your belly sink as you lift your head: that is the cow. "
    "Breathe out, round your back up high and tuck your chin: that is the cat. "
    "Move slowly with your breath, and stop if anything hurts."
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def describe(name: str, values: list[float]) -> None:
    ms = [v * 1000.0 for v in values]
    print(
        f"{name:<20} n={len(ms)}  min {min(ms):6.1f}  median {statistics.median(ms):6.1f}  "
        f"p95 {percentile(ms, 0.95):6.1f}  max {max(ms):6.1f} ms"
    )


class KeyFrom:
    """A window that reports q from ``press_at`` on, as a person pressing it then would."""

    CLOSED = -2

    def __init__(self) -> None:
        self.press_at = math.inf

    def show(self, image: np.ndarray) -> int:
        return ord("q") if time.perf_counter() >= self.press_at else -1

    def close(self) -> None:
        pass


def through_loop(speaker: PlayingSpeaker, runs: int, rng: random.Random) -> list[float]:
    """Stop by key in a live session loop: seconds from each key press to the player gone."""
    from rich.console import Console

    from coach.adapters.frames import VideoFileSource
    from coach.adapters.playback import LivePlayback
    from coach.adapters.pose_model import MediaPipePoseEstimator
    from coach.adapters.routine_store import open_routine
    from coach.app.session_loop import DEFAULT_ROUTINE, SessionLoop
    from coach.core.session import SessionController

    routine = open_routine(DEFAULT_ROUTINE)
    delays: list[float] = []
    with MediaPipePoseEstimator(mode="video", segmentation=True) as estimator:
        for _ in range(runs):
            window = KeyFrom()
            controller = SessionController(routine)
            loop = SessionLoop(
                routine=routine,
                controller=controller,
                estimator=estimator,
                speaker=speaker,
                recorder=None,
                window=window,
                video_writer=None,
                console=Console(quiet=True),
                live=True,
                use_speaker=True,
            )

            def press(window: KeyFrom = window) -> None:
                while not player_processes():
                    time.sleep(0.002)
                time.sleep(rng.uniform(0.5, 3.0))
                playing = set(player_processes())
                window.press_at = start = time.perf_counter()
                while playing & set(player_processes()):
                    time.sleep(0.001)
                delays.append(time.perf_counter() - start)

            presser = threading.Thread(target=press, daemon=True)
            presser.start()
            loop.handle(controller.start(0.0), 0.0)
            frames = LivePlayback(VideoFileSource(VIDEO))
            try:
                loop.run(frames)
            finally:
                frames.close()
            presser.join(timeout=10.0)
            speaker.silence()
            while speaker.busy:
                time.sleep(0.005)
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--device", help="ALSA device to play on (default: a stand-in card)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--loop", action="store_true", help="stop by key in a live session")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as folder:
        sink = None if args.device else PacedSink(Path(folder), BYTES_PER_S)
        device = args.device or (sink.device if sink else None)
        command = player_command(device)
        if command is None:
            sys.exit("no audio player (aplay) found")
        speaker = PlayingSpeaker(command)
        to_silence: list[float] = []
        player_ended: list[float] = []
        try:
            if args.loop:
                key_delays = through_loop(speaker, args.runs, rng)
                print(f"{args.runs} stops by key in a live session, 0.5-3 s into an utterance")
                describe("key to player ended", key_delays)
                return
            for _ in range(args.runs):
                speaker.say(INTRO)
                while not player_processes():
                    time.sleep(0.002)
                time.sleep(rng.uniform(0.5, 3.0))
                start = time.perf_counter()
                speaker.silence()
                while player_processes():
                    time.sleep(0.001)
                player_ended.append(time.perf_counter() - start)
                if sink is not None:
                    last = sink.wait_for_silence(QUIET_S, 5.0)
                    if last is None:
                        sys.exit("the voice did not stop")
                    to_silence.append(max(0.0, last - start))
                while speaker.busy:
                    time.sleep(0.005)
        finally:
            speaker.close()
            if sink is not None:
                sink.close()

    print(f"{args.runs} cuts of a {len(INTRO.split())}-word introduction, 0.5-3 s into it")
    if to_silence:
        describe("to silence", to_silence)
    describe("player ended", player_ended)


if __name__ == "__main__":
    main()
