"""The Bach chorale dataset: counts, splits, windows, augmentation, cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_cli
from lab_utils import pieces
from lab_utils.chorales import load_dataset
from lab_utils.pieces import GAN_WINDOW_STEPS, MIN_MELODY_SHARE, to_gan_input, transpose_windows


def test_at_least_300_four_voice_chorales(dataset):
    assert len(dataset.pieces) >= 300
    assert len({c.id for c in dataset.pieces}) == len(dataset.pieces)  # no score twice
    assert len(dataset.pieces) + len(dataset.skipped) == 371
    assert all(reason for reason in dataset.skipped.values())


def test_splits_are_disjoint_by_chorale_and_by_tune(dataset):
    ids = {s: {c.id for c in dataset.split(s)} for s in ("train", "valid", "test")}
    assert not ids["train"] & ids["valid"] and not ids["train"] & ids["test"] and not ids["valid"] & ids["test"]
    tunes = {s: {pieces.tune_signature(c.notes) for c in dataset.split(s)} for s in ids}
    assert not tunes["train"] & tunes["test"] and not tunes["train"] & tunes["valid"]
    shares = {s: len(ids[s]) / len(dataset.pieces) for s in ids}
    assert 0.7 <= shares["train"] <= 0.85 and 0.05 <= shares["valid"] <= 0.17 and 0.05 <= shares["test"] <= 0.17


def test_split_follows_the_documented_rule(dataset):
    for c in dataset.pieces:
        assert c.split == pieces.split_of(pieces.tune_signature(c.notes))


def test_gan_windows(dataset):
    sounding, onsets = dataset.gan_windows("train")
    assert sounding.shape[0] >= 3000
    assert sounding.shape[1:] == (GAN_WINDOW_STEPS, 128, 4)
    assert sounding.dtype == bool and onsets.shape == sounding.shape
    assert not (onsets & ~sounding).any()
    assert sounding.sum(axis=2).max() == 1  # each voice sings one pitch at a time
    assert (sounding[:, :, :, 0].any(axis=2).mean(axis=1) >= MIN_MELODY_SHARE).all()
    assert sounding.any(axis=(1, 2)).mean() > 0.99  # four voices in (nearly) every window
    gan = to_gan_input(sounding[:10])
    assert gan.dtype == np.float32 and set(np.unique(gan)) == {-1.0, 1.0}


def test_arcnn_rolls(dataset):
    rolls = dataset.arcnn_rolls("train")
    assert rolls.shape[1:] == (128, 128, 1) and len(rolls) > 500
    assert set(np.unique(rolls)) == {0.0, 1.0}
    voices = rolls[..., 0].sum(axis=2)
    assert 3.0 <= voices[voices > 0].mean() <= 4.0  # merged voices, unisons collapse


def test_transposition_keeps_voices_in_range(dataset):
    sounding, onsets = dataset.gan_windows("valid")
    ranges = dataset.voice_ranges("train")
    shifted, shifted_onsets = transpose_windows(sounding, onsets, ranges, shifts=range(-3, 4))
    assert len(sounding) < len(shifted) <= 7 * len(sounding)
    for v, (low, high) in enumerate(ranges):
        pitches = np.nonzero(shifted[:, :, :, v].any(axis=(0, 1)))[0]
        assert low <= pitches.min() and pitches.max() <= high
    assert shifted_onsets.sum() > onsets.sum()


def test_chorale_roll_keeps_repeated_notes(dataset):
    chorale = dataset.pieces[0]
    roll = chorale.roll()
    assert sum(len(roll.notes(v)) for v in range(4)) == len(chorale.notes)


@pytest.mark.parametrize("damage", ["garbage", "truncate", "stale_format", "missing_manifest"])
def test_damaged_cache_is_rebuilt(tmp_path, damage, capsys):
    built = load_dataset(tmp_path, limit=4, progress=False)
    notes_file, manifest = tmp_path / pieces.NOTES_FILE, tmp_path / pieces.MANIFEST_FILE
    if damage == "garbage":
        notes_file.write_bytes(b"not an npz")
    elif damage == "truncate":
        notes_file.write_bytes(notes_file.read_bytes()[:100])
    elif damage == "stale_format":
        data = json.loads(manifest.read_text())
        data["format_version"] = -1
        manifest.write_text(json.dumps(data))
    else:
        manifest.unlink()
    again = load_dataset(tmp_path, limit=4, progress=False)
    assert [c.id for c in again.pieces] == [c.id for c in built.pieces]
    assert all((a.notes == b.notes).all() for a, b in zip(again.pieces, built.pieces))
    if damage != "missing_manifest":
        assert "rebuilding" in capsys.readouterr().out
    assert load_dataset(tmp_path, progress=False).pieces[0].id == built.pieces[0].id


def test_cli_dataset_json():
    result = run_cli("dataset", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["window_shape"] == [32, 128, 4] and summary["steps_per_beat"] == 4
    assert summary["windows"]["train"] >= 3000
    assert sum(len(summary["chorales"][s]) for s in ("train", "valid", "test")) >= 300
