"""The key estimate is music21's Krumhansl-Schmuckler analysis, computed without importing music21."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab_utils.metrics import estimate_key
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
    rolls = [c.roll() for c in dataset.chorales] + [melody_roll(name) for name in MELODIES]
    differ = [i for i, roll in enumerate(rolls) if estimate_key(roll) != music21_key(roll)]
    assert len(rolls) > 300 and differ == []
    modes = {estimate_key(c.roll())[1] for c in dataset.chorales}
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
