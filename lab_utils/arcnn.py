"""The AR-CNN: a U-Net that learns which cells of a piano roll to flip to make it more like Bach.

Training shows it a chorale (8 bars, all voices merged in one track) with notes removed and
stray notes added, and asks for a probability over all cells; the loss is the KL divergence
between that softmax and the uniform distribution over the cells that differ from Bach's.
``enhance`` then draws one cell per iteration from the temperature softmax and makes the note
edit it stands for (``note_edits``: notes of at least an 8th), within DeepComposer's four controls.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .pieces import ARCNN_WINDOW_STEPS
from .files import REPOSITORY
from .midi import EIGHTH, N_PITCHES, PianoRoll
from .note_edits import EditableNotes, EditCounts
from .runtime import KerasRunner, LiteRunner, as_runner, export_tflite, import_tensorflow, load_runner

Scorer = Callable[[np.ndarray], np.ndarray]  # window (1, 128, P, 1) -> flip logits (128, P)

__all__ = ["ArcnnConfig", "ARCNN_CONFIGS", "build_unet", "flip_loss", "corrupt",
           "save_arcnn", "load_arcnn", "arcnn_folder", "SHIPPED_ARCNN", "enhance", "EditCounts",
           "load_scorer", "scorer", "Scorer", "Enhancer", "load_enhancer"]

SHIPPED_ARCNN = REPOSITORY / "models" / "arcnn"
ARCNN_WEIGHTS = "arcnn.weights.h5"  # the Keras weights, to train on
ARCNN_TFLITE = "arcnn.tflite"  # the LiteRT copy, to run


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


def build_unet(config: ArcnnConfig):
    """Roll (128, P, 1) in {0, 1} -> one logit per cell (128, P, 1), a Keras model."""
    import_tensorflow()  # its C++ start-up lines hidden, before Keras loads it
    import keras
    from keras import layers

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


def flip_loss(flips, logits):
    """KL(uniform over the cells to flip || softmax over all cells), per roll."""
    tf = import_tensorflow()

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


def save_arcnn(model, config: ArcnnConfig, folder: Path, lite_copy: bool = False) -> None:
    """Weights and config, enough to rebuild the Keras model; with ``lite_copy`` also its LiteRT
    copy (``arcnn.tflite``) that enhances without TensorFlow."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_weights(folder / ARCNN_WEIGHTS)
    (folder / "config.json").write_text(json.dumps({"config": dataclasses.asdict(config)}, indent=1))
    if lite_copy:
        export_tflite(model, folder / ARCNN_TFLITE)


def arcnn_folder(path: str | Path | None = None) -> Path:
    """Where an AR-CNN is saved (``None``: the shipped one); FileNotFoundError if none."""
    base = Path(path) if path is not None else SHIPPED_ARCNN
    for candidate in (base, base / "model"):
        if (candidate / "config.json").is_file() and (candidate / ARCNN_WEIGHTS).is_file():
            return candidate
    raise FileNotFoundError(f"{base}: no AR-CNN model here (expected config.json and arcnn.weights.h5)")


def load_arcnn(folder: Path):
    """Rebuild a saved AR-CNN: (Keras model, config)."""
    model = build_unet(_config(folder))
    model.load_weights(folder / ARCNN_WEIGHTS)
    return model, _config(folder)


def _config(folder: Path) -> ArcnnConfig:
    return ArcnnConfig(**json.loads((folder / "config.json").read_text())["config"])


def load_scorer(folder: Path, runtime: str | None = None) -> tuple[Scorer, ArcnnConfig]:
    """A saved AR-CNN as a scorer: its LiteRT copy where it can (``runtime.load_runner``),
    else the Keras model."""
    runner = load_runner(folder / ARCNN_TFLITE, lambda: load_arcnn(folder)[0], runtime)
    return scorer(runner), _config(folder)


def scorer(model) -> Scorer:
    """A Keras AR-CNN or a runner as a scorer (a scorer is returned as it is)."""
    if not isinstance(model, (LiteRunner, KerasRunner)) and not hasattr(model, "layers"):
        return model
    runner = as_runner(model)
    return lambda window: runner(roll=window)[0, :, :, 0]


# --- enhancement --------------------------------------------------------------------------

CHUNK_STEPS = ARCNN_WINDOW_STEPS // 2  # long pieces are edited half a window at a time
CONTEXT_STEPS = ARCNN_WINDOW_STEPS // 4  # with this much music before the chunk in view
MERGED_CENTRE = 62  # the merged chorales' pitches centre around D4
EDITS_PER_PASS = 4  # edits drawn from one forward pass (notes far apart barely interact)
ADD_REACH = 12  # semitones beyond the music's lowest and highest pitch where notes may be added


def _chunks(n_steps: int) -> list[tuple[int, int, int]]:
    """(window start, chunk start, chunk end) covering ``n_steps``."""
    if n_steps <= ARCNN_WINDOW_STEPS:
        return [(0, 0, n_steps)]
    return [(max(0, start - CONTEXT_STEPS), start, min(n_steps, start + CHUNK_STEPS))
            for start in range(0, n_steps, CHUNK_STEPS)]


