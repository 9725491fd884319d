"""Training never loses a run: ``train gan`` killed (SIGKILL) at random moments, then resumed.

The run continues from its last checkpoint, its log holds every chunk exactly once, and the
checkpoint folder is always whole. The kill windows too narrow to hit by chance (a log line
torn, a folder swap cut between its two renames) are tested directly.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from lab_utils.files import atomic_folder, complete_folder
from lab_utils.runs import log_history, trim_log

REPO = Path(__file__).resolve().parent.parent
ITERATIONS = 4  # chunks of one iteration: a checkpoint and a log row after each
CHECKPOINT_FILES = ["config.json", "critic.weights.h5", "critic_optimizer.npz", "generator.weights.h5",
                    "generator_optimizer.npz", "state.json"]


def _train(folder: Path, resume: bool, stderr: Path) -> subprocess.Popen:
    """``python -m lab_utils train gan`` in a new process, its standard error into a file."""
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    args = [sys.executable, "-m", "lab_utils", "train", "gan", "--iterations", str(ITERATIONS),
            "--sample-every", "1", "-o", str(folder), *(["--resume"] if resume else [])]
    with open(stderr, "w") as errors:
        return subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=errors)


def _checkpoint(folder: Path) -> int:
    """The iteration of the run's checkpoint, after checking that every file of it is whole."""
    path = complete_folder(folder / "checkpoint")
    assert sorted(p.name for p in path.iterdir()) == CHECKPOINT_FILES
    for weights in path.glob("*.h5"):
        with h5py.File(weights, "r") as store:
            assert len(store.keys()) > 0
    for optimizer in path.glob("*.npz"):
        with np.load(optimizer) as store:
            assert all(np.isfinite(store[k]).all() for k in store.files)
    json.loads((path / "config.json").read_text())
    return json.loads((path / "state.json").read_text())["iteration"]


def _wait_for_checkpoint(process: subprocess.Popen, folder: Path, iteration: int, timeout: float = 240) -> bool:
    """Wait until the checkpoint reaches ``iteration``; False if the process ended first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = complete_folder(folder / "checkpoint") / "state.json"
        try:
            if json.loads(state.read_text())["iteration"] >= iteration:
                return True
        except (OSError, ValueError):  # not there yet, or swapped while read
            pass
        if process.poll() is not None:
            return False
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint at iteration {iteration} after {timeout} s")


def _kill(process: subprocess.Popen, delay: float) -> None:
    time.sleep(delay)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()


def _rows(folder: Path) -> list[dict[str, str]]:
    """The log's whole rows (a line torn by the kill is left out)."""
    with open(folder / "log.csv", newline="") as file:
        lines = file.read().splitlines(keepends=True)
    return list(csv.DictReader(line for line in lines if line.endswith("\n")))


def _iterations(rows: list[dict[str, str]]) -> list[int]:
    return [int(float(row["iteration"])) for row in rows]


def test_killed_training_resumes_from_its_last_checkpoint(tmp_path):
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    folder = tmp_path / "run"

    logs = [tmp_path / f"stderr-{n}.txt" for n in range(3)]
    first = _train(folder, resume=False, stderr=logs[0])
    assert _wait_for_checkpoint(first, folder, 1), logs[0].read_text()
    _kill(first, rng.uniform(0.0, 1.5))  # training, judging, logging or checkpointing chunk 2 or 3
    done = _checkpoint(folder)
    before = _rows(folder)
    assert _iterations(before) in (list(range(1, done + 1)), list(range(1, done + 2))), seed  # at most one chunk ahead

    second = _train(folder, resume=True, stderr=logs[1])
    if _wait_for_checkpoint(second, folder, ITERATIONS):
        _kill(second, rng.uniform(0.0, 1.0))  # the last checkpoint, the final generator, the exit
    assert _checkpoint(folder) == ITERATIONS, logs[1].read_text()

    third = _train(folder, resume=True, stderr=logs[2])
    third.wait(timeout=240)
    errors = "\n".join(line for line in logs[2].read_text().splitlines() if line.startswith("error:"))
    if third.returncode == 2:  # the second run had finished before the kill
        assert "already trained" in errors and len(errors.splitlines()) == 1, logs[2].read_text()
    else:
        assert third.returncode == 0, logs[2].read_text()
    rows = _rows(folder)
    assert _iterations(rows) == list(range(1, ITERATIONS + 1)), (seed, _iterations(rows))
    assert [int(row["epoch"]) for row in rows] == list(range(ITERATIONS))
    assert rows[:done] == before[:done], seed  # the chunks of the checkpoint were not trained again
    with np.load(complete_folder(folder / "checkpoint") / "generator_optimizer.npz") as store:
        assert int(store["0"]) == ITERATIONS  # the optimizer's step count carried across the kills
    assert {"config.json", "decoder.json", "generator.weights.h5"} <= {p.name for p in (folder / "generator").iterdir()}


def test_a_torn_or_early_log_row_is_trimmed_to_the_checkpoint(tmp_path):
    log = tmp_path / "log.csv"
    log.write_bytes(b"epoch,iteration,loss,val_loss\r\n0,2,1.5,NA\r\n1,4,1.25,NA\r\n2,6,1.0,NA\r\n3,8,0.9")
    rows = trim_log(log, "iteration", 4)  # the checkpoint holds 4 iterations; row 6 came before a kill
    assert [row["iteration"] for row in rows] == ["2", "4"]
    assert log.read_bytes() == b"epoch,iteration,loss,val_loss\r\n0,2,1.5,NA\r\n1,4,1.25,NA\r\n"  # as CSVLogger writes
    history = log_history(rows)
    assert history["loss"] == [1.5, 1.25] and "epoch" not in history and np.isnan(history["val_loss"]).all()
    assert trim_log(log, "iteration", 0) == [] and log.read_bytes() == b"epoch,iteration,loss,val_loss\r\n"


def test_a_folder_swap_cut_between_its_renames_leaves_the_previous_folder_whole(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint"
    with atomic_folder(path) as tmp:
        (tmp / "state.json").write_text('{"iteration": 1}')
    with pytest.raises(RuntimeError), atomic_folder(path) as tmp:  # dies while writing
        (tmp / "state.json").write_text('{"iteration": 2}')
        raise RuntimeError("killed")
    assert (complete_folder(path) / "state.json").read_text() == '{"iteration": 1}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]

    renames = []
    original = Path.rename

    def dies_after_the_first_rename(self, target):
        if renames:
            raise KeyboardInterrupt  # the process ends here
        renames.append(target)
        return original(self, target)

    monkeypatch.setattr(Path, "rename", dies_after_the_first_rename)
    with pytest.raises(KeyboardInterrupt), atomic_folder(path) as tmp:
        (tmp / "state.json").write_text('{"iteration": 3}')
    monkeypatch.undo()
    assert not path.exists()
    assert (complete_folder(path) / "state.json").read_text() == '{"iteration": 1}'
    with atomic_folder(path) as tmp:  # the next save tidies up
        (tmp / "state.json").write_text('{"iteration": 4}')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]
    assert (complete_folder(path) / "state.json").read_text() == '{"iteration": 4}'
