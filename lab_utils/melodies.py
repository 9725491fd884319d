"""Tunes for the Transformer: the Essen folk songs and the chorales' sopranos, in C, split by tune.

music21's bundled corpus holds the Essen collection (31 files of ABC, about 8,500 German,
Chinese and other folk songs; nothing is downloaded) and Bach's chorales. A tune is kept with its
metre, any pickup, its mode and its notes moved so that its tonic is C (the key found as
``metrics.melody_key`` finds a melody's, so an input melody is read the same way: of the keys
that fit its pitches nearly as well as the best, the one whose tonic is its last note). Folk songs
fall in a split by a hash of their intervals and rhythm (a tune found in two collections falls
once); a chorale's soprano keeps its chorale's split, and only the training split's sopranos are
learned from. Reading the Essen files takes a few minutes on 2 cores, once: the tunes are cached
in ``data/melodies`` with the hash of what they were read from, and a stale cache is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chorales import load_dataset
from .files import atomic_folder, file_sha256
from .melody_tokens import METERS, PITCH_HIGH, PITCH_LOW, encode
from .metrics import melody_key
from .midi import STEPS_PER_BEAT, Note, PianoRoll
from .pieces import DATA_DIR, SPLITS, split_of

__all__ = ["Tune", "TuneSet", "MELODY_CACHE", "load_tunes", "folk_files", "to_c", "SOURCES", "MelodyInC", "melody_in_c",
           "VALID_TUNES", "validation_sample"]

MELODY_CACHE = DATA_DIR / "melodies"
FORMAT_VERSION = 3  # 2: the tunes' words are cached beside their notes; 3: keys read by melody_key
SOURCES = ("folk", "bach")
MIN_NOTES = 8
VALID_TUNES = 300  # a training run scores about this many validation tunes after each epoch
NOTES_FILE, MANIFEST_FILE, REPORT_FILE = "tunes.npz", "manifest.json", "report.json"


@dataclass
class Tune:
    """One melody in C: notes as rows of (start step, pitch, length), its metre, pickup and mode."""

    name: str
    source: str  # "folk" or "bach"
    split: str
    mode: str
    tonic: int  # the pitch class its tonic had before it was moved to C
    time_signature: tuple[int, int]
    pickup_steps: int
    notes: np.ndarray = field(repr=False)

    words_cached: np.ndarray | None = field(default=None, repr=False)

    def words(self) -> np.ndarray:
        """The tune as the models read it (``melody_tokens``), from the cache where it was read."""
        if self.words_cached is not None:
            return self.words_cached
        return encode([Note(*row) for row in self.notes.tolist()], self.mode, self.time_signature,
                      self.pickup_steps)


@dataclass
class TuneSet:
    tunes: list[Tune]
    skipped: dict[str, int]  # reason -> tunes skipped for it
    source_hash: str
    build_seconds: float = 0.0

    def split(self, name: str, source: str | None = None) -> list[Tune]:
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, not {name!r}")
        return [t for t in self.tunes if t.split == name and source in (None, t.source)]

    def words(self, split: str, source: str | None = None, limit: int | None = None) -> list[np.ndarray]:
        """The words of a split's tunes (of one source, the first ``limit``)."""
        return [t.words() for t in self.split(split, source)[:limit]]

    def report(self) -> dict:
        """Tunes and notes per split and source, metres and modes, and what was skipped."""
        counts = {f"{s}/{src}": {"tunes": len(self.split(s, src)),
                                 "notes": int(sum(len(t.notes) for t in self.split(s, src)))}
                  for s in SPLITS for src in SOURCES}
        meters: dict[str, int] = {}
        for t in self.tunes:
            key = "%d/%d" % t.time_signature
            meters[key] = meters.get(key, 0) + 1
        return {"splits": counts, "meters": dict(sorted(meters.items(), key=lambda kv: -kv[1])),
                "minor_share": round(float(np.mean([t.mode == "minor" for t in self.tunes])), 3),
                "skipped": self.skipped, "build_seconds": round(self.build_seconds, 1)}


