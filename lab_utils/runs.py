"""Training-run folders: checked before TensorFlow loads, and never overwritten."""

from __future__ import annotations

from pathlib import Path

__all__ = ["TrainingError", "check_run_folder", "finished_run"]


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
