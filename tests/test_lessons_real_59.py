"""A beginner's read of Labs 5 and 9 executed with real settings: every sentence those labs print
to read an output comes from these functions, so each is checked both ways on made-up numbers
(fast: no trained model, no notebook run)."""

from __future__ import annotations

import numpy as np
import pytest

from lab_utils.evaluate import creative_risk_sentence
from lab_utils.extend import Extension, extend
from lab_utils.melodies import melody_in_c
from lab_utils.melody_evaluation import (blind_guess_sentence, continuation_sentence, fair_test_verdict, key_name,
                                         markov_verdict, motif_verdict)
from lab_utils.melody_source import melody_from
from lab_utils.melody_tokens import BAR, VOCAB_SIZE, encode
from lab_utils.midi import Note, PianoRoll
from lab_utils.note_edits import EditableNotes, EditCounts, controls_phrase
from lab_utils.runs import describe_curves
from lab_utils.transformer import LOG_UNITS, MelodyModel, TransformerConfig, attention_sentences

C_MAJOR = [Note(8 * i, p, 8) for i, p in enumerate([60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72, 67, 64, 60, 60])]


# Lab 5, cell 4 and 8: what the iterations did, and why a setting keeps or loses the melody's notes

def test_edit_counts_say_what_every_iteration_did():
    """100 iterations, 40 notes added: the other edits took notes back again (the old counts had no
    word for them); an input note shortened and then cut again is one more edit, not one more note."""
    edits = EditableNotes.from_roll(PianoRoll.from_notes([[Note(0, 60, 8)]], n_steps=32), low=48, n_columns=24,
                                    off_beats_only=False)
    edits.flip(16, 14)  # adds a note at step 16
    edits.flip(24, 16)  # adds another
    edits.flip(16, 14)  # takes the first back
    edits.flip(6, 12)  # a cell in the input note's first 8th: removes it
    assert (edits.counts.added, edits.counts.taken_back, edits.counts.removed, edits.counts.iterations) == (1, 1, 1, 4)
    assert edits.counts.phrase() == ("4 edits: 2 notes added, 1 of them taken back again, so 1 stays; "
                                     "1 of the input's notes removed or shortened")
    long = EditableNotes.from_roll(PianoRoll.from_notes([[Note(0, 60, 24)]], n_steps=32), 48, 24, False)
    long.flip(20, 12)  # shortened to 16 steps
    long.flip(10, 12)  # cut again, to 8
    assert (long.counts.removed, long.counts.cut_again) == (1, 1)
    assert long.counts.phrase(asked=100) == (
        "2 edits (fewer than the 100 asked: enhance stops early when the controls allow no more edits): no note added; "
        "1 of the input's notes removed or shortened, 1 edit cut such a note again")


def test_edit_counts_read_the_real_runs_numbers():
    assert EditCounts(added=40, removed=0, iterations=100, taken_back=30).phrase(100) == (
        "100 edits: 70 notes added, 30 of them taken back again, so 40 stay; none of the input's notes removed "
        "or shortened")


@pytest.mark.parametrize("added, pct, said", [
    (0, 100, "no note may be added (at most 0), so every edit removes or shortens one of the input's notes "
             "(up to 100 % of them)"),
    (40, 0, "0 % removal: none of the input's notes may be removed or shortened"),
    (500, 100, "up to 500 notes may be added and up to 100 % of the input's notes removed or shortened"),
    (0, 0, "no edit is allowed")])
def test_controls_phrase_says_why_from_the_setting(added, pct, said):
    assert said in controls_phrase(added, pct)


# Lab 5, cell 10: which creative risk strays from the key most, and why

def _with(added: list[int]) -> PianoRoll:
    """C_MAJOR and, between its notes, an 8th at each of ``added``'s pitches (in order)."""
    extra = [Note(4 + 8 * i, p, 4) for i, p in enumerate(added)]
    return PianoRoll.from_notes([C_MAJOR + extra], n_steps=128)


