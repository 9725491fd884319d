"""The AR-CNN: a U-Net that learns which cells of a piano roll to flip to make it more like Bach.

Training shows it a chorale (8 bars, all voices merged in one track) with notes removed and
stray notes added, and asks for a probability over all cells; the loss is the KL divergence
between that softmax and the uniform distribution over the cells that differ from Bach's.
``enhance`` then flips one cell per iteration, drawn from the temperature softmax, within
DeepComposer's four controls.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from .chorales import ARCNN_WINDOW_STEPS
from .midi import N_PITCHES, PianoRoll

__all__ = ["ArcnnConfig", "ARCNN_CONFIGS", "build_unet", "flip_loss", "corrupt", "CorruptedRolls",
           "save_arcnn", "load_arcnn", "arcnn_folder", "SHIPPED_ARCNN", "enhance", "EditCounts"]

SHIPPED_ARCNN = Path(__file__).resolve().parent.parent / "models" / "arcnn"


@dataclass(frozen=True)
class ArcnnConfig:
    """Architecture and training settings of one AR-CNN."""

    name: str
    pitch_low: int
    n_pitches: int
    filters: int
    depth: int
    batch_size: int = 32
    learning_rate: float = 1e-3
    max_added_share: float = 0.015  # stray notes: up to this share of the empty cells


ARCNN_CONFIGS = {
    # Ours: the 4 octaves the chorales use, a narrow U-Net.
    "default": ArcnnConfig("default", pitch_low=36, n_pitches=48, filters=32, depth=3),
    # The DeepComposer sample's size: a U-Net of 31.9M parameters on the full 128 x 128 roll.
    "reference": ArcnnConfig("reference", pitch_low=0, n_pitches=128, filters=42, depth=5),
}


def build_unet(config: ArcnnConfig) -> keras.Model:
    """Roll (128, P, 1) in {0, 1} -> one logit per cell (128, P, 1)."""
    roll = keras.Input((ARCNN_WINDOW_STEPS, config.n_pitches, 1), name="roll")
    x, skips = roll, []
    for level in range(config.depth):
        width = config.filters * 2**level
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        skips.append(x)
        x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Conv2D(config.filters * 2**config.depth, 3, padding="same", activation="relu")(x)
    for level in reversed(range(config.depth)):
        x = layers.Conv2DTranspose(config.filters * 2**level, 2, strides=2, padding="same")(x)
        skip = skips[level]
        x = layers.Cropping2D(((0, x.shape[1] - skip.shape[1]), (0, x.shape[2] - skip.shape[2])))(x)
        x = layers.Concatenate()([x, skip])
        x = layers.Conv2D(config.filters * 2**level, 3, padding="same", activation="relu")(x)
    logits = layers.Conv2D(1, 1, name="flip_logits")(x)
    return keras.Model(roll, logits, name="arcnn")


def flip_loss(flips: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """KL(uniform over the cells to flip || softmax over all cells), per roll."""
    batch = tf.shape(logits)[0]
    flips = tf.reshape(tf.cast(flips, logits.dtype), (batch, -1))
    log_probs = tf.nn.log_softmax(tf.reshape(logits, (batch, -1)), axis=-1)
    target = flips / tf.maximum(tf.reduce_sum(flips, axis=-1, keepdims=True), 1.0)
    entropy = tf.reduce_sum(tf.where(target > 0, target * tf.math.log(tf.maximum(target, 1e-12)), 0.0), -1)
    return entropy - tf.reduce_sum(target * log_probs, axis=-1)


def corrupt(rolls: np.ndarray, rng: np.random.Generator, max_added_share: float) -> np.ndarray:
    """Remove a random share (0-100 %) of each roll's notes and add up to ``max_added_share``
    of its empty cells; every roll gets at least one change."""
    corrupted = rolls.copy()
    for i, roll in enumerate(rolls):
        on = np.flatnonzero(roll)
        off = np.flatnonzero(roll == 0)
        removed = rng.choice(on, size=int(round(rng.uniform() * len(on))), replace=False) if len(on) else on
        added = rng.choice(off, size=int(rng.integers(0, int(max_added_share * len(off)) + 1)), replace=False)
        if len(removed) + len(added) == 0:
            added = rng.choice(off, size=1)
        flat = corrupted[i].reshape(-1)
        flat[removed] = 0
        flat[added] = 1
    return corrupted


class CorruptedRolls(keras.utils.PyDataset):
    """Batches of (corrupted roll, cells to flip), corrupted afresh every epoch."""

    def __init__(self, rolls: np.ndarray, config: ArcnnConfig, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.rolls, self.config = rolls, config
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(rolls))

    def __len__(self) -> int:
        return math.ceil(len(self.rolls) / self.config.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = self.order[index * self.config.batch_size : (index + 1) * self.config.batch_size]
        target = self.rolls[chosen]
        noisy = corrupt(target, self.rng, self.config.max_added_share)
        return noisy, (noisy != target).astype(np.float32)

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.rolls))


def save_arcnn(model: keras.Model, config: ArcnnConfig, folder: Path) -> None:
    """Weights and config, enough to rebuild the model."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_weights(folder / "arcnn.weights.h5")
    (folder / "config.json").write_text(json.dumps({"config": dataclasses.asdict(config)}, indent=1))


