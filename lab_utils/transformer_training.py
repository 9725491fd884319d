"""Training the Transformer with ``fit``: windows of words, bits per note beside the Markov model's.

The training tunes' words run end to end in one stream; each batch takes windows of it, half of
them starting at a tune's first word (so the model learns how tunes begin) and half anywhere.
After each epoch the validation tunes are scored (bits per note, as ``evaluate`` counts them),
the CSV log and the live plot get that figure beside the Markov baseline's (trained on the same
tunes, its order chosen on the validation tunes), the best model so far is kept in ``model/``
and the state to resume from in ``backup/``, each folder swapped in whole (``training.Backup``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .files import atomic_folder, complete_folder
from .markov import bits_per_note, markov_baseline
from .melodies import TuneSet, load_tunes, validation_sample
from .runtime import as_runner, import_tensorflow
from .runs import TrainingError, check_run_folder, log_history, trim_log
from .training import BACKUP, LOG_FILE, MODEL, Backup, LivePlot, TimeLimit, restore_backup, say_device
from .transformer import (TRANSFORMER_WEIGHTS, MelodyModel, TransformerConfig, build_transformer,
                          save_transformer)

tf = import_tensorflow()
import keras  # noqa: E402

__all__ = ["train_transformer", "WordWindows", "DATA_CHOICES"]

DATA_CHOICES = {"melodies": None, "bach": "bach", "folk": "folk"}  # --data NAME: which tunes are learned


class WordWindows(keras.utils.PyDataset):
    """Batches of (words, the words one place later) cut from the training tunes' stream."""

    def __init__(self, tunes: list[np.ndarray], config: TransformerConfig, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.stream = np.concatenate(tunes).astype(np.int32)
        self.starts = np.cumsum([0] + [len(t) for t in tunes[:-1]])
        self.config, self.seed, self.epoch = config, seed, 0
        if len(self.stream) <= config.context + 1:
            raise TrainingError("too few training words for one window")

    def __len__(self) -> int:
        return self.config.steps_per_epoch

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng((self.seed, self.epoch, index))
        size, last = self.config.batch_size, len(self.stream) - self.config.context - 1
        starts = np.where(rng.random(size) < 0.5, rng.choice(self.starts, size), rng.integers(0, last, size))
        places = np.minimum(starts, last)[:, None] + np.arange(self.config.context + 1)
        windows = self.stream[places]
        return windows[:, :-1].astype(np.float32), windows[:, 1:]

    def on_epoch_end(self) -> None:
        self.epoch += 1


class ValidationBits(keras.callbacks.Callback):
    """Bits per note of the validation tunes after each epoch, and the Markov model's beside it."""

    def __init__(self, valid: list[np.ndarray], config: TransformerConfig, markov_bits: float):
        super().__init__()
        self.valid, self.config, self.markov_bits = valid, config, markov_bits

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        scorer = MelodyModel(as_runner(self.model), self.config)
        logs = logs if logs is not None else {}
        logs["val_bits_per_note"] = bits_per_note(scorer.word_probabilities(self.valid), self.valid)
        logs["val_markov_bits_per_note"] = self.markov_bits


def train_transformer(folder: str | Path, minutes: float | None = None, epochs: int | None = None,
                      resume: bool = False, data: str = "melodies", tunes: TuneSet | None = None,
                      config: TransformerConfig | None = None, limit: int | None = None, verbose: int = 1,
                      seed: int = 0, live_plot: bool = False) -> dict:
    """Train (or resume) the Transformer in ``folder``; the best model on validation is ``folder/model``.

    ``data``: "melodies" (folk songs and the chorales' sopranos), "folk" or "bach". Stops after
    ``epochs`` in all or ``minutes``, whichever comes first. ``limit`` keeps the first tunes of each
    split (quick runs).
    """
    folder = Path(folder)
    if epochs is None and minutes is None:
        raise TrainingError("say how long to train: --epochs N or --minutes M")
    if data not in DATA_CHOICES:
        raise TrainingError(f"--data for the Transformer is one of {', '.join(DATA_CHOICES)}, not {data!r}")
    check_run_folder(folder, resume, BACKUP)
    keras.utils.set_random_seed(seed)
    say_device()
    config = config or TransformerConfig()
    tunes = tunes or load_tunes(progress=verbose > 0)
    train = tunes.words("train", DATA_CHOICES[data], limit)
    valid = tunes.words("valid", DATA_CHOICES[data], limit)
    valid = validation_sample(valid)
    if not train or not valid:
        raise TrainingError(f"no {data} tunes to train on or to validate with")
    order, markov_bits = markov_baseline(train, valid)
    print(f"the Markov baseline (order {order}) scores the validation tunes {markov_bits:.3f} bits per note", flush=True)
    model = build_transformer(config)
    schedule = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=10**6, warmup_target=config.learning_rate,
                                                      warmup_steps=config.steps_per_epoch)
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    folder.mkdir(parents=True, exist_ok=True)
    start, logged = 0, []
    if resume:
        start = restore_backup(model, folder)
        logged = trim_log(folder / LOG_FILE, "epoch", start - 1)
    else:
        with atomic_folder(folder / MODEL) as tmp:
            save_transformer(model, config, tmp)  # config now, best weights as they come
    history = log_history(logged)
    total = epochs or 10**6
    if start < total:
        callbacks = [ValidationBits(valid, config, markov_bits),
                     keras.callbacks.CSVLogger(str(folder / LOG_FILE), append=resume),  # before the backup
                     Backup(folder, lambda m, tmp: save_transformer(m, config, tmp),
                            best=min(history.get("val_bits_per_note", []), default=math.inf), monitor="val_bits_per_note"),
                     TimeLimit(minutes),
                     *([LivePlot(keys=("val_bits_per_note",))] if live_plot else [])]
        history = model.fit(WordWindows(train, config, seed=seed), initial_epoch=start, epochs=total,
                            callbacks=callbacks, verbose=verbose).history
    best = build_transformer(config)  # the best weights without the optimizer state
    best.load_weights(complete_folder(folder / MODEL) / TRANSFORMER_WEIGHTS)
    with atomic_folder(folder / MODEL) as tmp:
        save_transformer(best, config, tmp, lite_copy=True)
    return history
