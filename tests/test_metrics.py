"""The key estimate is music21's Krumhansl-Schmuckler analysis, computed without importing music21."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab_utils.metrics import estimate_key, melody_key, musegan_figures, musegan_table
from lab_utils.midi import STEPS_PER_BEAT, Note, PianoRoll
from lab_utils.samples import MELODIES, melody_roll


def music21_key(roll: PianoRoll) -> tuple[int, str]:
    """music21's own answer for the same notes."""
    from music21 import analysis, note, stream

    piece = stream.Stream()
    for k in range(roll.n_tracks):
        for n in roll.notes(k):
            piece.append(note.Note(n.pitch, quarterLength=n.length / STEPS_PER_BEAT))
    key = analysis.discrete.KrumhanslSchmuckler().getSolution(piece)
    return key.tonic.pitchClass, key.mode


def test_every_chorale_and_tune_gets_music21s_key(dataset):
    rolls = [c.roll() for c in dataset.pieces] + [melody_roll(name) for name in MELODIES]
    differ = [i for i, roll in enumerate(rolls) if estimate_key(roll) != music21_key(roll)]
    assert len(rolls) > 300 and differ == []
    modes = {estimate_key(c.roll())[1] for c in dataset.pieces}
    assert modes == {"major", "minor"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(48, 84), st.sampled_from([1, 2, 4, 6, 8, 12, 16])), min_size=1, max_size=40))
def test_any_melody_gets_music21s_key(notes):
    start, melody = 0, []
    for pitch, length in notes:
        melody.append(Note(start, pitch, length))
        start += length
    roll = PianoRoll.from_notes([melody], n_steps=start)
    assert estimate_key(roll) == music21_key(roll)


def test_a_roll_without_notes_has_no_key():
    with pytest.raises(ValueError):
        estimate_key(PianoRoll.from_notes([[]], n_steps=16))
    lone_c = PianoRoll.from_notes([[Note(0, 60, 4)]], n_steps=16)
    assert estimate_key(lone_c) == music21_key(lone_c) == (0, "major")


def test_a_melodys_last_note_decides_between_keys_that_fit_its_pitches_almost_as_well():
    mary = melody_roll("mary_lamb")  # sings E more than C, and ends on C
    assert estimate_key(mary) == (4, "minor") and melody_key(mary) == (0, "major")
    assert all(melody_key(melody_roll(name)) == estimate_key(melody_roll(name)) for name in MELODIES if name != "mary_lamb")
    c_scale_to_g = PianoRoll.from_notes([[Note(4 * i, p, 4) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72, 67])]])
    assert melody_key(c_scale_to_g) == (0, "major")  # ending on its 5th: G major fits far worse (F natural)


def test_the_soprano_alone_finds_the_chorales_key_more_often_with_its_last_note(dataset):
    pieces = [c.roll() for c in dataset.pieces]
    by_correlation = sum(estimate_key(p.track(0)) == estimate_key(p) for p in pieces)
    with_last_note = sum(melody_key(p.track(0)) == estimate_key(p) for p in pieces)
    assert with_last_note >= by_correlation + 0.02 * len(pieces)


# pypianoroll's metrics (MuseGAN's), as Lab 3 shows them beside the eight figures

def voices(*tracks: list[tuple[int, int, int]], **meta) -> PianoRoll:
    """A roll from (start, pitch, length) notes, one list per voice."""
    return PianoRoll.from_notes([[Note(*n) for n in notes] for notes in tracks], **meta)


C_MAJOR = (0, "major")


def test_pypianoroll_104_still_has_the_faults_musegan_figures_works_around():
    """If an upgrade fixes them, musegan_figures must stop working around them (1 - empty_beat_rate)."""
    import numpy as np
    from pypianoroll import metrics as pm

    one_empty_beat = voices([(0, 60, 4), (8, 64, 8)]).sounding[:, :, 0]
    assert pm.empty_beat_rate(one_empty_beat, STEPS_PER_BEAT) == 0.75  # the share of beats *not* empty
    one_octave = voices([(i, p, 1) for i, p in enumerate((60, 62, 64, 65, 67, 69, 71))]).sounding[:, :, 0]
    assert pm.n_pitch_classes_used(one_octave) == 2  # pitches 60-69 and 70-79 taken as two pitch classes
    with pytest.raises(ValueError):
        pm.qualified_note_rate(one_octave)  # its uint8 differences wrap around
    with pytest.raises(ValueError):
        pm.tonal_distance(one_octave[:4], one_octave[:4], STEPS_PER_BEAT)
    c_and_b = np.tile(one_octave[:1], (12, 1)), np.tile(one_octave[6:], (12, 1))  # a beat of C, a beat of B
    assert np.isclose(pm.tonal_distance(*c_and_b, 12), 0)  # at 12 steps per beat it runs, and gives 0


def test_empty_beats_are_the_share_of_beats_where_no_voice_sounds():
    # 4 beats: the 2nd has no voice at all, the 4th only the bass
    roll = voices([(0, 72, 4), (8, 72, 4)], [(0, 48, 4), (8, 48, 8)])
    assert musegan_figures(roll, C_MAJOR)["empty_beats"] == 0.25
    # beats count from the first one after an 8th pickup: 2 pickup steps, then beats 2-5, 6-9 (empty), 10-13
    pickup = voices([(0, 67, 6), (10, 72, 4)], pickup_steps=2)
    assert musegan_figures(pickup, C_MAJOR)["empty_beats"] == pytest.approx(1 / 3)


