"""Shared fixtures: the shipped dataset and generated melodies on the 16th grid."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lab_utils.compose import ARRANGEMENT, Composition, Parameters, Part, Section
from lab_utils.midi import Note

REPO = Path(__file__).resolve().parent.parent

# `make test` runs everything; `make test-fast` (pytest -m "not slow") leaves out what starts
# whole processes, trains, drives notebooks or a browser, fuzzes, or sweeps every chorale: these
# files, and in other files the tests named here.
SLOW_FILES = {"test_browser.py", "test_distribute.py", "test_lone_notebook.py", "test_environment.py", "test_training_resume.py",
              "test_properties.py", "test_notebooks.py", "test_notebooks_later.py", "test_compose.py", "test_style_inputs.py"}
SLOW_TESTS = {
    "test_training_runs_resumes_and_keeps_its_count",
    "test_iterations_are_exact_whatever_the_sample_interval",
    "test_training_runs_and_resumes",
    "test_cli_same_seed_same_bytes_and_bad_files",
    "test_cli_bad_seed_and_unmakeable_folder_are_one_line",
    "test_cli_train_refuses_to_overwrite_and_bad_config",
    "test_cli_evaluate_writes_figures",
    "test_cli_dataset_json",
    "test_unseen_tunes_sound_like_bach",
    "test_every_chorale_and_tune_gets_music21s_key",
    "test_pitch_classes_and_in_scale_match_a_direct_count_on_every_chorale",
    "test_a_forty_minute_file_builds_or_is_skipped_with_a_reason_in_reasonable_time",
    "test_commands_make_music_without_importing_tensorflow",
    "test_the_cli_names_a_damaged_shard_and_rewrites_it",
    "test_a_model_without_its_copy_runs_on_keras_and_says_so",
    "test_export_and_a_wrong_runtime_are_one_line_user_errors",
}


# `make test` runs everything but these files on two workers (pytest-xdist, a file stays on one
# worker, so the notebooks keep their order), then these one at a time: each starts several
# TensorFlow processes of its own, or kills one on a deadline, and must not share the cores.
ALONE_FILES = {"test_distribute.py", "test_training_resume.py"}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """``make test-fast`` (``-m "not slow"``) does not even import the slow files: importing
    nbformat alone takes 4 s, in every worker."""
    if config.getoption("markexpr") == "not slow" and collection_path.name in SLOW_FILES:
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in SLOW_FILES or item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
        if item.path.name in ALONE_FILES:
            item.add_marker(pytest.mark.alone)


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


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m lab_utils ARGS`` in a fresh process, as a user runs it (``env``: variables to add)."""
    variables = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run([sys.executable, "-m", "lab_utils", *args], capture_output=True,
                          text=True, cwd=cwd or REPO, env=variables, timeout=timeout)


@pytest.fixture
def style_home(tmp_path, monkeypatch):
    """Styles and the read cache in a temporary folder, never in the repository's data/."""
    from lab_utils import styles

    monkeypatch.setattr(styles.places, "STYLES_DIR", tmp_path / "styles")
    monkeypatch.setattr(styles.places, "READ_CACHE", tmp_path / "styles" / ".read")
    return tmp_path / "styles"


def band_folder(folder: Path, n: int = 10) -> Path:
    """``n`` band MIDI files (lead, piano, bass, drums) as a learner's folder holds them."""
    from lab_utils.midi import write_midi
    from lab_utils.samples import random_band_piece

    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(n):
        write_midi(random_band_piece(seed), folder / f"song{seed:02d}.mid")
    return folder


def pytest_sessionstart(session: pytest.Session) -> None:
    """The chorales' training shards, written once before any test trains: under pytest-xdist
    (make test-fast) each worker would otherwise write them on a fresh clone."""
    if hasattr(session.config, "workerinput") or not getattr(session.config.option, "numprocesses", None):
        return  # an xdist worker (the controller has done it), or no workers at all
    from lab_utils.chorales import load_dataset
    from lab_utils.shards import ensure_shards

    ensure_shards(load_dataset(progress=False))


def composition_by_hand(voices: list[list[tuple[Note, int]]], sections: list[Section], title: str) -> Composition:
    """A composition by hand: ``voices`` ((note, velocity) lists, the top line first) in the
    arrangement's parts, 16 steps a bar of 4/4 at 76 beats a minute; its parameters claim every
    top-line note new."""
    parts = [Part(name, program, volume) for name, program, _, volume in ARRANGEMENT.parts]
    for part, notes in zip(parts, voices):
        part.notes = notes
    total = sum(s.bars for s in sections)
    return Composition(
        title=title, description="", parts=parts, sections=sections, steps_per_bar=16, time_signature=(4, 4),
        beat_tempi=np.full(total * 4, 76.0), seed=0,
        parameters=Parameters(seconds=60.0, tempo_bpm=76.0, form="by hand", key=(0, "major"),
                              top_line_notes=len(voices[0]), top_line_copied=0, notes_not_copied=1.0,
                              time_signature=(4, 4), instruments={}))
