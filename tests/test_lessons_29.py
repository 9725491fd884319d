"""Issue 29's lessons, read from the committed notebooks (nothing is executed): the instructor's
guide is linked from the first cell, the words a beginner does not know are explained where they
are first used, and the model a training lab chose is the one the labs after it use."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from conftest import REPO

NOTEBOOKS = REPO / "notebooks"
GUIDED = ["02_gan_training", "03_gan_results", "04_arcnn_training", "07_challenge", "09_transformer"]

# A word (as a pattern) and what its explanation says, in the same cell as its first use.
EXPLAINED = {
    r"suspension": r"holds? its note|holding its note",
    r"leading.tones?": r"semitone below",
    r"root.position": r"named after",
    r"WGAN-GP": r"gradient penalty",
    r"U-Net": r"shrinks",
    r"\bL1\b": r"adds? up|added up",
    r"\bcritic\b": r"critic\W* (scores|looks at)",
    r"\bbars?\b": r"\bmeasure\b",
    r"\bdominant\b": r"5th note",
}


def _cells(name: str) -> list[nbformat.NotebookNode]:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4).cells


@pytest.mark.parametrize("name", GUIDED)
def test_the_first_cell_links_the_instructors_guide(name):
    first = _cells(name)[0]
    assert first.cell_type == "markdown" and "](../docs/INSTRUCTOR.md)" in first.source


@pytest.mark.parametrize("name", GUIDED)
def test_words_are_explained_where_they_are_first_used(name):
    cells = _cells(name)
    unexplained = []
    for word, explanation in EXPLAINED.items():
        first = next((c for c in cells if re.search(word, c.source)), None)
        if first is not None and not (first.cell_type == "markdown" and re.search(explanation, first.source)):
            unexplained.append(word)
    assert not unexplained, f"{name}: explain {unexplained} where first used"


TRAINING = {"02_gan_training": "gan-workshop", "04_arcnn_training": "arcnn-workshop",
            "09_transformer": "transformer-workshop"}


@pytest.mark.parametrize("name, run", TRAINING.items())
def test_a_training_lab_keeps_its_choice_for_the_labs_after_it(name, run):
    """The training cell trains quick runs apart (runs/quick/), records USE_SHIPPED before it
    decides, and no other cell reads USE_SHIPPED: the rest of the lab asks ``finished_run``, as
    the labs after it do."""
    code = [c.source for c in _cells(name) if c.cell_type == "code"]
    (training,) = [source for source in code if "USE_SHIPPED = False" in source]
    assert f'RUN = training_folder(ROOT, "{run}", QUICK)' in training
    assert training.index("choose_run(RUN, USE_SHIPPED)") < training.index("finished_run(RUN)")
    assert [source for source in code if _reads(source, "USE_SHIPPED")] == [training]


def _reads(source: str, name: str) -> bool:
    """Whether a code cell's Python (IPython's % lines left out) reads the variable ``name``."""
    tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%")))
    return any(isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)
               for node in ast.walk(tree))


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_later_labs_read_a_learners_run_only_through_finished_run(path):
    """Every line that names a workshop run folder asks ``finished_run`` (which honours the
    training lab's choice) or is the training lab's own ``training_folder``."""
    lines = [line for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"
             for line in cell.source.splitlines() if re.search(r'-workshop"', line)]
    assert all("finished_run(" in line or "training_folder(" in line for line in lines), lines
