"""What gets installed where: environment.yml, a hosted runtime's own packages, the GPU.

- environment.yml (conda, SageMaker Studio Lab) asks for everything requirements.txt and
  requirements-dev.txt do; the package's own metadata (pyproject.toml) reads the same two files;
- on a runtime that already has TensorFlow, Keras and numpy (Colab has `tensorflow`, not
  `tensorflow-cpu`), install_requirements.py, the notebooks' setup step, would not reinstall,
  upgrade or replace them (pip's own dry-run report says so);
- with an NVIDIA driver and no TensorFlow yet, it asks for `tensorflow[and-cuda]`.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
INSTALL = REPO / "install_requirements.py"
CONDA_NAMES = {"soundfile": "pysoundfile"}  # conda-forge's name where it differs from PyPI's
KEPT = {"tensorflow", "tensorflow-cpu", "keras", "numpy"}


def requirements(name: str = "requirements.txt") -> list[Requirement]:
    lines = (REPO / name).read_text().splitlines()
    return [Requirement(line.split("#", 1)[0]) for line in lines if line.split("#", 1)[0].strip()]


def test_environment_yml_asks_for_everything_requirements_txt_does():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    specs = [d for d in env["dependencies"] if isinstance(d, str) and d != "pip"]
    specs += next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {(canonicalize_name(r.name), str(r.marker)): r for r in map(Requirement, specs)}
    for req in requirements() + requirements("requirements-dev.txt"):
        keys = {(canonicalize_name(name), str(req.marker)) for name in (req.name, CONDA_NAMES.get(req.name, req.name))}
        found = [listed[key] for key in keys if key in listed]
        assert found, f"environment.yml lacks {req}"
        assert found[0].specifier == req.specifier, f"environment.yml: {found[0]} but requirements.txt: {req}"


@pytest.fixture
def runtime(tmp_path):
    """A Python like Colab's: this venv's packages, but TensorFlow installed as `tensorflow`
    (not `tensorflow-cpu`) and mido missing, so the setup step has something to install."""
    site = Path(sysconfig.get_paths()["purelib"])
    shown = tmp_path / "site-packages"
    shown.mkdir()
    hidden = ("tensorflow_cpu-", "mido")
    for entry in site.iterdir():
        if not entry.name.lower().startswith(hidden) and not entry.name.endswith(".pth"):
            (shown / entry.name).symlink_to(entry)
    version = metadata.version("tensorflow-cpu")
    info = shown / f"tensorflow-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tensorflow\nVersion: {version}\n")
    (info / "INSTALLER").write_text("pip\n")
    venv = tmp_path / "runtime"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    venv_site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip()
    Path(venv_site, "runtime.pth").write_text(f"{shown}\n")
    return python


def _installed(python: Path) -> dict[str, str]:
    code = "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    names = json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)
    return {canonicalize_name(k): v for k, v in names.items()}


def test_the_setup_step_keeps_a_runtimes_tensorflow_keras_and_numpy(runtime, tmp_path):
    have = _installed(runtime)
    assert "tensorflow" in have and "tensorflow-cpu" not in have and "mido" not in have
    # what plain `pip install -r requirements.txt` would do there: put tensorflow-cpu over tensorflow
    naive = tmp_path / "naive.json"
    subprocess.run([runtime, "-m", "pip", "install", "--quiet", "--dry-run", "--report", naive, "-r",
                    REPO / "requirements.txt"], check=True)
    assert "tensorflow-cpu" in {canonicalize_name(i["metadata"]["name"]) for i in json.loads(naive.read_text())["install"]}

    report = tmp_path / "report.json"
    done = subprocess.run([runtime, INSTALL, "--notebook", "--dry-run", "--report", report],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    would = {canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"]
             for i in json.loads(report.read_text())["install"]}
    assert "mido" in would, would
    assert not KEPT & set(would), f"would reinstall or replace {KEPT & set(would)}"
    assert all(name not in have for name in would), f"would change installed {set(would) & set(have)}"


def test_the_notebooks_setup_installs_nothing_for_tests_and_lab(runtime):
    listed = subprocess.run([runtime, INSTALL, "--notebook", "--list"], capture_output=True, text=True, check=True)
    assert listed.stdout.split() == ["mido<2,>=1.3"]


def test_with_an_nvidia_driver_tensorflow_comes_with_cuda(runtime, tmp_path):
    shutil.rmtree(tmp_path / "site-packages" / f"tensorflow-{metadata.version('tensorflow-cpu')}.dist-info")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA T4 (UUID: GPU-test)'\n")
    smi.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    listed = subprocess.run([runtime, INSTALL, "--list"], capture_output=True, text=True, check=True, env=env)
    if sys.platform.startswith("linux"):
        assert "tensorflow[and-cuda]<2.22,>=2.17" in listed.stdout.split(), listed.stdout
    without = subprocess.run([runtime, INSTALL, "--list"], capture_output=True, text=True, check=True)
    assert "tensorflow[and-cuda]" not in without.stdout


def test_pyproject_declares_what_requirements_txt_lists():
    """`pip install .` gets the same packages and ranges as `make setup`: requirements.txt as the
    dependencies, requirements-dev.txt as the `dev` extra (the installed package's metadata)."""
    declared = [Requirement(spec) for spec in metadata.requires("lab_utils")]
    runtime = [str(r) for r in declared if r.marker is None or "extra" not in str(r.marker)]
    dev = [r.name + str(r.specifier) for r in declared if r.marker is not None and 'extra == "dev"' in str(r.marker)]
    assert sorted(runtime) == sorted(str(r) for r in requirements())
    assert sorted(dev) == sorted(r.name + str(r.specifier) for r in requirements("requirements-dev.txt"))
