"""The AR-CNN lab: corruption, loss, training with resume, and the four controls of enhance()."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tensorflow as tf

from conftest import random_melody, run_cli
from lab_utils.arcnn import arcnn_folder, corrupt, enhance, flip_loss, load_arcnn
from lab_utils.metrics import enhancement_figures
from lab_utils.midi import PianoRoll, read_midi, write_midi
from lab_utils.samples import MELODIES, melody_roll
from lab_utils.training import LOG_FILE, TrainingError, train_arcnn


@pytest.fixture(scope="module")
def shipped():
    return load_arcnn(arcnn_folder())


def eight_bars(name: str) -> PianoRoll:
    roll = melody_roll(name)
    end = min(roll.n_steps, roll.pickup_steps + 8 * roll.steps_per_bar)
    return PianoRoll(roll.sounding[:end], roll.onsets[:end], tempo=roll.tempo,
                     time_signature=roll.time_signature, pickup_steps=roll.pickup_steps)


def test_corruption_removes_and_adds_within_bounds(dataset):
    rolls = dataset.arcnn_rolls("valid")[:50, :, 36:84]
    noisy = corrupt(rolls, np.random.default_rng(0), 0.015)
    for clean, dirty in zip(rolls, noisy):
        added = (dirty > clean).sum()
        assert (dirty != clean).any()
        assert added <= 0.015 * (clean == 0).sum() + 1
    removed_share = [((c > d).sum() / c.sum()) for c, d in zip(rolls, noisy)]
    assert min(removed_share) < 0.2 and max(removed_share) > 0.8  # 0-100 % removal


def test_flip_loss_is_kl_to_the_uniform_over_flips():
    flips = np.zeros((2, 128, 48, 1), np.float32)
    flips[:, 10, 5] = flips[:, 20, 7] = 1
    sharp = np.where(flips > 0, 30.0, -30.0).astype(np.float32)
    flat = np.zeros_like(flips)
    loss_sharp, loss_flat = flip_loss(tf.constant(flips), tf.constant(sharp)), flip_loss(tf.constant(flips), tf.constant(flat))
    assert np.allclose(loss_sharp, 0.0, atol=1e-4)
    assert np.allclose(loss_flat, np.log(128 * 48 / 2), atol=1e-3)


def test_training_runs_and_resumes(tmp_path, dataset):
    train_arcnn(tmp_path, epochs=1, dataset=dataset, verbose=0, limit=96)
    with pytest.raises(TrainingError):
        train_arcnn(tmp_path, epochs=2, dataset=dataset, verbose=0, limit=96)
    train_arcnn(tmp_path, epochs=2, resume=True, dataset=dataset, verbose=0, limit=96)
    with open(tmp_path / LOG_FILE) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert all(np.isfinite(float(r["val_loss"])) for r in rows)
    load_arcnn(arcnn_folder(tmp_path))


def test_zero_removal_keeps_every_note_and_max_additions_hold(shipped):
    model, config = shipped
    for name in MELODIES:
        before = eight_bars(name)
        after, counts = enhance(before, model, config, iterations=100, max_notes_added=40, max_removed_pct=0)
        f = enhancement_figures(before, after)
        assert f["kept"] == 1.0 and f["removed_cells"] == 0
        assert 0 < f["added_cells"] <= 40 and counts.added == f["added_cells"]
        assert counts.iterations <= 100


def test_unseen_melodies_are_enhanced_in_key_and_consonant(shipped):
    model, config = shipped
    figures = [enhancement_figures(b, enhance(b, model, config, iterations=100, max_notes_added=40,
                                               max_removed_pct=0)[0]) for b in map(eight_bars, MELODIES)]
    assert np.mean([f["in_key"] for f in figures]) >= 0.90
    assert np.nanmean([f["consonant"] for f in figures]) >= 0.80


def test_zero_additions_only_remove(shipped):
    model, config = shipped
    before = eight_bars("ode_to_joy")
    after, counts = enhance(before, model, config, iterations=100, max_notes_added=0, max_removed_pct=100)
    assert not (after.sounding & ~before.sounding).any()
    assert counts.added == 0


def test_iterations_are_counted_and_any_length_works(shipped):
    model, config = shipped
    notes = random_melody(seed=5, bar_steps=12, bars=20, pickup=4)
    long = PianoRoll.from_notes([notes], time_signature=(3, 4), pickup_steps=4)
    after, counts = enhance(long, model, config, iterations=40, max_notes_added=500, max_removed_pct=100)
    assert after.n_steps == long.n_steps and after.n_tracks == 1
    assert 0 < counts.iterations <= 40 * long.n_steps / 64
    _, none = enhance(eight_bars("twinkle"), model, config, iterations=0)
    assert none.iterations == 0


def test_cli_same_seed_same_bytes_and_bad_input(tmp_path):
    write_midi(eight_bars("twinkle"), tmp_path / "t.mid")
    (tmp_path / "empty.mid").write_bytes(b"")
    a = run_cli("enhance", str(tmp_path / "t.mid"), str(tmp_path / "empty.mid"), "-o", str(tmp_path / "a"), "--seed", "3")
    b = run_cli("enhance", str(tmp_path / "t.mid"), "-o", str(tmp_path / "b"), "--seed", "3")
    assert a.returncode == 2 and b.returncode == 0, b.stderr
    assert [l for l in a.stderr.splitlines() if l.startswith("error:")] == [f"error: {tmp_path}/empty.mid: empty file"]
    assert (tmp_path / "a" / "t.mid").read_bytes() == (tmp_path / "b" / "t.mid").read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["t.mid"]
    assert read_midi(tmp_path / "a" / "t.mid").n_tracks == 1
