"""What a beginner's read of Labs 2 and 3 in real settings found: every sentence that reads a run
is printed from its numbers (the losses' health, how noisy a curve is, why two classifier figures
differ, the GAN's wishes), the smoothed line does not lag, and the static text says what the
pictures and tables show whatever the run produced."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lab_utils.evaluate import ablation_sentence
from lab_utils.gan_config import GanConfig
from lab_utils.metrics import FIGURES, TEACHER_FIGURES
from lab_utils.midi import Note, PianoRoll
from lab_utils.motion import MOTION_FIGURES
from lab_utils.plots import (CLEAR_MARGIN, CLEAR_WISH, clear_favourites, generator_score_examples, plot_curves,
                             plot_figures_vs_bach, plot_generator_scores)
from lab_utils.runs import jump_sentence, log_beside_test, loss_health

REPO = Path(__file__).resolve().parents[1]
ITERATIONS = np.arange(100, 1900, 100)
# the real run's generator loss: it rose on every point, a big first step towards its usual level
GENERATOR = np.array([-41.6, -20.5, -15.9, -14.6, -12.0, -9.22, -5.75, -3.83, -2.32, -0.881, 0.357, 1.01, 2.04,
                      3.11, 3.49, 4.01, 4.67, 5.11])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _cells(name: str) -> list[dict]:
    cells = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())["cells"]
    return [{"id": c["id"], "type": c["cell_type"], "source": "".join(c["source"])} for c in cells]


def _cell(name: str, cell_id: str) -> str:
    (source,) = [c["source"] for c in _cells(name) if c["id"] == cell_id]
    return source


# --- the losses' health (finding 1) ---------------------------------------------------------------

def test_a_loss_that_drifts_is_no_blow_up():
    said = loss_health({"iteration": ITERATIONS, "generator_loss": GENERATOR}, "generator_loss")
    assert said.startswith("the generator loss: drift, not a blow-up: from -41.6 to 5.11 over 18 points, no NaN")
    assert "its largest jump, +21.1 from iteration 100 to 200, brought it nearer its usual level" in said
    assert "look there" not in said


def test_a_sudden_jump_away_from_its_level_is_named_with_its_iteration():
    jumped = GENERATOR.copy()
    jumped[12] = 60.0  # at iteration 1300
    said = loss_health({"iteration": ITERATIONS, "generator_loss": jumped}, "generator_loss")
    assert said.startswith("the generator loss: a jump of +59 at iteration 1300 (1.01 -> 60")
    assert said.endswith("look there") and "drift" not in said


def test_nan_and_a_huge_value_are_warnings():
    broken = GENERATOR.copy()
    broken[5] = math.nan
    assert "NaN at iteration 600: training has broken there" in loss_health(
        {"iteration": ITERATIONS, "generator_loss": broken}, "generator_loss")
    huge = GENERATOR - 200.0  # a slow drift, but in the hundreds
    said = loss_health({"iteration": ITERATIONS, "critic_loss": huge}, "critic_loss")
    assert said.startswith("the critic loss reaches -242 at iteration 100") and "blown up" in said


def test_lab_2_reads_the_generator_loss_and_the_losses_health():
    reading = _cell("02_gan_training", "97e47438")
    assert '"generator_loss"' in reading.split("describe_curves(")[1].split(")")[0]
    assert "loss_health(log, key)" in reading and 'jump_sentence(log, "told_apart")' in reading
    assert "loss_health(log, key)" in _cell("03_gan_results", "a821b42f")
    for name, cell_id in (("02_gan_training", "a6cda150"), ("03_gan_results", "642cc823")):
        text = _cell(name, cell_id)
        assert "Watch for sudden jumps, not its level; a slow drift is normal." in text
        assert "steady" not in text and "steadiness" not in text


# --- how noisy the goal line is (finding 2) ------------------------------------------------------

def test_the_largest_jump_between_neighbours_is_read_from_the_log():
    told = np.array([0.858, 0.775, 0.713, 0.8, 0.75])
    said = jump_sentence({"iteration": ITERATIONS[:5], "told_apart": told}, "told_apart")
    assert "moved at most 0.087 between neighbouring points (0.713 at iteration 300, 0.8 at iteration 400)" in said
    assert "too few" in jump_sentence({"iteration": ITERATIONS[:1], "told_apart": told[:1]}, "told_apart")
    assert "quick form" not in _cell("02_gan_training", "a6cda150")


# --- Lab 2's small things (finding 3) ------------------------------------------------------------

def test_a_panel_of_one_line_has_no_legend_and_the_grey_line_is_what_was_logged():
    log = {"iteration": ITERATIONS, "generator_loss": GENERATOR}
    assert plot_curves(log, ("generator_loss",), smooth=1).axes[0].get_legend() is None
    labels = [t.get_text() for t in plot_curves(log, ("generator_loss",), smooth=5).axes[0].get_legend().get_texts()]
    assert labels[0] == "logged"


def test_the_live_plot_prints_a_readable_line(capsys):
    from lab_utils.training import LivePlot

    live = LivePlot()
    live.on_epoch_end(0, {"iteration": 100.0, "critic_loss": -17.25, "generator_loss": -41.55, "wasserstein": 15.93,
                          "told_apart": 0.858})
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"iteration 100, \d+\.\d min after this training started: critic loss -17\.2, generator "
                        r"loss -41\.5, Wasserstein estimate \(real - fake\) 15\.9, told apart from the composer's own "
                        r"voices 0\.858", last)


def test_lab_2_explains_its_table_and_its_convolutions_in_plain_words():
    """The table says what each setting sets (its last column, from GanConfig's fields)."""
    assert "what each one sets in its last\ncolumn" in _cell("02_gan_training", "e672546d")
    meanings = {s.name: s.metadata.get("meaning", "") for s in dataclasses.fields(GanConfig) if s.name != "name"}
    assert all(len(meaning.split()) >= 3 for meaning in meanings.values()), meanings
    assert "L1" in meanings["reconstruction"] and "semitones" in meanings["transpose"]
    assert "slides small learned patterns" in _cell("02_gan_training", "1e2d5d4c")


# --- the smoothed line does not lag (finding 4) --------------------------------------------------

def test_the_smoothed_line_bottoms_where_the_log_does():
    """A trailing average put the smoothed minimum of an 18-point log 400 iterations late."""
    dip = np.abs(np.arange(18) - 5.0) + 2.0  # lowest at iteration 600
    figure = plot_curves({"iteration": ITERATIONS, "wasserstein": dip}, ("wasserstein",), smooth=5)
    logged, smoothed = figure.axes[0].lines[:2]
    assert smoothed.get_xdata()[np.argmin(smoothed.get_ydata())] == 600
    assert smoothed.get_ydata()[0] == logged.get_ydata()[0] and smoothed.get_ydata()[-1] == logged.get_ydata()[-1]


# --- the GAN's wishes (finding 5) ----------------------------------------------------------------

def test_a_clear_favourite_needs_a_bright_score_well_above_every_other():
    wishes = np.full((3, 5), -1.0)
    wishes[0, [1, 3]] = 1.0  # a tie: no favourite
    wishes[1, 2] = CLEAR_WISH + 0.1  # bright, alone
    wishes[2, 2] = CLEAR_WISH - 0.1  # alone, but dim
    assert list(clear_favourites(wishes)) == [False, True, False]
    assert not clear_favourites(np.array([[1.0, 1.0 - CLEAR_MARGIN / 2]]))[0]


def _stub(scores: dict[tuple[int, int, int], float], sung: list[list[Note]]):
    """A harmonizer whose generator scores ``scores`` ((step, pitch, voice): score, else -1) under a
    one-bar melody, and whose decoder sang ``sung`` (alto, tenor, bass)."""
    evidence = SimpleNamespace(scores=np.full((16, 128, 3), -1.0), pad=0, shift=0)
    for (step, pitch, voice), score in scores.items():
        evidence.scores[step : step + 2, pitch, voice] = score  # the beat's first 8th
    melody = PianoRoll.from_notes([[Note(0, 72, 16)]], n_steps=16, names=["Soprano"])
    parts = PianoRoll.from_notes([[Note(0, 72, 16)], *sung], n_steps=16, names=["Soprano", "Alto", "Tenor", "Bass"])
    harmonizer = SimpleNamespace(config=SimpleNamespace(pitch_low=36, n_pitches=48),
                                 roles=SimpleNamespace(kinds=("melody", "voice", "voice", "voice")),
                                 voice_ranges=[(60, 81), (53, 74), (48, 69), (36, 62)],
                                 explain=lambda melody, seed: (evidence, parts))
    return melody, harmonizer


def test_a_tie_gets_no_dot_and_the_example_names_both_pitches():
    melody, harmonizer = _stub({(0, 60, 0): 1.0, (0, 67, 0): 1.0, (4, 62, 0): 0.9},
                               [[Note(0, 58, 4), Note(4, 64, 12)], [Note(0, 55, 16)], [Note(0, 48, 16)]])
    undecided, overruled = generator_score_examples(melody, harmonizer)
    assert undecided == ("No clear favourite (alto, bar 1, beat 1): the GAN scores C4 1.00 and G4 1.00; "
                         "the decoder sang A#3.")
    assert overruled.startswith("Overruled (alto, bar 1, beat 2): the GAN clearly favours D4 (0.90; next best")
    assert overruled.endswith("the decoder sang E4.")
    alto = plot_generator_scores(melody, harmonizer).axes[0]
    (dots,) = [line for line in alto.lines if line.get_gid() == "favourite"]
    assert list(dots.get_xdata()) == [5.0] and list(dots.get_ydata()) == [62]  # beat 2 only, not the tie
    assert alto.get_title(loc="left").startswith("alto: the GAN has a clear favourite (dot) on 1 beats; "
                                                 "the decoder sang it on 0")


def test_without_ties_or_overruled_beats_the_examples_say_so():
    melody, harmonizer = _stub({(0, 60, 0): 1.0}, [[Note(0, 60, 16)], [Note(0, 55, 16)], [Note(0, 48, 16)]])
    undecided, overruled = generator_score_examples(melody, harmonizer)
    assert undecided.startswith("On no beat here does the GAN score two pitches within")
    assert overruled == "On every beat with a dot the decoder sang the GAN's favourite."


def test_lab_3_says_what_a_dot_means_and_prints_its_examples_from_this_run():
    legend = _cell("03_gan_results", "432b1d84")
    assert f"above {CLEAR_WISH}" in legend and f"more than {CLEAR_MARGIN} above every other pitch" in legend
    assert "generator_score_examples(" in _cell("03_gan_results", "104dcded")
    assert "shipped model" not in _cell("03_gan_results", "acb1a740")


# --- two classifier figures (finding 6) ----------------------------------------------------------

def test_the_log_and_the_test_figures_are_set_side_by_side():
    log = {"iteration": ITERATIONS[:3], "told_apart": np.array([0.858, 0.7, math.nan])}
    said = log_beside_test(log, 12, 8, 0.762, 650)
    assert said.startswith("The training log ended at 70.0% told apart (iteration 200), measured on 12 validation "
                           "melodies, the first 8 bars of each. This table's 76.2% comes from the test split's "
                           "chorales, 650 two-bar windows")
    assert said.endswith("so the two figures differ.")
    assert "holds no such figure" in log_beside_test({"iteration": ITERATIONS[:2]}, 12, 8, 0.762, 650)
    assert "log_beside_test(log, len(watched)" in _cell("03_gan_results", "6244d874")


# --- the recap asks, the log answers (finding 7) --------------------------------------------------

def test_the_recap_asks_instead_of_claiming():
    recap = _cell("03_gan_results", "742af893")
    assert "Early samples sound rough" not in recap and "Do the late samples sound" in recap
    assert "describe_curves(log" in _cell("03_gan_results", "805aaeb9")


# --- Lab 3's small things (finding 8) ------------------------------------------------------------

def test_the_figures_plot_names_its_lines_and_units():
    reference = {"in_key": (0.96, 0.04), "parallels": (0.68, 1.02)}
    log = {"iteration": ITERATIONS[:3], "in_key": np.array([0.9, 0.95, 0.96]), "parallels": np.array([1.0, 0.5, 0.0]),
           "told_apart": np.array([0.9, 0.8, 0.7])}
    figure = plot_figures_vs_bach(log, reference)
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels[:2] == ["the GAN's harmonizations, as the log measured them", "Bach's mean"]
    assert [ax.get_ylabel() for ax in figure.axes[:3]] == ["share of notes", "per 100 moves", "classifier's accuracy"]


def _rows(untrained: float, trained: float, bach: float) -> dict[str, dict[str, float]]:
    names = (*FIGURES, "distance", *TEACHER_FIGURES, *MOTION_FIGURES)
    rows = {side: dict.fromkeys(names, 0.5) for side in ("untrained generator", "trained generator", "Bach")}
    for side, value in (("untrained generator", untrained), ("trained generator", trained), ("Bach", bach)):
        rows[side]["alto_quarters"] = value
    return rows


def test_a_small_gap_that_training_closed_counts_as_closed():
    """The real run: 0.915 -> 0.924 against Bach's 0.926 closed 80 % of the gap ("about as near" before)."""
    said = ablation_sentence(_rows(0.915, 0.924, 0.926))
    assert "training moved 1 nearer" in said and "It closed most of the gap on alto_quarters" in said
    level = ablation_sentence(_rows(0.915, 0.9155, 0.926))  # under a tenth of the gap
    assert "training moved 0 nearer" in level and "alto_quarters" in level.splitlines()[-1]


def test_lab_3_explains_its_tables():
    ablation = _cell("03_gan_results", "6c4684b4")
    assert "more\n  average, not more Bach" in ablation
    classifier = _cell("03_gan_results", "d575ac42")
    assert "`spread`" in classifier and "`windows`" in classifier and "half as many" in classifier
    assert "which way each curve would go" in _cell("03_gan_results", "9e53a20a")
    assert not [c for c in _cells("03_gan_results") if c["type"] == "markdown"
                and re.search(r"all (the |its )?notes[^.]*C major", c["source"])]
