"""GAN training at scale: speed on 1 and 2 replicas, and memory on 1x and 10x the data.

Speed: the default config's iterations per second under the default strategy (one device,
batch 64) and under MirroredStrategy over this machine's CPU split into two logical devices
(batch 64 per replica, 128 in all); where TensorFlow sees GPUs, also over them. Each runs in a
process of its own (devices are set before TensorFlow starts), alternating, best of
``--rounds``. Memory: the peak resident memory of a process training 20 iterations on the
chorales' shards, then on a style ten times their size (the same windows in ten shards).
The figures go to ``benchmarks/results.json``.
Run: python benchmarks/distributed_speed.py [--iterations N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from results import record

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, resource, sys, time
import keras
from lab_utils.distribute import make_strategy
from lab_utils.gan import CONFIGS, HarmonyGAN, make_optimizers
from lab_utils.distribute import scaled_config
from lab_utils.shards import ensure_shards
from lab_utils.catalog import load_style
from lab_utils.training import window_batches

strategy_name, style, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3])
strategy = make_strategy(strategy_name)
dataset = load_style(style)
ensure_shards(dataset)
config = scaled_config(CONFIGS["default"], strategy.num_replicas_in_sync)
keras.utils.set_random_seed(0)
with strategy.scope():
    gan = HarmonyGAN(config)
    gan.compile(*make_optimizers(config))
batches = window_batches(dataset, gan, 0, strategy)
gan.fit(batches, steps_per_epoch=2, epochs=1, verbose=0)  # trace and fill the buffers
started = time.perf_counter()
gan.fit(batches, steps_per_epoch=iterations, epochs=1, verbose=0)
seconds = (time.perf_counter() - started) / iterations
print(json.dumps({"replicas": strategy.num_replicas_in_sync, "batch": config.batch_size, "s_per_iteration": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(strategy: str, style: str, iterations: int, env: dict[str, str]) -> dict:
    """One measuring process; its JSON line."""
    done = subprocess.run([sys.executable, "-c", CHILD, strategy, style, str(iterations)], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), **env}, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def tenfold_style(home: Path) -> None:
    """``home/bach10``: the chorales with their shard copied ten times (ten times the windows)."""
    from lab_utils.shards import MANIFEST, SHARDS, ensure_shards
    from lab_utils.catalog import load_style

    bach = load_style("bach")
    ensure_shards(bach)
    target = home / "bach10"
    shutil.copytree(bach.folder, target, ignore=shutil.ignore_patterns(SHARDS))
    manifest = json.loads((bach.folder / SHARDS / MANIFEST).read_text())
    (target / SHARDS).mkdir()
    copies = []
    for k in range(10):
        for shard in manifest["shards"]:
            name = f"copy{k}-{shard['file']}"
            shutil.copyfile(bach.folder / SHARDS / shard["file"], target / SHARDS / name)
            copies.append({**shard, "file": name})
    manifest.update(shards=copies, windows=10 * manifest["windows"])
    (target / SHARDS / MANIFEST).write_text(json.dumps(manifest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=20, help="timed iterations per process")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (the best of each is kept)")
    args = parser.parse_args()
    import tensorflow as tf

    gpus = len(tf.config.list_physical_devices("GPU"))
    setups = {"1 replica (default)": ("default", {}), "2 replicas (mirrored, 2 logical CPUs)":
              ("mirrored", {"LAB_CPU_REPLICAS": "2", "CUDA_VISIBLE_DEVICES": ""})}
    if gpus:
        setups[f"{gpus} GPUs (mirrored)"] = ("mirrored", {})
    best: dict[str, dict] = {}
    for _ in range(args.rounds):
        for label, (strategy, env) in setups.items():
            figures = run(strategy, "bach", args.iterations, env)
            if label not in best or figures["s_per_iteration"] < best[label]["s_per_iteration"]:
                best[label] = figures
    print(f"{'setup':40s} {'batch':>6s} {'s/iteration':>12s} {'it/s':>6s} {'windows/s':>10s}")
    for label, f in best.items():
        print(f"{label:40s} {f['batch']:6d} {f['s_per_iteration']:12.3f} {1 / f['s_per_iteration']:6.2f} "
              f"{f['batch'] * 2 / f['s_per_iteration']:10.0f}")
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        tenfold_style(home)
        env = {"LAB_STYLES_DIR": str(home)}
        memory = {size: run("default", name, args.iterations, env)["peak_mb"]
                  for size, name in (("1x", "bach"), ("10x", "bach10"))}
    print(f"peak memory training on the chorales' 3,973 windows: {memory['1x']:.0f} MB; "
          f"on ten times as many: {memory['10x']:.0f} MB")
    one, two = best["1 replica (default)"], best["2 replicas (mirrored, 2 logical CPUs)"]
    record("distributed_speed", {
        "one_replica_s_per_iteration": one["s_per_iteration"], "two_replicas_s_per_iteration": two["s_per_iteration"],
        "two_replicas_windows_ratio": (two["batch"] / two["s_per_iteration"]) / (one["batch"] / one["s_per_iteration"]),
        "peak_mb_1x": memory["1x"], "peak_mb_10x": memory["10x"], "gpus": gpus})


if __name__ == "__main__":
    main()
