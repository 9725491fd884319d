"""The studio's Generate as a learner meets it: models loaded in the cell before, then a click.

A fresh process per model choice loads the shipped models and builds the studio (the notebook's
cells before), waits as a person would before clicking, then times the first and a second
Generate for 8 bars of Ode to Joy: files written, piano roll drawn, audio ready.
Run: python benchmarks/studio_speed.py [--repeats 3]    Goal (issue 11): first Generate under 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from results import record

ONE_SESSION = """
import json, sys, tempfile, time
import matplotlib
matplotlib.use("Agg")
from lab_utils.arcnn import load_enhancer
from lab_utils.harmonize import load_harmonizer
from lab_utils.studio import Studio
studio = Studio(load_harmonizer(), load_enhancer(), outdir=tempfile.mkdtemp())
studio.source.value, studio.sample.value, studio.bars.value, studio.model.value = "sample", "ode_to_joy", 8, sys.argv[1]
time.sleep(2.0)  # the learner reads the controls
seconds = []
for _ in range(2):
    started = time.perf_counter()
    studio.generate()
    seconds.append(time.perf_counter() - started)
print(json.dumps(seconds))
"""


def main(repeats: int) -> None:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    runs: dict[str, list[list[float]]] = {model: [] for model in ("GAN", "AR-CNN", "extend", "both")}
    for _ in range(repeats):
        for model in runs:
            out = subprocess.run([sys.executable, "-c", ONE_SESSION, model], check=True, env=env,
                                 capture_output=True, text=True).stdout
            runs[model].append(json.loads(out.strip().splitlines()[-1]))
    print(f"8 bars of Ode to Joy, {os.cpu_count()} cores, {repeats} fresh sessions per model, medians in seconds")
    print(f"{'model':8s} {'first Generate':>15s} {'second':>8s}  first of each session")
    for model, sessions in runs.items():
        first = [s[0] for s in sessions]
        print(f"{model:8s} {statistics.median(first):15.2f} {statistics.median(s[1] for s in sessions):8.2f}  "
              + " ".join(f"{s:.2f}" for s in first))
    print("goal: first Generate under 2 s")
    record("studio_speed", {f"{model.lower().replace('-', '')}_first_s": statistics.median(s[0] for s in sessions)
                            for model, sessions in runs.items()}
           | {f"{model.lower().replace('-', '')}_next_s": statistics.median(s[1] for s in sessions)
              for model, sessions in runs.items()})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    main(parser.parse_args().repeats)
