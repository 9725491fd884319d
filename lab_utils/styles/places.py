"""Where styles live, what a style folder holds, and whose music a style was built from."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..files import MODELS_DIR, REPOSITORY, complete_folder, in_repository
from ..pieces import DATA_DIR

__all__ = ["StyleError", "STYLES_DIR", "READ_CACHE", "REPORT_FILE", "REPORT_PICTURE", "style_folder", "style_names",
           "parts_folder", "corpus_description", "folder_description", "shipped_styles", "model_for_style",
           "check_replace"]

# data/NAME holds a style's dataset (data/bach the chorales); LAB_STYLES_DIR puts other styles elsewhere
STYLES_DIR = Path(os.environ.get("LAB_STYLES_DIR") or DATA_DIR)
READ_CACHE = STYLES_DIR / ".read"  # every file's reading, by content hash: a second build is instant
REPORT_FILE = "report.json"
IN_CORPUS = " in music21's corpus"  # ends the source a style built from the corpus records
REPORT_PICTURE = "report.png"


class StyleError(ValueError):
    """Nothing usable to build from; ``str(error)`` is the one line for the user."""


def style_folder(name: str) -> Path:
    """Where a style called ``name`` is cached (``bach``: the chorales)."""
    if (not name or "/" in name or "\\" in name or name.startswith(".") or len(name) > 64
            or name.endswith((".tmp", ".old", ".parts"))):  # atomic_folder's scratch names, split builds
        raise StyleError(f"{name!r} cannot name a style (a plain name of at most 64 characters, not a path, "
                         "not ending in .tmp, .old or .parts)")
    return STYLES_DIR / name


def style_names() -> list[str]:
    """The styles built so far, besides Bach."""
    if not STYLES_DIR.is_dir():
        return []
    return sorted(p.name for p in STYLES_DIR.iterdir() if (p / "manifest.json").is_file())


def parts_folder(name: str) -> Path:
    """Where the parts of a split build of style ``name`` are kept (``data/NAME.parts``)."""
    return style_folder(name).with_name(f"{name}.parts")


def shipped_styles() -> list[str]:
    """The styles with a model in ``models/``: bach (``models/gan``) and each ``models/gan-NAME``."""
    return ["bach", *sorted(p.name.removeprefix("gan-") for p in MODELS_DIR.glob("gan-*")
                            if (p / "config.json").is_file())]


def corpus_description(composer: str) -> str:
    """The source a style built from music21's corpus records (``report.json``'s ``source``)."""
    return f"{composer.lower()}{IN_CORPUS}"


def folder_description(folder: str | os.PathLike) -> str:
    """The source a style built from a folder records: relative to the repository where the folder
    is in it (as notebook 08 records it), else absolute, so that any working folder finds it again."""
    return in_repository(folder) or str(Path(folder).resolve())


def _same_source(recorded: str, source: str) -> bool:
    """Whether two recorded sources are one: the same composer, or the same folder however it was written."""
    if recorded.endswith(IN_CORPUS) or source.endswith(IN_CORPUS):
        return recorded.lower() == source.lower()
    return (REPOSITORY / recorded).resolve() == (REPOSITORY / source).resolve()


def check_replace(name: str, source: str, force: bool = False) -> None:
    """Raise StyleError, saying what to do, where building style ``name`` from ``source`` (a
    ``folder_description`` or ``corpus_description``) would replace a style built from another
    source: a shipped style always (its model was trained on its own source), any other unless
    ``force``. A style is rebuilt from its own source freely (a learner adds files)."""
    folder = complete_folder(style_folder(name))
    if not folder.exists():
        return
    try:
        recorded = str(json.loads((folder / REPORT_FILE).read_text())["source"])
    except (OSError, ValueError, KeyError, TypeError):  # no readable report: it may be anybody's work
        recorded = None
    if recorded is not None and _same_source(recorded, source):
        return
    recorded = recorded or "an unknown source"
    if name in shipped_styles():
        raise StyleError(f"{name!r} is a shipped style (built from {recorded}, its model in models/): it is "
                         f"rebuilt only from that source, --force or not; choose another --name for {source}")
    if not force:
        raise StyleError(f"style {name!r} in {folder} was built from {recorded}, not {source}: "
                         "choose another --name, or add --force to replace it")


def model_for_style(style: str) -> Path:
    """The GAN of a style: a folder given as a path, ``models/gan`` for bach, else ``models/gan-NAME``."""
    if Path(style).is_dir():
        return Path(style)
    if style == "bach":
        return MODELS_DIR / "gan"
    shipped = MODELS_DIR / f"gan-{style}"
    if shipped.is_dir():
        return shipped
    raise FileNotFoundError(f"no model for style {style!r} (shipped: {', '.join(shipped_styles())}; "
                            f"or give a trained run's folder)")

