"""How long must the GAN train? The classifier two-sample test against minutes of training on
this machine: one run trained for 1 minute, then resumed to 3, 10 and 30 minutes in all (as a
learner resumes Lab 2), each stage judged on the validation chorales with the shipped decoder's
weights (what Lab 2's run uses), beside the shipped model and an untrained generator.

Run alone (minutes of training depend on what else the machine does):
    python benchmarks/gan_minutes.py [--stages 1 3 10 30] [--record]
(--record keeps the figures in benchmarks/results.json, where the GAN's card quotes them from.)
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from lab_utils.chorales import load_dataset
from lab_utils.harmonize import load_harmonizer
from lab_utils.training import LOG_FILE, train_gan
from lab_utils.two_sample import checklist, two_sample_test


def judged(harmonizer, pieces) -> tuple[float, int]:
    """How often the classifier tells the voices from Bach's on ``pieces``, and the checks held."""
    result = two_sample_test(pieces, harmonizer)
    return result.accuracy, sum(check.passed for check in checklist(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=float, nargs="+", default=[1, 3, 10, 30], help="minutes of training in all")
    parser.add_argument("--record", action="store_true", help="keep the figures in benchmarks/results.json")
    args = parser.parse_args()
    dataset = load_dataset(progress=False)
    pieces = [c.roll() for c in dataset.split("valid")]
    rows = {"untrained generator": (0.0, 0, *judged(load_harmonizer(untrained=True), pieces)),
            "shipped model": (float("nan"), 0, *judged(load_harmonizer(), pieces))}
    print(f"{'model':22s} {'minutes':>8s} {'iterations':>10s} {'told apart':>10s} {'checks held':>11s}")
    for name, (minutes, iterations, accuracy, held) in rows.items():
        print(f"{name:22s} {minutes:8.0f} {iterations:10d} {accuracy:10.3f} {held:9d}/5", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        run, trained = Path(tmp) / "gan", 0.0
        for stage in args.stages:
            started = time.perf_counter()
            train_gan(run, minutes=stage - trained, resume=trained > 0, sample_every=100, dataset=dataset, verbose=0)
            trained = stage
            with (run / LOG_FILE).open() as log:
                iterations = int(float(list(csv.DictReader(log))[-1]["iteration"]))
            accuracy, held = judged(load_harmonizer(run / "generator"), pieces)
            rows[f"{stage:g} minutes"] = (stage, iterations, accuracy, held)
            print(f"{'trained':22s} {stage:8g} {iterations:10d} {accuracy:10.3f} {held:9d}/5 "
                  f"(stage {time.perf_counter() - started:.0f} s with judging)", flush=True)
    if args.record:
        from results import record

        names = {key: key.split()[0] for key in rows}  # "untrained", "shipped", "1", "3", ...
        record("gan_minutes", {f"told_apart_{names[key]}": accuracy for key, (_, _, accuracy, _) in rows.items()}
               | {f"iterations_{names[key]}": iterations for key, (minutes, iterations, _, _) in rows.items()
                  if minutes > 0})

if __name__ == "__main__":
    main()
