"""The files a style is built from: a folder's or a composer's in music21's corpus, each read once.

A file's reading is cached by its content hash (``READ_CACHE``), so a second build reads nothing
and a changed file is read again; a build may be split into parts read on several machines.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..files import atomic_path, file_sha256
from ..music_files import MUSIC_SUFFIXES, ReadPiece, corpus_dir, read_music_file
from . import places
from .places import StyleError, parts_folder

__all__ = ["Source", "folder_sources", "corpus_sources", "read_all", "read_cached", "build_part", "merge_parts"]

READER_VERSION = 1  # raise it when music_files reads differently: every file is read again


@dataclass(frozen=True)
class Source:
    """One file to read: a label for the report, where the file is, and optionally the id and
    number its piece takes (default: the label and its place in the list)."""

    label: str
    path: Path
    id: str | None = None
    number: int | None = None


def folder_sources(folder: str | os.PathLike) -> list[Source]:
    """Every MIDI, MusicXML, kern and ABC file under ``folder``, sorted by their relative path."""
    root = Path(folder)
    if not root.is_dir():
        raise StyleError(f"{root}: no such folder" if not root.exists() else f"{root}: not a folder")
    found = sorted(p for p in root.rglob("*") if p.suffix.lower() in MUSIC_SUFFIXES and p.is_file())
    return [Source(str(p.relative_to(root)), p) for p in found]


def corpus_sources(composer: str) -> list[Source]:
    """A composer's works in music21's bundled corpus; ``bach`` means Riemenschneider's 371
    chorales (numbered, so the dataset and its skipped list keep his order)."""
    if composer.lower() == "bach":
        from music21 import corpus
        from music21.corpus import chorales

        names = list(chorales.Iterator(numberingSystem="riemenschneider", returnType="filename"))
        sources = []
        for number, name in enumerate(names, 1):
            chorale_id = name.split("/")[-1]
            found = corpus.getWork(name)
            candidates = [Path(p) for p in (found if isinstance(found, list) else [found])]
            exact = [p for p in candidates if p.stem == chorale_id]
            sources.append(Source(f"R{number:03d} {chorale_id}", exact[0] if exact else candidates[0],
                                  chorale_id, number))
        return sources
    known = sorted(p.name for p in corpus_dir().iterdir() if p.is_dir() and p.name[0] not in "_.")
    folder = corpus_dir() / composer.lower()
    if composer.lower() not in known:
        raise StyleError(f"no composer {composer!r} in music21's corpus (it has: {', '.join(known)})")
    return folder_sources(folder)


def _cached_read(path: Path, key: str, cache: Path, reread: bool) -> ReadPiece | str:
    """A file's reading from the cache, else read (and cached); a string is why it is unusable."""
    stored = cache / f"{key}.json"
    if not reread:
        try:
            found = json.loads(stored.read_text())
            return found if isinstance(found, str) else ReadPiece.from_json(found)
        except (OSError, ValueError, KeyError, TypeError):
            pass
    result = read_music_file(path)
    cache.mkdir(parents=True, exist_ok=True)
    with atomic_path(stored) as tmp:
        Path(tmp).write_text(json.dumps(result if isinstance(result, str) else result.to_json()))
    return result


def _read_one(job: tuple[str, str, bool]) -> tuple[str, ReadPiece | str]:
    """Worker: (path, cache folder, reread) -> (content key, reading or reason)."""
    path, cache, reread = job
    try:
        key = f"{file_sha256(path)}-{READER_VERSION}"
    except OSError as exc:
        return "", f"unreadable: {exc.strerror or type(exc).__name__}"
    return key, _cached_read(Path(path), key, Path(cache), reread)


class NotebookLine:
    """Where a text progress bar writes in a notebook: one output, replaced by each new state, so
    that a notebook saved after running keeps the bar's last state (a widget bar keeps its first)."""

    encoding = "utf-8"  # tqdm draws its blocks, not #s

    def __init__(self) -> None:
        self.handle = None

    def write(self, text: str) -> None:
        from IPython.display import Pretty, display  # only in a notebook

        line = text.replace("\r", "").strip()
        if not line:
            return
        if self.handle is None:
            self.handle = display(Pretty(line), display_id=True)
        else:
            self.handle.update(Pretty(line))

    def flush(self) -> None:
        pass


