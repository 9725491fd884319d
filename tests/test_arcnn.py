"""The AR-CNN lab: corruption, loss, training with resume, and the four controls of enhance()."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tensorflow as tf

from conftest import random_melody, run_cli
from lab_utils.arcnn import arcnn_folder, corrupt, enhance, flip_loss, load_arcnn
from lab_utils.evaluate import first_bars
from lab_utils.metrics import enhancement_figures, figures
from lab_utils.midi import Note, PianoRoll, read_midi, write_midi
from lab_utils.note_edits import EditableNotes
from lab_utils.samples import MELODIES, melody_roll
from lab_utils.training import LOG_FILE, TrainingError, train_arcnn


@pytest.fixture(scope="module")
def shipped():
    return load_arcnn(arcnn_folder())


def eight_bars(name: str) -> PianoRoll:
    return first_bars(melody_roll(name))


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
    from lab_utils.arcnn import load_enhancer  # the run's LiteRT copy edits what its Keras model does

    tune = melody_roll("twinkle")
    lite, keras_edits = (load_enhancer(tmp_path, runtime=r)(tune, iterations=30, seed=1) for r in ("litert", "keras"))
    assert lite[1] == keras_edits[1] and np.array_equal(lite[0].sounding, keras_edits[0].sounding)


def test_zero_removal_keeps_every_note_and_max_additions_hold(shipped):
    model, config = shipped
    for name in MELODIES:
        before = eight_bars(name)
        after, counts = enhance(before, model, config, iterations=100, max_notes_added=40, max_removed_pct=0)
        f = enhancement_figures(before, after)
        assert f["kept"] == 1.0 and f["removed_notes"] == 0 and f["shortened_notes"] == 0
        assert 0 < f["added_notes"] <= 40 and counts.added == f["added_notes"]
        assert f["fragments"] == 0.0  # every added note lasts at least an 8th
        assert counts.iterations <= 100


def test_a_flip_is_a_note_edit():
    roll = PianoRoll.from_notes([[Note(0, 65, 8), Note(8, 67, 1)]], n_steps=16)
    edits = EditableNotes.from_roll(roll, low=60, n_columns=12, off_beats_only=False)
    edits.flip(5, 5)  # inside the held half note: it is cut back to whole 8ths from its end
    assert edits.tracks(1, 60) == [[Note(0, 65, 4), Note(8, 67, 1)]]
    edits.flip(1, 5)  # in its first 8th: the whole note goes
    assert edits.tracks(1, 60) == [[Note(8, 67, 1)]]
    assert (edits.counts.removed, edits.counts.added) == (1, 0)  # one input note, counted once
    edits.flip(11, 2)  # an empty cell: an 8th note in the 8th the cell falls in
    assert Note(10, 62, 2) in edits.tracks(1, 60)[0] and edits.counts.added == 1
    edits.flip(10, 2)  # taking it back undoes the addition
    assert edits.counts.added == 0 and edits.counts.iterations == 4
    voices = EditableNotes.from_roll(roll, low=60, n_columns=12, off_beats_only=True)
    allowed = voices.allowed(0, 16, np.ones(12, bool), can_add=True, can_remove_input=False)
    empty_rows = allowed[:, 0]
    assert not empty_rows[[0, 1, 4, 5, 8, 9, 12, 13]].any() and empty_rows[[2, 3, 6, 7]].all()
    assert not allowed[0:8, 5].any()  # an input note may not be touched without a removal budget


def test_removals_never_leave_fragments_or_holes(shipped):
    model, config = shipped
    before = eight_bars("amazing_grace")
    after, _ = enhance(before, model, config, iterations=200, max_notes_added=30, max_removed_pct=100, seed=1)
    old = {(n.start, n.pitch): n.length for n in before.notes(0)}
    for n in after.notes(0):
        if (n.start, n.pitch) in old:
            assert n.length <= old[(n.start, n.pitch)]  # kept or cut from its end
            assert n.length == old[(n.start, n.pitch)] or n.length % 2 == 0
        else:
            assert n.length >= 2 and (n.start - before.pickup_steps) % 2 == 0  # added: 8ths on the 8th grid


def test_enhancing_voices_keeps_their_voice_leading(shipped):
    from lab_utils.harmonize import load_harmonizer

    model, config = shipped
    voices = load_harmonizer()(eight_bars("ode_to_joy"))
    after, counts = enhance(voices, model, config, iterations=100, max_notes_added=30, max_removed_pct=0)
    assert after.n_tracks == 5 and counts.added > 0
    kept = PianoRoll(after.sounding[:, :, :4], after.onsets[:, :, :4], time_signature=voices.time_signature)
    assert (kept.sounding == voices.sounding).all()
    assert figures(after)["parallels"] <= figures(voices)["parallels"]
    assert all(n.start % 4 == 2 for n in after.notes(4))  # added notes sit between the beats


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
    assert [line for line in a.stderr.splitlines() if line.startswith("error:")] == [f"error: {tmp_path}/empty.mid: empty file"]
    assert (tmp_path / "a" / "t.mid").read_bytes() == (tmp_path / "b" / "t.mid").read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["t.mid"]
    assert read_midi(tmp_path / "a" / "t.mid").n_tracks == 1
