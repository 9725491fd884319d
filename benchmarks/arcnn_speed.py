"""AR-CNN enhancement speed: 100 iterations on an 8-bar melody, as whole processes.

The reference is the DeepComposer sample's method: a U-Net of its size (31.9M parameters on the
full 128 x 128 roll) called with ``model.predict`` once per iteration. Ours is the command a user
runs, ``python -m lab_utils enhance``, with the shipped model: a 1.1M-parameter U-Net on the 4
octaves the chorales use, called inside a compiled ``tf.function``.
Run: python benchmarks/arcnn_speed.py    Goal (issue 4): ours at least 5x faster.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REFERENCE_METHOD = """
import numpy as np, keras
from lab_utils.arcnn import ARCNN_CONFIGS, build_unet
model = build_unet(ARCNN_CONFIGS["reference"])
roll = np.zeros((1, 128, 128, 1), np.float32)
roll[0, ::4, 60, 0] = 1
rng = np.random.default_rng(0)
for _ in range({iterations}):
    logits = model.predict(roll, verbose=0)[0, :, :, 0].reshape(-1)
    probs = np.exp(logits - logits.max())
    cell = rng.choice(probs.size, p=probs / probs.sum())
    roll.reshape(-1)[cell] = 1 - roll.reshape(-1)[cell]
"""


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(iterations: int = 100) -> None:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    with tempfile.TemporaryDirectory() as folder:
        melody = Path(folder) / "twinkle.mid"
        subprocess.run([sys.executable, "-c", "from lab_utils.samples import melody_roll; "
                        "from lab_utils.midi import write_midi, PianoRoll; r = melody_roll('twinkle'); "
                        f"write_midi(PianoRoll(r.sounding[:128], r.onsets[:128]), {str(melody)!r})"],
                       check=True, env=env)
        rows = [
            ("bare: python -c 'import tensorflow'", timed([sys.executable, "-c", "import tensorflow"], env)),
            ("reference: predict() per iteration", timed([sys.executable, "-c", REFERENCE_METHOD.format(iterations=iterations)], env)),
            ("ours: python -m lab_utils enhance", timed([sys.executable, "-m", "lab_utils", "enhance", str(melody),
                                                         "-o", folder + "/out", "--iterations", str(iterations)], env)),
        ]
    print(f"{iterations} iterations on 8 bars, whole processes, {os.cpu_count()} cores")
    print(f"{'method':40s} {'seconds':>8s}")
    for name, seconds in rows:
        print(f"{name:40s} {seconds:8.2f}")
    print(f"speed-up: {rows[1][1] / rows[2][1]:.1f}x (goal >= 5x)")
    print()
    what_each_change_gave(iterations)


def what_each_change_gave(iterations: int) -> None:
    """In one process: the 100 iterations alone, changing one thing at a time."""
    import numpy as np

    from lab_utils.arcnn import ARCNN_CONFIGS, arcnn_folder, build_unet, enhance, load_arcnn, load_scorer
    from lab_utils.evaluate import first_bars
    from lab_utils.samples import melody_roll

    melody = first_bars(melody_roll("twinkle"))
    big = build_unet(ARCNN_CONFIGS["reference"])
    roll = np.zeros((1, 128, 128, 1), np.float32)
    started = time.perf_counter()
    for _ in range(iterations):
        big.predict(roll, verbose=0)
    rows = [("31.9M U-Net, predict() per flip", time.perf_counter() - started)]
    small, config = load_arcnn(arcnn_folder())
    fast, _ = load_scorer(arcnn_folder())
    for name, model, per_pass in (("1.1M U-Net on 48 pitches, tf.function, 1 flip/pass", small, 1),
                                  ("same, 4 flips per pass", small, 4),
                                  ("same, TensorFlow Lite copy", fast, 4)):
        enhance(melody, model, config, iterations=1, edits_per_pass=per_pass)  # trace / warm up
        started = time.perf_counter()
        enhance(melody, model, config, iterations=iterations, edits_per_pass=per_pass)
        rows.append((name, time.perf_counter() - started))
    print(f"{'the sampling loop alone':52s} {'seconds':>8s}")
    for name, seconds in rows:
        print(f"{name:52s} {seconds:8.2f}")


if __name__ == "__main__":
    main()
