"""Lab 3's map of the generator's raw scores beside the decoded voices (``plots.plot_generator_scores``)
draws the generator's numbers and the harmonizer's notes, each where it belongs."""

from __future__ import annotations

import re
from contextlib import nullcontext

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lab_utils.harmonize import generator_evidence, load_harmonizer
from lab_utils.midi import STEPS_PER_BEAT, Note, PianoRoll
from lab_utils.plots import CLEAR_WISH, plot_generator_scores
from lab_utils.samples import melody_roll

SEED = 3


def _two_octaves_lower(roll: PianoRoll) -> PianoRoll:
    """The melody two octaves down: the harmonizer moves it up and the voices back down."""
    return PianoRoll(np.roll(roll.sounding, -24, axis=1), np.roll(roll.onsets, -24, axis=1), tempo=roll.tempo,
                     time_signature=roll.time_signature, pickup_steps=roll.pickup_steps)


def _window(melody: PianoRoll, bars: tuple[int, int] | None) -> tuple[int, int]:
    if bars is None:
        return 0, melody.n_steps
    first, last = bars
    start = 0 if first == 1 else melody.pickup_steps + (first - 1) * melody.steps_per_bar
    return start, min(melody.n_steps, melody.pickup_steps + last * melody.steps_per_bar)


# (name, melody, bars): a whole short tune, a window of a 3/4 tune with a pickup, a melody the
# harmonizer has to move by two octaves (its scores are in the generator's frame, its voices are not)
CASES = {
    "twinkle, whole": (lambda: PianoRoll.from_notes([melody_roll("twinkle").notes(0)[:12]]), None),
    "amazing grace, bars 2-3": (lambda: melody_roll("amazing_grace"), (2, 3)),
    "ode to joy, two octaves low": (lambda: _two_octaves_lower(melody_roll("ode_to_joy")), (1, 2)),
}


@pytest.fixture(scope="module")
def harmonizer():
    return load_harmonizer()


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def drawn(request, harmonizer):
    make, bars = CASES[request.param]
    melody = make()
    with pytest.warns(UserWarning, match="moved") if "low" in request.param else nullcontext():
        fig = plot_generator_scores(melody, harmonizer, bars=bars, seed=SEED)
        evidence = generator_evidence(melody, harmonizer.generator, harmonizer.config, harmonizer.voice_ranges,
                                      SEED, harmonizer.melody_centre)
        voices = harmonizer(melody, seed=SEED)
    yield melody, bars, fig, evidence, voices
    plt.close(fig)


def _heat_maps(fig) -> list:
    return [ax for ax in fig.axes if ax.images]


def _rectangles(ax, gid: str) -> set[Note]:
    return {Note(round(p.get_x()), round(p.get_y() + 0.5), round(p.get_width()))
            for p in ax.patches if p.get_gid() == gid}


def test_three_heat_maps_for_alto_tenor_bass_and_a_colour_bar(drawn):
    _, _, fig, _, _ = drawn
    maps = _heat_maps(fig)
    assert len(maps) == 3 and len(fig.axes) == 4
    assert [ax.get_title(loc="left").split(":")[0] for ax in maps] == ["alto", "tenor", "bass"]
    (colour_bar,) = [ax for ax in fig.axes if ax not in maps]
    assert "wants" in colour_bar.get_xlabel()
    assert {ax.images[0].get_clim() for ax in maps} == {(-1.0, 1.0)}  # one colour scale for every voice


def test_each_map_is_pitches_by_steps_of_the_melody(drawn, harmonizer):
    melody, bars, fig, evidence, _ = drawn
    start, end = _window(melody, bars)
    lowest = harmonizer.config.pitch_low - evidence.shift  # the generator's pitches, where the voices sing them
    for ax in _heat_maps(fig):
        image = ax.images[0]
        assert image.get_array().shape == (harmonizer.config.n_pitches, end - start)
        assert tuple(image.get_extent()) == (start, end, lowest - 0.5, lowest + harmonizer.config.n_pitches - 0.5)


def test_the_scores_drawn_are_the_generators(drawn, harmonizer):
    melody, bars, fig, evidence, _ = drawn
    start, end = _window(melody, bars)
    low = harmonizer.config.pitch_low
    arrays = [np.asarray(ax.images[0].get_array()) for ax in _heat_maps(fig)]
    for v, array in enumerate(arrays):
        scores = evidence.scores[evidence.pad + start : evidence.pad + end, :, v]
        assert array.max() == scores.max() and array.min() == scores.min()
        np.testing.assert_array_equal(array, scores[:, low : low + harmonizer.config.n_pitches].T)
    assert not np.array_equal(arrays[0], arrays[2])  # three voices, three different maps


def test_the_notes_drawn_are_the_harmonizers(drawn):
    melody, bars, fig, _, voices = drawn
    start, end = _window(melody, bars)
    for v, ax in enumerate(_heat_maps(fig)):
        sung = set()
        for note in voices.notes(v + 1):
            first, last = max(note.start, start), min(note.start + note.length, end)
            if last > first:
                sung.add(Note(first, note.pitch, last - first))
        assert sung and _rectangles(ax, "decoded note") == sung


def test_the_melody_line_is_the_melody(drawn):
    melody, bars, fig, _, _ = drawn
    start, end = _window(melody, bars)
    for ax in _heat_maps(fig):
        (line,) = [line for line in ax.lines if line.get_gid() == "melody"]
        y = np.asarray(line.get_ydata(), float)[:-1]
        sounding = melody.sounding[start:end, :, 0]
        expected = np.where(sounding.any(axis=1), 127 - np.argmax(sounding[:, ::-1], axis=1), np.nan)
        np.testing.assert_array_equal(y, expected)


def test_dots_are_clear_favourites_and_the_titles_count_them(drawn, harmonizer):
    melody, bars, fig, evidence, voices = drawn
    start, end = _window(melody, bars)
    low, n = harmonizer.config.pitch_low, harmonizer.config.n_pitches
    n_dots = 0
    for v, ax in enumerate(_heat_maps(fig)):
        (dots,) = [line for line in ax.lines if line.get_gid() == "favourite"]
        steps = np.asarray(dots.get_xdata()) - 1
        pitches = np.asarray(dots.get_ydata()).astype(int)
        followed = 0
        for step, pitch in zip(steps.astype(int), pitches):
            assert start <= step < end and (evidence.pad + step) % STEPS_PER_BEAT == 0
            first_eighth = evidence.scores[evidence.pad + step : evidence.pad + step + 2, low : low + n, v].mean(axis=0)
            assert pitch + evidence.shift == low + first_eighth.argmax() and first_eighth.max() > CLEAR_WISH
            followed += bool(voices.sounding[step, pitch, v + 1])
        counts = [int(x) for x in re.findall(r"\d+", ax.get_title(loc="left"))]
        assert counts == [len(steps), followed]
        n_dots += len(steps)
    assert n_dots  # the case has clear favourites to check


def test_a_window_outside_the_melody_is_refused(harmonizer):
    for bars in ((0, 2), (3, 2), (40, 41)):
        with pytest.raises(ValueError):
            plot_generator_scores(melody_roll("twinkle"), harmonizer, bars=bars)
    plt.close("all")
