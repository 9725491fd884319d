"""A style's dataset from any folder of music, or a composer in music21's corpus.

One path for every source, Bach's chorales included (``chorales.load_dataset`` builds through
it): find the files, read each once (``music_files``; a content-hash cache makes a second build
instant and re-reads only changed files), on all cores with a progress bar; give every piece
four roles (the melody and three parts under it) by a stated rule, or a mapping file; learn
each role's kind from the data (``voice``: one note at a time, ``chords``: several, ``drums``);
keep the folder's most common meter; split per tune; and write the cache and a report of what
was used, what was skipped and why.

Roles, by layout:

- **voices** (every part sings one note at a time, no drums: chorales, masses, string quartets):
  the four parts named soprano (cantus), alto (altus), tenor and bass (bassus), one each, any
  other parts (a chorale's trumpets) left out; else exactly four parts, top to bottom by their
  average pitch. A piece of five or more voices is skipped with that reason: dropping voices
  from counterpoint leaves holes in its harmony (a mapping file can choose four).
- **band** (drums, chords, or more parts): the melody is the part named melody, lead, vocal,
  voice, soprano, tune, sing or flute, else the highest part on average; the bass is the part of
  General MIDI's bass family (programs 33-40), else the lowest other part; the drums are every
  part on MIDI channel 10, blended; the accompaniment is every other pitched part, blended.
  A folder's layout is the one most of its pieces have; pieces of the other are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Iterator

import numpy as np

from .chorales import (BACH_ROLES, DATA_DIR, GAN_WINDOW_STEPS, SPLITS, VOICES, ChoraleDataset,
                       Roles, dataset_from, split_of, tune_signature, write_cache)
from .files import REPOSITORY, atomic_folder, atomic_path, complete_folder, file_sha256, in_repository, numbered_stems
from .metrics import stored_reference
from .midi import MELODY_NAME_HINTS, MidiPart, Note
from .music_files import MUSIC_SUFFIXES, ReadPiece, corpus_dir, read_music_file
from .shards import SHARDS, write_shards

__all__ = ["StyleError", "Source", "folder_sources", "corpus_sources", "StyleReport", "build_style",
           "load_style", "style_folder", "style_names", "assign_roles", "role_kinds", "STYLES_DIR",
           "MAPPING_FILE", "model_for_style", "shipped_styles", "write_pieces", "read_report", "build_part",
           "parts_folder", "corpus_description", "folder_description", "check_replace"]

# data/NAME holds a style's dataset (data/bach the chorales); LAB_STYLES_DIR puts other styles elsewhere
STYLES_DIR = Path(os.environ.get("LAB_STYLES_DIR") or DATA_DIR)
READ_CACHE = STYLES_DIR / ".read"  # every file's reading, by content hash: a second build is instant
ANY_METER = "any"
BACH_METER = ANY_METER  # the chorales keep their 3/4 beside their 4/4, as they always have
REPORT_FILE = "report.json"
IN_CORPUS = " in music21's corpus"  # ends the source a style built from the corpus records
REPORT_PICTURE = "report.png"
MAPPING_FILE = "roles.json"  # in the music folder: overrides the role rule, per file name pattern
BAND_ROLES = ("Melody", "Accompaniment", "Bass", "Drums")
VOICE_NAMES = {"soprano": 0, "cantus": 0, "superius": 0, "treble": 0, "alto": 1, "altus": 1,
               "contratenor": 1, "tenor": 2, "bass": 3, "bassus": 3, "basso": 3}
BASS_PROGRAMS = range(32, 40)  # General MIDI's bass family (programs 33-40 counted from 1)
POLYPHONIC_SHARE = 0.05  # a part sounding two pitches at once this share of its time is not one voice
CHORDS_SHARE = 0.15  # a role whose notes start together this share of its onsets plays chords
READER_VERSION = 1  # raise it when music_files reads differently: every file is read again
MIN_STEPS = GAN_WINDOW_STEPS  # a piece shorter than one GAN window (2 bars of 4/4) is too short
LAYOUTS = ("voices", "band")


class StyleError(ValueError):
    """Nothing usable to build from; ``str(error)`` is the one line for the user."""


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


# --- reading, with a cache by content ------------------------------------------------------

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


def read_all(sources: list[Source], jobs: int | None = None, progress: bool = True,
             reread: bool = False) -> Iterator[tuple[str, ReadPiece | str]]:
    """(content key, reading or reason) for every source, in order, one at a time, read on
    ``jobs`` processes (default: every core); ``reread`` ignores the cache of earlier readings."""
    from tqdm.auto import tqdm

    work = [(str(s.path), str(READ_CACHE), reread) for s in sources]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(work) or 1))
    bar = dict(total=len(work), desc="reading", unit="file", disable=not progress)
    if jobs == 1:
        yield from tqdm(map(_read_one, work), **bar)
        return
    with ProcessPoolExecutor(jobs) as pool:
        yield from tqdm(pool.map(_read_one, work, chunksize=8), **bar)


def _cached(key: str) -> ReadPiece:
    """A reading ``read_all`` has just cached (read again so that no build holds every file's)."""
    return ReadPiece.from_json(json.loads((READ_CACHE / f"{key}.json").read_text()))


# --- roles ---------------------------------------------------------------------------------

def _mean_pitch(part: MidiPart) -> float:
    return float(np.average([n.pitch for n in part.notes], weights=[n.length for n in part.notes]))


def _polyphony(notes: list[Note]) -> float:
    """Share of a part's sounding steps where it sounds two or more pitches."""
    if not notes:
        return 0.0
    end = max(n.start + n.length for n in notes)
    count = np.zeros(end, np.int32)
    for n in notes:
        count[n.start : n.start + n.length] += 1
    sounding = count > 0
    return float((count >= 2).sum() / max(1, sounding.sum()))


def _singing(parts: list[MidiPart]) -> bool:
    return all(not p.is_drum and _polyphony(p.notes) < POLYPHONIC_SHARE for p in parts)


def layout_of(piece: ReadPiece) -> str:
    """``voices`` where the four named voices, or else all parts, sing one note at a time; else ``band``."""
    named = _named_voices(piece.parts)
    return "voices" if _singing(named or piece.parts) else "band"


def _top_notes(notes: list[Note]) -> list[Note]:
    """One note per onset, the highest: a voice's divisi chord becomes its top note."""
    top: dict[int, Note] = {}
    for n in notes:
        if n.start not in top or n.pitch > top[n.start].pitch:
            top[n.start] = n
    return [top[s] for s in sorted(top)]


def _named_voices(parts: list[MidiPart]) -> list[MidiPart] | None:
    """The parts named soprano, alto, tenor and bass (or cantus, altus, ...), top to bottom, where
    exactly one part carries each name (a chorale's instruments beside them are left out)."""
    by_voice: dict[int, list[MidiPart]] = {}
    for part in parts:
        first = part.name.lower().replace(".", " ").split()[:1]
        if first and first[0] in VOICE_NAMES:
            by_voice.setdefault(VOICE_NAMES[first[0]], []).append(part)
    if sorted(by_voice) == [0, 1, 2, 3] and all(len(found) == 1 for found in by_voice.values()):
        return [by_voice[v][0] for v in range(4)]
    return None


def _blend(parts: list[MidiPart]) -> MidiPart:
    """Several parts as one: every note (a pitch struck twice at once kept once), the program
    of the part with the most notes."""
    notes = sorted({(n.start, n.pitch): n for part in parts for n in part.notes}.values())
    program = max(parts, key=lambda p: len(p.notes)).program if parts else 0
    return MidiPart(" + ".join(p.name for p in parts), program, any(p.is_drum for p in parts), notes)


def _one_line(part: MidiPart) -> MidiPart:
    return part._replace(notes=_top_notes(part.notes))


def _by_mapping(piece: ReadPiece, choice: list) -> list[MidiPart] | str:
    """The four roles a mapping file names: per role a part name or index, a list of them, or null."""
    roles = []
    for entry in choice:
        wanted = [] if entry is None else entry if isinstance(entry, list) else [entry]
        chosen = []
        for item in wanted:
            found = [p for i, p in enumerate(piece.parts)
                     if (isinstance(item, int) and not isinstance(item, bool) and i == item)
                     or (isinstance(item, str) and p.name == item)]
            if not found:
                return f"mapping: it names {item!r}, which is not a part here"
            chosen += found
        roles.append(_blend(chosen))
    return roles


def assign_roles(piece: ReadPiece, layout: str, choice: list | None = None) -> list[MidiPart] | str:
    """The four roles of one piece, each a part (blended where several make it), by the module's
    rule (or a mapping's ``choice``), or why it has none."""
    if choice is not None:
        roles = _by_mapping(piece, choice)
    elif layout == "voices":
        named = _named_voices(piece.parts)
        if named is None and len(piece.parts) != 4:
            return (f"voices: {len(piece.parts)}, only four-voice pieces are used ({MAPPING_FILE} can "
                    "choose four)" if len(piece.parts) > 4 else f"voices: only {len(piece.parts)}, four are needed")
        roles = [_one_line(p) for p in named or sorted(piece.parts, key=_mean_pitch, reverse=True)]
    else:
        pitched = [p for p in piece.parts if not p.is_drum]
        drums = [p for p in piece.parts if p.is_drum]
        if not pitched:
            return "only drums"
        named = [p for p in pitched if any(h in p.name.lower() for h in MELODY_NAME_HINTS)]
        melody = max(named or pitched, key=_mean_pitch)
        rest = [p for p in pitched if p is not melody]
        bass_family = [p for p in rest if p.program in BASS_PROGRAMS]
        bass = min(bass_family or rest, key=_mean_pitch) if rest else None
        others = [p for p in rest if p is not bass]
        roles = [_one_line(melody), _blend(others), bass or _blend([]), _blend(drums)]
    if isinstance(roles, str):
        return roles
    if not roles[0].notes:
        return "no melody"
    return roles


def role_kinds(pieces: list[np.ndarray], drum_roles: set[int]) -> tuple[str, ...]:
    """Each role's kind learned from the pieces' note rows (role, start, pitch, length):
    ``drums``, ``chords`` where its notes start together at least ``CHORDS_SHARE`` of its
    onsets, else ``voice``."""
    kinds = []
    for role in range(4):
        if role in drum_roles:
            kinds.append("drums")
            continue
        onsets = together = 0
        for rows in pieces:
            _, counts = np.unique(rows[rows[:, 0] == role, 1], return_counts=True)
            onsets, together = onsets + len(counts), together + int((counts > 1).sum())
        kinds.append("chords" if onsets and together / onsets >= CHORDS_SHARE else "voice")
    return tuple(kinds)


# --- the build -----------------------------------------------------------------------------

@dataclass
class StyleReport:
    """What a build found, used and skipped, and how its roles look (``report.json``)."""

    name: str
    source: str
    found: int = 0
    used: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason group -> labels
    reasons: dict[str, str] = field(default_factory=dict)  # label -> the whole reason
    layout: str = "voices"
    meter: tuple[int, int] | str = (4, 4)
    tempo_changes: int = 0  # files with tempo changes (the 16th grid counts beats, so they are harmless)
    pieces: dict[str, int] = field(default_factory=dict)  # per split
    windows: dict[str, int] = field(default_factory=dict)  # GAN windows per split
    roles: list[dict] = field(default_factory=list)  # name, kind, program, range, notes per bar, empty share
    # the style's own figures: mean and spread of each of metrics.FIGURES over the test split
    reference: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    def table(self) -> str:
        """The report as lines for the terminal."""
        lines = [f"{self.name}: {self.found} files found, {self.used} used, "
                 f"{self.found - self.used} skipped ({self.seconds:.1f} s)"]
        for group, labels in sorted(self.skipped.items(), key=lambda kv: -len(kv[1])):
            example = labels[0]
            lines.append(f"  skipped {len(labels):>5}  {group}  (e.g. {example}: {self.reasons[example]})")
        meter = self.meter if self.meter == ANY_METER else f"{self.meter[0]}/{self.meter[1]}"
        lines.append(f"layout {self.layout}, meter {meter}"
                     + (f", {self.tempo_changes} file(s) change tempo (harmless: the grid counts beats)"
                        if self.tempo_changes else ""))
        lines.append("split        " + "  ".join(f"{s:>6}" for s in SPLITS))
        lines.append("pieces       " + "  ".join(f"{self.pieces.get(s, 0):>6}" for s in SPLITS))
        lines.append("GAN windows  " + "  ".join(f"{self.windows.get(s, 0):>6}" for s in SPLITS))
        lines.append(f"{'role':<14}{'kind':<8}{'range':<10}{'notes/bar':>10}{'empty windows':>15}")
        for role in self.roles:
            low, high = role["range"]
            lines.append(f"{role['name']:<14}{role['kind']:<8}{f'{low}-{high}':<10}"
                         f"{role['notes_per_bar']:>10.2f}{role['empty_windows']:>14.0%}")
        return "\n".join(lines)


def _group(reason: str) -> str:
    """The report's group of a skip reason: its words before the first colon (unreadable, voices,
    other meter, other layout, too short, duplicate, mapping), or all of it (only drums, no melody)."""
    return reason.split(":")[0]


def _load_mapping(sources: list[Source], folder: Path | None) -> dict[str, list]:
    """The folder's ``roles.json`` (file name pattern -> four roles), checked; {} if none."""
    path = folder / MAPPING_FILE if folder else None
    if path is None or not path.is_file():
        return {}
    try:
        mapping = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StyleError(f"{path}: not a readable JSON mapping ({type(exc).__name__})") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, list) and len(v) == 4 for v in mapping.values()):
        raise StyleError(f"{path}: expected {{\"file pattern\": [melody, part, part, part]}} with four roles each")
    return mapping