def test_a_c_major_scale_in_c_is_all_in_scale_with_7_pitch_classes():
    scale = [p + octave for octave in (-12, 0, 12) for p in (60, 62, 64, 65, 67, 69, 71)]
    values = musegan_figures(voices([(2 * i, p, 2) for i, p in enumerate(scale)]), C_MAJOR)
    assert values["in_scale"] == 1.0 and values["pitch_classes_used"] == 7
    assert values["pitches_used"] == 21 and values["pitch_range"] == 35
    # in A minor pypianoroll's scale is the natural minor: the raised 7th (G#, 2 of 8 steps) is out of it
    a_minor = voices([(0, 69, 2), (2, 71, 2), (4, 68, 2), (6, 69, 2)])
    assert musegan_figures(a_minor, (9, "minor"))["in_scale"] == 0.75
    with pytest.raises(ValueError):
        musegan_figures(voices([(0, 120, 4)]), C_MAJOR)  # above B8 pypianoroll cannot name the pitch class


def test_polyphony_is_the_share_of_steps_with_3_or_more_pitches():
    # a held C major chord for a beat, then soprano and bass alone for a beat
    roll = voices([(0, 72, 8)], [(0, 67, 4)], [(0, 64, 4)], [(0, 48, 8)])
    assert musegan_figures(roll, C_MAJOR)["polyphony"] == 0.5
    unison = voices([(0, 60, 4)], [(0, 60, 4)], [(0, 48, 4)])  # two voices on one pitch: 2 pitches sound
    assert musegan_figures(unison, C_MAJOR)["polyphony"] == 0.0


def test_qualified_notes_are_the_share_at_least_an_8th_long():
    roll = voices([(0, 60, 4), (4, 62, 1), (5, 64, 2), (7, 65, 1)], [(0, 48, 8)])
    assert musegan_figures(roll, C_MAJOR)["qualified_notes"] == 3 / 5
    # a long note and a 16th starting together in one track: each start pairs with its own end
    chord = PianoRoll.from_notes([[Note(0, 60, 8), Note(0, 64, 1)]])
    assert musegan_figures(chord, C_MAJOR)["qualified_notes"] == 0.5
    # without onsets, two repeated 16ths are one 8th
    repeated = voices([(0, 60, 1), (1, 60, 1)])
    assert repeated.notes(0) == [Note(0, 60, 1), Note(1, 60, 1)]
    assert musegan_figures(repeated, C_MAJOR)["qualified_notes"] == 1.0


def test_tonal_distance_is_zero_for_the_same_note_names_and_largest_for_a_tritone():
    def distance(upper: int) -> float:
        return musegan_figures(voices([(0, upper, 8)], [(0, 48, 8)]), C_MAJOR)["tonal_distance"]

    assert distance(60) == pytest.approx(0) and distance(72) == pytest.approx(0)  # octaves
    assert distance(55) == pytest.approx(1.737, abs=1e-3)  # a fifth
    assert distance(54) == pytest.approx(2 * 2 ** 0.5)  # a tritone: opposite on the circles of fifths and minor thirds
    assert max(distance(p) for p in range(48, 60)) == distance(54)
    # beats where one voice is silent are left out, not counted as 0 or NaN
    assert musegan_figures(voices([(0, 54, 4)], [(0, 48, 8)]), C_MAJOR)["tonal_distance"] == pytest.approx(2 * 2 ** 0.5)


def test_pitch_classes_and_in_scale_match_a_direct_count_on_every_chorale(dataset):
    import numpy as np

    from lab_utils.metrics import estimate_key, key_scale

    for chorale in dataset.pieces:
        roll = chorale.roll()
        tonic, mode = estimate_key(roll)
        cells = np.nonzero(roll.sounding.any(axis=2))[1] % 12  # the pitch class of every sounding (step, pitch)
        natural = key_scale(tonic, mode) if mode == "major" else {(tonic + i) % 12 for i in (0, 2, 3, 5, 7, 8, 10)}
        values = musegan_figures(roll)
        assert values["pitch_classes_used"] == len(set(cells))
        assert values["in_scale"] == pytest.approx(np.isin(cells, list(natural)).mean())


def test_musegan_table_of_real_chorales(dataset):
    import math

    from lab_utils.metrics import MUSEGAN_FIGURES

    rolls = [c.roll() for c in dataset.split("test")[:3]]
    table = musegan_table(rolls[:2], rolls)
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith("| ")]
    assert rows[0] == ["| figure", "GAN (2 pieces)", "Bach (3 chorales)", "computed by |"]
    assert [r[0].removeprefix("| ") for r in rows[1:]] == list(MUSEGAN_FIGURES.values())
    for row in rows[1:]:
        for cell in row[1:3]:
            mean, spread = (float(x) for x in cell.split(" ± "))
            assert math.isfinite(mean) and math.isfinite(spread) and spread >= 0
    assert all(f"[{n}]" in table for n in "abcd")


def test_the_teachers_report_reads_a_hand_made_cadence():
    from lab_utils.metrics import teacher_report

    # soprano, alto, tenor, bass: D-C over G-C, V - I in C, root position, no crossing, no parallels
    tracks = [[Note(0, 74, 4), Note(4, 72, 4)], [Note(0, 67, 4), Note(4, 67, 4)],
              [Note(0, 59, 4), Note(4, 64, 4)], [Note(0, 43, 4), Note(4, 48, 4)]]
    report = teacher_report(PianoRoll.from_notes(tracks)).splitlines()
    assert len(report) == 5
    assert report[0].startswith("parallel fifths or octaves: 0.0 per 100")
    assert report[1].endswith(": 0%") and report[4].endswith(": yes")
    assert report[3].endswith(": 0%")  # G2 to C3 is a leap
