"""The Bach chorale dataset from music21's bundled corpus: splits, windows, cache.

Each chorale becomes four voices (soprano, alto, tenor, bass) of notes on the 16th grid.
Splits are made per tune, so two harmonizations of one hymn tune never sit in two splits.
The built dataset is cached in ``data/`` as compressed note arrays plus a JSON manifest;
a damaged or stale cache is detected and rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .files import atomic_path
from .midi import N_PITCHES, STEPS_PER_BEAT, Note, PianoRoll

__all__ = ["tune_signature", "split_of", 
    "VOICES",
    "GAN_WINDOW_STEPS",
    "ARCNN_WINDOW_STEPS",
    "Chorale",
    "ChoraleDataset",
    "load_dataset",
    "build_dataset",
    "to_gan_input",
    "transpose_windows",
]

VOICES = ("Soprano", "Alto", "Tenor", "Bass")
CHOIR_PROGRAMS = [52, 52, 52, 52]  # General MIDI "Choir Aahs"
GAN_WINDOW_STEPS = 32  # 2 bars of 4/4
ARCNN_WINDOW_STEPS = 128  # 8 bars of 4/4
MIN_MELODY_SHARE = 0.75  # a GAN window is kept where the soprano sounds this much of the time
FORMAT_VERSION = 2
DEFAULT_CACHE = Path(__file__).resolve().parent.parent / "data"
NOTES_FILE = "chorales.npz"
MANIFEST_FILE = "manifest.json"
SPLITS = ("train", "valid", "test")


@dataclass
class Chorale:
    """One chorale: metadata and its notes as rows of (voice, start, pitch, length)."""

    id: str
    number: int
    split: str
    key: str
    time_signature: tuple[int, int]
    pickup_steps: int
    n_steps: int
    notes: np.ndarray = field(repr=False)

    @property
    def steps_per_bar(self) -> int:
        numerator, denominator = self.time_signature
        return numerator * STEPS_PER_BEAT * 4 // denominator

    @property
    def bars(self) -> float:
        return (self.n_steps - self.pickup_steps) / self.steps_per_bar

    def roll(self) -> PianoRoll:
        """The chorale as a four-track :class:`PianoRoll` (tempo 80 for listening)."""
        tracks: list[list[Note]] = [[] for _ in VOICES]
        for voice, start, pitch, length in self.notes.tolist():
            tracks[voice].append(Note(start, pitch, length))
        return PianoRoll.from_notes(
            tracks, n_steps=self.n_steps, tempo=80.0, time_signature=self.time_signature,
            pickup_steps=self.pickup_steps, names=list(VOICES), programs=list(CHOIR_PROGRAMS))

    def bar_starts(self, every_bars: int = 1) -> range:
        """Steps where bars begin (after any pickup), every ``every_bars`` bars."""
        return range(self.pickup_steps, self.n_steps, self.steps_per_bar * every_bars)


@dataclass
class ChoraleDataset:
    """All usable chorales with their split, plus why the others were skipped.

    ``skipped`` maps "R<Riemenschneider number> <id>" to the reason.
    """

    chorales: list[Chorale]
    skipped: dict[str, str]
    source_hash: str
    build_seconds: float = 0.0

    def split(self, name: str) -> list[Chorale]:
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, not {name!r}")
        return [c for c in self.chorales if c.split == name]

    def gan_windows(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Two-bar windows (N, 32, 128, 4), sounding and onsets as booleans.

        Windows start on every bar line and are kept where the soprano sounds at least
        ``MIN_MELODY_SHARE`` of the time.
        """
        sounding, onsets = [], []
        for chorale in self.split(split):
            roll = chorale.roll()
            for start in chorale.bar_starts():
                end = start + GAN_WINDOW_STEPS
                if end > roll.n_steps:
                    break
                if roll.sounding[start:end, :, 0].any(axis=1).mean() < MIN_MELODY_SHARE:
                    continue
                sounding.append(roll.sounding[start:end])
                onsets.append(roll.onsets[start:end])
        shape = (0, GAN_WINDOW_STEPS, N_PITCHES, len(VOICES))
        return (np.stack(sounding) if sounding else np.zeros(shape, bool),
                np.stack(onsets) if onsets else np.zeros(shape, bool))

    def arcnn_rolls(self, split: str, hop_bars: int = 2) -> np.ndarray:
        """Eight-bar rolls with all voices merged, (N, 128, 128, 1) float32 in {0, 1}."""
        rolls = []
        for chorale in self.split(split):
            merged = chorale.roll().sounding.any(axis=2)
            for start in chorale.bar_starts(hop_bars):
                if start + ARCNN_WINDOW_STEPS > merged.shape[0]:
                    break
                rolls.append(merged[start : start + ARCNN_WINDOW_STEPS])
        if not rolls:
            return np.zeros((0, ARCNN_WINDOW_STEPS, N_PITCHES, 1), np.float32)
        return np.stack(rolls)[..., None].astype(np.float32)

    def voice_ranges(self, split: str = "train") -> list[tuple[int, int]]:
        """Lowest and highest pitch each voice sings in a split."""
        notes = np.concatenate([c.notes for c in self.split(split)])
        return [(int(notes[notes[:, 0] == v, 2].min()), int(notes[notes[:, 0] == v, 2].max()))
                for v in range(len(VOICES))]

    def summary(self) -> dict:
        """The JSON summary of ``python -m lab_utils dataset --json``."""
        windows = {s: int(self.gan_windows(s)[0].shape[0]) for s in SPLITS}
        arcnn = {s: int(self.arcnn_rolls(s).shape[0]) for s in SPLITS}
        return {
            "chorales": {s: [c.id for c in self.split(s)] for s in SPLITS},
            "counts": {s: len(self.split(s)) for s in SPLITS},
            "windows": windows,
            "arcnn_rolls": arcnn,
            "window_shape": [GAN_WINDOW_STEPS, N_PITCHES, len(VOICES)],
            "arcnn_shape": [ARCNN_WINDOW_STEPS, N_PITCHES, 1],
            "steps_per_beat": STEPS_PER_BEAT,
            "voices": list(VOICES),
            "voice_ranges": dict(zip(VOICES, self.voice_ranges())),
            "skipped": self.skipped,
            "source_hash": self.source_hash,
        }