def validation_sample(valid: list[np.ndarray]) -> list[np.ndarray]:
    """The validation tunes a training run scores after each epoch (and its Markov baseline
    with them): every k-th, at least ``VALID_TUNES`` of them, since scoring all would take a
    fifth of each epoch."""
    return valid[:: max(1, len(valid) // VALID_TUNES)]


def to_c(notes: list[Note], tonic: int) -> tuple[list[Note], int]:
    """Notes moved so that ``tonic`` becomes C, by at most a tritone: (notes, semitones moved)."""
    shift = (-tonic) % 12
    shift = shift - 12 if shift > 5 else shift
    return [Note(n.start, n.pitch + shift, n.length) for n in notes], shift


@dataclass
class MelodyInC:
    """A melody read as the models read it: its words (header and notes in C, no end word), the
    semitones it was moved by, and its key."""

    words: np.ndarray
    shift: int
    tonic: int
    mode: str


def melody_in_c(notes: list[Note], time_signature: tuple[int, int], pickup_steps: int = 0,
                end: bool = False) -> MelodyInC:
    """A melody's words in C (moved by octaves as well where that keeps it inside the words' range)."""
    tonic, mode = melody_key(PianoRoll.from_notes([notes]))
    moved, shift = to_c(notes, tonic)
    octaves = 1 if min(n.pitch for n in moved) < PITCH_LOW else -1 if max(n.pitch for n in moved) >= PITCH_HIGH else 0
    moved = [Note(n.start, n.pitch + 12 * octaves, n.length) for n in moved]
    return MelodyInC(encode(moved, mode, time_signature, pickup_steps, end=end), shift + 12 * octaves, tonic, mode)


def _tune_record(notes: list[Note], time_signature: tuple[int, int], pickup: int) -> tuple[dict, np.ndarray] | str:
    """A tune's metadata and rows in C, or why it is left out."""
    if len(notes) < MIN_NOTES:
        return f"fewer than {MIN_NOTES} notes"
    if tuple(time_signature) not in METERS:
        return "a metre without a word"
    tonic, mode = melody_key(PianoRoll.from_notes([notes]))
    moved, _ = to_c(notes, tonic)
    if min(n.pitch for n in moved) < PITCH_LOW or max(n.pitch for n in moved) >= PITCH_HIGH:
        return "pitches out of range"
    rows = np.asarray(moved, np.int16).reshape(-1, 3)
    return {"mode": mode, "tonic": tonic, "time_signature": list(time_signature), "pickup_steps": pickup}, rows


def _signature(rows: np.ndarray) -> str:
    """Intervals and rhythm: the same tune in two collections (or keys) has one signature."""
    return " ".join(f"{d}:{n}" for d, n in zip(np.diff(rows[:, 1]).tolist(), rows[:, 2].tolist()))


def folk_files() -> list[Path]:
    """The Essen collection's ABC files in music21's corpus."""
    from music21 import corpus

    return sorted(Path(p) for p in corpus.getComposer("essenFolksong"))


def _read_folk_file(path: str) -> list[tuple[str, tuple[dict, np.ndarray] | str]]:
    """Worker: every tune of one Essen file as (name, record or reason)."""
    from music21 import converter, meter

    out = []
    opus = converter.parse(path)
    scores = list(opus.scores) if hasattr(opus, "scores") else [opus]
    for number, score in enumerate(scores, 1):
        name = f"{Path(path).stem}/{number}"
        try:
            part = score.stripTies().parts[0]
            signatures = {(ts.numerator, ts.denominator) for ts in part.recurse().getElementsByClass(meter.TimeSignature)}
            if len(signatures) != 1:
                out.append((name, "no metre" if not signatures else "changes metre"))
                continue
            (time_signature,) = signatures
            bar = time_signature[0] * 4 * STEPS_PER_BEAT // time_signature[1]
            measures = part.getElementsByClass("Measure")
            pickup = round(float(measures[1].offset - measures[0].offset) * STEPS_PER_BEAT) if len(measures) > 1 else 0
            pickup = pickup if 0 < pickup < bar else 0
            events = [n for n in part.flatten().notes if n.quarterLength > 0]
            starts = [round(float(n.offset) * STEPS_PER_BEAT) for n in events]
            ends = starts[1:] + [round(float(events[-1].offset + events[-1].quarterLength) * STEPS_PER_BEAT)] if events else []
            notes = [Note(s, max(p.pitch.midi for p in n.pitches) if n.isChord else n.pitch.midi,
                          max(1, min(e, s + round(float(n.quarterLength) * STEPS_PER_BEAT)) - s))
                     for n, s, e in zip(events, starts, ends)]
            notes = [n for i, n in enumerate(notes) if i + 1 == len(notes) or notes[i + 1].start > n.start]
            out.append((name, _tune_record(notes, time_signature, pickup)))
        except Exception as exc:  # noqa: BLE001 - one unreadable tune in 8,500 is skipped and counted
            out.append((name, f"unreadable ({type(exc).__name__})"))
    return out


def _bach_tunes() -> list[tuple[str, str, tuple[dict, np.ndarray] | str]]:
    """(name, split, record or reason) for every chorale's soprano."""
    out = []
    for piece in load_dataset(progress=False).pieces:
        notes = [Note(s, p, n) for role, s, p, n in piece.notes.tolist() if role == 0]
        out.append((piece.id, piece.split, _tune_record(notes, piece.time_signature, piece.pickup_steps)))
    return out


def _source_hash(files: list[Path]) -> str:
    keys = [f"format {FORMAT_VERSION}", load_dataset(progress=False).source_hash,
            *(f"{p.name}:{file_sha256(p)}" for p in files)]
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def build_tunes(cache: Path = MELODY_CACHE, files: list[Path] | None = None, jobs: int | None = None,
                progress: bool = True) -> TuneSet:
    """Read every folk file (on ``jobs`` processes) and the chorales' sopranos, and cache them."""
    from tqdm.auto import tqdm

    started = time.perf_counter()
    files = folk_files() if files is None else files
    tunes, skipped = [], {}
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files) or 1))
    with ProcessPoolExecutor(jobs) as pool:
        readings = list(tqdm(pool.map(_read_folk_file, map(str, files)), total=len(files), desc="reading",
                             unit="file", disable=not progress))
    found = [(name, None, record) for reading in readings for name, record in reading] + _bach_tunes()
    seen: set[str] = set()
    for name, split, record in found:
        if isinstance(record, str):
            skipped[record] = skipped.get(record, 0) + 1
            continue
        meta, rows = record
        signature = _signature(rows)
        if split is None and signature in seen:
            skipped["the same tune again"] = skipped.get("the same tune again", 0) + 1
            continue
        seen.add(signature)
        tunes.append(Tune(name, "bach" if split else "folk", split or split_of(signature), meta["mode"], meta["tonic"],
                          tuple(meta["time_signature"]), meta["pickup_steps"], rows))
    tune_set = TuneSet(tunes, skipped, _source_hash(files), time.perf_counter() - started)
    _write_cache(tune_set, cache)
    return tune_set


