"""MIDI in and out: exact round trips, repeated notes, melody extraction, bad files."""

from __future__ import annotations

import mido
import numpy as np
import pretty_midi
import pytest

from conftest import random_melody, run_cli
from lab_utils.midi import (MidiFileError, Note, PianoRoll, extract_melody, read_midi,
                            write_midi)

METERS = [((4, 4), 16), ((3, 4), 12), ((2, 4), 8), ((6, 4), 24)]


@pytest.mark.parametrize("meter,bar_steps", METERS)
@pytest.mark.parametrize("pickup", [0, 4])
def test_round_trip_is_exact_on_the_grid(tmp_path, meter, bar_steps, pickup):
    notes = random_melody(seed=bar_steps + pickup, bar_steps=bar_steps, pickup=pickup)
    roll = PianoRoll.from_notes([notes], tempo=97.0, time_signature=meter, pickup_steps=pickup)
    again = read_midi(write_midi(roll, tmp_path / "m.mid"))
    assert again.notes(0) == notes
    assert again.time_signature == meter
    assert again.pickup_steps == pickup
    assert again.tempo == pytest.approx(97.0, abs=0.01)
    third = read_midi(write_midi(again, tmp_path / "m2.mid"))
    assert third.notes(0) == notes


def test_repeated_notes_stay_separate(tmp_path):
    four_quarters = [Note(4 * i, 60, 4) for i in range(4)]
    roll = PianoRoll.from_notes([four_quarters, [Note(0, 48, 16)]])
    again = read_midi(write_midi(roll, tmp_path / "r.mid"))
    assert again.notes(0) == four_quarters
    assert again.notes(1) == [Note(0, 48, 16)]
    assert again.sounding[:, 60, 0].sum() == 16  # sounding roll alone would merge them


def test_tracks_keep_names_and_programs(tmp_path):
    roll = PianoRoll.from_notes([[Note(0, 72, 4)], [Note(0, 48, 8)]],
                                names=["Soprano", "Bass"], programs=[6, 19])
    again = read_midi(write_midi(roll, tmp_path / "t.mid"))
    assert again.names == ["Soprano", "Bass"]
    assert again.programs == [6, 19]


