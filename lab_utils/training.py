"""Training the GAN with ``fit``: batches, callbacks, atomic checkpoints, resume, time limits.

``fit`` runs in chunks of ``sample_every`` iterations (a Keras "epoch"). After each chunk the
callbacks harmonize a few validation melodies (musical figures into the CSV log, a piano
roll and MIDI into ``samples/``), write a checkpoint, and stop when time is up.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from .arcnn import ARCNN_CONFIGS, ArcnnConfig, build_unet, corrupt, flip_loss, save_arcnn
from .chorales import ChoraleDataset, load_dataset, to_gan_input, transpose_windows
from .gan import CONFIGS, GanConfig, HarmonyGAN, crop, make_optimizers, save_generator
from .harmonize import decoder_for, harmonize
from .metrics import FIGURES, distance_to_bach, figures
from .midi import PianoRoll, write_midi
from .runs import TrainingError, check_run_folder
from .voice_leading import Decoder, count_voice_leading, save_decoder

__all__ = ["window_batches", "training_windows", "train_gan", "TrainingError", "LOG_FILE",
           "load_checkpoint", "LivePlot", "train_arcnn", "arcnn_rolls", "CorruptedRolls"]

LOG_FILE = "log.csv"
CHECKPOINT = "checkpoint"
SAMPLE_MELODIES = 6  # validation chorales whose sopranos are harmonized after every chunk
SAMPLE_BARS = 8


def window_batches(windows: np.ndarray, config: GanConfig, seed: int) -> tf.data.Dataset:
    """Endless shuffled batches of ``critic_steps * batch_size`` windows: one per iteration."""
    per_iteration = config.critic_steps * config.batch_size
    return (tf.data.Dataset.from_tensor_slices(windows)
            .shuffle(len(windows), seed=seed, reshuffle_each_iteration=True)
            .repeat()
            .batch(per_iteration, drop_remainder=True)
            .prefetch(2))


def training_windows(dataset: ChoraleDataset, config: GanConfig) -> np.ndarray:
    """The training split's windows, transposed as the config asks, cropped, in {-1, 1}."""
    sounding, onsets = dataset.gan_windows("train")
    if config.transpose:
        sounding, _ = transpose_windows(sounding, onsets, dataset.voice_ranges("train"),
                                        shifts=range(-config.transpose, config.transpose + 1))
    return to_gan_input(crop(sounding, config))


def sample_melodies(dataset: ChoraleDataset, n: int = SAMPLE_MELODIES) -> list[tuple[PianoRoll, PianoRoll]]:
    """(soprano, Bach's four voices) for the first bars of ``n`` validation chorales."""
    pairs = []
    for chorale in dataset.split("valid")[:n]:
        roll = chorale.roll()
        end = chorale.pickup_steps + SAMPLE_BARS * chorale.steps_per_bar
        bach = PianoRoll(roll.sounding[:end], roll.onsets[:end], tempo=roll.tempo,
                         time_signature=roll.time_signature, pickup_steps=roll.pickup_steps,
                         names=roll.names, programs=roll.programs)
        pairs.append((bach.track(0), bach))
    return pairs


class MusicFigures(keras.callbacks.Callback):
    """After each chunk: harmonize validation melodies, log their figures, keep a sample."""

    def __init__(self, gan: HarmonyGAN, dataset: ChoraleDataset, folder: Path, sample_every: int,
                 decoder: Decoder):
        super().__init__()
        self.gan, self.folder, self.sample_every, self.decoder = gan, folder, sample_every, decoder
        self.melodies = sample_melodies(dataset)
        self.ranges = dataset.voice_ranges("train")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        iteration = (epoch + 1) * self.sample_every
        pieces = [harmonize(m, self.gan.generator, self.gan.config, self.ranges, seed=0, decoder=self.decoder)
                  for m, _ in self.melodies]
        values = [figures(p) for p in pieces]
        for f in FIGURES:
            logs[f] = float(np.nanmean([v[f] for v in values]))
        logs["distance"] = float(np.mean([distance_to_bach(v) for v in values]))
        logs["iteration"] = iteration
        samples = self.folder / "samples"
        samples.mkdir(parents=True, exist_ok=True)
        write_midi(pieces[0], samples / f"iteration_{iteration:06d}.mid")
        _save_picture(pieces[0], samples / f"iteration_{iteration:06d}.png", f"after {iteration} iterations")