def _write_cache(tune_set: TuneSet, cache: Path) -> None:
    with atomic_folder(cache) as tmp:
        rows = [t.notes for t in tune_set.tunes]
        words = [t.words().astype(np.int16) for t in tune_set.tunes]
        np.savez_compressed(tmp / NOTES_FILE, notes=np.concatenate(rows) if rows else np.zeros((0, 3), np.int16),
                            offsets=np.cumsum([0] + [len(r) for r in rows]),
                            words=np.concatenate(words) if words else np.zeros(0, np.int16),
                            word_offsets=np.cumsum([0] + [len(w) for w in words]))
        meta = [[t.name, t.source, t.split, t.mode, t.tonic, list(t.time_signature), t.pickup_steps]
                for t in tune_set.tunes]
        (tmp / MANIFEST_FILE).write_text(json.dumps({"format": FORMAT_VERSION, "source_hash": tune_set.source_hash,
                                                      "skipped": tune_set.skipped, "tunes": meta}))
        (tmp / REPORT_FILE).write_text(json.dumps(tune_set.report(), indent=1) + "\n")


def read_tunes(cache: Path = MELODY_CACHE) -> TuneSet:
    """The cached tunes (FileNotFoundError without a cache, ValueError for a damaged one)."""
    manifest = json.loads((cache / MANIFEST_FILE).read_text())
    if manifest.get("format") != FORMAT_VERSION:
        raise ValueError("an older format")
    with np.load(cache / NOTES_FILE) as stored:
        notes, offsets = stored["notes"], stored["offsets"]
        words, word_offsets = stored["words"].astype(np.int32), stored["word_offsets"]
    if len(offsets) != len(manifest["tunes"]) + 1 or offsets[-1] != len(notes) or len(word_offsets) != len(offsets) \
            or word_offsets[-1] != len(words):
        raise ValueError("notes and manifest disagree")
    tunes = [Tune(name, source, split, mode, tonic, tuple(sig), pickup, notes[offsets[i] : offsets[i + 1]],
                  words[word_offsets[i] : word_offsets[i + 1]])
             for i, (name, source, split, mode, tonic, sig, pickup) in enumerate(manifest["tunes"])]
    report = json.loads((cache / REPORT_FILE).read_text()) if (cache / REPORT_FILE).is_file() else {}
    return TuneSet(tunes, manifest["skipped"], manifest["source_hash"], report.get("build_seconds", 0.0))


def load_tunes(cache: str | os.PathLike = MELODY_CACHE, rebuild: bool = False, progress: bool = True) -> TuneSet:
    """The tunes from the cache when it is sound and made from today's sources, else read anew."""
    cache = Path(cache)
    if not rebuild:
        try:
            tune_set = read_tunes(cache)
            if tune_set.source_hash == _source_hash(folk_files()):
                return tune_set
            print(f"the tunes in {cache} were read from other files; reading them again")
        except FileNotFoundError:
            pass
        except (ValueError, OSError, KeyError, json.JSONDecodeError) as exc:
            print(f"the tune cache in {cache} is unusable ({exc}); reading the tunes again")
    return build_tunes(cache, progress=progress)
