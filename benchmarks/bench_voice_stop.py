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

    python benchmarks/bench_voice_stop.py [--runs 20] [--device default]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from audio_sink import PacedSink, player_processes  # noqa: E402

from coach.adapters.speech import PlayingSpeaker, player_command  # noqa: E402

BYTES_PER_S = 22050 * 2  # espeak-ng writes 22.05 kHz 16-bit mono
QUIET_S = 0.4
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
        f"{name:<14} n={len(ms)}  min {min(ms):6.1f}  median {statistics.median(ms):6.1f}  "
        f"p95 {percentile(ms, 0.95):6.1f}  max {max(ms):6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--device", help="ALSA device to play on (default: a stand-in card)")
    parser.add_argument("--seed", type=int, default=1)
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
