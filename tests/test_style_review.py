"""What the review of issue 17 left on the style path (issue 26, item 3), each pinned by a test
that failed before its fix: transposition leaves the drums where they are, the figures leave the
drums out, a role without notes takes the range of those with notes, a style without training
windows is refused at its build, and a band without a bass keeps its piano in the accompaniment.

Styles go to a temporary folder (``style_home``), never to the repository's data/.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from conftest import band_folder
from lab_utils.chorales import bach_reference
from lab_utils.gan_config import CONFIGS, crop, fit_crop
from lab_utils.metrics import estimate_key, figures, stored_reference
from lab_utils.midi import MidiPart, Note, PianoRoll, write_midi
from lab_utils.music_files import ReadPiece
from lab_utils.pieces import Roles, dataset_from, transpose_windows
from lab_utils.samples import BAND_DRUMS, random_band_piece
from lab_utils.styles import StyleError, assign_roles, build_style, folder_sources


def _digests(windows: np.ndarray) -> list[str]:
    return sorted(hashlib.sha1(w.tobytes()).hexdigest() for w in windows)


# --- 1. transposition moves the pitched roles and leaves the drums where they are ------------------

def test_transposition_leaves_the_drum_role_untouched():
    sounding = np.zeros((1, 32, 128, 4), bool)
    sounding[0, :, 72, 0] = sounding[0, :, [60, 64, 67], 1] = sounding[0, :, 40, 2] = True
    sounding[0, ::8, BAND_DRUMS["kick"], 3] = sounding[0, 4::8, BAND_DRUMS["hat"], 3] = True
    onsets = sounding & ~np.roll(sounding, 1, axis=1)
    ranges = [(60, 84), (48, 79), (28, 52), (BAND_DRUMS["kick"], BAND_DRUMS["hat"])]  # the kit's range binds nothing
    shifted, shifted_onsets = transpose_windows(sounding, onsets, ranges, shifts=range(-2, 3),
                                                drums=[False, False, False, True])
    assert len(shifted) == 5
    for shift, window, starts in zip(range(-2, 3), shifted, shifted_onsets):
        assert np.array_equal(window[..., 3], sounding[0, ..., 3]) and np.array_equal(starts[..., 3], onsets[0, ..., 3])
        assert np.array_equal(window[..., :3], np.roll(sounding[0, ..., :3], shift, axis=1))


def test_streamed_transpositions_leave_the_drums_and_agree_with_transpose_windows(tmp_path, style_home):
    from lab_utils.shards import stream_windows

    dataset, _ = build_style("band", folder_sources(band_folder(tmp_path / "band", n=6)), jobs=1, progress=False)
    config = fit_crop(CONFIGS["default"], dataset.voice_ranges("train"))
    windows = crop(dataset.gan_windows("train")[0], config)
    streamed = np.stack(list(stream_windows(dataset, config, seed=0, endless=False).as_numpy_iterator()))
    assert len(streamed) > len(windows)  # transposed
    assert set(_digests(streamed[..., 3])) == set(_digests(windows[..., 3]))  # the kit never moves
    ranges = [(low - config.pitch_low, high - config.pitch_low) for low, high in dataset.voice_ranges("train")]
    expected, _ = transpose_windows(windows, None, ranges, shifts=range(-config.transpose, config.transpose + 1),
                                    drums=dataset.roles.drums)
    assert _digests(streamed) == _digests(expected)


# --- 2. the figures leave the drums out ------------------------------------------------------------

def test_figures_leave_drum_tracks_out_and_bachs_do_not_change(dataset):
    for chorale in dataset.split("test")[:3]:
        roll = chorale.roll()
        kit = PianoRoll.from_notes([[Note(t, [36, 38, 42, 46][t // 8 % 4], 1) for t in range(0, roll.n_steps, 8)]],
                                   n_steps=roll.n_steps)
        band = PianoRoll(np.concatenate([roll.sounding, kit.sounding], axis=2),
                         np.concatenate([roll.onsets, kit.onsets], axis=2), tempo=roll.tempo,
                         time_signature=roll.time_signature, pickup_steps=roll.pickup_steps,
                         names=[*roll.names, "Drums"], programs=[*roll.programs, 0], drums=[False] * 4 + [True])
        assert estimate_key(band) == estimate_key(roll)
        assert figures(band) == figures(roll)
    # Bach's figures as his build stored them in data/bach/report.json before this change
    stored = {f: tuple(v) for f, v in bach_reference().items()}
    assert stored_reference(c.roll() for c in dataset.split("test")) == stored


# --- 3. a role without notes takes the range of the roles with notes -------------------------------

def test_an_empty_role_gets_the_range_of_the_sounding_roles_and_leaves_the_crop_alone():
    rows = np.array([(0, 0, 72, 16), (0, 16, 84, 16), (1, 0, 76, 32), (1, 0, 96, 32), (3, 0, 65, 16), (3, 16, 79, 16)],
                    np.int32)
    meta = {"id": "one", "number": 1, "split": "train", "key": "C major", "time_signature": [4, 4],
            "pickup_steps": 0, "n_steps": 32}
    roles = Roles(("Melody", "Accompaniment", "Bass", "Low"), ("voice", "chords", "voice", "voice"), (81, 0, 33, 0))
    ranges = dataset_from([(meta, rows)], {}, "hash", roles, "empty-bass").voice_ranges("train")
    assert ranges == [(72, 84), (76, 96), (65, 96), (65, 79)]
    sounding = [r for v, r in enumerate(ranges) if v != 2]
    assert fit_crop(CONFIGS["default"], ranges) == fit_crop(CONFIGS["default"], sounding)


# --- 4. a style without training windows is refused when it is built --------------------------------

def test_a_style_without_training_windows_is_refused_at_its_build(tmp_path, style_home):
    folder = tmp_path / "music"
    folder.mkdir()
    for seed in (1, 4):  # their tunes fall in the validation and the test split
        write_midi(random_band_piece(seed), folder / f"song{seed:02d}.mid")
    with pytest.raises(StyleError) as refused:
        build_style("outside", folder_sources(folder), jobs=1, progress=False)
    line = str(refused.value)
    assert "\n" not in line and "no training windows" in line and "add" in line, line
    assert not (style_home / "outside").exists()


# --- 5. a band without a bass keeps its piano in the accompaniment ---------------------------------

def _band(*parts: tuple[str, int, bool, list[Note]]) -> ReadPiece:
    return ReadPiece([MidiPart(*part) for part in parts], (4, 4), 0, 110.0, 0, "C major")


def test_a_band_without_a_bass_leaves_the_bass_role_empty_not_the_piano():
    song = random_band_piece(0)
    lead, piano, bass, kit = (song.notes(k) for k in range(4))
    roles = assign_roles(_band(("Lead", 81, False, lead), ("Piano", 0, False, piano), ("Drums", 0, True, kit)), "band")
    assert [len(r.notes) for r in roles] == [len(lead), len(piano), 0, len(kit)]
    line = ("Cello", 42, False, bass)  # a low line of another family, one note at a time: the bass
    roles = assign_roles(_band(("Lead", 81, False, lead), ("Piano", 0, False, piano), line, ("Drums", 0, True, kit)),
                         "band")
    assert roles[2].notes == bass and roles[1].notes == piano
