"""The classifier two-sample test on the test split's chorales: how often a classifier tells each
harmonizer's alto, tenor and bass from Bach's under the same sopranos, and what gives them away.

Rows: the shipped model (models/gan), the same decoder over an untrained generator, the
generator's raw output (each voice the strongest pitch per 8th within its range, as
``harmonize.parts_from`` reads it), and the two calibrations (Bach against himself, rule-based
triads). Features and classifier settings were chosen on the valid split (``lab_utils.two_sample``).
Run: python benchmarks/two_sample_report.py [--split test] [--record]
(--record keeps the accuracies in benchmarks/results.json, where documents quote them from.)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from lab_utils.chorales import load_dataset
from lab_utils.harmonize import load_harmonizer
from lab_utils.two_sample import (TABLE_HEADER, TwoSampleResult, composer_against_itself, rule_based_harmonizer,
                                  table_row, two_sample_test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=("valid", "test"))
    parser.add_argument("--record", action="store_true", help="keep the figures in benchmarks/results.json")
    args = parser.parse_args()
    pieces = [c.roll() for c in load_dataset(progress=False).split(args.split)]
    trained = load_harmonizer()
    runs: dict[str, Callable[[], TwoSampleResult]] = {
        "trained generator + decoder": lambda: two_sample_test(pieces, trained, "trained generator + decoder"),
        "untrained generator + decoder": lambda: two_sample_test(pieces, load_harmonizer(untrained=True),
                                                                 "untrained generator + decoder"),
        "raw generator output": lambda: two_sample_test(pieces, load_harmonizer(raw=True), "raw generator output"),
        "Bach vs Bach": lambda: composer_against_itself(pieces),
        "rule-based triads": lambda: two_sample_test(pieces, rule_based_harmonizer, "rule-based triads"),
    }
    results, seconds = {}, {}
    for name, run in runs.items():
        started = time.perf_counter()
        results[name] = run()
        seconds[name] = time.perf_counter() - started
    print(f"Classifier two-sample test on the {len(pieces)} {args.split} chorales (balanced accuracy, mean and "
          "spread over 5 folds grouped by chorale; 0.5: indistinguishable from Bach):\n")
    print(TABLE_HEADER)
    for result in results.values():
        print(table_row(result))
    print("\nseconds (harmonizing included): " + ", ".join(f"{name} {s:.1f}" for name, s in seconds.items()))
    if args.record:
        from results import record

        record("two_sample", {name.split()[0].replace("-", "_").lower() + "_accuracy": r.accuracy
                              for name, r in results.items()})


if __name__ == "__main__":
    main()