def to_gan_input(windows: np.ndarray) -> np.ndarray:
    """Boolean windows to the GAN's float32 convention: -1 silent, +1 sounding."""
    return np.where(windows, 1.0, -1.0).astype(np.float32)


def transpose_windows(
    sounding: np.ndarray,
    onsets: np.ndarray,
    ranges: list[tuple[int, int]],
    shifts: range = range(-5, 7),
) -> tuple[np.ndarray, np.ndarray]:
    """Training augmentation: every shift (in semitones) that keeps each voice in its range.

    Returns the windows of all allowed shifts, originals (shift 0) included.
    """
    present = sounding.any(axis=1)  # (N, 128, voices) -> pitches used per voice
    pitch = np.arange(N_PITCHES)[None, :, None]
    low = np.where(present, pitch, N_PITCHES).min(axis=1)
    high = np.where(present, pitch, -1).max(axis=1)
    lo = np.array([r[0] for r in ranges])[None, :]
    hi = np.array([r[1] for r in ranges])[None, :]
    empty = high < 0
    out_s, out_o = [], []
    for shift in shifts:
        fits = ((low + shift >= lo) & (high + shift <= hi)) | empty
        keep = fits.all(axis=1)
        out_s.append(np.roll(sounding[keep], shift, axis=2))
        out_o.append(np.roll(onsets[keep], shift, axis=2))
    return np.concatenate(out_s), np.concatenate(out_o)


# --- building from the corpus ------------------------------------------------------------

