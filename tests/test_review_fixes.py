"""Defects a review found, each pinned by a test that failed before its fix: a style's build
never replaces another source's style (a shipped one never), the track's JSON records its models
without this machine's paths, evaluating a style without test pieces is one line, a checkout
without Bach's report still imports and judges, and two pieces of one name are written as two files.

Styles go to a temporary folder (``LAB_STYLES_DIR``, ``style_home``), never to the repository's data/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, band_folder, run_cli
from lab_utils.midi import write_midi
from lab_utils.samples import melody_roll, random_band_piece


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_error(result: subprocess.CompletedProcess) -> str:
    """Exit code 2, nothing on stdout, one ``error:`` line on stderr; that line."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    return result.stderr.strip()


def _build(folder: Path | str, name: str, home: Path, *extra: str, cwd: Path | None = None):
    return run_cli("dataset", "build", str(folder), "--name", name, "--jobs", "1", *extra, cwd=cwd,
                   env={"LAB_STYLES_DIR": str(home)})


# --- 1. dataset build never replaces a style built from another source ----------------------------

def test_build_never_replaces_a_shipped_style_from_another_source(tmp_path):
    home = tmp_path / "styles"
    shutil.copytree(REPO / "data" / "palestrina", home / "palestrina")  # the shipped style, as committed
    before = _files(home)
    music = band_folder(tmp_path / "band", 3)
    for extra in ((), ("--force",)):
        line = _one_error(_build(music, "palestrina", home, *extra))
        assert "shipped" in line and "--name" in line and "palestrina in music21's corpus" in line, line
        assert _files(home) == before  # nothing written: not the style, not the read cache
        assert sorted(p.name for p in home.iterdir()) == ["palestrina"]


def test_build_rebuilds_from_its_own_folder_and_replaces_another_only_with_force(tmp_path):
    home = tmp_path / "styles"
    first, other = band_folder(tmp_path / "first", 3), band_folder(tmp_path / "other", 2)
    assert _build(first, "mine", home).returncode == 0
    built = _files(home / "mine")
    line = _one_error(_build(other, "mine", home))
    assert str(first) in line and str(other) in line and "--name" in line and "--force" in line, line
    assert _files(home / "mine") == built
    write_midi(random_band_piece(7), first / "song07.mid")  # a learner adds a file and builds again,
    again = _build("first/", "mine", home, "--json", cwd=tmp_path)  # the folder written another way
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["used"] == 4
    forced = _build(other, "mine", home, "--json", "--force")
    assert forced.returncode == 0, forced.stderr
    report = json.loads(forced.stdout)
    assert report["source"] == str(other) and report["used"] == 2


def test_a_shipped_style_rebuilds_from_its_own_corpus_and_an_unknown_folder_needs_force(style_home):
    from lab_utils.styles import StyleError, check_replace, corpus_description, folder_description

    shutil.copytree(REPO / "data" / "palestrina", style_home / "palestrina")
    check_replace("palestrina", corpus_description("Palestrina"))  # its own source: no error
    with pytest.raises(StyleError, match="shipped"):
        check_replace("palestrina", corpus_description("bach"), force=True)
    (style_home / "notes").mkdir()  # a folder without a report: whose it is, is unknown
    with pytest.raises(StyleError, match="unknown source.*--force"):
        check_replace("notes", folder_description(style_home))
    check_replace("notes", folder_description(style_home), force=True)


# --- 2. the track's JSON names its models the same on every machine --------------------------------