def arcnn_folder(path: str | Path | None = None) -> Path:
    """Where an AR-CNN is saved (``None``: the shipped one); FileNotFoundError if none."""
    base = Path(path) if path is not None else SHIPPED_ARCNN
    for candidate in (base, base / "model"):
        if (candidate / "config.json").is_file() and (candidate / "arcnn.weights.h5").is_file():
            return candidate
    raise FileNotFoundError(f"{base}: no AR-CNN model here (expected config.json and arcnn.weights.h5)")


def load_arcnn(folder: Path) -> tuple[keras.Model, ArcnnConfig]:
    """Rebuild a saved AR-CNN."""
    config = ArcnnConfig(**json.loads((folder / "config.json").read_text())["config"])
    model = build_unet(config)
    model.load_weights(folder / "arcnn.weights.h5")
    return model, config


# --- enhancement --------------------------------------------------------------------------

CHUNK_STEPS = ARCNN_WINDOW_STEPS // 2  # long pieces are edited half a window at a time
CONTEXT_STEPS = ARCNN_WINDOW_STEPS // 4  # with this much music before the chunk in view
MERGED_CENTRE = 62  # the merged chorales' pitches centre around D4


@dataclass
class EditCounts:
    """How far an enhancement has moved from its input, in 16th-note cells."""

    added: int = 0
    removed: int = 0
    iterations: int = 0


def _allowed(cells: np.ndarray, original: np.ndarray, counts: EditCounts,
             max_added: int, max_removed: int) -> np.ndarray:
    """Cells whose flip keeps within the controls."""
    on = cells.astype(bool)
    allowed = np.where(on, ~original | (counts.removed < max_removed), original | (counts.added < max_added))
    return allowed


def _chunks(n_steps: int) -> list[tuple[int, int, int]]:
    """(window start, chunk start, chunk end) covering ``n_steps``."""
    if n_steps <= ARCNN_WINDOW_STEPS:
        return [(0, 0, n_steps)]
    return [(max(0, start - CONTEXT_STEPS), start, min(n_steps, start + CHUNK_STEPS))
            for start in range(0, n_steps, CHUNK_STEPS)]


def enhance(music: PianoRoll, model: keras.Model, config: ArcnnConfig, iterations: int = 100,
            max_notes_added: int = 500, max_removed_pct: float = 100.0, temperature: float = 1.0,
            seed: int = 0, progress=None) -> tuple[PianoRoll, EditCounts]:
    """Add and remove notes to make ``music`` more Bach-like; returns one merged track.

    Each iteration flips one 16th-note cell drawn from softmax(logits / temperature) among the
    cells the controls allow: at most ``max_notes_added`` cells added, at most
    ``max_removed_pct`` percent of the input's cells removed. It stops early when no flip is
    allowed. ``iterations`` is per 8 bars: longer pieces are edited in chunks with context.
    """
    if temperature <= 0:
        raise ValueError("temperature must be above 0")
    rng = np.random.default_rng(seed)
    sounding = music.sounding.any(axis=2)
    struck = music.onsets.any(axis=2)
    pitches = np.nonzero(sounding.any(axis=0))[0]
    centre = pitches.mean() if len(pitches) else MERGED_CENTRE
    shift = 12 * int(round((MERGED_CENTRE - centre) / 12))
    low = config.pitch_low - shift
    high = low + config.n_pitches
    in_view = slice(max(low, 0), min(high, N_PITCHES))
    cells = np.zeros((music.n_steps, config.n_pitches), np.float32)
    offset = max(low, 0) - low
    cells[:, offset : offset + in_view.stop - in_view.start] = sounding[:, in_view]
    original = cells.astype(bool)
    counts = EditCounts()
    max_removed = int(math.floor(max_removed_pct / 100.0 * original.sum()))
    predict = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    window = np.zeros((1, ARCNN_WINDOW_STEPS, config.n_pitches, 1), np.float32)
    chunks = _chunks(music.n_steps)
    for first, start, end in chunks:
        budget = iterations if len(chunks) == 1 else max(1, round(iterations * (end - start) / ARCNN_WINDOW_STEPS))
        share = end / music.n_steps  # the edits allowed so far grow with the music covered
        added_cap, removed_cap = int(max_notes_added * share), int(max_removed * share)
        for _ in range(budget):
            last = min(music.n_steps, first + ARCNN_WINDOW_STEPS)
            window[:] = 0
            window[0, : last - first, :, 0] = cells[first:last]
            logits = np.asarray(predict(window))[0, : last - first, :, 0][start - first : end - first]
            region = cells[start:end]
            allowed = _allowed(region, original[start:end], counts, added_cap, removed_cap)
            if not allowed.any():
                break
            scaled = np.where(allowed, logits / temperature, -np.inf).reshape(-1)
            probs = np.exp(scaled - scaled.max())
            t, p = divmod(int(rng.choice(probs.size, p=probs / probs.sum())), config.n_pitches)
            was_on = region[t, p] > 0
            from_input = original[start + t, p]
            region[t, p] = 0.0 if was_on else 1.0
            if from_input:
                counts.removed += 1 if was_on else -1
            else:
                counts.added += -1 if was_on else 1
            counts.iterations += 1
            if progress is not None:
                progress.update(1)
    out = sounding.copy()
    out[:, in_view] = cells[:, offset : offset + in_view.stop - in_view.start] > 0
    previous = np.vstack([np.zeros((1, N_PITCHES), bool), out[:-1]])
    onsets = out & (~previous | (struck & sounding))
    enhanced = PianoRoll(out, onsets, tempo=music.tempo, time_signature=music.time_signature,
                         pickup_steps=music.pickup_steps, names=["Enhanced"], programs=[music.programs[0]])
    return enhanced, counts
