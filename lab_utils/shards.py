"""A style's training windows as shards on disk, streamed by ``tf.data``: memory stays flat
however large the collection.

A shard is a file of fixed-length records (``tf.data.FixedLengthRecordDataset`` reads them),
one per two-bar window of the training split: the (32, 128, roles) booleans of what sounds,
packed eight pitches to a byte along the pitch axis (``numpy.packbits``, first pitch in the
highest bit), 2,048 bytes for four roles. ``shards.json`` lists every shard with its window
count, its SHA-256 and the pieces it holds, so a missing or damaged shard is named and only it
is written again. The chorales are one shard (3,973 windows), Palestrina five.

Shards hold every pitch and no transposition: the GAN's config crops and transposes as it
streams (``stream_windows``), so one set of shards serves every config.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .midi import N_PITCHES
from .pieces import GAN_WINDOW_STEPS, PieceDataset
from .files import atomic_folder, atomic_path, file_sha256

if TYPE_CHECKING:
    import tensorflow as tf

    from .gan_config import GanConfig

__all__ = ["ShardError", "SHARDS", "SHARD_WINDOWS", "write_shards", "check_shards", "repair_shards",
           "ensure_shards", "stream_windows", "shard_folder"]

SHARDS = "shards"  # in a style's folder
MANIFEST = "shards.json"
SHARD_WINDOWS = 4096  # windows per shard: 8 MB for four roles
FORMAT = 1
SPLIT = "train"  # what training streams; validation and test pieces are read whole


class ShardError(ValueError):
    """Shards that are missing, damaged or of another dataset (one line for the user)."""


def shard_folder(dataset: PieceDataset) -> Path:
    """Where a dataset's shards are: ``shards/`` in its folder."""
    if dataset.folder is None:
        raise ShardError(f"style {dataset.name!r} has no folder to keep its shards in")
    return Path(dataset.folder) / SHARDS


