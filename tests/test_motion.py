"""How voices move, counted on the beats of their own metre."""

from __future__ import annotations

import numpy as np
import pytest

from lab_utils.midi import Note, PianoRoll, fits_beats_of, on_quarter_beats, quarters_per_beat
from lab_utils.motion import MOTION_FIGURES, mean_motion, voice_motion


def _four_bars(time_signature: tuple[int, int], beat: int) -> PianoRoll:
    """Soprano in beats, alto in whole bars, tenor in half bars, bass on every beat: 4 bars of 4 beats."""
    soprano = [Note(t * beat, 72, beat) for t in range(16)]
    alto = [Note(t * 4 * beat, 67, 4 * beat) for t in range(4)]
    tenor = [Note(t * 2 * beat, 60 + t % 2, 2 * beat) for t in range(8)]
    bass = [Note(t * beat, 48 - t % 2, beat) for t in range(16)]
    return PianoRoll.from_notes([soprano, alto, tenor, bass], time_signature=time_signature)


@pytest.mark.parametrize("time_signature, beat", [((4, 4), 4), ((4, 2), 8)])
def test_each_voice_is_counted_on_its_metres_beats(time_signature, beat):
    values = voice_motion(_four_bars(time_signature, beat))
    assert set(values) == set(MOTION_FIGURES)
    quarters = beat / 4
    assert values["alto_quarters"] == pytest.approx(4 * quarters) and values["bass_quarters"] == pytest.approx(quarters)
    assert values["alto_moves"] == pytest.approx(0.25) and values["tenor_moves"] == pytest.approx(0.5)
    assert values["bass_moves"] == pytest.approx(1.0)
    # beats with a strike: all 16 (the bass); all three strike on the 4 bar lines, the bass alone on 8
    assert values["together"] == pytest.approx(4 / 16) and values["alone"] == pytest.approx(8 / 16)


def test_palestrina_moves_slower_and_more_independently_than_bach(dataset):
    from lab_utils.catalog import load_style

    bach = mean_motion([p.roll() for p in dataset.split("test")[:20]])
    palestrina = mean_motion([p.roll() for p in load_style("palestrina").split("test")[:20]])
    for voice in ("alto", "tenor", "bass"):
        assert palestrina[f"{voice}_quarters"] > 2 * bach[f"{voice}_quarters"]
    assert palestrina["together"] < bach["together"] - 0.3 and palestrina["alone"] > bach["alone"] + 0.1


def test_a_half_note_metre_is_read_as_quarters_note_for_note():
    roll = _four_bars((4, 2), 8)
    assert quarters_per_beat((4, 2)) == 2 and quarters_per_beat((3, 2)) == 2
    assert quarters_per_beat((4, 4)) == 1 and quarters_per_beat((6, 8)) == 1
    assert fits_beats_of(roll, 2)
    coarse = on_quarter_beats(roll, 2)
    assert coarse.n_steps == roll.n_steps // 2 and coarse.time_signature == (4, 4)
    for v in range(4):
        assert [(n.start * 2, n.pitch, n.length * 2) for n in coarse.notes(v)] == list(roll.notes(v))
    odd = PianoRoll.from_notes([[Note(0, 72, 3), Note(3, 74, 13)]], time_signature=(4, 2))
    assert not fits_beats_of(odd, 2)  # a note starting off the coarser grid keeps the 16th grid
    waltz = PianoRoll.from_notes([[Note(4 * t, 72, 4) for t in range(12)]], time_signature=(3, 4))
    assert not fits_beats_of(waltz, 2) and fits_beats_of(waltz, 1)  # a 3/4 bar is no whole number of half notes
    assert np.array_equal(on_quarter_beats(odd, 1).sounding, odd.sounding)


def test_a_4_2_style_is_counted_per_half_note(dataset):
    from lab_utils.catalog import load_style
    from lab_utils.voice_leading import count_voice_leading

    assert count_voice_leading(dataset.split("train")[:20]).beat_quarters == 1
    stats = count_voice_leading(load_style("palestrina").split("train")[:20])
    assert stats.beat_quarters == 2
    # per half note Palestrina's bass moves on most beats; per quarter it would mostly hold
    bass_holds = np.exp(np.asarray(stats.motion))[1, 2, 12]
    assert bass_holds < 0.5


def test_twinkle_as_palestrina_flows_on_half_note_beats():
    from lab_utils.harmonize import load_harmonizer
    from lab_utils.midi import top_pitches
    from lab_utils.samples import melody_roll, random_tune
    from lab_utils.styles import model_for_style

    harmonizer = load_harmonizer(model_for_style("palestrina"))
    waltz = random_tune(0, (3, 4))  # no whole number of half notes to a bar: decided per quarter
    assert harmonizer(waltz, seed=0).n_steps == waltz.n_steps
    music = harmonizer(melody_roll("twinkle"), seed=0)
    two_bars_of_4_2 = 2 * 32
    for v in (1, 2, 3):
        line = top_pitches(music.sounding[:, :, v])
        changes = np.flatnonzero(np.diff(line) != 0) + 1
        runs = np.diff(np.concatenate([[0], changes, [len(line)]]))
        assert runs.max() <= two_bars_of_4_2  # restruck or held, no voice stays on one pitch longer
    values = voice_motion(music)
    for voice in ("alto", "tenor", "bass"):
        assert 1.5 <= values[f"{voice}_quarters"] <= 4  # Palestrina's own last about 2.6 quarters
