"""Pieces of four roles and the dataset of a style: one neutral type for every style.

A piece (``Piece``) is four roles of notes on the 16th grid: the melody and three parts under
it (Bach's soprano, alto, tenor and bass; a band's melody, accompaniment, bass and drums).
A ``PieceDataset`` holds a style's pieces with their split, made per tune so two
harmonizations of one hymn tune never sit in two splits, and cuts them into the GAN's and the
AR-CNN's windows. A built dataset is cached as compressed note arrays plus a JSON manifest
(``data/NAME``); ``read_cache`` detects a damaged or stale one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .files import REPOSITORY, atomic_path, file_sha256
from .midi import N_PITCHES, STEPS_PER_BEAT, Note, PianoRoll, bar_steps
from .music_files import corpus_dir

__all__ = ["VOICES", "CHOIR_ROLES", "Roles", "Piece", "PieceDataset", "GAN_WINDOW_STEPS", "ARCNN_WINDOW_STEPS", "ARCNN_HOP_BARS", "SPLITS", "KINDS",
           "DATA_DIR", "first_of_each", "tune_signature", "split_of", "dataset_from", "read_cache", "write_cache", "to_gan_input",
           "transpose_windows"]

VOICES = ("Soprano", "Alto", "Tenor", "Bass")  # the four roles of a choir, and of Bach's chorales
CHOIR_PROGRAMS = (52, 52, 52, 52)  # General MIDI "Choir Aahs"
GAN_WINDOW_STEPS = 32  # 2 bars of 4/4
ARCNN_WINDOW_STEPS = 128  # 8 bars of 4/4
ARCNN_HOP_BARS = 2  # an AR-CNN roll starts on every second bar line
MIN_MELODY_SHARE = 0.75  # a GAN window is kept where the soprano sounds this much of the time
FORMAT_VERSION = 3
DATA_DIR = REPOSITORY / "data"  # one folder per style
NOTES_FILE = "chorales.npz"  # the cache's file names predate other styles: kept, so caches stay valid
MANIFEST_FILE = "manifest.json"
SPLITS = ("train", "valid", "test")
KINDS = ("voice", "chords", "drums")  # a role sings one note at a time, plays several, or drums


@dataclass(frozen=True)
class Roles:
    """The four roles of a style's pieces: names, kinds (see ``KINDS``) and GM programs.

    Role 0 is the melody; the model writes roles 1-3 under it.
    """

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    programs: tuple[int, ...]

    @property
    def drums(self) -> list[bool]:
        return [kind == "drums" for kind in self.kinds]

    @property
    def all_voices(self) -> bool:
        return all(kind == "voice" for kind in self.kinds)

    def to_json(self) -> dict:
        return {"names": list(self.names), "kinds": list(self.kinds), "programs": [int(p) for p in self.programs]}

    @classmethod
    def from_json(cls, data: dict) -> "Roles":
        return cls(tuple(data["names"]), tuple(data["kinds"]), tuple(int(p) for p in data["programs"]))


CHOIR_ROLES = Roles(VOICES, ("voice",) * 4, CHOIR_PROGRAMS)  # a model's roles where its config names none



@dataclass
class Piece:
    """One piece: metadata and its notes as rows of (role, start, pitch, length)."""

    id: str
    number: int
    split: str
    key: str
    time_signature: tuple[int, int]
    pickup_steps: int
    n_steps: int
    notes: np.ndarray = field(repr=False)
    roles: Roles
    tempo: float = 80.0  # for listening

    @property
    def steps_per_bar(self) -> int:
        return bar_steps(self.time_signature)

    @property
    def bars(self) -> float:
        return (self.n_steps - self.pickup_steps) / self.steps_per_bar

    def roll(self) -> PianoRoll:
        """The piece as a four-track :class:`PianoRoll`, one track per role."""
        tracks: list[list[Note]] = [[] for _ in self.roles.names]
        for voice, start, pitch, length in self.notes.tolist():
            tracks[voice].append(Note(start, pitch, length))
        return PianoRoll.from_notes(
            tracks, n_steps=self.n_steps, tempo=self.tempo, time_signature=self.time_signature,
            pickup_steps=self.pickup_steps, names=list(self.roles.names), programs=list(self.roles.programs),
            drums=self.roles.drums)

    def opening_steps(self, bars: int) -> int:
        """Steps of the pickup (the notes before the first bar line) and the first ``bars`` bars."""
        return self.pickup_steps + bars * self.steps_per_bar

    def bar_starts(self, every_bars: int = 1) -> range:
        """Steps where bars begin (after any pickup), every ``every_bars`` bars."""
        return range(self.pickup_steps, self.n_steps, self.steps_per_bar * every_bars)


@dataclass
class PieceDataset:
    """A style's usable pieces with their split, plus why the others were skipped.

    ``skipped`` maps a file's label (Bach's: "R<Riemenschneider number> <id>") to the reason.
    """

    pieces: list[Piece]
    skipped: dict[str, str]
    source_hash: str
    roles: Roles
    name: str
    build_seconds: float = 0.0
    folder: Path | None = None  # where it is cached (its shards are written beside)

    def split(self, name: str) -> list[Piece]:
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, not {name!r}")
        return [c for c in self.pieces if c.split == name]

    def gan_windows(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Two-bar windows (N, 32, 128, 4), sounding and onsets as booleans.

        Windows start on every bar line and are kept where the soprano sounds at least
        ``MIN_MELODY_SHARE`` of the time.
        """
        sounding, onsets = [], []
        for windows, starts in map(self.piece_windows, self.split(split)):
            sounding += list(windows)
            onsets += list(starts)
        shape = (0, GAN_WINDOW_STEPS, N_PITCHES, len(self.roles.names))
        return (np.stack(sounding) if sounding else np.zeros(shape, bool),
                np.stack(onsets) if onsets else np.zeros(shape, bool))

    @staticmethod
    def piece_windows(piece: Piece) -> tuple[np.ndarray, np.ndarray]:
        """One piece's GAN windows (see ``gan_windows``): (n, 32, 128, 4) sounding and onsets."""
        roll = piece.roll()
        starts = _gan_starts(piece, roll)
        shape = (len(starts), GAN_WINDOW_STEPS, N_PITCHES, roll.n_tracks)
        sounding, onsets = np.zeros(shape, bool), np.zeros(shape, bool)
        for i, s in enumerate(starts):
            sounding[i], onsets[i] = roll.sounding[s : s + GAN_WINDOW_STEPS], roll.onsets[s : s + GAN_WINDOW_STEPS]
        return sounding, onsets

    def gan_window_sources(self, split: str) -> list[tuple[Piece, int]]:
        """The piece and first step of each of ``gan_windows``' windows, in its order."""
        return [(piece, start) for piece in self.split(split) for start in _gan_starts(piece, piece.roll())]

    def arcnn_rolls(self, split: str, hop_bars: int = ARCNN_HOP_BARS) -> np.ndarray:
        """Eight-bar rolls (of 4/4) with all voices merged, (N, 128, 128, 1) float32 in {0, 1}, one
        on every ``hop_bars``-th bar line: a piece's consecutive rolls overlap."""
        rolls = []
        for piece in self.split(split):
            merged = piece.roll().sounding.any(axis=2)
            rolls += [merged[start : start + ARCNN_WINDOW_STEPS] for start in _arcnn_starts(piece, hop_bars)]
        if not rolls:
            return np.zeros((0, ARCNN_WINDOW_STEPS, N_PITCHES, 1), np.float32)
        return np.stack(rolls)[..., None].astype(np.float32)

    def arcnn_roll_sources(self, split: str, hop_bars: int = ARCNN_HOP_BARS) -> list[tuple[Piece, int]]:
        """The piece and first step of each of ``arcnn_rolls``' rolls, in its order."""
        return [(piece, start) for piece in self.split(split) for start in _arcnn_starts(piece, hop_bars)]

    def voice_ranges(self, split: str = "train") -> list[tuple[int, int]]:
        """Lowest and highest pitch of each role in a split.

        A role without notes gets the span of the roles with them (lowest to highest): it moves
        neither end of the pitch crop (``gan_config.fit_crop``) nor the octave a melody is moved
        by (``harmonize``), and a voice the decoder must fill has pitches to choose from, where
        one fixed pitch would leave it none in most chords. The span counts the drums too, as the
        crop does.
        """
        notes = np.concatenate([c.notes for c in self.split(split)])
        found = {v: notes[notes[:, 0] == v, 2] for v in range(len(self.roles.names))}
        ranges = {v: (int(p.min()), int(p.max())) for v, p in found.items() if len(p)}
        span = (min(low for low, _ in ranges.values()), max(high for _, high in ranges.values()))
        return [ranges.get(v, span) for v in found]

    def summary(self) -> dict:
        """The JSON summary of ``python -m lab_utils dataset --json``."""
        windows = {s: int(self.gan_windows(s)[0].shape[0]) for s in SPLITS}
        arcnn = {s: int(self.arcnn_rolls(s).shape[0]) for s in SPLITS}
        return {
            "chorales": {s: [c.id for c in self.split(s)] for s in SPLITS},
            "counts": {s: len(self.split(s)) for s in SPLITS},
            "windows": windows,
            "arcnn_rolls": arcnn,
            "window_shape": [GAN_WINDOW_STEPS, N_PITCHES, len(self.roles.names)],
            "arcnn_shape": [ARCNN_WINDOW_STEPS, N_PITCHES, 1],
            "steps_per_beat": STEPS_PER_BEAT,
            "style": self.name,
            "voices": list(self.roles.names),
            "kinds": list(self.roles.kinds),
            "voice_ranges": dict(zip(self.roles.names, self.voice_ranges())),
            "skipped": self.skipped,
            "source_hash": self.source_hash,
        }