BEFORE = PianoRoll.from_notes([C_MAJOR], n_steps=128)
KEY = (0, "major")
IN_KEY = [57, 59, 55, 53]  # A3 B3 G3 F3


def test_creative_risk_sentence_when_the_lowest_risk_repeats_an_out_of_key_favourite():
    """The real run: 0.5 put 0.65 in key (a favourite B flat, 14 times), 1.0 0.93, 2.0 0.75."""
    afters = {0.5: _with([58, 58, 58, 57]), 1.0: _with(IN_KEY), 2.0: _with([61, 57, 59, 55])}
    said = creative_risk_sentence(BEFORE, afters, KEY)
    assert said.startswith("In key: creative risk 0.5 strays most (0.25 of the added notes in key), 1.0 least (1.00).")
    assert "At the lowest risk" in said and "A#3, 3 of its 4 added notes" in said


def test_creative_risk_sentence_when_the_highest_risk_strays_most():
    afters = {0.5: _with(IN_KEY), 1.0: _with([58, 57, 59, 55]), 2.0: _with([61, 63, 66, 57])}
    said = creative_risk_sentence(BEFORE, afters, KEY)
    assert said.startswith("In key: creative risk 2.0 strays most (0.25 of the added notes in key), 0.5 least (1.00).")
    assert "At the highest risk" in said and "3 different pitches" in said and "lowest" not in said


def test_creative_risk_sentence_claims_no_sharpening_at_a_lowest_risk_of_1():
    said = creative_risk_sentence(BEFORE, {1.0: _with([58, 58, 57, 55]), 2.0: _with(IN_KEY)}, KEY)
    assert said.endswith("At creative risk 1.0 the note out of key added most is A#3, 2 of its 4 added notes.")


def test_creative_risk_sentence_when_they_agree_or_nothing_was_added():
    assert "the same share" in creative_risk_sentence(BEFORE, {0.5: _with(IN_KEY), 2.0: _with(IN_KEY[::-1])}, KEY)
    assert "no in-key shares to compare" in creative_risk_sentence(BEFORE, {0.5: BEFORE, 2.0: _with(IN_KEY)}, KEY)


# Lab 9: bits per note, read as printed

def test_blind_guessing_says_why_it_costs_more_than_log2_of_the_words():
    tune = melody_in_c(C_MAJOR, (4, 4), end=True).words
    said = blind_guess_sentence([tune, tune], "two tunes")
    words, notes = len(tune) - 3, len(C_MAJOR)
    assert f"{np.log2(VOCAB_SIZE) * words / notes:.2f} bits per note on two tunes" in said
    assert f"log2({VOCAB_SIZE}) = {np.log2(VOCAB_SIZE):.2f} bits" in said
    assert f"{words / notes:.2f} words per note" in said and "bar lines" in said


@pytest.mark.parametrize("markov, transformer, said", [
    (4.894, 4.366, "The Transformer is 0.52 bits per note better"),  # printed 4.89 and 4.37 (it said 0.53)
    (4.366, 4.894, "The Markov model is 0.52 bits per note better"),
    (4.831, 4.834, "The two models score the same, 4.83 bits per note")])
def test_fair_test_verdict_reads_the_figures_as_printed(markov, transformer, said):
    assert fair_test_verdict(markov, transformer).startswith(said)


def test_markov_verdict_says_by_how_much_the_runs_markov_figure_differs():
    assert "not the 4.97 computed above (0.04 higher)" in markov_verdict(4.446, 5.009, 4.9683, 373, 745, 6183, 6183)[1]
    assert "not the 5.05 computed above (0.04 lower)" in markov_verdict(4.446, 5.009, 5.05, 373, 745, 6183, 6183)[1]


def test_the_training_loss_names_its_unit():
    log = {"epoch": np.array([0, 1]), "loss": np.array([4.72, 2.42]), "val_bits_per_note": np.array([6.2, 4.4])}
    loss, bits = describe_curves(log, ("loss", "val_bits_per_note"), where="epoch", units=LOG_UNITS)
    assert loss.startswith("the training loss (nats per word) fell: from 4.72 to 2.42")
    assert bits.startswith("the bits per note on the validation tunes fell")


