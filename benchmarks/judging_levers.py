"""What moves Lab 7's judging figures: the three things the lab lets you change (``SEED``,
``MELODY``, ``SECONDS``), each changed alone.

    python benchmarks/judging_levers.py      # 7 built-in tunes x seeds 0-2 x 30, 60, 90 s: about 6 min on 2 cores

Every piece is made as Lab 7 makes it (``melody_from``, ``compose`` with the shipped GAN, AR-CNN
and Transformer, ``render_audio``, ``judge``). For each lever and figure it prints the mean
change when only that lever changes (over every pair of pieces that differ in it alone), where
each figure sits at each length, and how often changing the lever alone turns a criterion's
"met" around. ``judging.MOVES``, the judging table's "how to move it" column, is read from it.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from lab_utils.arcnn import load_enhancer
from lab_utils.compose import compose
from lab_utils.export import render_audio
from lab_utils.harmonize import load_harmonizer
from lab_utils.judging import judge
from lab_utils.melody_source import melody_from
from lab_utils.samples import MELODIES
from lab_utils.transformer import load_melody_model

SEEDS = (0, 1, 2)
LENGTHS = (30, 60, 90)  # seconds: Lab 7's quick length, its own, and half as long again
LEVERS = ("seed", "melody", "seconds")


def compose_all() -> list[dict]:
    """One record per piece: its levers, each criterion's figures and whether it was met."""
    harmonizer, enhancer, extender = load_harmonizer(), load_enhancer(), load_melody_model()
    records = []
    for name, seed, seconds in itertools.product(MELODIES, SEEDS, LENGTHS):
        melody, title, _ = melody_from(name)
        piece = compose(melody, harmonizer, enhancer, seconds=seconds, seed=seed, title=title, extender=extender)
        criteria = judge(piece, render_audio(piece), melody)
        records.append({"melody": name, "seed": seed, "seconds": seconds,
                        "figures": {(c.name, f): float(v) for c in criteria for f, v in c.figures.items()},
                        "met": {c.name: c.met for c in criteria}})
        print(f"  {name} seed {seed} {seconds} s: " + ", ".join(f"{f} {v:.3g}" for (_, f), v in
                                                              records[-1]["figures"].items()), flush=True)
    return records


def pairs(records: list[dict], lever: str) -> list[tuple[dict, dict]]:
    """Every pair of pieces that differ in ``lever`` alone."""
    others = [k for k in LEVERS if k != lever]
    return [(a, b) for a, b in itertools.combinations(records, 2)
            if a[lever] != b[lever] and all(a[k] == b[k] for k in others)]


def figure_table(records: list[dict]) -> list[str]:
    """Per figure: its range over all pieces, the mean change per lever, the tunes at its ends and
    its mean at each length."""
    rows = ["| criterion | figure | all pieces: mean (lowest-highest) | seed: mean change | melody: mean change "
            "(lowest tune, highest tune) | length: mean change | mean at " + " / ".join(f"{s} s" for s in LENGTHS) + " |",
            "|---|---|---|---|---|---|---|"]
    for key in records[0]["figures"]:
        values = np.array([r["figures"][key] for r in records])
        change = {lever: np.mean([abs(a["figures"][key] - b["figures"][key]) for a, b in pairs(records, lever)])
                  for lever in LEVERS}
        by_tune = {name: np.mean([r["figures"][key] for r in records if r["melody"] == name]) for name in MELODIES}
        low, high = min(by_tune, key=by_tune.get), max(by_tune, key=by_tune.get)
        at_length = " / ".join(f"{np.mean([r['figures'][key] for r in records if r['seconds'] == s]):.3g}"
                               for s in LENGTHS)
        rows.append(f"| {key[0]} | {key[1]} | {values.mean():.3g} ({values.min():.3g}-{values.max():.3g}) | "
                    f"{change['seed']:.3g} | {change['melody']:.3g} ({low} {by_tune[low]:.3g}, {high} "
                    f"{by_tune[high]:.3g}) | {change['seconds']:.3g} | {at_length} |")
    return rows


def met_table(records: list[dict]) -> list[str]:
    """Per criterion: how many pieces meet it (at each length), and the share of pairs differing in
    one lever alone where one piece meets it and the other does not."""
    rows = ["| criterion | met | met at " + " / ".join(f"{s} s" for s in LENGTHS)
            + " | turned around by the seed | by the melody | by the length |", "|---|---|---|---|---|---|"]
    for name in records[0]["met"]:
        at_length = " / ".join(f"{sum(r['met'][name] for r in records if r['seconds'] == s)}" for s in LENGTHS)
        flips = []
        for lever in LEVERS:
            both = pairs(records, lever)
            flips.append(f"{sum(a['met'][name] != b['met'][name] for a, b in both)} of {len(both)}")
        rows.append(f"| {name} | {sum(r['met'][name] for r in records)} of {len(records)} | {at_length} | "
                    + " | ".join(flips) + " |")
    return rows


def main() -> None:
    started = time.perf_counter()
    print(f"composing {len(MELODIES)} tunes x seeds {SEEDS} x {LENGTHS} s, shipped models:", flush=True)
    records = compose_all()
    print(f"\n{len(records)} pieces in {(time.perf_counter() - started) / 60:.1f} min\n")
    print("A figure's mean change for a lever: over every pair of pieces that differ in that lever alone, the "
          "mean of |one - other|.\n")
    print("\n".join(figure_table(records)))
    print()
    print("\n".join(met_table(records)))


if __name__ == "__main__":
    main()
