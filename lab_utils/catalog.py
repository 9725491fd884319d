"""Every style by name: Bach's chorales (the default, rebuilt from the corpus when stale) and
each style built since, from a folder or music21's corpus."""

from __future__ import annotations

import json

from .chorales import load_dataset
from .files import complete_folder
from .pieces import PieceDataset, read_cache
from .styles import StyleError, style_folder, style_names

__all__ = ["load_style"]


def load_style(name: str) -> PieceDataset:
    """A built style (``bach``: the chorales). Raises StyleError with what to do if there is none."""
    if name == "bach":
        return load_dataset(progress=False)
    folder = complete_folder(style_folder(name))
    try:
        return read_cache(folder)
    except FileNotFoundError:
        raise StyleError(f"no style {name!r} built yet (python -m lab_utils dataset build DIR --name {name}; "
                         f"built: {', '.join(style_names()) or 'none'})") from None
    except (ValueError, OSError, KeyError, json.JSONDecodeError) as exc:
        raise StyleError(f"style {name!r} in {folder} is damaged ({exc}); build it again") from None
