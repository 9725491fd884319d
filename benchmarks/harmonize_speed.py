"""Harmonize speed and memory in one process: melodies from 8 bars to 10 minutes with the
shipped GAN on LiteRT (whole processes against the Keras path: ``inference_speed.py``).

Run: python benchmarks/harmonize_speed.py
Windows go through the generator 64 at a time, so memory grows only with the output roll.
"""

from __future__ import annotations

import resource
import time

from lab_utils.harmonize import load_harmonizer
from lab_utils.samples import MELODIES, melody_roll


def main() -> None:
    harmonize = load_harmonizer()
    harmonize(melody_roll("twinkle"))  # warm up
    print(f"{'melody':22s} {'music s':>8s} {'harmonize s':>12s} {'peak RSS MB':>12s}")
    for copies in (1, 4, 21):
        melody = melody_roll(" ".join([MELODIES["twinkle"].notes] * copies))
        started = time.perf_counter()
        harmonize(melody)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{'twinkle x ' + str(copies):22s} {melody.seconds:8.0f} {seconds:12.2f} {peak:12.0f}")


if __name__ == "__main__":
    main()