def _save_picture(roll: PianoRoll, path: Path, title: str) -> None:
    import matplotlib.pyplot as plt

    from .plots import plot_pianoroll

    ax = plot_pianoroll(roll, title=title)
    ax.figure.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(ax.figure)


class Checkpoint(keras.callbacks.Callback):
    """Save generator, critic and optimizer states whole or not at all, after each chunk."""

    def __init__(self, gan: HarmonyGAN, dataset: ChoraleDataset, folder: Path, sample_every: int):
        super().__init__()
        self.gan, self.folder, self.sample_every = gan, folder, sample_every
        self.ranges = dataset.voice_ranges("train")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        save_checkpoint(self.gan, self.folder, (epoch + 1) * self.sample_every, self.ranges)


class LivePlot(keras.callbacks.Callback):
    """Redraw the training curves in the notebook after each chunk (or epoch)."""

    def __init__(self, keys: tuple[str, ...] = ("critic_loss", "generator_loss", "wasserstein", "distance")):
        super().__init__()
        self.keys = keys
        self.log: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import clear_output, display

        from .plots import plot_curves

        for key, value in (logs or {}).items():
            self.log.setdefault(key, []).append(float(value))
        clear_output(wait=True)
        figure = plot_curves({k: np.array(v) for k, v in self.log.items()}, self.keys, smooth=1)
        display(figure)
        plt.close(figure)
        print(", ".join(f"{k} {self.log[k][-1]:.3f}" for k in self.keys if k in self.log))


class TimeLimit(keras.callbacks.Callback):
    """Stop after ``minutes`` of training (checked after each chunk)."""

    def __init__(self, minutes: float | None):
        super().__init__()
        self.minutes, self.started = minutes, time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.minutes is not None and time.perf_counter() - self.started >= 60 * self.minutes:
            self.model.stop_training = True


def save_checkpoint(gan: HarmonyGAN, folder: Path, iteration: int, ranges: list) -> None:
    """Write to ``checkpoint.tmp``, then swap it in: a crash never leaves half a checkpoint."""
    tmp, final, old = folder / f"{CHECKPOINT}.tmp", folder / CHECKPOINT, folder / f"{CHECKPOINT}.old"
    shutil.rmtree(tmp, ignore_errors=True)
    save_generator(gan.generator, gan.config, ranges, tmp)
    gan.critic.save_weights(tmp / "critic.weights.h5")
    for name, optimizer in (("critic", gan.critic_optimizer), ("generator", gan.generator_optimizer)):
        store: dict = {}
        optimizer.save_own_variables(store)
        np.savez(tmp / f"{name}_optimizer.npz", **store)
    (tmp / "state.json").write_text(json.dumps({"iteration": iteration}))
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _checkpoint_path(folder: Path) -> Path:
    """The checkpoint folder, or the previous one if a crash fell between the two renames."""
    path = folder / CHECKPOINT
    return path if path.exists() else folder / f"{CHECKPOINT}.old"


def load_checkpoint(gan: HarmonyGAN, folder: Path) -> int:
    """Restore a checkpoint into ``gan``; returns the iteration it was taken at."""
    path = _checkpoint_path(folder)
    gan.generator.load_weights(path / "generator.weights.h5")
    gan.critic.load_weights(path / "critic.weights.h5")
    for name, optimizer, model in (("critic", gan.critic_optimizer, gan.critic),
                                   ("generator", gan.generator_optimizer, gan.generator)):
        optimizer.build(model.trainable_variables)
        with np.load(path / f"{name}_optimizer.npz") as store:
            optimizer.load_own_variables({k: store[k] for k in store.files})
    return int(json.loads((path / "state.json").read_text())["iteration"])


