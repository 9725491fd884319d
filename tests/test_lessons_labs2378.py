"""Issue 29, Labs 2, 3, 7 and 8: the sentences under their outputs are read from the numbers by the
functions behind them, and the pictures and tables they show are drawn as they are explained.
Fast: no notebook is executed (the notebooks' own cells are read as text)."""

from __future__ import annotations

import json
import math

import matplotlib
import numpy as np
import pytest

from conftest import REPO
from lab_utils.evaluate import ablation_sentence, cross_style_sentence
from lab_utils.metrics import FIGURES, TEACHER_FIGURES
from lab_utils.midi import N_PITCHES
from lab_utils.motion import MOTION_FIGURES
from lab_utils.plots import plot_windows
from lab_utils.runs import log_against_now
from lab_utils.styles import sources
from lab_utils.styles.report import StyleReport

matplotlib.use("Agg")

NOTEBOOKS = REPO / "notebooks"


def _code(name: str) -> list[str]:
    cells = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _markdown(name: str) -> list[str]:
    cells = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


# --- Lab 8: the reading bar ends at 100 % in a saved notebook -------------------------------------

class _Handle:
    """What IPython's ``display(..., display_id=True)`` returns: here it keeps every state shown."""

    def __init__(self, shown: list[str], obj) -> None:
        self.shown = shown
        shown.append(obj.data)

    def update(self, obj) -> None:
        self.shown.append(obj.data)


def test_in_a_notebook_the_reading_bar_is_one_output_that_ends_at_100_percent(monkeypatch):
    """A notebook saved after running keeps the last state of the one output the bar writes in (a
    widget bar kept its first, 0 %), and the build's ``zip`` with its sources, which never asks
    ``read_all`` for more after the last file, still leaves it at 100 % (it stopped at 39 of 40)."""
    import IPython.display

    shown: list[str] = []
    opened: list[_Handle] = []

    def display(obj, display_id: bool = False):
        assert display_id  # one output, updated in place
        opened.append(_Handle(shown, obj))
        return opened[-1]

    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(sources, "_bar_file", sources.NotebookLine)
    monkeypatch.setattr(sources, "_read_one", lambda job: (job[0], "read"))
    files = [sources.Source(f"piece{i}.mid", REPO / f"piece{i}.mid") for i in range(40)]
    read = [label for _, (label, _) in zip(files, sources.read_all(files, jobs=1))]  # as build_style reads
    assert len(read) == 40 and len(opened) == 1 and len(shown) >= 2
    assert shown[0].startswith("reading:   0%") and shown[-1].startswith("reading: 100%") and "40/40" in shown[-1]
    assert "#" not in shown[-1]  # its blocks, as in a terminal


def test_outside_a_notebook_the_bar_goes_to_the_terminal():
    assert sources._bar_file() is None  # pytest is no notebook kernel: tqdm's stderr


# --- Lab 8: the report's motion line is explained, and its picture counts bars in the meter ------

def test_every_line_of_the_style_report_is_explained_in_lab_8():
    report = StyleReport(name="x", source="x", found=2, used=2, meter=(4, 2),
                         roles=[{"name": n, "kind": "voice", "range": [40, 70], "notes_per_bar": 2.0,
                                 "empty_windows": 0.1} for n in ("Soprano", "Alto", "Tenor", "Bass")],
                         motion={f: 0.5 for f in MOTION_FIGURES})
    last = report.table().splitlines()[-1]
    label = last.split(":")[0]
    assert label == "motion on the meter's beats"
    assert "Alto notes last 0.5 quarters" in last and "all three do on 50%" in last
    (reading,) = [cell for cell in _markdown("08_your_own_style") if cell.startswith("### Reading the report")]
    row = next(line for line in reading.splitlines() if line.startswith(f"| **{label}**"))
    assert all(word in row for word in ("quarter notes", "starts a new note", "all three", "one alone"))


