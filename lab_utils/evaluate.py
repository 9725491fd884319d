"""Judge a harmonizer: its figures on melodies it never saw, beside Bach's own."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .chorales import ChoraleDataset
from .metrics import FIGURES, distance_to_bach, enhancement_figures, figures, reference_from, summarize
from .midi import PianoRoll
from .samples import MELODIES, melody_roll

__all__ = ["evaluate_harmonizer", "format_table", "nan_to_none", "evaluate_enhancer", "first_bars",
           "evaluate_composer", "COMPOSE_TARGETS"]


def evaluate_harmonizer(harmonizer: Callable[[PianoRoll], PianoRoll], dataset: ChoraleDataset,
                        split: str = "test") -> dict:
    """Figures of ``harmonizer`` on a split's sopranos and on the built-in tunes.

    Bach's mean and spread come from the same chorales, so the distance to Bach of his own
    chorales is the yardstick (about 0.6).
    """
    test = dataset.split(split)
    bach = [figures(c.roll()) for c in test]
    reference = reference_from(bach)
    ours = [figures(harmonizer(c.roll().track(0))) for c in test]
    tunes = [figures(harmonizer(melody_roll(name))) for name in MELODIES]
    return {
        "bach_reference": reference,
        "bach": summarize(bach, reference),
        "test_melodies": summarize(ours, reference),
        "unseen_tunes": summarize(tunes, reference),
        "unseen_tunes_each": {name: dict(values, distance=distance_to_bach(values, reference))
                              for name, values in zip(MELODIES, tunes)},
        "split": split,
        "n_chorales": len(test),
    }


def format_table(result: dict) -> str:
    """The evaluation as a plain-text table: figure, ours (test, tunes), Bach mean +/- spread."""
    rows = [f"{'figure':15s} {result['split'] + ' melodies':>14s} {'unseen tunes':>13s} {'Bach':>16s}"]
    for f in (*FIGURES, "distance"):
        if f == "distance":
            bach = f"{result['bach'][f]:.2f}"
        else:
            mean, spread = result["bach_reference"][f]
            bach = f"{mean:.3f} +/- {spread:.3f}"
        rows.append(f"{f:15s} {result['test_melodies'][f]:14.3f} {result['unseen_tunes'][f]:13.3f} {bach:>16s}")
    return "\n".join(rows)


def nan_to_none(value):
    """JSON has no NaN: nested NaNs become null."""
    if isinstance(value, dict):
        return {k: nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [nan_to_none(v) for v in value]
    return None if isinstance(value, float) and np.isnan(value) else value


def first_bars(roll: PianoRoll, bars: int = 8) -> PianoRoll:
    """The first ``bars`` bars of a roll (after its pickup)."""
    end = min(roll.n_steps, roll.pickup_steps + bars * roll.steps_per_bar)
    return PianoRoll(roll.sounding[:end], roll.onsets[:end], tempo=roll.tempo, names=roll.names,
                     programs=roll.programs, time_signature=roll.time_signature, pickup_steps=roll.pickup_steps)


def evaluate_enhancer(enhancer: Callable[..., PianoRoll]) -> dict:
    """The AR-CNN's figures on the first 8 bars of the built-in tunes, with DeepComposer-like
    settings: 100 iterations keeping the melody (0 % removal) with at most 40 additions, and
    removal only (0 additions, up to 100 % removal)."""
    keep, remove_only = {}, {}
    for name in MELODIES:
        before = first_bars(melody_roll(name))
        keep[name] = enhancement_figures(before, enhancer(before, iterations=100, max_notes_added=40,
                                                          max_removed_pct=0))
        after = enhancer(before, iterations=100, max_notes_added=0, max_removed_pct=100)
        remove_only[name] = dict(enhancement_figures(before, after),
                                 subset=bool(not (after.sounding.any(axis=2) & ~before.sounding.any(axis=2)).any()))
    mean = {f: float(np.nanmean([v[f] for v in keep.values()])) for f in ("kept", "added_cells", "in_key", "consonant")}
    return {"keep_melody_add_40": keep, "remove_only": remove_only, "mean_keep_melody_add_40": mean}


COMPOSE_TARGETS = {"in_key": (0.90, 1.0), "consonant": (0.80, 1.0), "chordal": (0.75, 1.0), "parallels": (0.0, 3.0)}


def evaluate_composer(composer: Callable[[PianoRoll, int], PianoRoll], dataset: ChoraleDataset,
                      seeds: tuple[int, ...] = (0, 1, 2), n_unseen: int = 10) -> dict:
    """Figures of the challenge track's four voices (``composer(melody, seed)`` returns them) on
    the built-in tunes with several seeds and on sopranos of the test split, and the share of
    pieces that meet every target of ``COMPOSE_TARGETS``."""
    def meets(values: dict[str, float]) -> bool:
        return all(low <= values[f] <= high for f, (low, high) in COMPOSE_TARGETS.items())

    pieces = {f"{name} seed {seed}": figures(composer(melody_roll(name), seed)) for name in MELODIES for seed in seeds}
    unseen = {c.id: figures(composer(c.roll().track(0), 0)) for c in dataset.split("test")[:n_unseen]}
    keys = (*COMPOSE_TARGETS, "voices")
    return {
        "tunes": {name: {k: v[k] for k in keys} for name, v in pieces.items()},
        "test_sopranos": {name: {k: v[k] for k in keys} for name, v in unseen.items()},
        "mean_tunes": {k: float(np.mean([v[k] for v in pieces.values()])) for k in keys},
        "mean_test_sopranos": {k: float(np.mean([v[k] for v in unseen.values()])) for k in keys},
        "meet_targets": {"tunes": float(np.mean([meets(v) for v in pieces.values()])),
                         "test_sopranos": float(np.mean([meets(v) for v in unseen.values()]))},
        "targets": COMPOSE_TARGETS,
    }
