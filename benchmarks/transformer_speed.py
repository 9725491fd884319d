"""The Transformer's speeds and memory as a user meets them.

- ``extend`` of Twinkle by 20 s as a whole process (``python -m lab_utils extend``), beside a bare
  ``python -c "import numpy"`` run in turn with it (the machine's own start-up cost);
- one training epoch of the shipped settings (100 batches of 32 windows of 192 words, then the
  validation tunes scored) and the training process's peak memory;
- the shipped model's epochs (its log.csv) at that epoch time: the training it took, on this machine.
Goals (issue 27): extend under 1.5 s; training to the shipped quality at most 15 minutes; training
peaks under 2 GB.
Run: python benchmarks/transformer_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import record

ONE_EPOCH = """
import time
from lab_utils.transformer_training import train_transformer
started = time.perf_counter()
train_transformer({folder!r}, epochs=1, verbose=0)
print(time.perf_counter() - started)
"""


def _seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main(repeats: int) -> None:
    work = Path(tempfile.mkdtemp())
    from lab_utils.files import MODELS_DIR
    from lab_utils.midi import write_midi
    from lab_utils.samples import melody_roll

    write_midi(melody_roll("twinkle"), work / "twinkle.mid")
    extend_runs, numpy_runs = [], []
    for i in range(repeats):
        numpy_runs.append(_seconds([sys.executable, "-c", "import numpy"]))
        extend_runs.append(_seconds([sys.executable, "-m", "lab_utils", "extend", str(work / "twinkle.mid"),
                                     "-o", str(work / f"out{i}"), "--seconds", "20"]))
    epoch = subprocess.run([sys.executable, "-c", ONE_EPOCH.format(folder=str(work / "run"))], check=True,
                           capture_output=True, text=True)
    epoch_seconds = float(epoch.stdout.strip().splitlines()[-1])
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    shipped_epochs = len((MODELS_DIR / "transformer" / "log.csv").read_text().strip().splitlines()) - 1
    figures = {"extend_20s_process_s": statistics.median(extend_runs),
               "python_numpy_process_s": statistics.median(numpy_runs),
               "training_epoch_s": epoch_seconds, "training_peak_gb": peak_gb,
               "shipped_training_min": shipped_epochs * epoch_seconds / 60}
    print(f"{'figure':34s} {'value':>8s}  goal")
    for name, goal in (("extend_20s_process_s", "at most 1.5"), ("python_numpy_process_s", ""),
                       ("training_epoch_s", ""), ("shipped_training_min", "at most 15"),
                       ("training_peak_gb", "under 2")):
        print(f"{name:34s} {figures[name]:8.2f}  {goal}")
    record("transformer_speed", figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    main(parser.parse_args().repeats)