def test_tempo_changes_and_type0_files_quantize_by_ticks(tmp_path):
    """A type 0 file, two channels, tempo changing mid-piece: steps still land exactly."""
    ticks = 96
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(60), time=0))
    events = []  # (tick, message) absolute
    melody = [Note(0, 72, 4), Note(4, 74, 2), Note(6, 74, 2), Note(8, 76, 8)]
    bass = [Note(0, 48, 8), Note(8, 43, 8)]
    for channel, notes in ((0, melody), (1, bass)):
        for n in notes:
            events.append((n.start * ticks // 4, mido.Message("note_on", channel=channel, note=n.pitch, velocity=90)))
            events.append(((n.start + n.length) * ticks // 4, mido.Message("note_off", channel=channel, note=n.pitch)))
    events.append((ticks * 2, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(137))))
    now = 0
    for tick, message in sorted(events, key=lambda e: (e[0], e[1].type != "note_off")):
        track.append(message.copy(time=tick - now))
        now = tick
    mid = mido.MidiFile(type=0, ticks_per_beat=ticks)
    mid.tracks.append(track)
    mid.save(tmp_path / "type0.mid")
    roll = read_midi(tmp_path / "type0.mid")
    assert roll.n_tracks == 2
    assert sorted([roll.notes(0), roll.notes(1)]) == sorted([melody, bass])


def _band_file(path, melody: list[Note]) -> None:
    """Melody (flute), block chords below it (piano), a bass line and drums, neutral names."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    step = 0.125
    tracks = {"Track 1": (0, []), "Track 2": (73, []), "Track 3": (33, [])}
    for bar in range(8):
        root = [48, 53, 55, 48][bar % 4]
        for pitch in (root + 12, root + 16, root + 19):
            tracks["Track 1"][1].append(pretty_midi.Note(70, pitch, bar * 16 * step, (bar + 1) * 16 * step))
        for beat in range(4):
            tracks["Track 3"][1].append(pretty_midi.Note(90, root - 12, (bar * 16 + 4 * beat) * step,
                                                         (bar * 16 + 4 * beat + 3) * step))
    for n in melody:
        tracks["Track 2"][1].append(pretty_midi.Note(100, n.pitch, n.start * step, (n.start + n.length) * step))
    for name, (program, notes) in tracks.items():
        inst = pretty_midi.Instrument(program, name=name)
        inst.notes = notes
        pm.instruments.append(inst)
    drums = pretty_midi.Instrument(0, is_drum=True, name="Track 4")
    drums.notes = [pretty_midi.Note(100, 36 + (i % 2) * 2, i * 4 * step, (i * 4 + 1) * step) for i in range(32)]
    pm.instruments.append(drums)
    pm.write(str(path))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_melody_is_picked_out_of_a_band(tmp_path, seed):
    tune = random_melody(seed, bar_steps=16, bars=8)
    lift = 70 - min(n.pitch for n in tune)  # the tune's lowest note meets the chords' top
    melody = [n._replace(pitch=n.pitch + lift) for n in tune]
    _band_file(tmp_path / "band.mid", melody)
    extracted = extract_melody(read_midi(tmp_path / "band.mid"))
    assert extracted.n_tracks == 1
    assert extracted.notes(0) == melody


def test_melody_of_a_chords_only_file_is_their_top_line(tmp_path):
    chords = [(0, (60, 64, 67)), (4, (60, 65, 69)), (8, (59, 62, 67)), (12, (60, 64, 67)), (16, (60, 64, 72))]
    tracks = [[Note(start, p, 4) for start, ps in chords for p in ps]]
    roll = read_midi(write_midi(PianoRoll.from_notes(tracks), tmp_path / "chords.mid"))
    assert extract_melody(roll).notes(0) == [Note(start, max(ps), 4) for start, ps in chords]


def _bad_files(folder):
    good = PianoRoll.from_notes([[Note(0, 60, 4), Note(4, 62, 4)]])
    write_midi(good, folder / "good.mid")
    data = (folder / "good.mid").read_bytes()
    (folder / "empty.mid").write_bytes(b"")
    (folder / "text.mid").write_text("this is not music\n")
    (folder / "random.mid").write_bytes(np.random.default_rng(0).bytes(3000))
    (folder / "garbage_after_header.mid").write_bytes(b"MThd" + np.random.default_rng(1).bytes(500))
    (folder / "truncated.mid").write_bytes(data[: len(data) // 2])
    silent = pretty_midi.PrettyMIDI()
    silent.instruments.append(pretty_midi.Instrument(0))
    silent.write(str(folder / "no_notes.mid"))
    drums = pretty_midi.PrettyMIDI()
    kit = pretty_midi.Instrument(0, is_drum=True)
    kit.notes = [pretty_midi.Note(100, 36, i * 0.5, i * 0.5 + 0.1) for i in range(8)]
    drums.instruments.append(kit)
    drums.write(str(folder / "drums_only.mid"))
    return ["empty", "text", "random", "garbage_after_header", "truncated", "no_notes", "drums_only"]


def test_every_bad_file_raises_a_one_line_error(tmp_path):
    for name in _bad_files(tmp_path):
        with pytest.raises(MidiFileError) as info:
            read_midi(tmp_path / f"{name}.mid")
        assert "\n" not in str(info.value) and str(info.value)


def test_cli_melody_reports_bad_files_and_still_does_the_good_one(tmp_path):
    bad = _bad_files(tmp_path)
    inputs = [str(tmp_path / f"{n}.mid") for n in bad[:3]] + [str(tmp_path / "good.mid")] + \
             [str(tmp_path / f"{n}.mid") for n in bad[3:]]
    result = run_cli("melody", *inputs, "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(bad)
    assert all(line.startswith(f"error: {tmp_path}/") for line in lines)
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.mid"]
    assert read_midi(tmp_path / "out" / "good.mid").notes(0) == [Note(0, 60, 4), Note(4, 62, 4)]


def test_cli_melody_never_overwrites_its_input(tmp_path):
    write_midi(PianoRoll.from_notes([[Note(0, 60, 4)]]), tmp_path / "x.mid")
    before = (tmp_path / "x.mid").read_bytes()
    result = run_cli("melody", str(tmp_path / "x.mid"), "-o", str(tmp_path))
    assert result.returncode == 2 and "overwrite" in result.stderr
    assert (tmp_path / "x.mid").read_bytes() == before


def test_cli_wrong_option_is_one_line(tmp_path):
    result = run_cli("melody", "--bogus")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error:")


def test_pypianoroll_multitrack_both_ways(dataset):
    """A chorale to pypianoroll and back keeps what sounds, names, programs, meter and pickup;
    pypianoroll keeps no onsets, so a repeated note comes back as one longer note."""
    import pypianoroll

    chorale = next(c.roll() for c in dataset.split("test") if c.roll().pickup_steps)
    multitrack = chorale.to_multitrack()
    assert isinstance(multitrack, pypianoroll.Multitrack) and multitrack.resolution == 4
    assert [t.name for t in multitrack.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    back = PianoRoll.from_multitrack(multitrack)
    assert np.array_equal(back.sounding, chorale.sounding)
    assert (back.time_signature, back.pickup_steps, back.programs) == \
        (chorale.time_signature, chorale.pickup_steps, chorale.programs)
    assert len(back.notes(0)) < len(chorale.notes(0))  # Bach's repeated notes merge


def test_a_deepcomposer_multitrack_comes_onto_the_16th_grid():
    """Resolution 24 (the DeepComposer samples'), a drum track left out, 3/4 from the downbeats."""
    import pypianoroll

    roll = np.zeros((24 * 6, 128), bool)
    roll[0:24, 60] = roll[24:72, 64] = roll[72:144, 67] = True  # a quarter, a half, a dotted half
    downbeat = np.zeros(24 * 6, bool)
    downbeat[::72] = True
    multitrack = pypianoroll.Multitrack(resolution=24, tempo=np.full(24 * 6, 90.0), downbeat=downbeat, tracks=[
        pypianoroll.BinaryTrack(name="Lead", program=73, pianoroll=roll),
        pypianoroll.BinaryTrack(name="Drums", is_drum=True, pianoroll=roll)])
    music = PianoRoll.from_multitrack(multitrack)
    assert music.n_tracks == 1 and music.names == ["Lead"] and music.programs == [73]
    assert music.time_signature == (3, 4) and music.tempo == 90.0
    assert music.notes(0) == [Note(0, 60, 4), Note(4, 64, 8), Note(12, 67, 12)]
    with pytest.raises(MidiFileError):
        PianoRoll.from_multitrack(pypianoroll.Multitrack(resolution=24, tracks=[multitrack.tracks[1]]))