# Lab 9: motifs, keys, attention

@pytest.mark.parametrize("shares, said", [
    ({"a": 0.0, "b": 0.0}, "None of the settings reuses a 4-note motif of Twinkle"),
    ({"a": 0.1, "b": 0.3}, "b reuses Twinkle's 4-note motifs most: 30% of its new"),
    ({"a": 0.301, "b": 0.3, "c": 0.0}, "a and b reuse Twinkle's 4-note motifs most: 30% of their new")])
def test_motif_verdict_names_the_setting_that_reuses_most_or_none(shares, said):
    assert motif_verdict(shares, "Twinkle").startswith(said)


def _stub_model() -> MelodyModel:
    """Every word equally likely: enough to extend a melody without a trained model."""
    config = TransformerConfig()
    return MelodyModel(lambda words: np.zeros((*words.shape, VOCAB_SIZE), np.float32), config)


def test_extend_says_which_key_it_read_the_melody_in():
    """Mary Had a Little Lamb's notes alone read as E minor, but it ends on C: the Transformer is
    given C major (melody_key, as its tunes were read for training), and the printed share names it."""
    mine, _, _ = melody_from("mary_lamb")
    result = extend(mine, _stub_model(), seconds=4, seed=0)
    read = melody_in_c(mine.notes(0), mine.time_signature, mine.pickup_steps)
    assert result.key == (read.tonic, read.mode) == (0, "major")
    assert key_name(result.key) == "C major" and key_name((10, "major")) == "A# major"


def test_continuation_sentence_names_the_key_and_says_none_when_no_motif_is_reused():
    given = [Note(4 * i, p, 4) for i, p in enumerate([64, 62, 60, 62, 64, 64, 64])]
    new = [Note(28 + 4 * i, p, 4) for i, p in enumerate([64, 66, 67, 69, 71, 65])]  # F is out of E minor; no motif of given
    said = continuation_sentence(Extension(PianoRoll.from_notes([given + new]), 28, new, (4, "minor")), given)
    assert said == ("6 new notes: 83% in E minor, the key the Transformer reads from your tune's notes; "
                    "none of their 4-note motifs is also in your tune")
    again = [Note(28 + 4 * i, p, 4) for i, p in enumerate([64, 62, 60, 62])]
    assert "100% of their 4-note motifs also in your tune" in continuation_sentence(
        Extension(PianoRoll.from_notes([given + again]), 28, again, (4, "minor")), given)


def _attention(top: dict[int, int], words: int) -> np.ndarray:
    """(1 layer, heads, words, words): each head's weight at the last word, half on its ``top``."""
    weights = np.zeros((1, len(top), words, words))
    for head, place in top.items():
        weights[0, head, -1] = 0.5 / (words - 1)
        weights[0, head, -1, place] += 0.5
    return weights


WORDS = encode([Note(4 * i, 60 + i % 5, 4) for i in range(24)], "major", (4, 4))[:30]  # 4 notes a bar


def test_attention_sentences_answer_whether_a_head_looks_back_at_the_bar():
    bars = np.cumsum(WORDS == BAR)
    in_bar_5 = int(np.flatnonzero(bars == 5)[1])
    yes = attention_sentences(_attention({0: in_bar_5, 1: 28}, 30), WORDS, 29, 0, 5)
    assert yes[-1].startswith("Bar 5 (5 words, its bar line included): yes, head 1 puts its largest weight there")
    no = attention_sentences(_attention({0: 28, 1: 29}, 30), WORDS, 29, 0, 5)
    assert no[-1].startswith("Bar 5 (5 words, its bar line included): no head puts its largest weight there")
    assert "(an even spread over the 30 words so far would give them 17%)" in no[-1]
    assert no[0].startswith("head 1: most on ") and "1 word back" in no[0]
    early = attention_sentences(_attention({0: 3}, 10), WORDS, 9, 0, 5)
    assert early[-1] == "Bar 5: not among the 10 words read so far, so no head can look at it."
