"""Training the GAN with ``fit``: batches, callbacks, atomic checkpoints, resume, time limits.

``fit`` runs in chunks of ``sample_every`` iterations (a Keras "epoch"). After each chunk the
callbacks harmonize a few validation melodies (musical figures into the CSV log, a piano
roll and MIDI into ``samples/``), write a checkpoint, and stop when time is up.

A run survives being killed at any moment: checkpoints and final models are folders swapped in
whole (``files.atomic_folder``), each chunk is logged before its checkpoint is written, and
resuming trims the log back to the checkpoint (``runs.trim_log``), so every chunk is logged once.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .arcnn import ARCNN_CONFIGS, ARCNN_WEIGHTS, ArcnnConfig, build_unet, corrupt, flip_loss, save_arcnn
from .chorales import bach_reference, load_dataset
from .distribute import (fingerprint, is_chief, lost_workers_said, make_strategy, scaled_config, stop_together,
                         worker_name)
from .files import atomic_folder, complete_folder
from .gan import CONFIGS, HarmonyGAN, make_optimizers, save_generator
from .gan_config import CHECKPOINT, run_config
from .harmonize import decoder_for, harmonize
from .metrics import FIGURES, distance_to_bach, figures, reference_from
from .midi import PianoRoll, write_midi
from .pieces import PieceDataset
from .runtime import import_tensorflow
from .runs import TrainingError, check_run_folder, log_history, trim_log
from .shards import check_shards, ensure_shards, stream_windows
from .two_sample import told_apart
from .voice_leading import Decoder, count_voice_leading, save_decoder

tf = import_tensorflow()  # TensorFlow's C++ start-up lines hidden, before Keras loads it
import keras  # noqa: E402

__all__ = ["window_batches", "train_gan", "TrainingError", "LOG_FILE", "load_checkpoint", "LivePlot", "TimeLimit",
           "Backup", "restore_backup", "say_device", "train_arcnn", "arcnn_rolls", "CorruptedRolls"]

LOG_FILE = "log.csv"
GENERATOR = "generator"  # the GAN's final generator and decoder
BACKUP = "backup"  # the AR-CNN's training state
MODEL = "model"  # the AR-CNN's best weights on validation
SAMPLE_MELODIES = 12  # validation chorales whose sopranos are harmonized after every chunk (12: the
# classifier test's quick form gets about 50 windows a side; 6 gave it too few to read a trend)
SAMPLE_BARS = 8


def window_batches(dataset: PieceDataset, gan: HarmonyGAN, seed: int,
                   strategy: tf.distribute.Strategy | None = None) -> tf.data.Dataset:
    """Endless batches of one iteration each, streamed from the dataset's shards, as
    ``gan.batch_parts`` lays them out: the windows in the GAN's {-1, +1}, with the random numbers
    the iteration uses, drawn here from ``seed`` and the batch's number.

    Under a ``strategy`` of several replicas every worker draws the same global batches and
    hands each of its replicas its own slice of them, numbers included: one device and several
    train on the same windows and the same numbers.
    """
    config = gan.config
    steps, parts = config.critic_steps, gan.batch_parts()

    def with_randomness(number: tf.Tensor, windows: tf.Tensor) -> tf.Tensor:
        batch = tf.shape(windows)[0] // steps
        windows = tf.where(windows, 1.0, -1.0)
        windows = tf.transpose(tf.reshape(windows, (steps, batch, *windows.shape[1:])), (1, 0, 2, 3, 4))
        seeds = tf.stack([tf.cast(seed, tf.int64), number])
        noise = tf.random.stateless_normal((batch, *parts["noise"]), seeds)
        alpha = tf.random.stateless_uniform((batch, *parts["alpha"]), seeds + 1)
        return tf.concat([tf.reshape(x, (batch, -1)) for x in (windows, noise, alpha)], axis=1)

    batches = (stream_windows(dataset, config, seed)
               .batch(steps * config.batch_size, drop_remainder=True)
               .enumerate()
               .map(with_randomness, num_parallel_calls=tf.data.AUTOTUNE))
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if replicas == 1:
        return batches.prefetch(2)

    def this_workers_slices(context: tf.distribute.InputContext) -> tf.data.Dataset:
        slices = batches.flat_map(lambda batch: tf.data.Dataset.from_tensor_slices(
            tf.reshape(batch, (replicas, -1, batch.shape[1]))))
        return slices.shard(context.num_input_pipelines, context.input_pipeline_id).prefetch(2)

    return strategy.distribute_datasets_from_function(this_workers_slices)


def _watched(dataset: PieceDataset) -> list:
    """The pieces training is watched on: the validation split (a tiny style may have none: then
    the training split, which says less)."""
    return dataset.split("valid") or dataset.split("train")


def sample_melodies(dataset: PieceDataset, n: int = SAMPLE_MELODIES) -> list[tuple[PianoRoll, PianoRoll]]:
    """(soprano, Bach's four voices) for the first bars of ``n`` validation chorales."""
    pairs = []
    for chorale in _watched(dataset)[:n]:
        roll = chorale.roll()
        end = chorale.opening_steps(SAMPLE_BARS)
        bach = PianoRoll(roll.sounding[:end], roll.onsets[:end], tempo=roll.tempo,
                         time_signature=roll.time_signature, pickup_steps=roll.pickup_steps,
                         names=roll.names, programs=roll.programs)
        pairs.append((bach.track(0), bach))
    return pairs


class MusicFigures(keras.callbacks.Callback):
    """After each chunk: harmonize validation melodies, log their figures, keep a sample."""

    def __init__(self, gan: HarmonyGAN, dataset: PieceDataset, folder: Path, sample_every: int,
                 decoder: Decoder | None):
        super().__init__()
        self.gan, self.folder, self.sample_every, self.decoder = gan, folder, sample_every, decoder
        self.melodies = sample_melodies(dataset)
        self.ranges, self.roles = dataset.voice_ranges("train"), dataset.roles
        # the distance is to Bach's figures, or to another style's own validation pieces
        self.reference = bach_reference() if dataset.name == "bach" else \
            reference_from([figures(c.roll()) for c in _watched(dataset)])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        iteration = (epoch + 1) * self.sample_every
        pieces = [harmonize(m, self.gan.generator, self.gan.config, self.ranges, seed=0, decoder=self.decoder,
                            roles=self.roles) for m, _ in self.melodies]
        values = [figures(p) for p in pieces]
        for f in FIGURES:
            logs[f] = float(np.nanmean([v[f] for v in values]))
        logs["distance"] = float(np.mean([distance_to_bach(v, self.reference) for v in values]))
        try:
            logs["told_apart"] = told_apart([piece for _, piece in self.melodies], pieces).accuracy
        except ValueError:  # a tiny style: fewer than two watched pieces of two bars, nothing to tell apart
            logs["told_apart"] = float("nan")
        logs["iteration"] = iteration
        samples = self.folder / "samples"
        samples.mkdir(parents=True, exist_ok=True)
        write_midi(pieces[0], samples / f"iteration_{iteration:06d}.mid")
        _save_picture(pieces[0], samples / f"iteration_{iteration:06d}.png", f"after {iteration} iterations")


def _save_picture(roll: PianoRoll, path: Path, title: str) -> None:
    import matplotlib.pyplot as plt

    from .plots import plot_pianoroll  # heavy (matplotlib)

    ax = plot_pianoroll(roll, title=title)
    ax.figure.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(ax.figure)


class Checkpoint(keras.callbacks.Callback):
    """Save generator, critic and optimizer states whole or not at all, after each chunk."""

    def __init__(self, gan: HarmonyGAN, dataset: PieceDataset, folder: Path, sample_every: int):
        super().__init__()
        self.gan, self.folder, self.sample_every = gan, folder, sample_every
        self.ranges, self.dataset = dataset.voice_ranges("train"), dataset

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        save_checkpoint(self.gan, self.folder, (epoch + 1) * self.sample_every, self.dataset)


class LivePlot(keras.callbacks.Callback):
    """Redraw the training curves in the notebook after each chunk (or epoch), with a line under
    them: the iteration (or epoch), the minutes since this training started, and the last values."""

    def __init__(self, keys: tuple[str, ...] = ("critic_loss", "generator_loss", "wasserstein", "told_apart")):
        super().__init__()
        self.keys = keys
        self.log: dict[str, list[float]] = {}
        self.started = time.perf_counter()  # made just before training starts

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import clear_output, display

        from .plots import CURVE_TITLES, plot_curves  # heavy (matplotlib)

        for key, value in (logs or {}).items():
            self.log.setdefault(key, []).append(float(value))
        if "iteration" not in self.log:  # epochs from 1, and a resumed run goes on from its own
            self.log.setdefault("epoch", []).append(epoch + 1)
        clear_output(wait=True)
        figure = plot_curves({k: np.array(v) for k, v in self.log.items()}, self.keys, smooth=1)
        display(figure)
        plt.close(figure)
        where = "iteration" if "iteration" in self.log else "epoch"
        minutes = (time.perf_counter() - self.started) / 60
        print(f"{where} {self.log[where][-1]:g}, {minutes:.1f} min after this training started: "
              + ", ".join(f"{CURVE_TITLES.get(k, k.replace('_', ' '))} {self.log[k][-1]:.3g}"
                          for k in self.keys if k in self.log))


def say_device() -> None:
    """One line: the GPUs TensorFlow trains on, or that it trains on the CPU."""
    gpus = tf.config.list_physical_devices("GPU")
    names = [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus]
    print(f"training on {', '.join(names) or 'the CPU (TensorFlow sees no GPU)'}", flush=True)


class TimeLimit(keras.callbacks.Callback):
    """Stop after ``minutes`` of training (checked after each chunk; on several machines, all stop
    when the first reaches it)."""

    def __init__(self, minutes: float | None, strategy: tf.distribute.Strategy | None = None):
        super().__init__()
        self.minutes, self.started = minutes, time.perf_counter()
        self.strategy = strategy or tf.distribute.get_strategy()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.minutes is not None:
            late = time.perf_counter() - self.started >= 60 * self.minutes
            self.model.stop_training = stop_together(self.strategy, late)


def save_checkpoint(gan: HarmonyGAN, folder: Path, iteration: int, dataset: PieceDataset) -> None:
    """Generator, critic and optimizer states in ``checkpoint/``, swapped in whole: a crash
    never leaves half a checkpoint."""
    with atomic_folder(folder / CHECKPOINT) as tmp:
        save_generator(gan.generator, gan.config, dataset.voice_ranges("train"), tmp, roles=dataset.roles,
                       style=dataset.name)
        gan.critic.save_weights(tmp / "critic.weights.h5")
        for name, optimizer in (("critic", gan.critic_optimizer), ("generator", gan.generator_optimizer)):
            store: dict = {}
            optimizer.save_own_variables(store)
            np.savez(tmp / f"{name}_optimizer.npz", **store)
        (tmp / "state.json").write_text(json.dumps({"iteration": iteration}))


def load_checkpoint(gan: HarmonyGAN, folder: Path) -> int:
    """Restore a checkpoint into ``gan``; returns the iteration it was taken at."""
    path = complete_folder(folder / CHECKPOINT)
    gan.generator.load_weights(path / "generator.weights.h5")
    gan.critic.load_weights(path / "critic.weights.h5")
    for name, optimizer in (("critic", gan.critic_optimizer), ("generator", gan.generator_optimizer)):
        with np.load(path / f"{name}_optimizer.npz") as store:
            optimizer.load_own_variables({k: store[k] for k in store.files})
    return int(json.loads((path / "state.json").read_text())["iteration"])


def train_gan(folder: str | Path, config_name: str = "default", iterations: int | None = None,
              minutes: float | None = None, resume: bool = False, sample_every: int = 25,
              dataset: PieceDataset | None = None, verbose: int = 1, seed: int = 0,
              live_plot: bool = False, strategy: str = "default") -> dict:
    """Train (or resume training) a GAN in ``folder``; returns the Keras history.

    Stops after ``iterations`` in all (counting earlier runs when resuming) or ``minutes``,
    whichever comes first. The final generator is also saved as ``folder/generator``, with the
    decoder that turns its output into voices (``decoder.json``: the training split's voice
    leading, counted, and the shipped model's weights; ``scripts/tune_decoder.py`` tunes them).
    Resuming a run killed after its last checkpoint only saves that generator, and returns the
    run's logged history. A resume trains with the config saved in the checkpoint, its pitch
    window too, whatever a rebuilt style would fit now (``gan_config.run_config``).

    ``strategy`` (``distribute``): on several replicas the batch and learning rate follow
    ``distribute.scaled_config``; on several machines only the chief writes into ``folder``,
    and a run restarted with a checkpoint there resumes from it without ``resume``.
    """
    folder = Path(folder)
    if config_name not in CONFIGS:
        raise TrainingError(f"unknown config {config_name!r} (choose from {', '.join(CONFIGS)})")
    if iterations is None and minutes is None:
        raise TrainingError("say how long to train: --iterations N or --minutes M")
    if iterations is not None:  # fit counts whole chunks: --iterations N trains exactly N
        sample_every = min(sample_every, iterations)
        if iterations % sample_every:
            raise TrainingError(f"--iterations {iterations} is not a whole number of chunks of --sample-every "
                                f"{sample_every} (a sample and a checkpoint after each): choose a multiple")
    if strategy == "multiworker":  # a restarted cluster picks up where it was (Keras' BackupAndRestore's rule)
        resume = (folder / CHECKPOINT).is_dir()
    check_run_folder(folder, resume, CHECKPOINT)
    dataset = dataset or load_dataset(progress=False)
    one_replica = run_config(folder, config_name, dataset.name, dataset.voice_ranges("train"), resume)
    # workers sharing a disk would write the same shards at once: a cluster needs them written before
    check_shards(dataset) if strategy == "multiworker" else ensure_shards(dataset)
    keras.utils.set_random_seed(seed)
    distribution = make_strategy(strategy)
    say_device()
    chief = is_chief(distribution)
    config = scaled_config(one_replica, distribution.num_replicas_in_sync)
    with distribution.scope():
        gan = HarmonyGAN(config)
        gan.compile(*make_optimizers(config))
        start = load_checkpoint(gan, folder) if resume else 0
    total = iterations if iterations is not None else 10**9
    if start >= total and (folder / GENERATOR).is_dir():
        raise TrainingError(f"{folder} has already trained {start} iterations (asked for {total})")
    if chief:
        folder.mkdir(parents=True, exist_ok=True)
    logged = trim_log(folder / LOG_FILE, "iteration", start) if resume and chief else []
    # the training split's voice leading, weighed as the shipped decoder weighs it (for parts that
    # sing one note at a time; chords and drums are read straight from the generator)
    decoder = Decoder(count_voice_leading(dataset.split("train")), decoder_for().weights) \
        if dataset.roles.all_voices else None
    history = log_history(logged)
    if start < total:
        writers = [
            MusicFigures(gan, dataset, folder, sample_every, decoder),
            keras.callbacks.CSVLogger(str(folder / LOG_FILE), append=resume),  # before the checkpoint
            Checkpoint(gan, dataset, folder, sample_every),
        ] if chief else []
        callbacks = [*writers, TimeLimit(minutes, distribution), *([LivePlot()] if live_plot else [])]
        with lost_workers_said(distribution, folder):
            history = gan.fit(window_batches(dataset, gan, seed, distribution), steps_per_epoch=sample_every,
                              initial_epoch=start // sample_every,
                              epochs=math.ceil(total / sample_every) if iterations else 10**6,
                              callbacks=callbacks, verbose=verbose if chief else 0).history
    if worker_name(distribution):
        print(f"{worker_name(distribution)}: weights {fingerprint(gan.get_weights())} after iteration "
              f"{int(gan.generator_optimizer.iterations.numpy())}", flush=True)
    if chief:
        with atomic_folder(folder / GENERATOR) as tmp:
            save_generator(gan.generator, config, dataset.voice_ranges("train"), tmp, lite_copy=True,
                           roles=dataset.roles, style=dataset.name)
            if decoder is not None:
                save_decoder(decoder, tmp)
    return history


# --- the AR-CNN ----------------------------------------------------------------------------

def arcnn_rolls(dataset: PieceDataset, split: str, config: ArcnnConfig) -> np.ndarray:
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


BACKUP_WEIGHTS = "latest.weights.h5"  # the names keras.callbacks.BackupAndRestore uses, so its
BACKUP_STATE = "training_metadata.json"  # backups resume too


class Backup(keras.callbacks.Callback):
    """After each epoch, each folder swapped in whole: the best weights so far by ``monitor``
    (``model/``, written by ``save_model(model, folder)``), then the state to resume from
    (``backup/``: the weights with the optimizer's, and the epochs done)."""

    def __init__(self, folder: Path, save_model: Callable[[keras.Model, Path], None], best: float,
                 monitor: str = "val_loss"):
        super().__init__()
        self.folder, self.save_model, self.best, self.monitor = folder, save_model, best, monitor

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get(self.monitor, math.nan)
        if loss < self.best:
            self.best = loss
            with atomic_folder(self.folder / MODEL) as tmp:
                self.save_model(self.model, tmp)
        with atomic_folder(self.folder / BACKUP) as tmp:
            self.model.save_weights(tmp / BACKUP_WEIGHTS)
            (tmp / BACKUP_STATE).write_text(json.dumps({"epoch": epoch + 1}))


def restore_backup(model: keras.Model, folder: Path) -> int:
    """Load ``backup/`` into a compiled model (optimizer state too); returns the epochs done."""
    path = complete_folder(folder / BACKUP)
    model.optimizer.build(model.trainable_variables)
    model.load_weights(path / BACKUP_WEIGHTS)
    return int(json.loads((path / BACKUP_STATE).read_text())["epoch"])


def train_arcnn(folder: str | Path, epochs: int | None = None, minutes: float | None = None,
                resume: bool = False, dataset: PieceDataset | None = None, verbose: int = 1,
                seed: int = 0, live_plot: bool = False, limit: int | None = None,
                strategy: str = "default") -> dict:
    """Train (or resume) the AR-CNN in ``folder``; the best model on validation is ``folder/model``.

    Stops after ``epochs`` in all or ``minutes``, whichever comes first. ``limit`` keeps only
    the first training and validation rolls (for quick runs). Resuming a run that has done its
    epochs only saves the final model, and returns the run's logged history. ``strategy`` as
    in ``train_gan`` (each replica takes the config's batch).
    """
    folder = Path(folder)
    if epochs is None and minutes is None:
        raise TrainingError("say how long to train: --epochs N or --minutes M")
    if strategy == "multiworker":  # Keras 3.15 cannot average a stock model's logs across machines
        raise TrainingError("the AR-CNN trains on one machine (--strategy default or mirrored): "
                            "10 minutes on 2 cores is its whole training")
    check_run_folder(folder, resume, BACKUP)
    keras.utils.set_random_seed(seed)
    distribution = make_strategy(strategy)
    say_device()
    chief = is_chief(distribution)
    config = scaled_config(ARCNN_CONFIGS["default"], distribution.num_replicas_in_sync)
    dataset = dataset or load_dataset(progress=False)
    valid = arcnn_rolls(dataset, "valid", config)[:limit]
    valid_noisy = corrupt(valid, np.random.default_rng(seed + 1), config.max_added_share)
    with distribution.scope():
        model = build_unet(config)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=flip_loss)
    if chief:
        folder.mkdir(parents=True, exist_ok=True)
    start, logged = 0, []
    if resume:
        with distribution.scope():
            start = restore_backup(model, folder)
        logged = trim_log(folder / LOG_FILE, "epoch", start - 1) if chief else []
    elif chief:
        with atomic_folder(folder / MODEL) as tmp:
            save_arcnn(model, config, tmp)  # config now, best weights as they come
    history = log_history(logged)
    total = epochs or 10**6
    if start < total:
        writers = [
            keras.callbacks.CSVLogger(str(folder / LOG_FILE), append=resume),  # before the backup
            Backup(folder, lambda model, tmp: save_arcnn(model, config, tmp),
                   best=min(history.get("val_loss", []), default=math.inf)),
        ] if chief else []
        callbacks = [*writers, TimeLimit(minutes, distribution),
                     *([LivePlot(keys=("loss", "val_loss"))] if live_plot else [])]
        with lost_workers_said(distribution, folder):
            history = model.fit(CorruptedRolls(arcnn_rolls(dataset, "train", config)[:limit], config, seed=seed),
                                validation_data=(valid_noisy, (valid_noisy != valid).astype(np.float32)),
                                initial_epoch=start, epochs=total, callbacks=callbacks,
                                verbose=verbose if chief else 0).history
    if chief:
        best = build_unet(config)  # the best weights without the optimizer state: a third the size
        best.load_weights(complete_folder(folder / MODEL) / ARCNN_WEIGHTS)
        with atomic_folder(folder / MODEL) as tmp:
            save_arcnn(best, config, tmp, lite_copy=True)
    return history
