"""Originality and cleanliness of sound, two of the challenge's criteria that once could not fail.

Originality read ``compose``'s own count of the top line's notes it did not copy, which the form
keeps above a half; cleanliness read the true peak and the DC offset, which mastering sets. Now
originality is the share of the top line's bars that are not a bar of the tune (note for note,
even moved up or down) and cleanliness counts peaks cut flat by clipping, which mastering turns
down but cannot round again. Each fails on a deliberately bad track; the shipped ``compose``
output still passes.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lab_utils.audio import SAMPLE_RATE
from conftest import composition_by_hand
from lab_utils.compose import Composition, Section
from lab_utils.judging import AUDIO_TARGETS, COMPOSE_TARGETS
from lab_utils.judging import FLAT_TOP_TOLERANCE, MOVES, flat_tops, judge, judging_table, new_bars
from lab_utils.mastering import master, measure
from lab_utils.midi import Note, whole_bars
from lab_utils.samples import melody_roll

ORIGINALITY, CLEANLINESS, FEELING = 0, 3, 4  # places in judge's list
FEWEST_NEW = COMPOSE_TARGETS["originality"][0]
CEILING, MOST_DC = AUDIO_TARGETS["true_peak_dbtp"][1], AUDIO_TARGETS["max_window_dc"][1]


def _tune_bars(name: str) -> list[list[Note]]:
    """A built-in tune's notes bar by bar, each bar's notes from its own first step."""
    tune = whole_bars(melody_roll(name))
    bar = tune.steps_per_bar
    bars: list[list[Note]] = [[] for _ in range(tune.n_steps // bar)]
    for note in tune.notes(0):
        bars[note.start // bar].append(note._replace(start=note.start % bar))
    return bars


def _track(bars: list[list[Note]], sections: list[Section]) -> Composition:
    """A "composition" by hand: the top line plays ``bars`` one after another from the end of the
    intro, over a plain accompaniment (a C major chord held through every bar). Its parameters
    claim an originality of 1.0, all the old criterion read."""
    steps = 16
    first = sections[1].start_bar
    top = [(n._replace(start=(first + b) * steps + n.start), 80) for b, notes in enumerate(bars) for n in notes]
    chords = [[(Note((first + b) * steps, pitch, steps), 60) for b in range(len(bars))] for pitch in (64, 55, 48)]
    return composition_by_hand([top, *chords], sections, "A copy")


def _form(*variations: tuple[int, int, int]) -> list[Section]:
    """Intro, a 4-bar theme (the tune's bars 0-4), then variations (source start, end, transpose), coda."""
    sections = [Section("intro", 0, 2), Section("theme", 2, 4, (0, 4))]
    for start, end, transpose in variations:
        sections.append(Section("variation", sections[-1].start_bar + sections[-1].bars, end - start, (start, end), transpose))
    return sections + [Section("coda", sections[-1].start_bar + sections[-1].bars, 1)]


def _moved(bars: list[list[Note]], semitones: int) -> list[list[Note]]:
    return [[n._replace(pitch=n.pitch + semitones) for n in notes] for notes in bars]


def _noise(seconds: float = 5.0, offset: float = 0.0) -> np.ndarray:
    """Quiet stereo noise: no flat tops, no clipping; with ``offset``, a DC offset."""
    return (np.random.default_rng(0).normal(0.0, 0.05, (int(seconds * SAMPLE_RATE), 2)) + offset).astype(np.float32)


def _chords(seconds: float = 6.0) -> np.ndarray:
    """Plucked chords (tones from 220 to 880 Hz, a 5 ms attack, then decaying), a new one every half second."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    rng = np.random.default_rng(1)
    sound = np.zeros_like(t)
    for start in np.arange(0.0, seconds - 0.5, 0.5):
        after = np.clip(t - start, 0.0, None) * (t >= start)
        for frequency in rng.choice([220.0, 277.2, 329.6, 440.0, 554.4, 659.3, 880.0], 3, replace=False):
            envelope = (t >= start) * (1.0 - np.exp(-after / 0.005)) * np.exp(-3.0 * after)
            sound += envelope * np.sin(2 * np.pi * frequency * after + rng.uniform(0, 6.3))
    return np.stack([sound, 0.9 * sound], axis=1).astype(np.float32) / np.abs(sound).max()


# --- originality ------------------------------------------------------------------------------

def test_the_tune_with_a_plain_accompaniment_is_not_original():
    tune = _tune_bars("frere_jacques")  # 8 bars: the theme is bars 0-4, the "variation" plays 4-8 as written
    piece = _track(tune, _form((4, 8, 0)))
    melody = melody_roll("frere_jacques")
    assert new_bars(piece, melody) == 0.0
    criterion = judge(piece, _noise(), melody)[ORIGINALITY]
    assert criterion.value == 0.0 and not criterion.met
    assert piece.parameters.notes_not_copied == 1.0  # what the old criterion read: it passed


def test_the_tune_repeated_even_transposed_is_not_original():
    theme = _tune_bars("frere_jacques")[:4]
    piece = _track(theme + _moved(theme, -5) + _moved(theme, 12), _form((0, 4, -5), (0, 4, 12)))
    melody = melody_roll("frere_jacques")
    assert new_bars(piece, melody) == 0.0
    assert new_bars(piece) == 0.0  # without the melody, the piece's theme stands for it
    for criterion in (judge(piece, _noise(), melody)[ORIGINALITY], judge(piece, _noise())[ORIGINALITY]):
        assert not criterion.met


def test_a_bar_is_the_tune_note_for_note_and_new_once_it_differs():
    tune = _tune_bars("frere_jacques")
    varied = [notes[:1] + [n._replace(pitch=n.pitch + 2) for n in notes[1:]] for notes in tune[4:]]
    melody = melody_roll("frere_jacques")
    assert new_bars(_track(tune[:4] + varied, _form((4, 8, 0))), melody) == 0.5  # the theme, then 4 new bars
    half_copied = varied[:2] + tune[6:]
    assert new_bars(_track(tune[:4] + half_copied, _form((4, 8, 0))), melody) == 0.25
    assert not judge(_track(tune[:4] + half_copied, _form((4, 8, 0))), _noise(), melody)[ORIGINALITY].met


# --- cleanliness of sound ---------------------------------------------------------------------

def test_clipping_before_mastering_is_caught_though_mastering_hides_it_from_peak_and_dc():
    clean = _chords()
    assert flat_tops(clean) == 0 and flat_tops(master(clean, SAMPLE_RATE)) == 0
    clipped = np.clip(2.0 * clean, -1.0, 1.0)  # driven 6 dB into full scale
    mastered = master(clipped, SAMPLE_RATE)
    sound = measure(mastered, SAMPLE_RATE)
    assert sound.true_peak_dbtp <= CEILING and sound.max_window_dc < MOST_DC  # the old rule: it passed
    assert flat_tops(clipped) > 10 and flat_tops(mastered) > 10


def test_a_flat_top_is_three_samples_at_one_level():
    wave = np.sin(np.linspace(0, 40 * np.pi, 4000))[:, None]  # 20 cycles of 200 samples: smooth tops
    assert flat_tops(wave) == 0
    assert flat_tops(np.minimum(wave, 0.99)) == 20  # every positive half-wave cut
    two = wave.copy()
    two[49:51] = 1.0  # two samples at the top, as where a peak falls between them: not a clip
    assert flat_tops(two) == 0
    jitter = (np.arange(4000) % 2)[:, None] * 2 * FLAT_TOP_TOLERANCE  # every step twice what "one level" allows
    assert flat_tops(np.minimum(wave, 0.99) + jitter) == 0
    assert flat_tops(np.zeros((100, 2))) == 0  # silence: nothing near a top
    notch = wave.copy()
    notch[48:51] = 0.9  # three samples at one level near the top, but louder samples on both sides: no top
    assert flat_tops(notch) == 0
    notch[47], notch[51] = 0.85, 0.85  # quieter on both sides: a top cut flat
    assert flat_tops(notch) == 1
    edges = np.minimum(np.cos(np.linspace(0, 4 * np.pi, 401)), 0.99)[:, None]  # cut flat at its first and last samples
    assert flat_tops(edges) == 3  # the top at each end (nothing before or after it) and the one between


def test_dc_offset_and_a_flat_full_scale_sound_are_not_clean():
    piece = _track(_tune_bars("frere_jacques"), _form((4, 8, 0)))
    assert judge(piece, _noise())[CLEANLINESS].met  # quiet noise: no clipping, no DC, under the ceiling
    assert not judge(piece, _noise(offset=0.05))[CLEANLINESS].met
    flat = judge(piece, np.full((5 * SAMPLE_RATE, 2), 0.999, np.float32))[CLEANLINESS]
    assert not flat.met and flat.value > 0


# --- the table, the figures, the tonic ending ----------------------------------------------------

def test_the_table_says_how_to_move_each_criterion():
    """A table of five columns, narrow enough for a notebook, then per criterion what to listen for
    and "how to move it", one text each (from benchmarks/judging_levers.py)."""
    criteria = judge(_track(_tune_bars("frere_jacques"), _form((4, 8, 0))), _noise(), melody_roll("frere_jacques"))
    header, rule, *lines = judging_table(criteria).splitlines()
    assert header == "| criterion | the figure (a proxy) | value | target | met |" and rule.count("|") == 6
    rows, below = lines[:len(criteria)], lines[len(criteria):]
    assert all(row.count("|") == 6 for row in rows) and not any(line.startswith("|") for line in below)
    assert sorted(MOVES) == sorted(c.name for c in criteria) and all(MOVES.values())
    for criterion, row in zip(criteria, rows):
        assert row.startswith(f"| **{criterion.name}** | {criterion.proxy} | {criterion.value:.2f} |")
        (said,) = [line for line in below if line.startswith(f"- **{criterion.name}.**")]
        assert said.endswith(f"*How to move it:* {MOVES[criterion.name]}") and criterion.listen in said
        assert criterion.move == MOVES[criterion.name]


def test_each_criterion_reads_its_value_among_its_figures():
    criteria = judge(_track(_tune_bars("frere_jacques"), _form((4, 8, 0))), _noise(), melody_roll("frere_jacques"))
    assert [next(iter(c.figures.values())) for c in criteria] == [c.value for c in criteria]
    assert set(criteria[FEELING].figures) == {"loudness_range_lu", "tonic_ending", "loudest_10s_at"}


def test_the_tonic_ending_is_the_tunes_tonic():
    """A piece that ends over C ends on the tonic of a tune in C, not of one in G, whatever key its
    voices as a whole suggest (new phrases visit the dominant)."""
    piece = _track(_tune_bars("frere_jacques"), _form((4, 8, 0)))  # the bass holds C3 to the end
    assert judge(piece, _noise())[FEELING].figures["tonic_ending"] == 1.0
    piece.parameters = dataclasses.replace(piece.parameters, key=(7, "major"))
    feeling = judge(piece, _noise())[FEELING]
    assert feeling.figures["tonic_ending"] == 0.0 and "ends on the tonic: no" in feeling.proxy


# --- the shipped track ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped():
    """``compose``'s minute on Frère Jacques, seed 1 (as tests/test_compose.py judges it), and its audio."""
    from lab_utils.arcnn import load_enhancer
    from lab_utils.compose import compose
    from lab_utils.export import render_audio
    from lab_utils.harmonize import load_harmonizer

    melody = melody_roll("frere_jacques")
    piece = compose(melody, load_harmonizer(), load_enhancer(), seconds=60, seed=1)
    return piece, render_audio(piece), melody


@pytest.mark.slow
def test_the_shipped_track_passes_both(shipped):
    piece, audio, melody = shipped
    for criteria in (judge(piece, audio, melody), judge(piece, audio)):
        originality, cleanliness = criteria[ORIGINALITY], criteria[CLEANLINESS]
        assert originality.met and FEWEST_NEW <= originality.value < 1.0  # the theme is the tune itself
        assert cleanliness.met and cleanliness.value == 0
    assert judging_table(criteria).count("\n| **") == 5


@pytest.mark.slow
def test_the_shipped_track_clipped_in_its_loudest_seconds_is_not_clean(shipped):
    piece, audio, melody = shipped
    start = int(measure(audio, SAMPLE_RATE).loudest_10s_start * SAMPLE_RATE)
    loudest = slice(start, start + 10 * SAMPLE_RATE)
    peak = float(np.abs(audio).max())
    driven = audio.copy()
    driven[loudest] = np.clip(2.0 * driven[loudest], -peak, peak)  # 6 dB too hot, cut at the peak
    bad = master(driven, SAMPLE_RATE)
    sound = measure(bad, SAMPLE_RATE)
    assert sound.true_peak_dbtp <= CEILING and sound.max_window_dc < MOST_DC  # the old rule: it passed
    cleanliness = judge(piece, bad, melody)[CLEANLINESS]
    assert not cleanliness.met and cleanliness.value > 10
