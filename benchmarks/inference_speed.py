"""Inference speed as a user meets it: whole processes, alternating, in the same run.

Each command runs ``--repeats`` times, the rows taking turns, so a busy machine slows them alike.
"keras" rows are the same command on the Keras path (``LAB_RUNTIME=keras``: TensorFlow imported,
as before the models ran on LiteRT); the other rows run on LiteRT, as shipped. The goals:
- ``compose`` (60 s, Twinkle) at most 1.0x a bare ``import tensorflow``;
- ``enhance`` (100 iterations, 8 bars) at least 20x faster than the DeepComposer sample's method
  (a 31.9M-parameter U-Net on the full 128 x 128 roll, ``model.predict`` once per iteration);
- ``harmonize`` of a 10-minute melody at least 3x faster than on the Keras path;
- ``python -m lab_utils --help`` under 0.5 s.
Run: python benchmarks/inference_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import record

DEEPCOMPOSER_METHOD = """
import numpy as np
from lab_utils.arcnn import ARCNN_CONFIGS, build_unet
model = build_unet(ARCNN_CONFIGS["reference"])
roll = np.zeros((1, 128, 128, 1), np.float32)
roll[0, ::4, 60, 0] = 1
rng = np.random.default_rng(0)
for _ in range(100):
    logits = model.predict(roll, verbose=0)[0, :, :, 0].reshape(-1)
    probs = np.exp(logits - logits.max())
    cell = rng.choice(probs.size, p=probs / probs.sum())
    roll.reshape(-1)[cell] = 1 - roll.reshape(-1)[cell]
"""

WRITE_MELODIES = """
import sys
from lab_utils.midi import PianoRoll, write_midi
from lab_utils.samples import MELODIES, melody_roll
eight = melody_roll("twinkle")
write_midi(PianoRoll(eight.sounding[:128], eight.onsets[:128]), sys.argv[1] + "/eight_bars.mid")
write_midi(melody_roll(" ".join([MELODIES["twinkle"].notes] * 21)), sys.argv[1] + "/ten_minutes.mid")
"""


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(repeats: int) -> None:
    lite = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    lite.pop("LAB_RUNTIME", None)
    keras = dict(lite, LAB_RUNTIME="keras")
    python, lab = [sys.executable], [sys.executable, "-m", "lab_utils"]
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([*python, "-c", WRITE_MELODIES, folder], check=True, env=lite)
        out = str(Path(folder) / "out")
        commands = {
            "bare: import tensorflow": ([*python, "-c", "import tensorflow"], lite),
            "--help": ([*lab, "--help"], lite),
            "compose, keras": ([*lab, "compose", "-o", out, "--force"], keras),
            "compose": ([*lab, "compose", "-o", out, "--force"], lite),
            "enhance 100 it., DeepComposer method": ([*python, "-c", DEEPCOMPOSER_METHOD], lite),
            "enhance 100 it., keras": ([*lab, "enhance", f"{folder}/eight_bars.mid", "-o", out], keras),
            "enhance 100 it.": ([*lab, "enhance", f"{folder}/eight_bars.mid", "-o", out], lite),
            "harmonize 10 min, keras": ([*lab, "harmonize", f"{folder}/ten_minutes.mid", "-o", out], keras),
            "harmonize 10 min": ([*lab, "harmonize", f"{folder}/ten_minutes.mid", "-o", out], lite),
        }
        runs: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeats):
            for name, (command, env) in commands.items():
                runs[name].append(timed(command, env))
    median = {name: statistics.median(seconds) for name, seconds in runs.items()}
    print(f"whole processes, {os.cpu_count()} cores, {repeats} runs each, alternating")
    print(f"{'command':40s} {'median s':>9s}  runs")
    for name, seconds in runs.items():
        print(f"{name:40s} {median[name]:9.2f}  " + " ".join(f"{s:.2f}" for s in seconds))
    print()
    goals = [
        ("compose / bare import tensorflow", median["compose"] / median["bare: import tensorflow"], "<= 1.0x",
         median["compose, keras"] / median["bare: import tensorflow"]),
        ("enhance: DeepComposer method / ours", median["enhance 100 it., DeepComposer method"] / median["enhance 100 it."],
         ">= 20x", median["enhance 100 it., DeepComposer method"] / median["enhance 100 it., keras"]),
        ("harmonize 10 min: keras / LiteRT", median["harmonize 10 min, keras"] / median["harmonize 10 min"], ">= 3x", 1.0),
        ("--help seconds", median["--help"], "< 0.5 s", None),
    ]
    print(f"{'figure':40s} {'LiteRT':>8s} {'keras':>8s}  goal")
    for name, value, goal, before in goals:
        print(f"{name:40s} {value:8.2f} {'' if before is None else f'{before:8.2f}':>8s}  {goal}")
    record("inference_speed", {
        "import_tensorflow_s": median["bare: import tensorflow"], "help_s": median["--help"],
        "compose_s": median["compose"], "compose_keras_s": median["compose, keras"],
        "compose_ratio": goals[0][1], "compose_keras_ratio": goals[0][3],
        "enhance_deepcomposer_s": median["enhance 100 it., DeepComposer method"],
        "enhance_s": median["enhance 100 it."], "enhance_keras_s": median["enhance 100 it., keras"],
        "enhance_speedup": goals[1][1], "enhance_keras_speedup": goals[1][3],
        "harmonize_10min_s": median["harmonize 10 min"], "harmonize_10min_keras_s": median["harmonize 10 min, keras"],
        "harmonize_speedup": goals[2][1]})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    main(parser.parse_args().repeats)
