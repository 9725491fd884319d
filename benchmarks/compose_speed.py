"""Compose end to end against a bare TensorFlow import, as whole processes in the same minute.

``python -m lab_utils compose`` with its defaults (Twinkle Twinkle, 60 s) writes MIDI, WAV, MP3,
PNG and JSON; the baseline is ``python -c "import tensorflow"``. The two alternate, ``--repeats``
times each, and the table gives every run and the ratio of the medians.
Run: python benchmarks/compose_speed.py [--repeats 3]    Goal (issue 5): ratio at most 4.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(repeats: int) -> None:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    bare, composed = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeats):
            bare.append(timed([sys.executable, "-c", "import tensorflow"], env))
            composed.append(timed([sys.executable, "-m", "lab_utils", "compose", "-o", folder, "--force"], env))
    print(f"whole processes, {os.cpu_count()} cores, {repeats} runs each, alternating")
    print(f"{'command':44s} {'median s':>9s}  runs")
    for name, runs in (('bare: python -c "import tensorflow"', bare), ("ours: python -m lab_utils compose", composed)):
        print(f"{name:44s} {statistics.median(runs):9.2f}  " + " ".join(f"{s:.2f}" for s in runs))
    print(f"ratio: {statistics.median(composed) / statistics.median(bare):.2f}x (goal <= 4x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    main(parser.parse_args().repeats)
