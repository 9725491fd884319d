"""GAN training speed: one iteration of the reference config vs. the default, same run.

An iteration is ``critic_steps`` critic updates plus one generator update. The reference is the
DeepComposer sample's architecture and settings. The figures go to ``benchmarks/results.json``.
Run: python benchmarks/gan_speed.py [--iterations N]   Goal (issue 3): default >= 10x faster.
"""

from __future__ import annotations

import argparse
import os
import time

from results import record

from lab_utils.chorales import load_dataset
from lab_utils.pieces import PieceDataset
from lab_utils.gan import CONFIGS, HarmonyGAN, make_optimizers
from lab_utils.shards import ensure_shards
from lab_utils.training import window_batches


def seconds_per_iteration(name: str, dataset: PieceDataset, iterations: int) -> float:
    config = CONFIGS[name]
    gan = HarmonyGAN(config)
    gan.compile(*make_optimizers(config))
    batches = window_batches(dataset, gan, seed=0)
    gan.fit(batches, steps_per_epoch=1, epochs=1, verbose=0)  # build and trace once
    started = time.perf_counter()
    gan.fit(batches, steps_per_epoch=iterations, epochs=1, verbose=0)
    return (time.perf_counter() - started) / iterations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=3, help="timed reference iterations")
    args = parser.parse_args()
    dataset = load_dataset(progress=False)
    ensure_shards(dataset)
    reference = seconds_per_iteration("reference", dataset, args.iterations)
    default = seconds_per_iteration("default", dataset, args.iterations * 10)
    print(f"{'config':10s} {'s/iteration':>12s} {'1000 iterations':>16s}")
    for name, seconds in (("reference", reference), ("default", default)):
        print(f"{name:10s} {seconds:12.3f} {seconds * 1000 / 60:13.1f} min")
    print(f"speed-up: {reference / default:.1f}x (goal >= 10x), cores {os.cpu_count()}")
    record("gan_speed", {"reference_s_per_iteration": reference, "default_s_per_iteration": default,
                         "speedup": reference / default})


if __name__ == "__main__":
    main()