def _gan_starts(piece: Piece, roll: PianoRoll) -> list[int]:
    """Where a piece's GAN windows start: on bar lines, where the melody sounds enough."""
    return [s for s in piece.bar_starts() if s + GAN_WINDOW_STEPS <= roll.n_steps
            and roll.sounding[s : s + GAN_WINDOW_STEPS, :, 0].any(axis=1).mean() >= MIN_MELODY_SHARE]


def _arcnn_starts(piece: Piece, hop_bars: int) -> list[int]:
    """Where a piece's AR-CNN rolls start: every ``hop_bars``-th bar line with a whole roll after it."""
    return [s for s in piece.bar_starts(hop_bars) if s + ARCNN_WINDOW_STEPS <= piece.n_steps]


def first_of_each(sources: list[tuple[Piece, int]], n: int,
                  meter: tuple[int, int] | None = None) -> list[int]:
    """Indices (into ``sources``, e.g. ``arcnn_roll_sources``) of the first window of each of the
    first ``n`` pieces (only pieces in ``meter`` when given): ``n`` different pieces, not one
    piece's overlapping windows."""
    chosen: dict[str, int] = {}  # piece id -> its first window
    for i, (piece, _) in enumerate(sources):
        if len(chosen) == n:
            break
        if piece.id not in chosen and (meter is None or piece.time_signature == tuple(meter)):
            chosen[piece.id] = i
    return list(chosen.values())


