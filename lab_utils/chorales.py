"""Bach's chorales, the default style: one source of the style machinery in ``styles``.

Riemenschneider's 371 chorales from music21's bundled corpus (nothing is downloaded), read,
given their soprano, alto, tenor and bass, split per tune and cached in ``data/bach`` by
``styles.build_style``, the path every style takes. A damaged or stale cache is rebuilt.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from .metrics import FigureReference
from .pieces import DATA_DIR, PieceDataset, read_cache
from .styles import BACH_METER, build_style, corpus_sources, read_reference

__all__ = ["DEFAULT_CACHE", "load_dataset", "bach_reference"]

DEFAULT_CACHE = DATA_DIR / "bach"


def load_dataset(
    cache_dir: str | os.PathLike = DEFAULT_CACHE,
    rebuild: bool = False,
    limit: int | None = None,
    progress: bool = True,
) -> PieceDataset:
    """The chorale dataset: from the cache when it is sound, else built (through ``styles``,
    the path every style takes) and cached anew. ``limit`` keeps the first chorales (tests)."""
    cache_dir = Path(cache_dir)
    if not rebuild:
        try:
            return read_cache(cache_dir)
        except FileNotFoundError:
            pass
        except (ValueError, OSError, KeyError, json.JSONDecodeError) as exc:
            print(f"dataset cache in {cache_dir} is unusable ({exc}); rebuilding it")
    sources = corpus_sources("bach")[:limit]
    return build_style("bach", sources, cache_dir, meter=BACH_METER, progress=progress,
                       source_description="Riemenschneider's chorales in music21's corpus", corpus_relative=True,
                       reread=rebuild)[0]


@lru_cache(maxsize=1)
def bach_reference() -> FigureReference:
    """Bach's mean and spread of each figure over the 40 chorales of the test split, as the dataset
    build stored them in data/bach/report.json (``styles.read_reference``; computed from the test
    split where that file is missing or damaged, and a warning says so)."""
    return read_reference(DEFAULT_CACHE, lambda: load_dataset(progress=False))