def _corpus_dir() -> Path:
    """music21's bundled corpus folder, found without importing music21 (it is slow)."""
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("music21 is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "corpus"


def _source_hash(relative_paths: list[str]) -> str:
    digest = hashlib.sha256()
    root = _corpus_dir()
    for rel in sorted(relative_paths):
        digest.update(rel.encode())
        digest.update((root / rel).read_bytes())
    return digest.hexdigest()


def _voice_parts(score) -> list | None:
    """The soprano, alto, tenor and bass parts of a score, or None."""
    parts = list(score.parts)
    names = [(p.partName or "").strip().lower() for p in parts]
    if len(parts) == 4 and all(not n for n in names):
        return parts
    chosen = []
    for voice in VOICES:
        matches = [p for p, n in zip(parts, names) if n.startswith(voice.lower())]
        if len(matches) != 1:
            return None
        chosen.append(matches[0])
    return chosen


def tune_signature(notes: np.ndarray) -> str:
    """The soprano's first intervals: equal for two harmonizations of one hymn tune."""
    soprano = notes[notes[:, 0] == 0]
    pitches = soprano[np.argsort(soprano[:, 1], kind="stable"), 2][:13]
    return " ".join(str(int(i)) for i in np.diff(pitches))


def split_of(signature: str) -> str:
    """The fixed split of a tune: sha256 of its signature mod 100, 0-6 test, 7-16 valid.

    The cut points give 77/11/12 percent of the chorales (tunes come in groups of unequal size).
    """
    bucket = int(hashlib.sha256(signature.encode()).hexdigest(), 16) % 100
    return "test" if bucket < 7 else "valid" if bucket < 17 else "train"


def _corpus_file(found: Path | list[Path], chorale_id: str) -> Path:
    """The one corpus file named ``chorale_id`` (music21 may also return near matches)."""
    candidates = found if isinstance(found, list) else [found]
    exact = [Path(p) for p in candidates if Path(p).stem == chorale_id]
    return exact[0] if exact else Path(candidates[0])


def _parse_chorale(path: Path) -> tuple[dict, np.ndarray] | str:
    """Parse one corpus chorale into (metadata, notes), or the reason it cannot be used."""
    from music21 import corpus, meter, repeat

    score = corpus.parse(str(path))
    parts = _voice_parts(score)
    if parts is None:
        names = [p.partName for p in score.parts]
        return f"no single soprano/alto/tenor/bass parts ({len(names)} parts: {names})"
    try:
        expanded = [p.expandRepeats() for p in parts]
    except repeat.ExpanderException:
        expanded = parts  # repeat marks music21 cannot expand: keep the written form
    signatures = list(expanded[0].recurse().getElementsByClass(meter.TimeSignature))
    if not signatures:
        return "no time signature"
    time_signature = (signatures[0].numerator, signatures[0].denominator)
    measures = list(expanded[0].getElementsByClass("Measure"))
    pickup = 0
    if len(measures) > 1 and (measures[0].paddingLeft or measures[0].number == 0):
        pickup = round(float(measures[1].offset) * STEPS_PER_BEAT)
    rows = []
    for voice, part in enumerate(expanded):
        for n in part.stripTies().flatten().notes:
            length = round(float(n.quarterLength) * STEPS_PER_BEAT)
            if length <= 0:
                continue  # grace notes
            start = round(float(n.offset) * STEPS_PER_BEAT)
            pitch = max(p.midi for p in n.pitches)
            rows.append((voice, start, pitch, length))
    if not rows:
        return "no notes"
    notes = np.array(sorted(rows), dtype=np.int32)
    if len(set(notes[:, 0].tolist())) < 4:
        return "a voice has no notes"
    key = score.analyze("key")
    meta = {
        "time_signature": list(time_signature),
        "pickup_steps": pickup,
        "n_steps": int((notes[:, 1] + notes[:, 3]).max()),
        "key": f"{key.tonic.name.replace('-', 'b')} {key.mode}",
    }
    return meta, notes


def build_dataset(
    cache_dir: str | os.PathLike = DEFAULT_CACHE,
    limit: int | None = None,
    progress: bool = True,
) -> ChoraleDataset:
    """Parse the Riemenschneider chorales from music21's corpus and write the cache.

    ``limit`` keeps only the first chorales (for quick tests).
    """
    from music21 import corpus
    from music21.corpus import chorales
    from tqdm.auto import tqdm

    started = time.perf_counter()
    names = list(chorales.Iterator(numberingSystem="riemenschneider", returnType="filename"))
    names = names[:limit] if limit else names
    items, skipped, sources = [], {}, []
    first_number: dict[str, int] = {}
    for number, name in enumerate(tqdm(names, desc="chorales", disable=not progress), 1):
        chorale_id = name.split("/")[-1]
        path = _corpus_file(corpus.getWork(name), chorale_id)
        label = f"R{number:03d} {chorale_id}"
        if chorale_id in first_number:
            skipped[label] = f"the same score as Riemenschneider no. {first_number[chorale_id]}"
            continue
        first_number[chorale_id] = number
        sources.append(str(path.relative_to(_corpus_dir())))
        try:
            parsed = _parse_chorale(path)
        except Exception as exc:  # a corpus file music21 cannot read is reported, not fatal
            parsed = f"music21 could not read it ({type(exc).__name__})"
        if isinstance(parsed, str):
            skipped[label] = parsed
            continue
        meta, notes = parsed
        meta.update(id=chorale_id, number=number, source=sources[-1],
                    split=split_of(tune_signature(notes)))
        items.append((meta, notes))
    dataset = _dataset_from(items, skipped, _source_hash(sorted(set(sources))))
    dataset.build_seconds = time.perf_counter() - started
    _write_cache(dataset, items, sources, Path(cache_dir))
    return dataset


def _dataset_from(items: list[tuple[dict, np.ndarray]], skipped: dict, source_hash: str) -> ChoraleDataset:
    chorale_list = [
        Chorale(id=m["id"], number=m["number"], split=m["split"], key=m["key"],
                time_signature=tuple(m["time_signature"]), pickup_steps=m["pickup_steps"],
                n_steps=m["n_steps"], notes=notes)
        for m, notes in items
    ]
    return ChoraleDataset(chorale_list, dict(skipped), source_hash)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_cache(
    dataset: ChoraleDataset, items: list[tuple[dict, np.ndarray]], sources: list[str], cache_dir: Path
) -> None:
    """Write the note arrays and manifest, each whole or not at all."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    counts = np.array([len(notes) for _, notes in items], dtype=np.int32)
    all_notes = np.concatenate([notes for _, notes in items]).astype(np.int16)
    with atomic_path(cache_dir / NOTES_FILE) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, notes=all_notes, counts=counts)
        notes_sha256 = _file_sha256(Path(tmp))
    manifest = {
        "format_version": FORMAT_VERSION,
        "source_hash": dataset.source_hash,
        "notes_sha256": notes_sha256,
        "build_seconds": round(dataset.build_seconds, 1),
        "steps_per_beat": STEPS_PER_BEAT,
        "voices": list(VOICES),
        "sources": sorted(set(sources)),
        "split_rule": "per tune (soprano's first 12 intervals): sha256 mod 100, 0-6 test, 7-16 valid",
        "chorales": [meta for meta, _ in items],
        "skipped": dataset.skipped,
    }
    with atomic_path(cache_dir / MANIFEST_FILE) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=1))


def _read_cache(cache_dir: Path) -> ChoraleDataset:
    """Load the cache; raises ValueError (or OSError) if it is missing, damaged or stale."""
    manifest = json.loads((cache_dir / MANIFEST_FILE).read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError("cache format changed")
    notes_path = cache_dir / NOTES_FILE
    if _file_sha256(notes_path) != manifest["notes_sha256"]:
        raise ValueError("note arrays do not match the manifest")
    metas = manifest["chorales"]
    if _source_hash(manifest["sources"]) != manifest["source_hash"]:
        raise ValueError("music21's corpus changed since the cache was built")
    with np.load(notes_path) as arrays:
        notes, counts = arrays["notes"].astype(np.int32), arrays["counts"]
    if len(counts) != len(metas) or counts.sum() != len(notes):
        raise ValueError("note counts do not match the manifest")
    items = list(zip(metas, np.split(notes, np.cumsum(counts)[:-1])))
    dataset = _dataset_from(items, manifest["skipped"], manifest["source_hash"])
    dataset.build_seconds = manifest.get("build_seconds", 0.0)
    return dataset


def load_dataset(
    cache_dir: str | os.PathLike = DEFAULT_CACHE,
    rebuild: bool = False,
    limit: int | None = None,
    progress: bool = True,
) -> ChoraleDataset:
    """The chorale dataset: from the cache when it is sound, else built and cached anew."""
    cache_dir = Path(cache_dir)
    if not rebuild:
        try:
            return _read_cache(cache_dir)
        except FileNotFoundError:
            pass
        except (ValueError, OSError, KeyError, json.JSONDecodeError) as exc:
            print(f"dataset cache in {cache_dir} is unusable ({exc}); rebuilding it")
    return build_dataset(cache_dir, limit=limit, progress=progress)