def enhance(music: PianoRoll, model, config: ArcnnConfig, iterations: int = 100,
            max_notes_added: int = 500, max_removed_pct: float = 100.0, temperature: float = 1.0,
            seed: int = 0, edits_per_pass: int = EDITS_PER_PASS, progress=None,
            kept_track: int | None = None) -> tuple[PianoRoll, EditCounts]:
    """Add and remove notes to make ``music`` more Bach-like.

    ``model`` is a Keras AR-CNN or a scorer from ``load_scorer``.

    Each iteration draws one cell from softmax(logits / temperature) among the cells whose
    edit the controls allow, and makes the note edit it stands for (``note_edits``): at most
    ``max_notes_added`` notes added, at most ``max_removed_pct`` percent of the input's notes
    removed or shortened. It stops early when no edit is allowed. ``iterations`` is per 8 bars:
    longer pieces are edited in chunks with context. A one-track input comes back as one track;
    a piece of several voices keeps them, with the added notes (between beats only, so the
    voice leading on the beats stays as it was) in one more track. No note of ``kept_track``
    (the studio's "both": the user's melody, track 0) is removed or shortened.
    """
    if temperature <= 0:
        raise ValueError("temperature must be above 0")
    rng = np.random.default_rng(seed)
    sounding = music.sounding.any(axis=2)
    pitches = np.nonzero(sounding.any(axis=0))[0]
    centre = pitches.mean() if len(pitches) else MERGED_CENTRE
    shift = 12 * int(round((MERGED_CENTRE - centre) / 12))
    low = config.pitch_low - shift
    voices = music.n_tracks > 1
    edits = EditableNotes.from_roll(music, low, config.n_pitches, off_beats_only=voices, kept_track=kept_track)
    columns = np.arange(config.n_pitches) + low
    near = np.zeros(config.n_pitches, bool)  # new notes stay within an octave of the music
    if len(pitches):
        near = (columns >= max(pitches.min() - ADD_REACH, 0)) & (columns <= min(pitches.max() + ADD_REACH, N_PITCHES - 1))
    n_input = sum(len(music.notes(k)) for k in range(music.n_tracks))
    max_removed = int(math.floor(max_removed_pct / 100.0 * n_input))
    added_track = music.n_tracks if voices else 0
    score = scorer(model)
    window = np.zeros((1, ARCNN_WINDOW_STEPS, config.n_pitches, 1), np.float32)
    chunks = _chunks(music.n_steps)
    counts = edits.counts
    for first, start, end in chunks:
        budget = iterations if len(chunks) == 1 else max(1, round(iterations * (end - start) / ARCNN_WINDOW_STEPS))
        # the edits allowed so far grow with the music covered (whole numbers: any budget fits)
        added_cap, removed_cap = (max_notes_added * end // music.n_steps, max_removed * end // music.n_steps)
        done = 0
        while done < budget:
            last = min(music.n_steps, first + ARCNN_WINDOW_STEPS)
            window[:] = 0
            window[0, : last - first, :, 0] = edits.cells[first:last]
            logits = score(window)[: last - first][start - first : end - first]
            touched = np.zeros(logits.shape, bool)
            for _ in range(min(edits_per_pass, budget - done)):
                allowed = edits.allowed(start, end, near, counts.added < added_cap,
                                        counts.removed < removed_cap) & ~touched
                if not allowed.any():
                    break
                with np.errstate(over="ignore"):  # any temperature above 0, however small or large
                    scaled = (logits.astype(np.float64) - logits[allowed].max()) / temperature
                    probs = np.where(allowed, np.exp(scaled), 0.0).reshape(-1)
                t, p = divmod(int(rng.choice(probs.size, p=probs / probs.sum())), config.n_pitches)
                edits.flip(start + t, p, added_track)
                touched[max(0, t - EIGHTH) : t + EIGHTH + 1, p] = True
                done += 1
                if progress is not None:
                    progress.update(1)
            else:
                continue
            break  # no allowed edit left in this chunk
    tracks = edits.tracks(music.n_tracks + voices, low)
    for k in range(music.n_tracks):  # notes beyond the model's pitches are kept as they were
        tracks[k] += [n for n in music.notes(k) if not low <= n.pitch < low + config.n_pitches]
    names = [*music.names, "AR-CNN"] if voices else ["Enhanced"]
    programs = [*music.programs, music.programs[0]] if voices else [music.programs[0]]
    enhanced = PianoRoll.from_notes(tracks, n_steps=music.n_steps, tempo=music.tempo,
                                    time_signature=music.time_signature, pickup_steps=music.pickup_steps,
                                    names=names, programs=programs)
    return enhanced, counts


@dataclass
class Enhancer:
    """A loaded AR-CNN: call it with music and ``enhance``'s controls for (enhanced, counts)."""

    scorer: Scorer
    config: ArcnnConfig
    folder: Path  # where the model was loaded from

    def __call__(self, music: PianoRoll, **controls) -> tuple[PianoRoll, EditCounts]:
        return enhance(music, self.scorer, self.config, **controls)


def load_enhancer(folder: str | Path | None = None, runtime: str | None = None) -> Enhancer:
    """The shipped AR-CNN, or a trained ``folder``, on LiteRT where it can (``runtime`` chooses).
    Raises FileNotFoundError where there is no model."""
    found = arcnn_folder(folder)
    score, config = load_scorer(found, runtime)
    return Enhancer(score, config, found)
