"""Judge a harmonizer: its figures on melodies it never saw, beside Bach's own."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .chorales import ChoraleDataset
from .metrics import FIGURES, distance_to_bach, figures, reference_from, summarize
from .midi import PianoRoll
from .samples import MELODIES, melody_roll

__all__ = ["evaluate_harmonizer", "format_table", "nan_to_none"]


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
