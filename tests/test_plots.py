"""The lessons' pictures and tables (``lab_utils.plots``) show what they say: counts match what is
drawn, a one-point curve is visible, every version gets its panel, and one definition of a 16th
note gives Lab 1's and Lab 5's sentences."""

from __future__ import annotations

import re
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Rectangle

from lab_utils.chorales import load_dataset
from lab_utils.midi import Note, PianoRoll
from lab_utils.plots import (MARKED_POINTS, enhancement_table, note_lengths_sentence, plot_corruption, plot_curves,
                             plot_enhancements, plot_multitrack, short_note_share)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _cells(ax: plt.Axes, edge: str) -> int:
    """16th steps covered by the boxes drawn with edge colour ``edge`` (a box is a note, 0.25 short)."""
    boxes = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_edgecolor()[:3] == plt.matplotlib.colors.to_rgb(edge)]
    return sum(round(p.get_width() + 0.25) for p in boxes)


def test_a_multitrack_is_drawn_one_row_per_voice_cut_to_its_pitches():
    roll = load_dataset().split("test")[0].roll()
    multitrack = roll.to_multitrack()
    figure = plot_multitrack(multitrack)
    axes = figure.axes
    assert [ax.get_ylabel() for ax in axes] == roll.names
    for k, ax in enumerate(axes):
        pitches = [n.pitch for n in roll.notes(k)]
        low, high = ax.get_ylim()
        assert low < min(pitches) and max(pitches) < high
        assert high - low < 30  # a voice's range, not pypianoroll's 128 pitches: a note is a box, not a hairline
    bottom = axes[-1]
    downbeats = multitrack.get_downbeat_steps()
    assert list(bottom.get_xticks()) == list(downbeats[: len(bottom.get_xticks())])  # ticks on bar lines
    assert [t.get_text() for t in bottom.get_xticklabels()][:3] == ["1", "2", "3"]  # numbered bars, not beats


def test_corruption_titles_count_the_cells_drawn():
    """A held note with cells cut from its middle is one note cut into two pieces; the picture
    counts cells, as drawn, not the pieces as notes (the old legend said 123 over 21 red marks)."""
    clean = np.zeros((1, 32, 48, 1), np.float32)
    clean[0, 0:8, 20, 0] = 1  # a half note
    clean[0, 8:12, 24, 0] = 1  # a quarter
    noisy = clean.copy()
    noisy[0, 3:6, 20, 0] = 0  # three cells taken away from the half note's middle
    noisy[0, 2, 30, 0] = noisy[0, 17, 10, 0] = 1  # two stray cells
    figure = plot_corruption(clean, noisy, n=1, pitch_low=40)
    (ax,) = figure.axes
    assert ax.get_title(loc="left").startswith("example 1: 5 cells to flip: 3 to add back (green), 2 stray to remove")
    assert _cells(ax, "#d62728") == 2
    green = [p for p in ax.patches if p.get_facecolor()[:3] == plt.matplotlib.colors.to_rgb("#2ca02c")]
    assert sum(round(p.get_width() + 0.25) for p in green) == 3
    assert {round(p.get_y() + 0.4) for p in green} == {60}  # at pitch_low + 20


@pytest.mark.parametrize("points", [1, 2, MARKED_POINTS + 1])
def test_a_curve_of_few_points_shows_each_point(points):
    log = {"loss": np.linspace(3.1, 2.5, points), "val_loss": np.linspace(3.0, 2.6, points)}
    figure = plot_curves(log, ("loss", "val_loss"), smooth=1)
    for ax in figure.axes:
        logged = ax.lines[-1]
        assert len(logged.get_xdata()) == points
        assert (logged.get_marker() == "o") == (points <= MARKED_POINTS)  # one epoch: one dot, not empty axes


def _melody() -> PianoRoll:
    return PianoRoll.from_notes([[Note(0, 72, 4), Note(4, 74, 4), Note(8, 76, 8)]], n_steps=16)


def _with(roll: PianoRoll, added: list[Note], drop: int | None = None) -> PianoRoll:
    notes = [n for i, n in enumerate(roll.notes(0)) if i != drop] + added
    return PianoRoll.from_notes([notes], n_steps=roll.n_steps)


def test_every_version_gets_a_panel_on_one_pitch_axis():
    melody = _melody()
    versions = {f"creative risk {t}": _with(melody, [Note(0, 60 - 5 * i, 2)]) for i, t in enumerate((0.5, 1, 2, 3))}
    figure = plot_enhancements(melody, versions)
    assert [ax.get_title() for ax in figure.axes] == list(versions)  # a 4th temperature is a 4th panel
    assert len({ax.get_ylim() for ax in figure.axes}) == 1
    assert figure.axes[0].get_ylim()[0] < 45  # the lowest added note (45) fits on every panel
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["kept", "added (1 notes)", "removed or shortened (0 notes)"]


def test_a_version_that_adds_nothing_has_no_shares_and_says_why():
    melody = _melody()
    table = enhancement_table(melody, {"add an E and a C#": _with(melody, [Note(0, 64, 4), Note(4, 61, 4)]),
                                       "only remove": _with(melody, [], drop=1)}, key=(0, "major"))
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert rows[1] == "| add an E and a C# | 2 | 0 | 0 | 0.00 | 0.50 | 0.50 |"  # C# is out of C major
    assert rows[2] == "| only remove | 0 | 1 | 0 | – | – | – |"
    assert not re.search(r"\bnan\b", table) and "*only remove* added no notes" in table


def test_one_line_between_8ths_and_16ths():
    pieces = [SimpleNamespace(notes=np.array([[0, 0, 60, 1], [0, 1, 62, 2], [1, 0, 48, 4]])),
              SimpleNamespace(notes=np.array([[0, 0, 60, 1], [0, 1, 62, 3]]))]
    assert short_note_share(SimpleNamespace(pieces=pieces)) == pytest.approx(2 / 5)  # the two notes of one step


def test_bachs_16ths_are_counted_as_the_figures_count_long_notes():
    """Lab 1's and Lab 5's sentence: the share of Bach's notes shorter than an 8th, every note of
    every chorale read from its roll as metrics.figures reads it, and the two shares add to 100 %."""
    dataset = load_dataset()
    lengths = [n.length for piece in dataset.pieces for k in range(4) for n in piece.roll().notes(k)]
    share = short_note_share(dataset)
    assert share == pytest.approx(np.mean(np.array(lengths) < 2))
    assert 0.005 < share < 0.05  # Bach's 16ths are a few passing notes
    long, short = map(float, re.findall(r"([\d.]+) %", note_lengths_sentence(dataset)))
    assert long + short == pytest.approx(100.0) and short == pytest.approx(100 * share, abs=0.05)


def test_a_resumed_runs_live_curve_goes_on_from_its_own_epochs():
    from lab_utils.training import LivePlot

    live = LivePlot(keys=("loss",))
    for epoch, loss in ((4, 2.0), (5, 1.5)):  # Keras counts a resumed run's epochs on from its first run's
        live.on_epoch_end(epoch, {"loss": loss})
    assert live.log["epoch"] == [5, 6]
    figure = plot_curves({k: np.array(v) for k, v in live.log.items()}, ("loss",), smooth=1)
    assert list(figure.axes[0].lines[0].get_xdata()) == [5, 6]
    plt.close(figure)
