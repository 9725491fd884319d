#!/usr/bin/env python3
"""Install what the workshop needs and this Python lacks; keep what it already has.

`make setup` runs it, and so does every notebook's first cell (with ``--notebook``), on a
laptop, in Colab or on SageMaker:

- A requirement that is already met (name and version range) is left alone. TensorFlow, Keras
  and numpy, once installed in range, are never reinstalled, upgraded or replaced: pip gets
  them as constraints, so nothing it installs can move them. A runtime's TensorFlow outside our
  range is kept too (with a warning): it may be a GPU build we must not overwrite.
- TensorFlow is met by ``tensorflow`` or ``tensorflow-cpu`` (requirements.txt asks for the
  smaller ``tensorflow-cpu`` on Linux x86-64; Colab's ``tensorflow`` is just as good).
- On Linux with an NVIDIA driver (``nvidia-smi`` answers) and no TensorFlow yet, TensorFlow
  comes as ``tensorflow[and-cuda]``, so training runs on the GPU.
- Without ``--notebook`` it also installs requirements-dev.txt (JupyterLab, pytest, ...); a
  notebook already runs in a kernel and needs none of them.
- tinysoundfont is installed with --no-deps: it declares pyaudio (live playback, which we never
  use and which needs portaudio to build).

It needs only the standard library and pip (for ``packaging``), so it runs before anything else
is installed.

    python install_requirements.py [--notebook] [--list] [--dry-run --report FILE]
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    from packaging.requirements import Requirement
except ImportError:  # a bare Python: pip carries its own copy
    from pip._vendor.packaging.requirements import Requirement

REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"
DEV_REQUIREMENTS = REQUIREMENTS.with_name("requirements-dev.txt")
NO_DEPS = ("tinysoundfont>=0.3.6,<0.4",)
TENSORFLOW = ("tensorflow", "tensorflow-cpu")  # either one meets a TensorFlow requirement
KEEP = ("tensorflow", "tensorflow-cpu", "keras", "numpy")  # never moved once installed in range


def installed(name: str) -> str | None:
    """The installed version of distribution ``name``, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def read_requirements(path: Path = REQUIREMENTS) -> list[Requirement]:
    """The requirements of one file that apply to this platform."""
    chosen = []
    for line in path.read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if not spec or spec.startswith("-"):
            continue
        requirement = Requirement(spec)
        if requirement.marker is None or requirement.marker.evaluate():
            chosen.append(requirement)
    return chosen


def nvidia_driver() -> bool:
    """Linux with an NVIDIA driver that answers ``nvidia-smi -L``."""
    smi = shutil.which("nvidia-smi")
    if not sys.platform.startswith("linux") or smi is None:
        return False
    return subprocess.run([smi, "-L"], capture_output=True).returncode == 0


def found(req: Requirement) -> list[tuple[str, str]]:
    """The installed distributions (name, version) that could meet ``req``, in range or not."""
    names = TENSORFLOW if req.name in TENSORFLOW else (req.name,)
    versions = [(name, installed(name)) for name in names]
    return [(name, version) for name, version in versions if version]


def in_range(req: Requirement) -> list[tuple[str, str]]:
    """The installed distributions that meet ``req``."""
    return [(n, v) for n, v in found(req) if req.specifier.contains(v, prereleases=True)]


def plan(requirements: list[Requirement]) -> tuple[list[str], list[str]]:
    """What to install (requirement strings) and what to pin (``name==version`` constraints)."""
    install, pins = [], []
    for req in requirements:
        present, met = found(req), in_range(req)
        if met:
            pins += [f"{n}=={v}" for n, v in met if n in KEEP]
        elif present and req.name in TENSORFLOW:
            name, version = present[0]
            print(f"keeping this runtime's {name} {version} (the workshop is tested with {req.specifier})")
            pins.append(f"{name}=={version}")
        elif req.name in TENSORFLOW and nvidia_driver():
            install.append(f"tensorflow[and-cuda]{req.specifier}")
        else:
            extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
            install.append(f"{req.name}{extras}{req.specifier}")  # the marker is already evaluated
    return install, pins


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", action="store_true", help="skip requirements-dev.txt")
    parser.add_argument("--list", action="store_true", help="print what would be installed, install nothing")
    parser.add_argument("--dry-run", action="store_true", help="pip install --dry-run")
    parser.add_argument("--report", help="with --dry-run: where pip writes its JSON report")
    args = parser.parse_args(argv)

    wanted = read_requirements() + ([] if args.notebook else read_requirements(DEV_REQUIREMENTS))
    install, pins = plan(wanted)
    no_deps = [spec for spec in NO_DEPS if not in_range(Requirement(spec))]
    if args.list:
        for line in install + [f"{spec} --no-deps" for spec in no_deps]:
            print(line)
        return 0
    if not install and not no_deps:
        return 0
    pip = [sys.executable, "-m", "pip", "install", "--quiet"] + (["--dry-run"] if args.dry_run else [])
    print("would install:" if args.dry_run else "installing:", *install, *no_deps, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "keep.txt"
        constraints.write_text("\n".join(pins) + "\n")
        if install:
            report = ["--report", args.report] if args.dry_run and args.report else []
            subprocess.run(pip + report + ["-c", str(constraints), *install], check=True)
        if no_deps:
            subprocess.run(pip + ["--no-deps", *no_deps], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