def train_gan(folder: str | Path, config_name: str = "default", iterations: int | None = None,
              minutes: float | None = None, resume: bool = False, sample_every: int = 25,
              dataset: ChoraleDataset | None = None, verbose: int = 1, seed: int = 0,
              live_plot: bool = False) -> dict:
    """Train (or resume training) a GAN in ``folder``; returns the Keras history.

    Stops after ``iterations`` in all (counting earlier runs when resuming) or ``minutes``,
    whichever comes first. The final generator is also saved as ``folder/generator``, with the
    decoder that turns its output into voices (``decoder.json``: the training split's voice
    leading, counted, and the shipped model's weights; ``scripts/tune_decoder.py`` tunes them).
    """
    folder = Path(folder)
    if config_name not in CONFIGS:
        raise TrainingError(f"unknown config {config_name!r} (choose from {', '.join(CONFIGS)})")
    if iterations is None and minutes is None:
        raise TrainingError("say how long to train: --iterations N or --minutes M")
    check_run_folder(folder, resume, CHECKPOINT)
    if resume:
        saved = json.loads((_checkpoint_path(folder) / "config.json").read_text())["config"]["name"]
        if saved != config_name:
            raise TrainingError(f"{folder} was trained with --config {saved}, not {config_name}")
    keras.utils.set_random_seed(seed)
    config = CONFIGS[config_name]
    dataset = dataset or load_dataset(progress=False)
    gan = HarmonyGAN(config)
    gan.compile(*make_optimizers(config))
    start = load_checkpoint(gan, folder) if resume else 0
    total = iterations if iterations is not None else 10**9
    if start >= total:
        raise TrainingError(f"{folder} has already trained {start} iterations (asked for {total})")
    folder.mkdir(parents=True, exist_ok=True)
    batches = window_batches(training_windows(dataset, config), config, seed)
    # the training split's voice leading, weighed as the shipped decoder weighs it
    decoder = Decoder(count_voice_leading(dataset.split("train")), decoder_for().weights)
    callbacks = [
        MusicFigures(gan, dataset, folder, sample_every, decoder),
        Checkpoint(gan, dataset, folder, sample_every),
        keras.callbacks.CSVLogger(str(folder / LOG_FILE), append=resume),
        TimeLimit(minutes),
        *([LivePlot()] if live_plot else []),
    ]
    history = gan.fit(batches, steps_per_epoch=sample_every, initial_epoch=start // sample_every,
                      epochs=math.ceil(total / sample_every) if iterations else 10**6,
                      callbacks=callbacks, verbose=verbose)
    save_generator(gan.generator, config, dataset.voice_ranges("train"), folder / "generator")
    save_decoder(decoder, folder / "generator")
    return history.history


# --- the AR-CNN ----------------------------------------------------------------------------

def arcnn_rolls(dataset: ChoraleDataset, split: str, config: ArcnnConfig) -> np.ndarray:
    """A split's 8-bar merged rolls with the pitch axis cropped to the config's range."""
    rolls = dataset.arcnn_rolls(split)
    return rolls[:, :, config.pitch_low : config.pitch_low + config.n_pitches]


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


def train_arcnn(folder: str | Path, epochs: int | None = None, minutes: float | None = None,
                resume: bool = False, dataset: ChoraleDataset | None = None, verbose: int = 1,
                seed: int = 0, live_plot: bool = False, limit: int | None = None) -> dict:
    """Train (or resume) the AR-CNN in ``folder``; the best model on validation is ``folder/model``.

    Stops after ``epochs`` in all or ``minutes``, whichever comes first. ``limit`` keeps only
    the first training and validation rolls (for quick runs).
    """
    folder = Path(folder)
    backup = folder / "backup"
    if epochs is None and minutes is None:
        raise TrainingError("say how long to train: --epochs N or --minutes M")
    check_run_folder(folder, resume, backup.name)
    keras.utils.set_random_seed(seed)
    config = ARCNN_CONFIGS["default"]
    dataset = dataset or load_dataset(progress=False)
    valid = arcnn_rolls(dataset, "valid", config)[:limit]
    valid_noisy = corrupt(valid, np.random.default_rng(seed + 1), config.max_added_share)
    model = build_unet(config)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=flip_loss)
    folder.mkdir(parents=True, exist_ok=True)
    save_arcnn(model, config, folder / "model")  # config now, best weights as they come
    callbacks = [
        keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False),  # resumable when done too
        keras.callbacks.ModelCheckpoint(str(folder / "model" / "arcnn.weights.h5"), monitor="val_loss",
                                        save_best_only=True, save_weights_only=True),
        keras.callbacks.CSVLogger(str(folder / LOG_FILE), append=resume),
        TimeLimit(minutes),
        *([LivePlot(keys=("loss", "val_loss"))] if live_plot else []),
    ]
    history = model.fit(CorruptedRolls(arcnn_rolls(dataset, "train", config)[:limit], config, seed=seed),
                        validation_data=(valid_noisy, (valid_noisy != valid).astype(np.float32)),
                        epochs=epochs or 10**6, callbacks=callbacks, verbose=verbose)
    best = build_unet(config)  # the best weights without the optimizer state: a third the size
    best.load_weights(folder / "model" / "arcnn.weights.h5")
    save_arcnn(best, config, folder / "model", fast_copy=True)
    return history.history
