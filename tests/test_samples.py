"""Built-in melodies and the typed note language."""

import pytest

from lab_utils.midi import Note
from lab_utils.samples import MELODIES, melody_roll, parse_notes


def test_note_language_lengths():
    assert parse_notes("C4 C4 G4- R A4/ B4// C5.") == [
        Note(0, 60, 4), Note(4, 60, 4), Note(8, 67, 8), Note(20, 69, 2), Note(22, 71, 1),
        Note(23, 72, 6)]
    assert parse_notes("F#4 Bb3 | c5")[:2] == [Note(0, 66, 4), Note(4, 58, 4)]


@pytest.mark.parametrize("text", ["H4", "C4 xyz", "", "C4///"])
def test_note_language_rejects_bad_input(text):
    with pytest.raises(ValueError):
        parse_notes(text)


def test_at_least_six_melodies_fill_whole_bars():
    assert len(MELODIES) >= 6
    meters = set()
    for name in MELODIES:
        roll = melody_roll(name)
        meters.add(roll.time_signature)
        after_pickup = roll.n_steps - roll.pickup_steps
        assert after_pickup % roll.steps_per_bar in (0, (roll.steps_per_bar - roll.pickup_steps) % roll.steps_per_bar), name
        assert roll.sounding.sum(axis=1).max() == 1, name  # one line
        assert 55 <= min(n.pitch for n in roll.notes()) and max(n.pitch for n in roll.notes()) <= 81
    assert len(meters) >= 3


@pytest.mark.parametrize("spec,says", [("C4 C4 X9", "note 3 of 3, 'X9'"), ("H4 C4", "note 1 of 2, 'H4'"),
                                       ("R R R R", "only rests"), ("", "no melody given"),
                                       ("no_such_tune", "is not a built-in name"),
                                       ("missing.mid", "missing.mid")])
def test_a_bad_melody_is_told_where_it_went_wrong(spec, says):
    from lab_utils.melody_source import MelodyError, melody_from

    with pytest.raises(MelodyError) as caught:
        melody_from(spec)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_typed_notes_longer_than_any_melody_are_refused():
    from lab_utils.midi import MAX_BEATS

    assert len(parse_notes("C4 " * 100)) == 100
    with pytest.raises(ValueError, match="beats"):
        parse_notes("C4---- " * (MAX_BEATS // 5 + 1))
