"""Dataset speed: build from music21's corpus vs. load from the cache, and the cache size.

Run: python benchmarks/dataset_speed.py   (builds into a temporary folder; data/ is untouched)
Goals (issue 2): build at most 90 s on 2 cores, load at most 2 s, shipped cache under 10 MB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lab_utils.chorales import DEFAULT_CACHE, load_dataset


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        built = load_dataset(folder, rebuild=True, progress=False)
        rows.append(("build from corpus (parse 371 scores)", time.perf_counter() - started, 90.0))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from lab_utils.chorales import load_dataset; load_dataset()"],
                   check=True)
    rows.append(("load cache, fresh process with imports", time.perf_counter() - started, 2.0))
    started = time.perf_counter()
    dataset = load_dataset(DEFAULT_CACHE, progress=False)
    rows.append(("load cache, in a running kernel", time.perf_counter() - started, 2.0))
    started = time.perf_counter()
    windows, _ = dataset.gan_windows("train")
    rows.append(("cut train GAN windows", time.perf_counter() - started, None))
    size_mb = sum(p.stat().st_size for p in Path(DEFAULT_CACHE).iterdir()) / 1e6

    print(f"{'step':40s} {'seconds':>8s} {'goal':>8s}")
    for name, seconds, goal in rows:
        print(f"{name:40s} {seconds:8.2f} {('<= %.0f' % goal) if goal else '':>8s}")
    print(f"{'shipped cache size (MB)':40s} {size_mb:8.2f} {'<= 10':>8s}")
    print(f"chorales {len(dataset.pieces)} (built {len(built.pieces)}), skipped {len(dataset.skipped)}, "
          f"train windows {windows.shape}, cores {os.cpu_count()}")


if __name__ == "__main__":
    main()
