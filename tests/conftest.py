"""Shared fixtures: the shipped dataset and generated melodies on the 16th grid."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lab_utils.midi import Note

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def dataset():
    from lab_utils.chorales import load_dataset

    return load_dataset(progress=False)


def random_melody(seed: int, bar_steps: int, bars: int = 6, pickup: int = 0) -> list[Note]:
    """A melody on the 16th grid with rests and repeated notes (about a third repeat)."""
    rng = np.random.default_rng(seed)
    notes, step, pitch = [], 0, 67
    end = pickup + bars * bar_steps
    while step < end:
        length = int(min(rng.choice([1, 2, 2, 3, 4, 4, 6, 8]), end - step))
        if rng.random() < 0.1:
            step += length  # a rest
            continue
        if rng.random() > 0.35:
            pitch = int(np.clip(pitch + rng.integers(-4, 5), 55, 84))
        notes.append(Note(step, pitch, length))
        step += length
    return notes


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m lab_utils ARGS`` in a fresh process, as a user runs it."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "lab_utils", *args], capture_output=True,
                          text=True, cwd=cwd or REPO, env=env, timeout=300)