@pytest.mark.slow
def test_compose_json_records_models_without_this_machines_path(tmp_path):
    own = shutil.copytree(REPO / "models" / "gan-palestrina", tmp_path / "my-gan")  # a model outside the repository
    runs = {"default": ([], "models/gan"), "style": (["--style", "palestrina"], "models/gan-palestrina"),
            "style again": (["--style", "palestrina"], "models/gan-palestrina"), "own": (["--gan", str(own)], "my-gan")}
    written = {}
    for name, (extra, gan) in runs.items():
        result = run_cli("compose", "--seconds", "30", "-o", str(tmp_path / name), *extra)
        assert result.returncode == 0, result.stderr
        written[name] = (tmp_path / name / "twinkle-seed0.json").read_text()
        assert json.loads(written[name])["models"] == {"gan": gan, "arcnn": "models/arcnn",
                                                       "transformer": "models/transformer"}
        assert str(REPO) not in written[name] and str(tmp_path) not in written[name]
    assert written["style"] == written["style again"]  # the same seed, the same bytes
    (tmp_path / "tunes").mkdir()
    tune = write_midi(melody_roll("twinkle"), tmp_path / "tunes" / "my tune.mid")
    result = run_cli("compose", "--seconds", "30", "--melody", str(tune.resolve()), "-o", str(tmp_path / "file"))
    assert result.returncode == 0, result.stderr
    shown = next((tmp_path / "file").glob("*.json")).read_text()
    assert json.loads(shown)["melody"] == "my tune.mid" and str(tmp_path) not in shown  # a file: its name only
    descriptions = {name: json.loads(text)["description"] for name, text in written.items()}
    assert "A GAN trained on Bach's chorales harmonized" in descriptions["default"]
    assert "A GAN trained on the palestrina style's pieces harmonized" in descriptions["style"]
    assert "Bach's chorales" not in descriptions["style"]


# --- 3. evaluate on a style without test pieces -----------------------------------------------------

def test_evaluate_a_style_without_test_pieces_is_one_line(tmp_path):
    home = tmp_path / "styles"
    built = _build(band_folder(tmp_path / "band", 4), "mine", home, "--json")
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["pieces"] == {"train": 3, "valid": 1, "test": 0}
    result = run_cli("evaluate", "--data", "mine", "--json", str(tmp_path / "figures.json"),
                     env={"LAB_STYLES_DIR": str(home)})
    line = _one_error(result)
    assert "'mine' has no test pieces" in line and "4 piece(s): 3 train, 1 valid, 0 test" in line, line
    assert not (tmp_path / "figures.json").exists()


# --- 4. a checkout without data/bach/report.json ----------------------------------------------------

def test_a_checkout_without_bachs_report_imports_and_computes_the_reference(tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO / "lab_utils", checkout / "lab_utils", ignore=shutil.ignore_patterns("__pycache__"))
    (checkout / "data" / "bach").mkdir(parents=True)
    for name in ("chorales.npz", "manifest.json"):  # the cache without its report
        shutil.copy(REPO / "data" / "bach" / name, checkout / "data" / "bach" / name)
    before = _files(checkout / "data")
    env = dict(os.environ, PYTHONPATH=str(checkout))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=tmp_path, env=env,
                              timeout=300)

    shown = run("-m", "lab_utils", "dataset", "--json")
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    assert json.loads(shown.stdout)["counts"]["test"] == 40
    reference = run("-c", "import json, lab_utils; from lab_utils.chorales import bach_reference; "
                          "print(json.dumps([lab_utils.__file__, bach_reference()]))")
    assert reference.returncode == 0, reference.stderr
    assert "report.json is missing" in reference.stderr
    module, computed = json.loads(reference.stdout)
    assert Path(module).is_relative_to(checkout)
    assert computed == json.loads((REPO / "data" / "bach" / "report.json").read_text())["reference"]
    assert _files(checkout / "data") == before


# --- also: two pieces whose ids give one file name ----------------------------------------------

def test_write_pieces_gives_two_pieces_of_one_name_two_files(style_home, tmp_path):
    from lab_utils.styles import build_style, folder_sources, write_pieces

    music = tmp_path / "music"
    for seed, sub in enumerate(("a", "b")):
        (music / sub).mkdir(parents=True)
        write_midi(random_band_piece(seed), music / sub / "song.mid")
    dataset, _ = build_style("two", folder_sources(music), jobs=1, progress=False)
    assert sorted(c.id for c in dataset.pieces) == ["a/song.mid", "b/song.mid"]
    written = write_pieces(dataset, tmp_path / "out")
    assert [p.name for p in written] == ["song.mid", "song-2.mid"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["song-2.mid", "song.mid"]
    assert written[0].read_bytes() != written[1].read_bytes()  # the first piece was not overwritten