def _record_bytes(n_roles: int) -> int:
    return GAN_WINDOW_STEPS * (N_PITCHES // 8) * n_roles


def _write_shard(dataset: PieceDataset, first: int, path: Path, end: int | None = None) -> dict:
    """Write one shard: the windows of the training pieces from ``first`` on, up to ``end`` or,
    without it, up to the piece that brings them to ``SHARD_WINDOWS``; returns its manifest entry."""
    pieces = dataset.split(SPLIT)
    digest, windows, at = hashlib.sha256(), 0, first
    with atomic_path(path) as tmp, open(tmp, "wb") as file:
        while at < (len(pieces) if end is None else end) and (end is not None or windows < SHARD_WINDOWS):
            sounding = dataset.piece_windows(pieces[at])[0]
            packed = np.packbits(sounding, axis=2).tobytes()
            file.write(packed)
            digest.update(packed)
            windows, at = windows + len(sounding), at + 1
    return {"file": path.name, "windows": windows, "pieces": [first, at], "sha256": digest.hexdigest()}


def write_shards(dataset: PieceDataset, folder: Path) -> dict:
    """Write the training split's windows as shards and their manifest into ``folder`` (whole or
    not at all); one piece at a time, each piece's windows made once, so memory does not grow
    with the collection."""
    with atomic_folder(folder) as tmp:
        shards = [_write_shard(dataset, 0, tmp / f"{SPLIT}-00000.bits")]
        while shards[-1]["pieces"][1] < len(dataset.split(SPLIT)):
            shards.append(_write_shard(dataset, shards[-1]["pieces"][1], tmp / f"{SPLIT}-{len(shards):05d}.bits"))
        manifest = {"format": FORMAT, "source_hash": dataset.source_hash, "split": SPLIT,
                    "shape": [GAN_WINDOW_STEPS, N_PITCHES, len(dataset.roles.names)],
                    "record_bytes": _record_bytes(len(dataset.roles.names)),
                    "packing": "numpy.packbits along the pitch axis, first pitch in the highest bit",
                    "windows": sum(s["windows"] for s in shards), "shards": shards}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def _read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise ShardError(f"{folder}: no shards yet") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ShardError(f"{folder / MANIFEST} is damaged ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise ShardError(f"{folder} holds shards of another format")
    return manifest


def _broken(folder: Path, manifest: dict) -> list[tuple[dict, str]]:
    """The manifest's shards that are missing or differ from it, each with what is wrong."""
    broken = []
    for shard in manifest["shards"]:
        path = folder / shard["file"]
        if not path.is_file():
            broken.append((shard, "missing"))
        elif path.stat().st_size != shard["windows"] * manifest["record_bytes"] or file_sha256(path) != shard["sha256"]:
            broken.append((shard, "damaged (its SHA-256 differs from shards.json)"))
    return broken


def check_shards(dataset: PieceDataset) -> dict:
    """The manifest of a dataset's shards, each shard checked; raises ShardError naming the first
    missing or damaged one and how to write it again."""
    folder = shard_folder(dataset)
    manifest = _read_manifest(folder)
    if manifest["source_hash"] != dataset.source_hash:
        raise ShardError(f"{folder} holds another build's shards")
    broken = _broken(folder, manifest)
    if broken:
        shard, what = broken[0]
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        raise ShardError(f"shard {folder / shard['file']} is {what}{more}; write it again: "
                         f"python -m lab_utils dataset shards --name {dataset.name}")
    return manifest


def repair_shards(dataset: PieceDataset) -> list[str]:
    """Write again only the shards that are missing or damaged (all of them if the manifest is
    missing or of another build); returns the files written."""
    folder = shard_folder(dataset)
    try:
        manifest = _read_manifest(folder)
    except ShardError:
        manifest = None
    if manifest is None or manifest["source_hash"] != dataset.source_hash:
        return [s["file"] for s in write_shards(dataset, folder)["shards"]]
    written = []
    for shard, _ in _broken(folder, manifest):
        entry = _write_shard(dataset, shard["pieces"][0], folder / shard["file"], end=shard["pieces"][1])
        if entry != shard:
            raise ShardError(f"{shard['file']} came out different from shards.json: the dataset changed "
                             f"since; build it again")
        written.append(shard["file"])
    return written


def ensure_shards(dataset: PieceDataset) -> dict:
    """The dataset's checked shards, written first if it has none (the committed chorales and
    Palestrina get theirs on their first training run)."""
    folder = shard_folder(dataset)
    if not (folder / MANIFEST).is_file():
        write_shards(dataset, folder)
    return check_shards(dataset)


def _unpack(record: "tf.Tensor", shape: list[int]) -> "tf.Tensor":
    """One record's bytes -> the (32, 128, roles) booleans they pack."""
    import tensorflow as tf

    packed = tf.reshape(tf.io.decode_raw(record, tf.uint8), (shape[0], shape[1] // 8, 1, shape[2]))
    bits = tf.bitwise.right_shift(packed, tf.constant([7, 6, 5, 4, 3, 2, 1, 0], tf.uint8)[:, None])
    return tf.reshape(tf.cast(tf.bitwise.bitwise_and(bits, 1), tf.bool), shape)


def _transpositions(window: "tf.Tensor", ranges: "tf.Tensor", shifts: "tf.Tensor",
                    moved: "tf.Tensor") -> "tf.data.Dataset":
    """Every shift of ``window`` (pitch axis 1) that keeps each ``moved`` role within its range (a
    silent role fits anywhere; the others, the drums, stay where they are):
    ``pieces.transpose_windows`` for one window, as a dataset."""
    import tensorflow as tf

    present = tf.reduce_any(window, axis=0)  # (pitches, roles)
    pitch = tf.range(tf.shape(window)[1])[:, None]
    big = tf.shape(window)[1]
    low = tf.reduce_min(tf.where(present, pitch, big), axis=0)
    high = tf.reduce_max(tf.where(present, pitch, -1), axis=0)
    fits = (((low[None] + shifts[:, None] >= ranges[None, :, 0]) & (high[None] + shifts[:, None] <= ranges[None, :, 1]))
            | ((high < 0) | ~moved)[None])
    kept = tf.boolean_mask(shifts, tf.reduce_all(fits, axis=1))
    return tf.data.Dataset.from_tensor_slices(kept).map(
        lambda shift: tf.where(moved[None, None], tf.roll(window, shift, axis=1), window))


def stream_windows(dataset: PieceDataset, config: "GanConfig", seed: int, endless: bool = True,
                   shuffle_records: int = 16384) -> "tf.data.Dataset":
    """Training windows from the shards (``ensure_shards`` or ``check_shards`` first), shuffled (records in a buffer of ``shuffle_records``,
    the shards' order each pass), cropped to the config's pitches and transposed as it asks:
    (32, P, roles) booleans; ``endless`` repeats them, else one pass."""
    import tensorflow as tf

    folder = shard_folder(dataset)
    manifest = _read_manifest(folder)
    shape = manifest["shape"]
    files = [str(folder / s["file"]) for s in manifest["shards"] if s["windows"]]
    if not files:
        raise ShardError(f"style {dataset.name!r} has no training windows (every piece is in valid or test, "
                         "or too short): add pieces")
    ranges = tf.constant([(low - config.pitch_low, high - config.pitch_low)
                          for low, high in dataset.voice_ranges(SPLIT)], tf.int32)
    shifts = tf.range(-config.transpose, config.transpose + 1, dtype=tf.int32)
    moved = tf.constant([not drums for drums in dataset.roles.drums])
    low, width = config.pitch_low, config.n_pitches
    records = (tf.data.Dataset.from_tensor_slices(files)
               .shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
               .interleave(lambda f: tf.data.FixedLengthRecordDataset(f, manifest["record_bytes"]),
                           cycle_length=min(4, len(files)))
               .shuffle(shuffle_records, seed=seed, reshuffle_each_iteration=True))
    records = records.repeat() if endless else records
    windows = records.map(lambda r: _unpack(r, shape)[:, low : low + width], num_parallel_calls=tf.data.AUTOTUNE,
                          deterministic=True)
    if config.transpose:  # a window's transpositions come together: a second buffer spreads them
        windows = windows.flat_map(lambda w: _transpositions(w, ranges, shifts, moved)) \
            .shuffle(8 * len(shifts) * 64, seed=seed + 1, reshuffle_each_iteration=True)
    return windows
