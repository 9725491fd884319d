"""A beginner's read of Labs 1 and 4 run in the real settings: the sentences those labs print to
read the dataset and the AR-CNN's curves come from these functions, each checked both ways on
made-up numbers; the windows drawn carry their own meter; the words are explained where they are
first used (fast: no model, no notebook run)."""

from __future__ import annotations

import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from conftest import REPO
from lab_utils.pieces import CHOIR_ROLES, GAN_WINDOW_STEPS, Piece, PieceDataset, first_of_each
from lab_utils.plots import (dataset_sentences, epochs_from_one, last_epoch_sentences, meter_sentence, plot_curves,
                             roll_overlap_sentence, window_meters_sentence)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _piece(name: str, meter: tuple[int, int], n_steps: int, pickup: int = 0, key: str = "C major") -> Piece:
    """Four voices holding one pitch each, a new note every beat, for ``n_steps``."""
    rows = [(v, start, pitch, 4) for v, pitch in enumerate((72, 67, 60, 48)) for start in range(0, n_steps, 4)]
    return Piece(id=name, number=0, split="train", key=key, time_signature=meter, pickup_steps=pickup,
                 n_steps=n_steps, notes=np.array(rows, dtype=np.int64), roles=CHOIR_ROLES)


def _dataset(pieces: list[Piece]) -> PieceDataset:
    return PieceDataset(pieces=pieces, skipped={}, source_hash="", roles=CHOIR_ROLES, name="made-up")


MADE_UP = _dataset([_piece("waltz", (3, 4), 12 * 12, pickup=4), _piece("hymn", (4, 4), 16 * 12),
                    _piece("short", (4, 4), 16 * 4)])


def test_each_window_and_roll_knows_its_piece_and_start():
    """``gan_window_sources`` and ``arcnn_roll_sources`` name, in order, where every window came from."""
    windows, _ = MADE_UP.gan_windows("train")
    sources = MADE_UP.gan_window_sources("train")
    assert len(sources) == len(windows)
    for window, (piece, start) in zip(windows, sources):
        assert (window == piece.roll().sounding[start : start + GAN_WINDOW_STEPS]).all()
    rolls = MADE_UP.arcnn_rolls("train")
    roll_sources = MADE_UP.arcnn_roll_sources("train")
    assert len(roll_sources) == len(rolls) and {p.id for p, _ in roll_sources} == {"waltz", "hymn"}
    for roll, (piece, start) in zip(rolls, roll_sources):
        assert (roll[..., 0] == piece.roll().sounding.any(axis=2)[start : start + 128]).all()


def test_the_examples_drawn_are_different_pieces_in_the_meter_asked(dataset):
    """Lab 1 and Lab 4 once drew ``arcnn[:3]``: one 3/4 chorale shifted by two bars, three times."""
    sources = dataset.arcnn_roll_sources("train")
    assert len({sources[i][0].id for i in range(3)}) == 1  # what the first three rolls were
    shown = first_of_each(sources, 3, meter=(4, 4))
    assert len({sources[i][0].id for i in shown}) == 3
    assert all(sources[i][0].time_signature == (4, 4) for i in shown)
    anything = first_of_each(MADE_UP.arcnn_roll_sources("train"), 5)
    assert [MADE_UP.arcnn_roll_sources("train")[i][0].id for i in anything] == ["waltz", "hymn"]


def test_the_window_sentence_counts_each_meter_in_its_own_bars(dataset):
    said = window_meters_sentence([(4, 4)] * 3 + [(3, 4)] * 2 + [(4, 2)])
    assert said.startswith("Of the 6 training windows (32 steps each): 3 from chorales in 4/4 (2 bars each)")
    assert "2 from chorales in 3/4 (2⅔ bars each)" in said and "1 from chorales in 4/2 (1 bar each)" in said
    meters = [piece.time_signature for piece, _ in dataset.gan_window_sources("train")]
    assert len(meters) == len(dataset.gan_windows("train")[0])  # Lab 1 prints one meter per window


def test_the_overlap_sentence_reads_the_rolls_both_ways():
    said = roll_overlap_sentence(MADE_UP.arcnn_roll_sources("train"), 3)
    assert said.startswith("The 4 training rolls come from 2 of the 3 chorales (the others are too short")
    assert "1 to 3 rolls each" in said and "overlap (in 4/4 two neighbours share 6 of their 8 bars)" in said
    one_each = _dataset([_piece("a", (4, 4), 128), _piece("b", (4, 4), 140)])
    said = roll_overlap_sentence(one_each.arcnn_roll_sources("train"), 2)
    assert "from all 2 chorales, one roll each, so no two rolls overlap" in said


