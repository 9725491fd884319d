"""The one place benchmark figures live: each benchmark records its figures in
``benchmarks/results.json`` under its own name; the README and the model cards quote them from
there, and ``tests/test_docs.py`` fails when a quote and the file disagree."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


def load() -> dict[str, dict]:
    """Every benchmark's last recorded figures (empty where none ran yet)."""
    return json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}


def record(benchmark: str, figures: dict[str, float]) -> None:
    """Keep ``figures`` as ``benchmark``'s latest, with when and where they were measured."""
    import os

    results = load()
    results[benchmark] = {"measured": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores, {platform.machine()}",
                          **{name: round(float(value), 3) for name, value in figures.items()}}
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