def to_gan_input(windows: np.ndarray) -> np.ndarray:
    """Boolean windows to the GAN's float32 convention: -1 silent, +1 sounding."""
    return np.where(windows, 1.0, -1.0).astype(np.float32)


def transpose_windows(
    sounding: np.ndarray,
    onsets: np.ndarray | None,
    ranges: list[tuple[int, int]],
    shifts: range = range(-5, 7),
    drums: Sequence[bool] = (),
) -> tuple[np.ndarray, np.ndarray | None]:
    """Training augmentation: every shift (in semitones) that keeps each voice in its range.

    Returns the windows of all allowed shifts, originals (shift 0) included, and their onsets
    (None without ``onsets``). The pitch axis may be cropped, with ``ranges`` counted in it.
    The roles that ``drums`` flags (a style's ``Roles.drums``; none without it) stay where they are
    and bind no shift: a drum's pitch is an instrument, and a kick moved up is a side stick.
    """
    moved = ~np.asarray(drums, bool) if len(drums) else np.ones(sounding.shape[3], bool)
    present = sounding.any(axis=1)  # (N, 128, voices) -> pitches used per voice
    pitch = np.arange(sounding.shape[2])[None, :, None]
    low = np.where(present, pitch, sounding.shape[2]).min(axis=1)
    high = np.where(present, pitch, -1).max(axis=1)
    lo = np.array([r[0] for r in ranges])[None, :]
    hi = np.array([r[1] for r in ranges])[None, :]
    free = (high < 0) | ~moved[None, :]  # a silent role fits anywhere, drums do not move
    keeps = [(((low + shift >= lo) & (high + shift <= hi)) | free).all(axis=1) for shift in shifts]
    out_s = np.empty((sum(int(k.sum()) for k in keeps), *sounding.shape[1:]), sounding.dtype)
    out_o = None if onsets is None else np.empty(out_s.shape, onsets.dtype)
    at = 0
    for shift, keep in zip(shifts, keeps):  # filled in place: no second copy of every window
        n = int(keep.sum())
        out_s[at : at + n] = _shifted(sounding[keep], shift, moved)
        if out_o is not None:
            out_o[at : at + n] = _shifted(onsets[keep], shift, moved)
        at += n
    return out_s, out_o


def _shifted(windows: np.ndarray, shift: int, moved: np.ndarray) -> np.ndarray:
    """``windows`` (N, T, pitches, roles), a copy, with its ``moved`` roles rolled ``shift`` pitches up."""
    windows[..., moved] = np.roll(windows[..., moved], shift, axis=2)
    return windows