def _choice_for(label: str, mapping: dict[str, list]) -> list | None:
    for pattern, choice in mapping.items():
        if fnmatch(label, pattern) or fnmatch(Path(label).name, pattern):
            return choice
    return None


# --- a build split across machines ----------------------------------------------------------

def parts_folder(name: str) -> Path:
    """Where the parts of a split build of style ``name`` are kept (``data/NAME.parts``)."""
    return style_folder(name).with_name(f"{name}.parts")


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
                Path(tmp).write_bytes((READ_CACHE / f"{key}.json").read_bytes())
    manifest = folder / f"part-{index}-of-{count}.json"
    with atomic_path(manifest) as tmp:
        Path(tmp).write_text(json.dumps({"part": index, "of": count, "sources": len(sources),
                                         "list_hash": _list_hash(sources), "files": files}, indent=1))
    return manifest


def _merge_parts(name: str, sources: list[Source]) -> bool:
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
    READ_CACHE.mkdir(parents=True, exist_ok=True)
    for reading in (folder / "readings").glob("*.json"):
        if not (READ_CACHE / reading.name).exists():
            with atomic_path(READ_CACHE / reading.name) as tmp:
                Path(tmp).write_bytes(reading.read_bytes())
    return True


def build_style(name: str, sources: list[Source], out: str | os.PathLike | None = None,
                meter: tuple[int, int] | str | None = None, folder: Path | None = None, jobs: int | None = None,
                progress: bool = True, source_description: str = "", corpus_relative: bool = False,
                reread: bool = False) -> tuple[ChoraleDataset, StyleReport]:
    """Read ``sources`` into a style dataset and write it (cache, ``report.json``, ``report.png``)
    to ``out`` (default ``data/NAME``) as one folder, whole or not at all.

    ``meter``: keep only pieces in it (default: the most common; ``"any"`` keeps all). Raises
    StyleError where nothing is usable. ``corpus_relative`` records sources relative to
    music21's corpus, so a changed corpus is noticed when the cache is read.
    """
    started = time.perf_counter()
    out = Path(out) if out is not None else style_folder(name)
    report = StyleReport(name=name, source=source_description, found=len(sources))
    if not sources:
        raise StyleError(f"{source_description or name}: no MIDI, MusicXML, kern or ABC files found "
                         f"(looked for {', '.join(sorted(MUSIC_SUFFIXES))})")
    merged = _merge_parts(name, sources) if name != "bach" else False
    mapping = _load_mapping(sources, Path(folder) if folder is not None else None)
    reasons: dict[str, str] = {}
    usable: list[tuple[Source, str, str, tuple[int, int]]] = []  # source, content key, layout, meter
    first_with: dict[str, str] = {}
    keys = []
    for source, (key, reading) in zip(sources, read_all(sources, jobs, progress, reread)):
        keys.append(key)
        if isinstance(reading, str):
            reasons[source.label] = reading
        elif key in first_with:
            reasons[source.label] = f"duplicate: the same file as {first_with[key]}"
        else:
            first_with[key] = source.label
            usable.append((source, key, layout_of(reading), reading.time_signature))
            report.tempo_changes += bool(reading.tempo_changes)
    layouts = Counter(layout for _, _, layout, _ in usable)
    report.layout = layouts.most_common(1)[0][0] if layouts else "voices"
    meters = Counter(m for *_, m in usable)
    report.meter = meter if meter == ANY_METER else tuple(meter) if meter else \
        (meters.most_common(1)[0][0] if meters else (4, 4))
    pieces, seen_notes = [], {}
    for source, key, layout, piece_meter in usable:
        choice = _choice_for(source.label, mapping)
        if choice is None and layout != report.layout:
            reasons[source.label] = f"other layout: {layout}, the folder's is {report.layout}"
            continue
        if report.meter != ANY_METER and piece_meter != report.meter:
            m = piece_meter
            whose = "--meter asks for" if meter else "the folder's is"
            reasons[source.label] = f"other meter: {m[0]}/{m[1]}, {whose} {report.meter[0]}/{report.meter[1]}"
            continue
        reading = _cached(key)
        if reading.n_steps - reading.pickup_steps < MIN_STEPS:
            reasons[source.label] = f"too short: {reading.n_steps} 16ths, at least {MIN_STEPS} are needed"
            continue
        roles = assign_roles(reading, report.layout, choice)
        if isinstance(roles, str):
            reasons[source.label] = roles
            continue
        rows = np.array(sorted((v, n.start, n.pitch, n.length) for v, part in enumerate(roles) for n in part.notes),
                        np.int32)
        fingerprint = hashlib.sha256(rows.tobytes()).hexdigest()
        if fingerprint in seen_notes:
            reasons[source.label] = f"duplicate: the same notes as {seen_notes[fingerprint]}"
            continue
        seen_notes[fingerprint] = source.label
        meta = {"id": source.id or source.label, "source": _recorded(source.path, corpus_relative),
                "split": split_of(tune_signature(rows)), "key": reading.key,
                "time_signature": list(reading.time_signature), "pickup_steps": reading.pickup_steps,
                "n_steps": int((rows[:, 1] + rows[:, 3]).max()), "tempo": reading.tempo}
        pieces.append((source, meta, rows, [(int(part.program), len(part.notes)) for part in roles]))
    source_hash = _hash_of(keys)
    if not pieces:
        counts = Counter(_group(r) for r in reasons.values())
        summary = ", ".join(f"{n} {g}" for g, n in counts.most_common())
        raise StyleError(f"{source_description or name}: no usable piece among {len(sources)} file(s) "
                         f"({summary}); a piece needs a melody and at least {MIN_STEPS // 16} bars of 4/4")
    kinds = role_kinds([rows for _, _, rows, _ in pieces], {3} if report.layout == "band" else set())
    roles = Roles(VOICES if report.layout == "voices" else BAND_ROLES, kinds, _role_programs(pieces, report.layout))
    items = [({"id": meta["id"], "number": source.number or number, **meta}, rows)
             for number, (source, meta, rows, _) in enumerate(pieces, 1)]
    dataset = dataset_from(items, reasons, source_hash, roles, name)
    dataset.build_seconds = time.perf_counter() - started
    report.used = len(items)
    for label, reason in reasons.items():
        report.skipped.setdefault(_group(reason), []).append(label)
    report.reasons = reasons
    report.pieces = {s: len(dataset.split(s)) for s in SPLITS}
    report.windows, empty, shown = _window_figures(dataset)
    report.roles = _role_figures(dataset, empty)
    report.reference = {f: list(v) for f, v in stored_reference(c.roll() for c in dataset.split("test")).items()} \
        if dataset.split("test") else {}
    report.seconds = round(dataset.build_seconds, 1)
    sources_recorded = [meta["source"] for meta, _ in items]
    with atomic_folder(out) as tmp:
        write_cache(dataset, items, sources_recorded, tmp, source_kind="corpus" if corpus_relative else "folder")
        (tmp / REPORT_FILE).write_text(json.dumps(report.to_json(), indent=1))
        _report_picture(dataset, shown, tmp / REPORT_PICTURE)
        write_shards(dataset, tmp / SHARDS)
    dataset.folder = out
    if merged:  # its readings are in the read cache now
        shutil.rmtree(parts_folder(name))
    return dataset, report