def test_the_dataset_sentences_read_keys_lengths_and_meters_both_ways():
    even = _dataset([_piece("a", (4, 4), 160), _piece("b", (3, 4), 120, key="F# minor")])
    keys, lengths, meters = dataset_sentences(even)
    assert keys == "keys: 1 in major, 1 in minor (about as many of each)"
    assert lengths == "lengths: 100 % of the chorales last 10 to 10 bars (the shortest 10, the longest 10)"
    assert meters == "time signatures: 1 in 4/4, 1 in 3/4"
    major = _dataset([_piece(str(i), (4, 4), 16 * (10 + i)) for i in range(9)] + [_piece("m", (4, 4), 64, key="A minor")])
    keys, lengths, _ = dataset_sentences(major)
    assert keys == "keys: 9 in major, 1 in minor (more in major)"
    assert lengths.startswith("lengths: 90 % of the chorales last 9 to 18 bars (the shortest 4, the longest 18)")


def test_the_meter_sentence_says_steps_a_bar_and_the_pickup():
    waltz = _piece("waltz", (3, 4), 144, pickup=4)
    assert waltz.opening_steps(2) == 28
    assert meter_sentence(waltz) == ("waltz is in 3/4: 3 beats a bar, 12 steps a bar. It has a pickup of 4 steps "
                                     "(notes before the first bar line) and its first 2 bars end at step 28.")
    assert "no pickup (it starts on a bar line), so its first 2 bars end at step 32" in meter_sentence(
        _piece("hymn", (4, 4), 160))


def test_the_last_epoch_sentences_read_the_run_both_ways():
    above, falling = last_epoch_sentences({"loss": np.array([2.42, 0.94, 0.896]), "val_loss": np.array([1.81, 0.89, 0.876])})
    assert above == "at the last epoch the training loss (0.896) is above the validation loss (0.876)"
    assert "the training loss fell (0.94 to 0.896) and the validation loss fell (0.89 to 0.876)" in falling
    assert falling.endswith("a longer run would likely lower the validation loss further")
    below, stopped = last_epoch_sentences({"loss": np.array([1.0, 0.8]), "val_loss": np.array([0.9, 0.95])})
    assert "is below the validation loss (0.95)" in below
    assert "the validation loss did not fall (0.9 to 0.95)" in stopped and stopped.endswith("may not lower the validation loss")
    assert last_epoch_sentences({"loss": np.array([2.0]), "val_loss": np.array([1.8])})[1] == (
        "only one epoch is logged, so neither loss has a direction yet")


def test_the_curves_can_show_the_no_idea_band():
    log = {"epoch": np.array([0, 1]), "loss": np.array([2.4, 1.6]), "val_loss": np.array([1.8, 1.4])}
    figure = plot_curves(log, ("loss", "val_loss"), smooth=1, band=(2.7, 3.1), band_label="no idea")
    for ax in figure.axes:
        (band,) = [p for p in ax.patches if p.get_label() == "no idea"]
        assert ax.get_ylim()[1] >= 3.1 and band.get_linestyle() == "--"
        assert "no idea" in [t.get_text() for t in ax.get_legend().get_texts()]
    plain = plot_curves(log, ("loss",), smooth=1)
    assert not plain.axes[0].patches


def _cells(name: str) -> list[dict]:
    cells = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())["cells"]
    return [{"type": c["cell_type"], "source": "".join(c["source"])} for c in cells]


# A word (as a pattern) and its explanation, in the markdown cell of its first use.
EXPLAINED = {
    "01_data": {r"\b3/4\b": r"3 beats", r"\bMIDI\b": r"numbers every key", r"\bminor\b": r"3 semitones",
                r"pickup": r"before the first bar line"},
    "04_arcnn_training": {r"\bCNN\b": r"convolutional", r"\bepoch": r"one pass", r"\bvalidation\b": r"never trains on"},
}


@pytest.mark.parametrize("name", EXPLAINED)
def test_words_are_explained_where_first_used(name):
    cells = _cells(name)
    unexplained = [word for word, explanation in EXPLAINED[name].items()
                   if not (first := next(c for c in cells if re.search(word, c["source"])))["type"] == "markdown"
                   or not re.search(explanation, first["source"])]
    assert not unexplained, f"{name}: explain {unexplained} where first used"


@pytest.mark.parametrize("name, reading", [("01_data", "about equally common"), ("01_data", "10 to 25 bars"),
                                           ("01_data", "2-bar phrase becomes"), ("04_arcnn_training", "starts at the"),
                                           ("04_arcnn_training", "A *bar* is still a measure: the grey lines")])
def test_no_static_sentence_reads_a_run(name, reading):
    """These readings of a figure were static; now the cells print them from the numbers."""
    assert not [c for c in _cells(name) if c["type"] == "markdown" and reading in c["source"]]


def test_a_keras_log_is_drawn_with_epochs_from_one():
    """Keras logs the first epoch as 0; Lab 4's figure after training counts from 1, as the live
    plot and the printed sentences do."""
    log = {"epoch": np.array([0.0, 1.0]), "loss": np.array([2.4, 1.6])}
    figure = plot_curves(epochs_from_one(log), ("loss",), smooth=1)
    assert list(figure.axes[0].lines[0].get_xdata()) == [1, 2] and list(log["epoch"]) == [0, 1]
    assert epochs_from_one({"loss": log["loss"]}).keys() == {"loss"}
