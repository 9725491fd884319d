"""A notebook opened alone (as "Open in Colab" opens it) fetches the workshop and runs.

Also: the repository's address lives in pyproject.toml's [project.urls]; the notebooks' first
cell (which must work before anything is there to read it from) carries the same address.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
REPO_URL = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]["Repository"]


def first_code_cell(path: Path) -> str:
    return next(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


def test_every_notebook_starts_with_the_same_setup_cell_and_the_one_address():
    cells = {path.name: first_code_cell(path) for path in NOTEBOOKS}
    assert len(set(cells.values())) == 1, "the notebooks' first cells differ"
    cell = next(iter(cells.values()))
    assert f'"LAB_REPO_URL", "{REPO_URL}"' in cell, f"the first cell's address is not pyproject.toml's {REPO_URL}"
    assert "install_requirements.py" in cell


def _origin(tmp_path: Path) -> Path:
    """A git repository of the workshop as it is on disk (committed or not), to clone from."""
    origin = tmp_path / "workshop"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True)
    if listed.returncode == 0:
        for name in filter(None, listed.stdout.decode().split("\0")):
            source = REPO / name
            if source.is_file():  # not a file deleted in the working tree
                (origin / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, origin / name)
    else:  # not a git checkout (an unpacked archive): everything but what the workshop makes
        shutil.copytree(REPO, origin, ignore=shutil.ignore_patterns(
            ".git", ".venv", "out", "runs", "__pycache__", ".pytest_cache", ".hypothesis"))
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "the workshop as on disk"]):
        subprocess.run(git + args, cwd=origin, check=True)
    return origin


def test_notebook_01_alone_in_an_empty_folder_fetches_the_workshop_and_runs(tmp_path, monkeypatch):
    if shutil.which("git") is None:
        pytest.skip("no git: the first cell fetches the workshop with git clone")
    origin = _origin(tmp_path)
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(REPO / "notebooks" / "01_data.ipynb", alone)
    monkeypatch.setenv("LAB_QUICK", "1")
    monkeypatch.setenv("LAB_REPO_URL", origin.as_uri())  # file:///.../workshop
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(alone / "01_data.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import lab_utils; print(lab_utils.__file__)"))
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(alone)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    clone = alone / "workshop"
    assert (clone / ".git").is_dir() and (clone / "lab_utils").is_dir(), os.listdir(alone)
    assert nb.cells[-1].outputs[0]["text"].strip() == str(clone / "lab_utils" / "__init__.py")
    assert (clone / "out" / "lab1").is_dir()  # the notebook worked in the fetched workshop
