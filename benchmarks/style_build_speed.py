"""Style build speed: files per second and peak memory of ``dataset build`` from a folder of MIDI.

Writes 5 x N synthetic band MIDI files (``random_band_piece``, 8-16 bars, a seed each) once into a
temporary folder; the first N are linked into a second folder. Every build is a whole process, as
a user runs it (``python -m lab_utils dataset build DIR --name bench --jobs J --json``), with
``LAB_STYLES_DIR`` in a fresh temporary folder, so the read cache starts empty and data/ is untouched:
- N files cold on one core and on every core, and warm (every reading cached) on every core;
- 5 x N files cold on every core, to compare its peak memory with N files' (it must not grow
  with the folder).
Peak memory is the largest resident set (RSS), sampled with psutil every 20 ms: of the whole
process tree at once, of the main process, and of the largest worker.
Run: python benchmarks/style_build_speed.py [--files 1000 | --quick]   (N = 1000: 1,000 and 5,000 files)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from results import record

from lab_utils.midi import write_midi
from lab_utils.samples import random_band_piece

SAMPLE_SECONDS = 0.02
MB = 1024 * 1024


@dataclass
class Build:
    files: int
    jobs: int
    cache: str  # "cold" or "warm"
    seconds: float  # the whole process, imports included
    used: int  # pieces the build kept (should be every file)
    peak_mb: float  # the process tree's largest total RSS at one moment
    main_mb: float  # the main process's largest RSS
    worker_mb: float  # the largest RSS of any one worker (0 on one core)

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds


def write_files(folder: Path, count: int) -> None:
    """``count`` band pieces of 8 to 16 bars, a different seed each."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(count):
        write_midi(random_band_piece(seed, bars=8 + seed % 9), folder / f"band{seed:05d}.mid")


def link_first(source: Path, folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir())[:count]:
        (folder / path.name).symlink_to(path)


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:  # ended between listing and reading
        return 0


def _workers(parent: psutil.Process) -> list[psutil.Process]:
    try:
        return parent.children(recursive=True)
    except psutil.Error:  # the build is ending
        return []


def build(folder: Path, jobs: int, styles_dir: Path, cache: str) -> Build:
    """One build as a whole process, its memory sampled until it ends."""
    command = [sys.executable, "-m", "lab_utils", "dataset", "build", str(folder), "--name", "bench",
               "--jobs", str(jobs), "--json"]
    env = {**os.environ, "LAB_STYLES_DIR": str(styles_dir)}
    peak = main = worker = 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        parent = psutil.Process(proc.pid)
        while True:
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            parent_rss, workers = _rss(parent), [_rss(p) for p in _workers(parent)]
            peak, main, worker = max(peak, parent_rss + sum(workers)), max(main, parent_rss), max([worker, *workers])
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}):\n{err.read().decode()[-2000:]}")
        report = json.loads(out.read())
    files = sum(1 for _ in folder.iterdir())
    return Build(files, jobs, cache, seconds, report["used"], peak / MB, main / MB, worker / MB)


def table(builds: list[Build]) -> str:
    lines = [f"{'files':>6} {'jobs':>4} {'cache':>5} {'seconds':>8} {'files/s':>8} {'peak MB':>8} "
             f"{'main MB':>8} {'worker MB':>9} {'used':>6}"]
    lines += [f"{b.files:>6} {b.jobs:>4} {b.cache:>5} {b.seconds:>8.1f} {b.files_per_second:>8.1f} "
              f"{b.peak_mb:>8.0f} {b.main_mb:>8.0f} {b.worker_mb:>9.0f} {b.used:>6}" for b in builds]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000, help="N: the smaller folder (the larger has 5 x N)")
    parser.add_argument("--quick", action="store_true", help="a quick check: --files 100")
    args = parser.parse_args()
    small = 100 if args.quick else args.files
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="style-bench-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        write_files(root / "large", 5 * small)
        link_first(root / "large", root / "small", small)
        print(f"wrote {5 * small} MIDI files in {time.perf_counter() - started:.0f} s; {cores} cores")
        builds = [build(root / "small", 1, root / "one", "cold"),
                  build(root / "small", cores, root / "all", "cold"),
                  build(root / "small", cores, root / "all", "warm"),  # the same styles folder: every reading cached
                  build(root / "large", cores, root / "large-styles", "cold")]
    print(table(builds))
    one, every, warm, large = builds
    wrong = [b for b in builds if b.used != b.files]
    if wrong:
        print(f"warning: {len(wrong)} build(s) kept fewer pieces than files")
    print(f"peak memory at {large.files} files is {large.peak_mb / every.peak_mb:.2f}x that at {every.files} "
          f"(goal: not growing with the folder)")
    if args.quick or args.files != 1000:
        print("(not recorded: record only the full run, --files 1000)")
        return
    record("style_build", {"files": one.files, "files_per_s_1_core": one.files_per_second,
                           "files_per_s_all_cores": every.files_per_second, "warm_rebuild_s": warm.seconds,
                           "peak_mb_1000": every.peak_mb, "peak_mb_5000": large.peak_mb,
                           "main_mb_1000": every.main_mb, "main_mb_5000": large.main_mb,
                           "worker_mb_1000": every.worker_mb, "worker_mb_5000": large.worker_mb})


if __name__ == "__main__":
    main()
