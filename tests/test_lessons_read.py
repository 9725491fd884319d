"""Issue 29, a beginner's read of Labs 4, 5, 6 and 9: the sentences those labs print to read an
output come from these functions, so each is checked both ways on made-up numbers (fast: no
model, no notebook run)."""

from __future__ import annotations

import numpy as np
import pytest

from lab_utils.melodies import VALID_TUNES, validation_sample
from lab_utils.melody_evaluation import fair_test_verdict, markov_verdict, run_markov_verdict
from lab_utils.midi import Note, PianoRoll
from lab_utils.note_edits import kept_phrase
from lab_utils.studio import make_music

MELODY = [Note(0, 64, 4), Note(4, 62, 4), Note(8, 60, 8)]


def test_kept_phrase_counts_the_notes_left_whole():
    assert kept_phrase(MELODY, [*MELODY, Note(2, 55, 2)]) == "all 3 kept"  # an added note changes nothing
    assert kept_phrase(MELODY, [MELODY[0], Note(8, 60, 4)]) == "1 of 3 kept, 2 removed or shortened"
    assert kept_phrase(MELODY, [Note(2, 55, 2)]) == "none of 3 kept"


def _harmonizer(melody: PianoRoll, seed: int) -> PianoRoll:
    """Three lower voices, an octave apart under the melody."""
    notes = melody.notes(0)
    return PianoRoll.from_notes([notes, *[[Note(n.start, n.pitch - 12 * k, n.length) for n in notes] for k in (1, 2, 3)]],
                                n_steps=melody.n_steps)


def _enhancer(cut_melody: bool):
    """An AR-CNN stand-in that shortens the alto's first note and, with ``cut_melody``, the melody's."""
    def enhance(music: PianoRoll, kept_track=None, **_controls):
        tracks = [music.notes(k) for k in range(music.n_tracks)]
        for k in [k for k in ((0, 1) if cut_melody else (1,)) if k < len(tracks)]:
            first = tracks[k][0]
            tracks[k] = [Note(first.start, first.pitch, 2), *tracks[k][1:]]
        return PianoRoll.from_notes(tracks, n_steps=music.n_steps), None
    return enhance


@pytest.mark.parametrize("cut_melody, said", [(False, "your melody's notes: all 3 kept"),
                                              (True, "your melody's notes: 2 of 3 kept, 1 removed or shortened")])
def test_both_says_how_much_of_the_melody_it_kept(cut_melody, said):
    """Lab 6 reads "your melody keeps every note" from the summary: it is counted from the result."""
    melody = PianoRoll.from_notes([MELODY])
    _, _, summary = make_music(melody, "both", _harmonizer, _enhancer(cut_melody))
    assert summary.endswith(said)
    _, _, alone = make_music(melody, "AR-CNN", None, _enhancer(cut_melody))
    assert "your melody" not in alone  # the AR-CNN alone may take the melody's notes: its count says so


def test_markov_verdict_reads_the_run_both_ways():
    better = markov_verdict(3.6, 5.009, 4.97, 373, 745, 6183, 6183)
    assert "1.409 below the Markov figure its run logged (5.009)" in better[0] and "better than counting does" in better[0]
    behind = markov_verdict(9.245, 8.259, 4.97, 150, 745, 150, 6183)
    assert "0.986 above" in behind[0] and "not yet better than counting" in behind[0]


def test_markov_verdict_says_why_the_runs_markov_figure_is_not_the_one_above():
    full = markov_verdict(3.6, 5.009, 4.97, 373, 745, 6183, 6183)[1]
    assert "not the 4.97" in full and "373 of the 745 validation tunes" in full and "training tunes" not in full
    quick = markov_verdict(9.245, 8.259, 4.97, 150, 745, 150, 6183)[1]
    assert "150 of the 745 validation tunes" in quick and "150 of the 6,183 training tunes" in quick
    same = markov_verdict(3.6, 4.972, 4.97, 745, 745, 6183, 6183)[1]
    assert same == "That Markov figure is the 4.97 computed above on all 745 validation tunes."


class _Tunes:
    """A TuneSet's ``words`` over made-up tunes: 10 training, 745 validation."""

    def words(self, split: str) -> list[np.ndarray]:
        return [np.zeros(5, np.int32)] * {"train": 10, "valid": 745}[split]


def test_run_markov_verdict_counts_the_tunes_as_the_run_takes_them():
    log = {"val_bits_per_note": np.array([6.2, 3.7, 3.65, 3.7]), "val_markov_bits_per_note": np.array([5.0] * 4)}
    whole = run_markov_verdict(log, 4.97, _Tunes())
    assert "3.650 bits per note" in whole[0] and f"{len(validation_sample([0] * 745))} of the 745" in whole[1]
    limited = run_markov_verdict(log, 4.97, _Tunes(), limit=4)
    assert "4 of the 745 validation tunes" in limited[1] and "4 of the 10 training tunes" in limited[1]


def test_a_run_scores_a_sample_of_at_least_valid_tunes():
    assert VALID_TUNES <= len(validation_sample(list(range(745)))) < 745
    assert len(validation_sample(list(range(150)))) == 150


@pytest.mark.parametrize("markov, transformer, said", [(4.83, 3.70, "The Transformer is 1.13 bits per note better"),
                                                       (4.83, 9.42, "The Markov model is 4.59 bits per note better")])
def test_fair_test_verdict_names_the_better_model(markov, transformer, said):
    verdict = fair_test_verdict(markov, transformer)
    assert verdict.startswith(said)
    assert f"{2 ** abs(markov - transformer):.1f} times as likely" in verdict
    assert ("train longer" in verdict) == (transformer > markov)