def _window(n_steps: int = 32) -> np.ndarray:
    sounding = np.zeros((n_steps, N_PITCHES, 4), bool)
    for k, pitch in enumerate((72, 67, 60, 48)):
        sounding[:, pitch, k] = True
    return sounding


@pytest.mark.parametrize("meter, bars", [((4, 2), ["1"]), ((4, 4), ["1", "2"]), ((3, 4), ["1", "2", "3"])])
def test_a_window_is_drawn_with_the_bars_of_its_meter(meter, bars):
    """A 32-step window is one bar of Palestrina's 4/2, two of 4/4, and two and a bit of 3/4."""
    import matplotlib.pyplot as plt

    figure = plot_windows(_window()[None], _window()[None], n=1, meters=[meter])
    (ax,) = figure.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == bars
    assert ax.get_title() == f"window 1, in {meter[0]}/{meter[1]}"
    plt.close(figure)


def test_the_report_picture_keeps_each_windows_meter(tmp_path, monkeypatch):
    from lab_utils.catalog import load_style
    from lab_utils.styles import report

    palestrina = load_style("palestrina")
    few = type(palestrina)(pieces=palestrina.pieces[:12], skipped={}, source_hash="", roles=palestrina.roles,
                           name="few")
    _, _, picture = report.window_figures(few)
    sounding, onsets, meters = picture
    assert len(sounding) == len(onsets) == len(meters) > 0 and set(meters) == {(4, 2)}
    import matplotlib.pyplot as plt

    drawn = {}

    def plot_windows(*args, **kwargs) -> plt.Figure:
        drawn.update(kwargs)
        return plt.figure()

    monkeypatch.setattr("lab_utils.plots.plot_windows", plot_windows)
    report.report_picture(few, picture, tmp_path / "report.png")
    assert drawn["meters"] == meters and (tmp_path / "report.png").exists()


# --- Lab 8: your model is read beside the shipped ones ------------------------------------------

def test_the_cross_style_lines_read_your_model_too():
    distances = {"Bach": {"Bach model": {"to Bach": 0.42, "to Palestrina": 1.80},
                          "your model": {"to Bach": 1.16, "to Palestrina": 1.59}},
                 "Palestrina": {"Palestrina model": {"to Bach": 0.74, "to Palestrina": 1.10},
                                "your model": {"to Bach": 1.04, "to Palestrina": 0.96}}}
    lines = cross_style_sentence(distances).splitlines()
    assert lines == [
        "- On Bach's melodies the Bach model is at 0.42 from Bach and 1.80 from Palestrina: nearer its own style.",
        "- On Bach's melodies your model is at 1.16 from Bach and 1.59 from Palestrina: nearer Bach.",
        "- On Palestrina's melodies the Palestrina model is at 1.10 from Palestrina and 0.74 from Bach: nearer Bach.",
        "- On Palestrina's melodies your model is at 1.04 from Bach and 0.96 from Palestrina: nearer Palestrina."]


def test_lab_8_reads_your_models_motion_beside_your_pieces():
    (cell,) = [c for c in _code("08_your_own_style") if "motion_sentences(" in c]
    assert 'pairs["your model"] = "your pieces"' in cell and 'dataset.split("test")' in cell


# --- Lab 3: the ablation table read from its numbers ---------------------------------------------

def _ablation_rows() -> dict[str, dict[str, float]]:
    names = (*FIGURES, "distance", *TEACHER_FIGURES, *MOTION_FIGURES)
    bach = dict.fromkeys(names, 0.5) | {"distance": 0.58, "crossings": 0.04, "voices": 3.93, "parallels": 0.67}
    untrained = dict(bach, distance=0.90, crossings=0.21, voices=3.79, chordal=0.5, parallels=0.0)
    trained = dict(bach, distance=0.61, crossings=0.043, voices=3.96, chordal=0.45, parallels=0.0)
    return {"untrained generator": untrained, "trained generator": trained, "Bach": bach}


