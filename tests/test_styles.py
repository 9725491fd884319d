"""A style from any folder of music: roles, kinds, the one path Bach's chorales take too, the
Palestrina dataset, and harmonizing by kind (band MIDI written here, by the tests themselves)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from conftest import band_folder
from lab_utils import styles
from lab_utils.chorales import DEFAULT_CACHE, read_cache
from lab_utils.evaluate import compare_styles
from lab_utils.midi import write_midi
from lab_utils.samples import BAND_DRUMS, random_band_piece
from lab_utils.catalog import load_style
from lab_utils.styles import build_style, folder_sources, write_pieces

PALESTRINA = DEFAULT_CACHE.parent / "palestrina"


def test_band_folder_gets_four_roles_with_their_kinds(tmp_path, style_home):
    dataset, report = build_style("band", folder_sources(band_folder(tmp_path / "band")), jobs=1, progress=False)
    assert report.found == report.used == 10 and report.layout == "band"
    assert dataset.roles.names == ("Melody", "Accompaniment", "Bass", "Drums")
    assert dataset.roles.kinds == ("voice", "chords", "voice", "drums")
    assert dataset.roles.programs == (81, 0, 33, 0)  # lead synth, piano, bass, (kit)
    ranges = dataset.voice_ranges("train")
    assert ranges[2][1] < ranges[0][0] + 12 and ranges[2][0] < ranges[1][0]  # the bass is lowest
    assert set(np.unique(np.concatenate([c.notes for c in dataset.pieces])[:, 0])) == {0, 1, 2, 3}
    drums = np.concatenate([c.notes[c.notes[:, 0] == 3] for c in dataset.pieces])
    assert set(drums[:, 2]) == set(BAND_DRUMS.values())
    roll = dataset.pieces[0].roll()
    assert roll.drums == [False, False, False, True]
    assert roll.notes(1) and max(np.bincount([n.start for n in roll.notes(1)])) == 3  # piano chords
    saved = json.loads((style_home / "band" / "report.json").read_text())
    assert saved["used"] == 10 and [r["kind"] for r in saved["roles"]] == list(dataset.roles.kinds)
    assert (style_home / "band" / "report.png").stat().st_size > 10_000
    assert load_style("band").roles == dataset.roles


def test_a_mapping_file_chooses_the_roles(tmp_path, style_home):
    folder = band_folder(tmp_path / "band", n=4)
    (folder / styles.MAPPING_FILE).write_text(json.dumps({"*": ["Piano", "Lead", "Bass", None]}))
    dataset, _ = build_style("mapped", folder_sources(folder), folder=folder, jobs=1, progress=False)
    first = dataset.pieces[0].notes
    assert not (first[:, 0] == 3).any()  # no drums chosen
    piano = random_band_piece(0).notes(1)
    assert {(n.start, n.pitch) for n in piano} >= {tuple(r) for r in first[first[:, 0] == 0][:, 1:3].tolist()}


def test_voices_in_midi_files_keep_their_order_and_five_voices_are_skipped(tmp_path, style_home):
    palestrina = read_cache(PALESTRINA)
    folder = tmp_path / "pal"
    written = write_pieces(palestrina, folder, limit=6)
    five = pretty_midi.PrettyMIDI(str(written[0]))
    extra = pretty_midi.Instrument(52, name="Tenor")  # a second tenor, as in many of his masses
    extra.notes = [pretty_midi.Note(80, 60, 0.0, 8.0)]
    five.instruments.append(extra)
    five.write(str(folder / "five.mid"))
    dataset, report = build_style("pal", folder_sources(folder), jobs=1, progress=False)
    assert report.layout == "voices" and report.used == 6
    assert report.reasons["five.mid"].startswith("voices: 5")
    assert dataset.roles.kinds == ("voice",) * 4 and dataset.roles.names == ("Soprano", "Alto", "Tenor", "Bass")
    by_id = {Path(c.id).stem: c for c in dataset.pieces}
    for original in palestrina.pieces[:6]:
        again = by_id[Path(original.id).stem]
        assert np.array_equal(again.notes, original.notes)  # MIDI in, the same four voices out
    # the report says how the voices move, on the half-note beats of 4/2: notes of more than a beat
    assert all(report.motion[f"{v}_quarters"] > 2 for v in ("alto", "tenor", "bass"))
    assert "motion on the meter's beats: Alto notes" in report.table()


def test_bach_chorales_take_the_same_path(tmp_path):
    """The committed chorale cache is what the one build path makes of Riemenschneider's first chorales."""
    from lab_utils.chorales import load_dataset

    built = load_dataset(tmp_path, limit=12, progress=False)
    committed = {c.id: c for c in load_dataset(progress=False).pieces}
    assert built.name == "bach" and built.pieces
    for chorale in built.pieces:
        assert np.array_equal(chorale.notes, committed[chorale.id].notes)
        assert chorale.split == committed[chorale.id].split and chorale.key == committed[chorale.id].key


def test_palestrina_dataset_is_four_voices_and_differs_from_bach():
    palestrina, bach = read_cache(PALESTRINA), load_style("bach")
    assert palestrina.name == "palestrina" and len(palestrina.pieces) >= 400
    assert all(c.time_signature == (4, 2) for c in palestrina.pieces)
    counts = {s: len(palestrina.split(s)) for s in ("train", "valid", "test")}
    assert counts["test"] >= 30 and counts["valid"] >= 30
    report = json.loads((PALESTRINA / "report.json").read_text())
    assert any(reason.startswith("voices: 5") for reason in report["reasons"].values())
    rows = compare_styles({"Bach": [c.roll() for c in bach.split("test")[:15]],
                           "Palestrina": [c.roll() for c in palestrina.split("test")[:15]]})
    assert rows["Palestrina"]["note_beats"] > 2 * rows["Bach"]["note_beats"]  # long notes
    assert rows["Palestrina"]["offbeat_motion"] < rows["Bach"]["offbeat_motion"] / 4  # few 8th notes
    assert rows["Palestrina"]["block_attacks"] < rows["Bach"]["block_attacks"]  # voices enter apart


@pytest.mark.slow
def test_band_style_trains_and_harmonizes_by_kind(tmp_path, style_home):
    from lab_utils.harmonize import load_harmonizer
    from lab_utils.melody_source import melody_from
    from lab_utils.training import train_gan

    dataset, _ = build_style("band", folder_sources(band_folder(tmp_path / "band")), jobs=1, progress=False)
    train_gan(tmp_path / "run", iterations=4, sample_every=2, dataset=dataset, verbose=0)
    harmonizer = load_harmonizer(tmp_path / "run")
    assert harmonizer.style == "band" and harmonizer.roles == dataset.roles
    melody, _, _ = melody_from("twinkle")
    music = harmonizer(melody)
    assert music.names == list(dataset.roles.names) and music.drums == [False, False, False, True]
    assert music.notes(0) == melody.notes(0)  # the melody untouched
    ranges = dataset.voice_ranges("train")
    for track in (1, 2):
        pitches = [n.pitch for n in music.notes(track)]
        assert not pitches or ranges[track][0] - 12 <= min(pitches) and max(pitches) <= ranges[track][1] + 12
    assert all(n.length == 1 for n in music.notes(3))  # drum hits
    path = write_midi(music, tmp_path / "band.mid")
    assert [i.is_drum for i in pretty_midi.PrettyMIDI(str(path)).instruments] == [False, False, False, True]
    config = json.loads((tmp_path / "run" / "generator" / "config.json").read_text())
    assert config["style"] == "band" and config["roles"]["kinds"] == ["voice", "chords", "voice", "drums"]