def _bar_file() -> NotebookLine | None:
    """A ``NotebookLine`` in a notebook's kernel, else None (tqdm's own: the terminal's stderr)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return NotebookLine() if type(shell).__name__ == "ZMQInteractiveShell" else None


def read_all(sources: list[Source], jobs: int | None = None, progress: bool = True,
             reread: bool = False) -> Iterator[tuple[str, ReadPiece | str]]:
    """(content key, reading or reason) for every source, in order, one at a time, read on
    ``jobs`` processes (default: every core); ``reread`` ignores the cache of earlier readings.
    ``progress`` shows a bar (on stderr in a terminal, one line in a notebook) that counts each
    file as it is handed on, so that it reaches 100 % with the last even where the caller then
    stops asking (``zip`` with the sources does)."""
    from tqdm import tqdm

    work = [(str(s.path), str(places.READ_CACHE), reread) for s in sources]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(work) or 1))
    bar = tqdm(total=len(work), desc="reading", unit="file", disable=not progress, file=_bar_file())
    with bar, (ProcessPoolExecutor(jobs) if jobs > 1 else nullcontext()) as pool:
        results = pool.map(_read_one, work, chunksize=8) if pool else map(_read_one, work)
        for result in results:
            bar.update()
            yield result


def read_cached(key: str) -> ReadPiece:
    """A reading ``read_all`` has just cached (read again so that no build holds every file's)."""
    return ReadPiece.from_json(json.loads((places.READ_CACHE / f"{key}.json").read_text()))


def _list_hash(sources: list[Source]) -> str:
    return hashlib.sha256("\n".join(s.label for s in sources).encode()).hexdigest()


def build_part(name: str, sources: list[Source], part: tuple[int, int], jobs: int | None = None,
               progress: bool = True) -> Path:
    """Read part ``i`` of ``n`` of ``sources`` (every n-th file from the i-th: a job of its own,
    on any machine) into ``data/NAME.parts``: its files' readings and a manifest of them.
    Copying every machine's ``NAME.parts`` into one lets ``build_style`` merge them without
    reading a file again. Returns the part's manifest."""
    index, count = part
    if not 1 <= index <= count:
        raise StyleError(f"--part {index}/{count}: the part must be between 1 and {count}")
    if not sources:
        raise StyleError(f"{name}: no MIDI, MusicXML, kern or ABC files found")
    mine = sources[index - 1 :: count]
    folder = parts_folder(name)
    (folder / "readings").mkdir(parents=True, exist_ok=True)
    files = {}
    for source, (key, reading) in zip(mine, read_all(mine, jobs, progress)):
        files[source.label] = key or reading  # an unreadable file has no key: its reason
        if key:
            with atomic_path(folder / "readings" / f"{key}.json") as tmp:
                Path(tmp).write_bytes((places.READ_CACHE / f"{key}.json").read_bytes())
    manifest = folder / f"part-{index}-of-{count}.json"
    with atomic_path(manifest) as tmp:
        Path(tmp).write_text(json.dumps({"part": index, "of": count, "sources": len(sources),
                                         "list_hash": _list_hash(sources), "files": files}, indent=1))
    return manifest


def merge_parts(name: str, sources: list[Source]) -> bool:
    """Bring a split build's readings into the read cache; False if there are no parts. Raises
    StyleError naming the parts still missing, or parts read from another list of files."""
    folder = parts_folder(name)
    manifests = [json.loads(p.read_text()) for p in sorted(folder.glob("part-*-of-*.json"))]
    if not manifests:
        return False
    counts = {m["of"] for m in manifests}
    if len(counts) > 1 or any(m["list_hash"] != _list_hash(sources) for m in manifests):
        raise StyleError(f"{folder} holds parts of another split or another list of files "
                         f"({len(sources)} files now): build the parts again, or remove {folder}")
    count = counts.pop()
    missing = sorted(set(range(1, count + 1)) - {m["part"] for m in manifests})
    if missing:
        raise StyleError(f"parts {', '.join(f'{i}/{count}' for i in missing)} of {name!r} are not built yet "
                         f"(run dataset build ... --part I/{count} for each, then copy their {folder.name} here)")
    places.READ_CACHE.mkdir(parents=True, exist_ok=True)
    for reading in (folder / "readings").glob("*.json"):
        if not (places.READ_CACHE / reading.name).exists():
            with atomic_path(places.READ_CACHE / reading.name) as tmp:
                Path(tmp).write_bytes(reading.read_bytes())
    return True