def test_the_ablation_sentence_says_what_training_brought_and_what_it_did_not():
    said = ablation_sentence(_ablation_rows())
    assert said.startswith("The distance to Bach's figures is 0.90 with the untrained generator and 0.61 with the "
                           "trained one (Bach's own: 0.58). Of the 20 other rows, training moved 2 nearer Bach's "
                           "value, 1 farther, and left 17 level.")
    assert "It closed most of the gap on crossings, from 0.210 to 0.043 (Bach: 0.040); voices" in said
    assert "Farther from Bach: chordal, from 0.500 to 0.450 (Bach: 0.500)." in said
    level = said.splitlines()[-1]
    assert level.startswith("About as near with either generator: ") and "parallels" in level
    assert "crossings" not in level and "chordal" not in level


def test_the_ablation_sentence_leaves_out_what_was_not_counted():
    rows = _ablation_rows()
    for row in rows.values():
        row["tonic_ending"] = math.nan  # no melody ended on its tonic
    said = ablation_sentence(rows)
    assert "Of the 19 other rows" in said and "tonic_ending" not in said


def test_lab_3_prints_the_readings_under_its_tables():
    code = _code("03_gan_results")
    (ablation,) = [c for c in code if "ablation_table(" in c]
    assert "print(ablation_sentence(rows" in ablation
    (logged,) = [c for c in code if "plot_figures_vs_bach(" in c]
    assert "log_against_now(log" in logged and "sample_melodies(dataset)" in logged


# --- Lab 3: a log's figures against the model as it runs today ----------------------------------

REFERENCE = {"parallels": (0.68, 1.02), "voices": (3.92, 0.05), "in_key": (0.96, 0.04)}


def test_a_log_written_with_another_decoder_is_said_to_differ():
    log = {"iteration": np.array([100.0, 3700.0]), "parallels": np.array([0.3, 1.05]),
           "voices": np.array([3.9, 3.93]), "distance": np.array([1.3, 0.85])}
    now = [{"parallels": 0.0, "voices": 3.925, "in_key": 0.9}, {"parallels": 0.0, "voices": 3.93, "in_key": 0.9}]
    said = log_against_now(log, now, REFERENCE)
    assert said.startswith("The log at iteration 3700 against the same generator on the same 2 validation melodies "
                           "today (logged -> today): parallels 1.05 -> 0.00, voices 3.93 -> 3.93.")
    assert "They differ on parallels (by more than a quarter of Bach's spread)" in said and "in key" not in said


def test_a_log_of_todays_harmonizer_is_said_to_agree():
    log = {"iteration": np.array([2.0, 4.0]), "parallels": np.array([0.1, 0.0]), "voices": np.array([3.8, 3.84]),
           "in_key": np.array([0.9, 0.96])}
    now = [{"parallels": 0.0, "voices": 3.84, "in_key": 0.955}, {"parallels": math.nan, "voices": 3.84, "in_key": 0.965}]
    said = log_against_now(log, now, REFERENCE)
    assert "parallels 0.00 -> 0.00" in said and said.endswith("They agree: the log measured the harmonizer you hear "
                                                              "in this lab.")


# --- Lab 2: the curve of the goal line is named for a beginner ----------------------------------

def test_the_goal_lines_plot_names_the_composer_and_lab_2_says_who_that_is():
    from lab_utils.plots import CURVE_TITLES
    from lab_utils.runs import CURVE_WORDS

    assert "composer" in CURVE_TITLES["told_apart"] and "style" not in CURVE_TITLES["told_apart"]
    assert "composer" in CURVE_WORDS["told_apart"] and "style" not in CURVE_WORDS["distance"]
    train = next(c for c in _markdown("02_gan_training") if "**The goal line" in c)
    assert f"*{CURVE_TITLES['told_apart']}*" in train and "the composer is Bach here" in train
