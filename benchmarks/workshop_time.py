"""How long the workshop takes: run notebooks in full mode (no LAB_QUICK) and time each.

    python benchmarks/workshop_time.py                 # all notebooks, real workshop settings
    python benchmarks/workshop_time.py 06 07           # only those whose names start so

Outputs are not written back: the committed notebooks stay without outputs.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def main(prefixes: list[str]) -> None:
    os.environ.pop("LAB_QUICK", None)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = [p for p in sorted(NOTEBOOKS.glob("*.ipynb")) if not prefixes or p.name.startswith(tuple(prefixes))]
    print(f"{'notebook':32s} {'minutes':>8s}", flush=True)
    total = 0.0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=3600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        minutes = (time.perf_counter() - start) / 60
        total += minutes
        print(f"{path.name:32s} {minutes:8.1f}", flush=True)
    print(f"{'total':32s} {total:8.1f}  on {os.cpu_count()} cores")


if __name__ == "__main__":
    main(sys.argv[1:])