def tune_signature(notes: np.ndarray) -> str:
    """The melody's first intervals: equal for two harmonizations of one hymn tune."""
    soprano = notes[notes[:, 0] == 0]
    pitches = soprano[np.argsort(soprano[:, 1], kind="stable"), 2][:13]
    return " ".join(str(int(i)) for i in np.diff(pitches))


def split_of(signature: str) -> str:
    """The fixed split of a tune: sha256 of its signature mod 100, 0-6 test, 7-16 valid.

    The cut points give 77/11/12 percent of the chorales (tunes come in groups of unequal size).
    """
    bucket = int(hashlib.sha256(signature.encode()).hexdigest(), 16) % 100
    return "test" if bucket < 7 else "valid" if bucket < 17 else "train"


# --- the cache -----------------------------------------------------------------------------

def dataset_from(items: list[tuple[dict, np.ndarray]], skipped: dict, source_hash: str,
                 roles: Roles, name: str) -> PieceDataset:
    """The dataset of (metadata, note rows) items, as the cache stores them."""
    piece_list = [
        Piece(id=m["id"], number=m["number"], split=m["split"], key=m["key"],
                time_signature=tuple(m["time_signature"]), pickup_steps=m["pickup_steps"],
                n_steps=m["n_steps"], notes=notes, roles=roles, tempo=m.get("tempo", 80.0))
        for m, notes in items
    ]
    return PieceDataset(piece_list, dict(skipped), source_hash, roles=roles, name=name)


def write_cache(dataset: PieceDataset, items: list[tuple[dict, np.ndarray]], sources: list[str],
                cache_dir: Path, source_kind: str = "corpus") -> None:
    """Write the note arrays and manifest, each whole or not at all.

    ``source_kind`` ``corpus``: ``sources`` are music21 corpus paths, checked when the cache is
    read; ``folder``: the dataset is a snapshot of a folder that may since have changed.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    counts = np.array([len(notes) for _, notes in items], dtype=np.int32)
    all_notes = np.concatenate([notes for _, notes in items]).astype(np.int16)
    with atomic_path(cache_dir / NOTES_FILE) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, notes=all_notes, counts=counts)
        notes_sha256 = file_sha256(tmp)
    manifest = {
        "format_version": FORMAT_VERSION,
        "source_hash": dataset.source_hash,
        "corpus_hash": _corpus_hash(sources) if source_kind == "corpus" else None,
        "notes_sha256": notes_sha256,
        "build_seconds": round(dataset.build_seconds, 1),
        "steps_per_beat": STEPS_PER_BEAT,
        "style": dataset.name,
        "roles": dataset.roles.to_json(),
        "source_kind": source_kind,
        "sources": sorted(set(sources)),
        "split_rule": "per tune (the melody's first 12 intervals): sha256 mod 100, 0-6 test, 7-16 valid",
        "chorales": [meta for meta, _ in items],
        "skipped": dataset.skipped,
    }
    with atomic_path(cache_dir / MANIFEST_FILE) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=1))


def read_cache(cache_dir: Path) -> PieceDataset:
    """Load the cache; raises ValueError (or OSError) if it is missing, damaged or stale."""
    manifest = json.loads((cache_dir / MANIFEST_FILE).read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError("cache format changed")
    notes_path = cache_dir / NOTES_FILE
    if file_sha256(notes_path) != manifest["notes_sha256"]:
        raise ValueError("note arrays do not match the manifest")
    metas = manifest["chorales"]
    if manifest["source_kind"] == "corpus" and _corpus_hash(manifest["sources"]) != manifest["corpus_hash"]:
        raise ValueError("music21's corpus changed since the cache was built")
    with np.load(notes_path) as arrays:
        notes, counts = arrays["notes"].astype(np.int32), arrays["counts"]
    if len(counts) != len(metas) or counts.sum() != len(notes):
        raise ValueError("note counts do not match the manifest")
    items = list(zip(metas, np.split(notes, np.cumsum(counts)[:-1])))
    dataset = dataset_from(items, manifest["skipped"], manifest["source_hash"],
                           Roles.from_json(manifest["roles"]), manifest["style"])
    dataset.build_seconds = manifest.get("build_seconds", 0.0)
    dataset.folder = cache_dir
    return dataset


def _corpus_hash(relative_paths: list[str]) -> str:
    """A hash of the corpus files a dataset was read from: a changed corpus is noticed."""
    digest = hashlib.sha256()
    root = corpus_dir()
    for rel in sorted(set(relative_paths)):
        digest.update(rel.encode())
        digest.update((root / rel).read_bytes())
    return digest.hexdigest()
