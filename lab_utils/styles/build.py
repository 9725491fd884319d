"""A style's dataset built from its sources: read, roles given, split per tune, cached with its report."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np

from ..files import atomic_folder, numbered_stems
from ..metrics import stored_reference
from ..midi import write_midi
from ..motion import mean_motion
from ..music_files import MUSIC_SUFFIXES, corpus_dir
from ..pieces import (GAN_WINDOW_STEPS, MIN_MELODY_SHARE, SPLITS, VOICES, PieceDataset, Roles, dataset_from, split_of,
                      tune_signature, write_cache)
from ..shards import SHARDS, write_shards
from .places import REPORT_FILE, REPORT_PICTURE, StyleError, parts_folder, style_folder
from .report import ANY_METER, StyleReport, report_picture, role_figures, skip_group, window_figures
from .roles import BAND_ROLES, assign_roles, choice_for, layout_of, load_mapping, role_kinds, role_programs
from .sources import Source, merge_parts, read_all, read_cached

__all__ = ["BACH_METER", "MIN_STEPS", "build_style", "write_pieces"]

BACH_METER = ANY_METER  # the chorales keep their 3/4 beside their 4/4, as they always have
MIN_STEPS = GAN_WINDOW_STEPS  # a piece shorter than one GAN window (2 bars of 4/4) is too short


def build_style(name: str, sources: list[Source], out: str | os.PathLike | None = None,
                meter: tuple[int, int] | str | None = None, folder: Path | None = None, jobs: int | None = None,
                progress: bool = True, source_description: str = "", corpus_relative: bool = False,
                reread: bool = False) -> tuple[PieceDataset, StyleReport]:
    """Read ``sources`` into a style dataset and write it (cache, ``report.json``, ``report.png``)
    to ``out`` (default ``data/NAME``) as one folder, whole or not at all.

    ``meter``: keep only pieces in it (default: the most common; ``"any"`` keeps all). Raises
    StyleError where nothing is usable, or where the usable pieces give the GAN no window to
    train on (nothing is written then). ``corpus_relative`` records sources relative to
    music21's corpus, so a changed corpus is noticed when the cache is read.
    """
    started = time.perf_counter()
    out = Path(out) if out is not None else style_folder(name)
    report = StyleReport(name=name, source=source_description, found=len(sources))
    if not sources:
        raise StyleError(f"{source_description or name}: no MIDI, MusicXML, kern or ABC files found "
                         f"(looked for {', '.join(sorted(MUSIC_SUFFIXES))})")
    merged = merge_parts(name, sources) if name != "bach" else False
    mapping = load_mapping(sources, Path(folder) if folder is not None else None)
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
        choice = choice_for(source.label, mapping)
        if choice is None and layout != report.layout:
            reasons[source.label] = f"other layout: {layout}, the folder's is {report.layout}"
            continue
        if report.meter != ANY_METER and piece_meter != report.meter:
            m = piece_meter
            whose = "--meter asks for" if meter else "the folder's is"
            reasons[source.label] = f"other meter: {m[0]}/{m[1]}, {whose} {report.meter[0]}/{report.meter[1]}"
            continue
        reading = read_cached(key)
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
        counts = Counter(skip_group(r) for r in reasons.values())
        summary = ", ".join(f"{n} {g}" for g, n in counts.most_common())
        raise StyleError(f"{source_description or name}: no usable piece among {len(sources)} file(s) "
                         f"({summary}); a piece needs a melody and at least {MIN_STEPS // 16} bars of 4/4")
    kinds = role_kinds([rows for _, _, rows, _ in pieces], {3} if report.layout == "band" else set())
    roles = Roles(VOICES if report.layout == "voices" else BAND_ROLES, kinds, role_programs(pieces, report.layout))
    items = [({"id": meta["id"], "number": source.number or number, **meta}, rows)
             for number, (source, meta, rows, _) in enumerate(pieces, 1)]
    dataset = dataset_from(items, reasons, source_hash, roles, name)
    dataset.build_seconds = time.perf_counter() - started
    report.used = len(items)
    for label, reason in reasons.items():
        report.skipped.setdefault(skip_group(reason), []).append(label)
    report.reasons = reasons
    report.pieces = {s: len(dataset.split(s)) for s in SPLITS}
    report.windows, empty, shown = window_figures(dataset)
    if not report.windows["train"]:
        raise StyleError(_no_training_windows(source_description or name, report))
    report.roles = role_figures(dataset, empty)
    report.reference = {f: list(v) for f, v in stored_reference(c.roll() for c in dataset.split("test")).items()} \
        if dataset.split("test") else {}
    report.motion = mean_motion([c.roll() for c in dataset.pieces])
    report.seconds = round(dataset.build_seconds, 1)
    sources_recorded = [meta["source"] for meta, _ in items]
    with atomic_folder(out) as tmp:
        write_cache(dataset, items, sources_recorded, tmp, source_kind="corpus" if corpus_relative else "folder")
        (tmp / REPORT_FILE).write_text(json.dumps(report.to_json(), indent=1))
        report_picture(dataset, shown, tmp / REPORT_PICTURE)
        write_shards(dataset, tmp / SHARDS)
    dataset.folder = out
    if merged:  # its readings are in the read cache now
        shutil.rmtree(parts_folder(name))
    return dataset, report


def _no_training_windows(label: str, report: StyleReport) -> str:
    """Why a style has no GAN windows to train on, and what to do, in one line."""
    pieces = report.pieces
    found = f"{pieces['train']} training, {pieces['valid']} validation, {pieces['test']} test piece(s)"
    why = ("the split goes by tune, and about 4 tunes in 5 fall in training" if not pieces["train"] else
           f"no 2-bar window of its training pieces has the melody sounding {MIN_MELODY_SHARE:.0%} of the time")
    return f"{label}: no training windows ({found}: {why}); add pieces, other tunes, and build again"


def _recorded(path: Path, corpus_relative: bool) -> str:
    return str(path.relative_to(corpus_dir())) if corpus_relative else str(path)


def _hash_of(keys: list[str]) -> str:
    return hashlib.sha256("".join(sorted(keys)).encode()).hexdigest()


def write_pieces(dataset: PieceDataset, folder: str | os.PathLike, split: str | None = None,
                 limit: int | None = None) -> list[Path]:
    """Write a dataset's pieces (of one split, the first ``limit``) as MIDI files into ``folder``,
    one per piece, named by its id (``-2``, ``-3``... where two ids give one name): a corpus becomes
    a folder like a learner's own."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pieces = dataset.split(split) if split else dataset.pieces
    written, taken = [], set()
    for piece in pieces[:limit]:
        named = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in Path(piece.id).stem)
        stem = next(n for n in numbered_stems(named) if n.lower() not in taken)  # a/song, b/song: song, song-2
        taken.add(stem.lower())
        written.append(write_midi(piece.roll(), folder / f"{stem}.mid"))
    return written