def _recorded(path: Path, corpus_relative: bool) -> str:
    return str(path.relative_to(corpus_dir())) if corpus_relative else str(path)


def _hash_of(keys: list[str]) -> str:
    return hashlib.sha256("".join(sorted(keys)).encode()).hexdigest()


def _role_programs(pieces: list, layout: str) -> tuple[int, ...]:
    """Each role's most common General MIDI program, counted by notes; voices sing (the choir)."""
    if layout == "voices":
        return BACH_ROLES.programs
    programs = []
    for role in range(4):
        found = Counter()
        for *_, role_programs in pieces:
            program, notes = role_programs[role]
            found[program] += notes
        programs.append(found.most_common(1)[0][0] if found else 0)
    return tuple(programs)


def _window_figures(dataset: ChoraleDataset) -> tuple[dict[str, int], list[float], tuple | None]:
    """GAN windows per split, each role's share of training windows it is silent in, and three
    training windows for the picture: one piece at a time, so memory does not grow with the folder."""
    counts, silent, shown = {}, np.zeros(4), []
    for split in SPLITS:
        pieces = dataset.split(split)
        picks = set(np.linspace(0, len(pieces) - 1, 3).astype(int).tolist()) if pieces else set()
        counts[split] = 0
        for i, piece in enumerate(pieces):
            sounding, onsets = dataset.piece_windows(piece)
            counts[split] += len(sounding)
            if split == "train":
                silent += (~sounding.any(axis=(1, 2))).sum(axis=0)
            if i in picks and len(sounding) and len(shown) < 3:
                shown.append((sounding[len(sounding) // 2], onsets[len(sounding) // 2]))
    empty = (silent / counts["train"]).tolist() if counts["train"] else [1.0] * 4
    picture = (np.stack([w for w, _ in shown]), np.stack([o for _, o in shown])) if shown else None
    return counts, empty, picture


def _role_figures(dataset: ChoraleDataset, empty: list[float]) -> list[dict]:
    """Per role: name, kind, program, range, notes per bar and the share of GAN windows it is silent in."""
    bars = sum((c.n_steps - c.pickup_steps) / c.steps_per_bar for c in dataset.chorales)
    notes = np.concatenate([c.notes for c in dataset.chorales])
    ranges = dataset.voice_ranges("train") if dataset.split("train") else [(0, 0)] * 4
    return [{"name": dataset.roles.names[v], "kind": dataset.roles.kinds[v], "program": int(dataset.roles.programs[v]),
             "range": list(ranges[v]), "notes_per_bar": round(float((notes[:, 0] == v).sum() / max(bars, 1)), 2),
             "empty_windows": round(empty[v], 3)} for v in range(4)]


def _report_picture(dataset: ChoraleDataset, windows: tuple | None, path: Path) -> None:
    """Three training windows as piano rolls, one colour per role."""
    if windows is None:
        return
    import matplotlib.pyplot as plt

    from .plots import plot_windows

    figure = plot_windows(*windows, n=3, names=list(dataset.roles.names))
    figure.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(figure)


# --- finding and loading a built style -----------------------------------------------------

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


def write_pieces(dataset: ChoraleDataset, folder: str | os.PathLike, split: str | None = None,
                 limit: int | None = None) -> list[Path]:
    """Write a dataset's pieces (of one split, the first ``limit``) as MIDI files into ``folder``,
    one per piece, named by its id (``-2``, ``-3``... where two ids give one name): a corpus becomes
    a folder like a learner's own."""
    from .midi import write_midi

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pieces = dataset.split(split) if split else dataset.chorales
    written, taken = [], set()
    for piece in pieces[:limit]:
        named = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in Path(piece.id).stem)
        stem = next(n for n in numbered_stems(named) if n.lower() not in taken)  # a/song, b/song: song, song-2
        taken.add(stem.lower())
        written.append(write_midi(piece.roll(), folder / f"{stem}.mid"))
    return written


def shipped_styles() -> list[str]:
    """The styles with a model in ``models/``: bach (``models/gan``) and each ``models/gan-NAME``."""
    from .gan_config import SHIPPED_MODEL

    return ["bach", *sorted(p.name.removeprefix("gan-") for p in SHIPPED_MODEL.parent.glob("gan-*")
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
    from .gan_config import SHIPPED_MODEL

    if Path(style).is_dir():
        return Path(style)
    if style == "bach":
        return SHIPPED_MODEL
    shipped = SHIPPED_MODEL.parent / f"gan-{style}"
    if shipped.is_dir():
        return shipped
    raise FileNotFoundError(f"no model for style {style!r} (shipped: {', '.join(shipped_styles())}; "
                            f"or give a trained run's folder)")


def read_report(name: str) -> StyleReport:
    """The report of a built style (its ``report.json``)."""
    data = json.loads((complete_folder(style_folder(name)) / REPORT_FILE).read_text())
    return StyleReport(**{**data, "meter": data["meter"] if data["meter"] == ANY_METER else tuple(data["meter"])})


def load_style(name: str) -> ChoraleDataset:
    """A built style (``bach``: the chorales). Raises StyleError with what to do if there is none."""
    from .chorales import load_dataset, read_cache

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
