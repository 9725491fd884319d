"""Training-run folders: checked before TensorFlow loads, never overwritten, their log kept in
step with the checkpoint a run resumes from, and the model a training lab chose kept for the labs
after it.

The rule the labs follow: a training lab (2, 4, 9) decides which model the labs after it use.
Training there, or keeping a run already there, makes it your run (once it logged a chunk or an
epoch); ``USE_SHIPPED = True`` makes it the shipped model, even where an older run sits in the
folder, until the lab is run again with ``USE_SHIPPED = False``. A run with quick settings
(``LAB_QUICK=1``, the tests) trains in ``runs/quick/``, which no lab after it reads: it never
replaces your run nor feeds a real session."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from .files import atomic_path

__all__ = ["TrainingError", "check_run_folder", "training_folder", "choose_run", "finished_run", "trim_log", "log_history",
           "describe_curves", "beside_level", "SHIPPED_CHOSEN", "QUICK_FOLDER"]

SHIPPED_CHOSEN = "use_shipped.txt"  # in a run folder: its training lab chose the shipped model instead
QUICK_FOLDER = "quick"  # under runs/: the training labs' quick (test) runs


class TrainingError(ValueError):
    """A training request that cannot be carried out (one line for the user)."""


def check_run_folder(folder: Path, resume: bool, marker: str) -> None:
    """A new run needs a folder without ``marker`` (its checkpoint); resuming needs one."""
    has_run = (folder / marker).exists() or (folder / f"{marker}.old").exists()
    if has_run and not resume:
        raise TrainingError(f"{folder} already holds a training run; add --resume to continue it "
                            "or choose another folder")
    if resume and not has_run:
        raise TrainingError(f"{folder} holds no run to resume")


def training_folder(root: Path, name: str, quick: bool) -> Path:
    """Where a training lab trains: ``runs/NAME`` under the workshop's ``root``, or with quick
    settings ``runs/quick/NAME``, a folder no later lab reads."""
    return Path(root) / "runs" / (QUICK_FOLDER if quick else "") / name


def choose_run(folder: Path, use_shipped: bool) -> None:
    """Keep a training lab's choice for the labs after it: with ``use_shipped`` they use the
    shipped model even where ``folder`` holds a run (a note in it says so); without, the run
    in ``folder`` once it logged a chunk or an epoch (``finished_run``)."""
    note = Path(folder) / SHIPPED_CHOSEN
    if not use_shipped:
        note.unlink(missing_ok=True)
    elif Path(folder).is_dir():  # no folder, no run to pass over
        note.write_text("USE_SHIPPED = True in this run's training lab: the labs after it use the shipped model\n")


def finished_run(folder: Path) -> str | None:
    """``folder`` if a training run has logged a chunk or an epoch there (a learner's own model)
    and its training lab did not choose the shipped model instead (``choose_run``), else None: a
    run stopped before its first one has a log of headers only, and its model folder may hold
    untrained weights (the AR-CNN and the Transformer write theirs before training)."""
    if (Path(folder) / SHIPPED_CHOSEN).exists():
        return None
    try:
        lines = [line for line in (Path(folder) / "log.csv").read_text().splitlines() if line.strip()]
    except OSError:
        return None
    return str(folder) if len(lines) > 1 else None


def _number(text: str | None) -> float | None:
    """A logged value as a number (``NA`` is NaN); None for a torn or missing field."""
    if text == "NA":
        return math.nan
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def trim_log(path: Path, column: str, last: float) -> list[dict[str, str]]:
    """Keep the CSV log's whole rows whose ``column`` is at most ``last``; returns them.

    Rows are logged before their checkpoint is written, so a run killed in between logged a
    chunk its checkpoint does not hold: resuming from the checkpoint trims it (and a line torn
    by the kill) so that the chunk is logged once, when it is trained again.
    """
    if not path.exists():
        return []
    with open(path, newline="") as file:
        lines = file.read().splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()  # torn by a kill

    def whole_and_kept(row: dict) -> bool:
        value = _number(row.get(column))
        return None not in row and None not in row.values() and value is not None and value <= last

    reader = csv.DictReader(lines)
    rows = [row for row in reader if whole_and_kept(row)]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as file:
        if reader.fieldnames:
            writer = csv.DictWriter(file, fieldnames=reader.fieldnames)
            writer.writeheader()
            writer.writerows(rows)
    return rows


def log_history(rows: list[dict[str, str]]) -> dict[str, list[float]]:
    """Logged rows as a Keras history: every column with a number in each row, in order."""
    columns = [key for key in (rows[0] if rows else {}) if key != "epoch"
               and all(_number(row[key]) is not None for row in rows)]
    return {key: [_number(row[key]) for row in rows] for key in columns}


CURVE_WORDS = {"critic_loss": "the critic loss", "generator_loss": "the generator loss",
               "wasserstein": "the Wasserstein estimate", "distance": "the distance to the style's figures",
               "told_apart": "the share of windows a classifier tells from the style's own",
               "loss": "the training loss", "val_loss": "the validation loss",
               "val_bits_per_note": "the bits per note on the validation tunes",
               "val_markov_bits_per_note": "the Markov baseline's bits per note"}
STEADY = 0.05  # a curve whose end is within 5 % of its range from its start "stayed about level"


def describe_curves(log: dict, keys: tuple[str, ...], where: str = "iteration") -> list[str]:
    """One sentence per logged curve: where it started and ended, its lowest and highest point,
    and which way it went, read from the numbers of this run (a notebook prints them under its
    plot, so the words always match the picture). Epochs are counted from 1, as the plots count
    them (Keras logs the first as epoch 0)."""
    if where in log:
        steps = [step + 1 if where == "epoch" else step for step in log[where]]
    else:
        steps = list(range(1, len(next(iter(log.values()), [])) + 1))
    sentences = []
    for key in keys:
        points = [(step, float(v)) for step, v in zip(steps, log.get(key, [])) if not math.isnan(float(v))]
        if len(points) < 2:
            sentences.append(f"{CURVE_WORDS.get(key, key)}: {len(points)} value(s) logged, too few to read a trend")
            continue
        values = [v for _, v in points]
        first, last = values[0], values[-1]
        (low_at, low), (high_at, high) = min(points, key=lambda p: p[1]), max(points, key=lambda p: p[1])
        way = "stayed about level" if abs(last - first) <= STEADY * max(high - low, 1e-9) else \
            "rose" if last > first else "fell"
        sentences.append(f"{CURVE_WORDS.get(key, key)} {way}: from {first:.3g} to {last:.3g} over {len(values)} "
                         f"points (lowest {low:.3g} at {where} {low_at:g}, highest {high:.3g} at {where} {high_at:g})")
    return sentences


def beside_level(name: str, value: float, low: float, high: float, level: str) -> str:
    """Where a logged ``value`` ends against a reference range (``low``..``high``, e.g. the loss
    of a model that has no idea), in one sentence read from the numbers."""
    where = "below" if value < low else "inside" if value <= high else "above"
    meaning = {"below": "better than no idea", "inside": "no better than no idea yet",
               "above": "worse than no idea"}[where]
    return f"{name} is {value:.3g}: {where} {level} ({low:.3g}-{high:.3g}), {meaning}"
