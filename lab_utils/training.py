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

from .chorales import ChoraleDataset, load_dataset, to_gan_input, transpose_windows
from .gan import CONFIGS, GanConfig, HarmonyGAN, crop, make_optimizers, save_generator
from .harmonize import harmonize
from .metrics import FIGURES, distance_to_bach, figures
from .midi import PianoRoll, write_midi

__all__ = ["window_batches", "training_windows", "train_gan", "TrainingError", "LOG_FILE",
           "load_checkpoint", "LivePlot"]

LOG_FILE = "log.csv"
CHECKPOINT = "checkpoint"
SAMPLE_MELODIES = 6  # validation chorales whose sopranos are harmonized after every chunk
SAMPLE_BARS = 8


class TrainingError(ValueError):
    """A training request that cannot be carried out (one line for the user)."""


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

    def __init__(self, gan: HarmonyGAN, dataset: ChoraleDataset, folder: Path, sample_every: int):
        super().__init__()
        self.gan, self.folder, self.sample_every = gan, folder, sample_every
        self.melodies = sample_melodies(dataset)
        self.ranges = dataset.voice_ranges("train")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        iteration = (epoch + 1) * self.sample_every
        pieces = [harmonize(m, self.gan.generator, self.gan.config, self.ranges, seed=0)
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
    """Redraw the loss and distance curves in the notebook after each chunk."""

    def __init__(self):
        super().__init__()
        self.log: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import clear_output, display

        from .plots import plot_losses

        for key, value in (logs or {}).items():
            self.log.setdefault(key, []).append(float(value))
        clear_output(wait=True)
        figure = plot_losses({k: np.array(v) for k, v in self.log.items()}, smooth=1)
        display(figure)
        plt.close(figure)
        print(f"iteration {int(self.log['iteration'][-1])}: distance to Bach "
              f"{self.log['distance'][-1]:.2f} (goal 1.0)")


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
    whichever comes first. The final generator is also saved as ``folder/generator``.
    """
    folder = Path(folder)
    if config_name not in CONFIGS:
        raise TrainingError(f"unknown config {config_name!r} (choose from {', '.join(CONFIGS)})")
    if iterations is None and minutes is None:
        raise TrainingError("say how long to train: --iterations N or --minutes M")
    has_checkpoint = (folder / CHECKPOINT).exists() or (folder / f"{CHECKPOINT}.old").exists()
    if has_checkpoint and not resume:
        raise TrainingError(f"{folder} already holds a training run; add --resume to continue it "
                            "or choose another folder")
    if resume and not has_checkpoint:
        raise TrainingError(f"{folder} holds no checkpoint to resume")
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
    callbacks = [
        MusicFigures(gan, dataset, folder, sample_every),
        Checkpoint(gan, dataset, folder, sample_every),
        keras.callbacks.CSVLogger(str(folder / LOG_FILE), append=resume),
        TimeLimit(minutes),
        *([LivePlot()] if live_plot else []),
    ]
    history = gan.fit(batches, steps_per_epoch=sample_every, initial_epoch=start // sample_every,
                      epochs=math.ceil(total / sample_every) if iterations else 10**6,
                      callbacks=callbacks, verbose=verbose)
    save_generator(gan.generator, config, dataset.voice_ranges("train"), folder / "generator")
    return history.history
