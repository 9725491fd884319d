"""Training-run folders: checked before TensorFlow loads, never overwritten, and their log kept
in step with the checkpoint a run resumes from."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from .files import atomic_path

__all__ = ["TrainingError", "check_run_folder", "finished_run", "trim_log", "log_history"]


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


def finished_run(folder: Path) -> str | None:
    """``folder`` if a training run has logged there (a learner's own model), else None."""
    return str(folder) if (folder / "log.csv").exists() else None


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
