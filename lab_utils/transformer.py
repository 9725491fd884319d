"""The Transformer: a small decoder-only model that writes a melody word by word.

Each word (see ``melody_tokens``) looks back at the words before it through causal
self-attention, four layers of four heads. Positions are learned, one vector for each of the
``context`` places: a melody's window is short (192 words, about 150 notes), a sliding window
carries longer tunes, and learned positions are the simplest thing LiteRT runs unchanged.
The model takes a batch of word windows (as floats, the way every runner feeds its models)
and returns the next word's logits at every place; a window shorter than ``context`` is padded
on the right, which the causal mask keeps from reaching back.
Sampling (temperature, top-k, nucleus) and the continuation's rules (bar words come from the
metre, not from sampling; a phrase ends on the tonic at a bar line) live here too; reading a
MIDI file and writing one is ``extend``'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .files import MODELS_DIR
from .melody_tokens import (BAR, END, HEADER_LENGTH, MAX_DURATION, PAD, VOCAB_SIZE, WORD_LENGTHS, WORD_PITCHES,
                            word_name)
from .midi import STEPS_PER_BEAT
from .runtime import Runner, export_tflite, load_runner

__all__ = ["TransformerConfig", "build_transformer", "save_transformer", "load_melody_model", "MelodyModel",
           "transformer_folder", "TRANSFORMER_WEIGHTS", "TRANSFORMER_TFLITE", "Sampling", "sample_word",
           "continue_melody", "Continuation", "attention_weights", "attention_sentences", "LOG_UNITS"]

LOG_UNITS = {"loss": "nats per word"}  # a logged curve's unit where its name (runs.CURVE_WORDS) does not say it
TRANSFORMER_WEIGHTS = "transformer.weights.h5"
TRANSFORMER_TFLITE = "transformer.tflite"
CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class TransformerConfig:
    context: int = 192
    layers: int = 4
    heads: int = 4
    width: int = 128
    feed_forward: int = 384
    dropout: float = 0.1
    batch_size: int = 32
    steps_per_epoch: int = 100
    learning_rate: float = 3e-3
    vocab_size: int = VOCAB_SIZE


@lru_cache(maxsize=1)
def _place_embedding():
    """The Keras layer of learned places, defined on first use: Keras loads TensorFlow, which
    ``extend`` (on LiteRT) never needs."""
    import keras

    class PlaceEmbedding(keras.layers.Layer):
        """A learned vector for each place of the window, added to the words' vectors."""

        def build(self, input_shape):
            self.places = self.add_weight(shape=tuple(input_shape[1:]), initializer="random_normal", name="places")

        def call(self, x):
            return x + self.places[None]

    return PlaceEmbedding


def build_transformer(config: TransformerConfig, attention_scores: bool = False):
    """The Keras model: words (batch, context) -> next-word logits (batch, context, vocabulary).
    ``attention_scores`` adds each layer's attention (batch, heads, context, context) as outputs,
    for pictures (the same weights load into both)."""
    import keras
    from keras import layers, ops

    words = keras.Input((config.context,), name="words")
    x = layers.Embedding(config.vocab_size, config.width, name="word_embedding")(ops.cast(words, "int32"))
    x = _place_embedding()(name="place_embedding")(x)
    scores = []
    for i in range(config.layers):
        attention = layers.MultiHeadAttention(config.heads, config.width // config.heads, dropout=config.dropout,
                                              name=f"attention_{i}")
        h = layers.LayerNormalization(epsilon=1e-5, name=f"norm_a{i}")(x)
        if attention_scores:
            h, score = attention(h, h, use_causal_mask=True, return_attention_scores=True)
            scores.append(score)
        else:
            h = attention(h, h, use_causal_mask=True)
        x = x + layers.Dropout(config.dropout)(h)
        h = layers.LayerNormalization(epsilon=1e-5, name=f"norm_f{i}")(x)
        h = layers.Dense(config.feed_forward, activation="gelu", name=f"expand_{i}")(h)
        h = layers.Dense(config.width, name=f"contract_{i}")(h)
        x = x + layers.Dropout(config.dropout)(h)
    x = layers.LayerNormalization(epsilon=1e-5, name="norm_out")(x)
    logits = layers.Dense(config.vocab_size, name="next_word")(x)
    return keras.Model(words, [logits, *scores] if attention_scores else logits, name="melody_transformer")


def save_transformer(model, config: TransformerConfig, folder: Path, lite_copy: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_FILE).write_text(json.dumps({"model": "transformer", **asdict(config)}, indent=1) + "\n")
    model.save_weights(folder / TRANSFORMER_WEIGHTS)
    if lite_copy:
        export_tflite(model, folder / TRANSFORMER_TFLITE)


def transformer_folder(path: str | Path | None = None) -> Path:
    """The model folder at ``path`` (a run's ``model/`` is found inside it); default: the shipped one."""
    folder = Path(path) if path is not None else MODELS_DIR / "transformer"
    for candidate in (folder, folder / "model"):
        if (candidate / CONFIG_FILE).is_file() and (candidate / TRANSFORMER_WEIGHTS).is_file():
            return candidate
    raise FileNotFoundError(f"{folder}: no trained Transformer here (expected {CONFIG_FILE} and {TRANSFORMER_WEIGHTS})")


def read_config(folder: Path) -> TransformerConfig:
    stored = json.loads((folder / CONFIG_FILE).read_text())
    stored.pop("model", None)
    return TransformerConfig(**stored)


class MelodyModel:
    """A trained Transformer's runner: next-word probabilities for windows of words."""

    def __init__(self, runner: Runner | Callable, config: TransformerConfig, folder: Path | None = None):
        self.runner, self.config, self.folder = runner, config, folder

    def logits(self, windows: np.ndarray) -> np.ndarray:
        """(batch, context) words -> (batch, context, vocabulary) logits; shorter windows padded."""
        windows = np.asarray(windows)
        padded = np.full((len(windows), self.config.context), PAD, np.float32)
        padded[:, : windows.shape[1]] = windows
        return np.asarray(self.runner(words=padded))

    def word_probabilities(self, tunes: list[np.ndarray], batch: int = 16) -> np.ndarray:
        """P(word | the words before it) for every word after each tune's header, in order (as
        ``MarkovModel.word_probabilities`` gives them); a tune longer than the context is read in
        windows that overlap by half, each word scored once with at least half a window behind it."""
        context = self.config.context
        jobs = []  # (tune, window start, first scored place in the window)
        for t, words in enumerate(tunes):
            start, scored_from = 0, HEADER_LENGTH
            while True:
                jobs.append((t, start, scored_from))
                if start + context >= len(words):
                    break
                start += context // 2
                scored_from = context - context // 2
        found: list[list[np.ndarray]] = [[] for _ in tunes]
        for first in range(0, len(jobs), batch):
            chunk = jobs[first : first + batch]
            windows = np.full((batch, context), PAD, np.float32)  # always whole: one shape, traced once
            for row, (t, start, _) in enumerate(chunk):
                piece = tunes[t][start : start + context]
                windows[row, : len(piece)] = piece
            logits = self.logits(windows)
            logits = logits - logits.max(axis=-1, keepdims=True)
            log_totals = np.log(np.exp(logits).sum(axis=-1))  # (batch, context): the softmax's denominators
            for row, (t, start, scored_from) in enumerate(chunk):
                end = min(context, len(tunes[t]) - start)
                targets = np.asarray(tunes[t][start + scored_from : start + end], np.int64)
                places = np.arange(scored_from - 1, end - 1)
                found[t].append(np.exp(logits[row, places, targets] - log_totals[row, places]))
        return np.concatenate([np.concatenate(parts) for parts in found]) if tunes else np.zeros(0)


def load_melody_model(folder: str | Path | None = None, runtime: str | None = None) -> MelodyModel:
    """The Transformer in ``folder`` (default: the shipped one), run by LiteRT where it can."""
    folder = transformer_folder(folder)
    config = read_config(folder)

    def keras_model():
        model = build_transformer(config)
        model.load_weights(folder / TRANSFORMER_WEIGHTS)
        return model

    return MelodyModel(load_runner(folder / TRANSFORMER_TFLITE, keras_model, runtime), config, folder)


# --- sampling ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sampling:
    """How the next word is drawn: ``temperature`` (creative risk: below 1 safer, above 1 bolder),
    then only the ``top_k`` likeliest words, or the likeliest whose probabilities add up to
    ``top_p`` (nucleus sampling); neither: every word."""

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = 0.9

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError("the temperature must be above 0")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError("top-k must be 1 or more")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ValueError("top-p must be above 0 and at most 1")


def sample_word(logits: np.ndarray, allowed: np.ndarray, sampling: Sampling, rng: np.random.Generator) -> int:
    """One word drawn from ``logits`` among the ``allowed`` words, as ``sampling`` says."""
    scaled = np.where(allowed, logits / sampling.temperature, -np.inf)
    p = np.exp(scaled - scaled.max())
    p /= p.sum()
    order = np.argsort(-p, kind="stable")
    keep = np.zeros_like(allowed)
    kept = order[: sampling.top_k] if sampling.top_k else order
    if sampling.top_p is not None:
        total = np.cumsum(p[kept])
        kept = kept[: int(np.searchsorted(total, sampling.top_p * total[-1])) + 1]
    keep[kept] = True
    p = np.where(keep & allowed, p, 0.0)
    return int(rng.choice(len(p), p=p / p.sum()))


@dataclass
class Continuation:
    """What ``continue_melody`` wrote: the new words and the steps they fill."""

    words: list[int]
    steps: int


def _masks(longest: int, bar: int) -> tuple[np.ndarray, np.ndarray]:
    """The words allowed for a note of the continuation, and for its last note: the tonic (C) in
    any octave, held for a beat to a bar. Nothing lasts longer than ``longest`` steps."""
    short = (WORD_LENGTHS >= 1) & (WORD_LENGTHS <= longest)
    closing = short & (WORD_PITCHES >= 0) & (WORD_PITCHES % 12 == 0)
    closing &= (WORD_LENGTHS >= min(STEPS_PER_BEAT, longest)) & (WORD_LENGTHS <= min(bar, longest))
    return short, closing


def continue_melody(model: MelodyModel, words: list[int], steps_now: int, next_bar: int, bar: int,
                    new_steps: int, sampling: Sampling, rng: np.random.Generator, longest: int) -> Continuation:
    """New words after ``words`` (a header and a melody that fills ``steps_now`` steps, whose
    next bar line not yet written is at ``next_bar``) for at least ``new_steps`` steps, ending on
    a phrase end: once the steps are filled, the next bar line brings one last note on the tonic
    (C), held for a beat to a bar. No note or rest is longer than ``longest`` steps. Bar words
    are written by the rule, not sampled; the window slides once the words outgrow the context."""
    allowed, closing_notes = _masks(min(longest, MAX_DURATION), bar)
    written: list[int] = []
    now = steps_now
    while True:
        closing = False
        if next_bar <= now:
            while next_bar <= now:
                written.append(BAR)
                next_bar += bar
            closing = now - steps_now >= new_steps and next_bar - bar == now
        choices = closing_notes if closing else allowed
        if not closing and now - steps_now >= new_steps:  # time is up: the next notes reach the bar line
            choices = allowed & (WORD_LENGTHS <= next_bar - now)
        history = (words + written)[-model.config.context :]
        logits = model.logits(np.asarray([history], np.float32))[0, len(history) - 1]
        word = sample_word(logits, choices, sampling, rng)
        written.append(word)
        now += int(WORD_LENGTHS[word])
        if closing:
            written.append(END)
            return Continuation(written, now - steps_now)


def attention_weights(folder: str | Path | None, words: np.ndarray) -> np.ndarray:
    """What every head of every layer looks at while writing each word of ``words`` (one tune, at
    most ``context`` words): (layers, heads, words, words), each row adding up to 1 over the words
    before it. Runs the Keras model (TensorFlow), for pictures."""
    folder = transformer_folder(folder)
    config = read_config(folder)
    model = build_transformer(config, attention_scores=True)
    model.load_weights(folder / TRANSFORMER_WEIGHTS)
    n = min(len(words), config.context)
    window = np.full((1, config.context), PAD, np.float32)
    window[0, :n] = words[:n]
    _, *scores = model(window, training=False)
    return np.stack([np.asarray(s)[0, :, :n, :n] for s in scores])


def attention_sentences(weights: np.ndarray, words: np.ndarray, place: int, layer: int, look_at: int) -> list[str]:
    """Read from ``attention_weights`` while the model writes the word after ``words[place]``: for
    each head of ``layer``, the earlier word it gives its largest weight (and its bar), then
    whether any head looks back at bar ``look_at`` (gives its largest weight there), and the most
    weight one head puts on that bar's words together, beside an even spread."""
    bars = np.cumsum(np.asarray(words[: place + 1]) == BAR)  # bar of each word; its bar line opens it
    names = [word_name(int(w)) for w in words[: place + 1]]
    rows = weights[layer, :, place, : place + 1]
    lines = []
    for head, row in enumerate(rows):
        top = int(row.argmax())
        back = place - top
        where = f"bar {bars[top]}" if bars[top] else "the header" if top < HEADER_LENGTH else "the pickup"
        lines.append(f"head {head + 1}: most on '{names[top]}' ({back} word{'s' if back != 1 else ''} back, {where}) "
                     f"with {row[top]:.0%} of its weight")
    in_bar = bars == look_at
    if not in_bar.any():
        return [*lines, f"Bar {look_at}: not among the {place + 1} words read so far, so no head can look at it."]
    on_bar = rows[:, in_bar].sum(axis=1)
    heads = [head + 1 for head, row in enumerate(rows) if in_bar[int(row.argmax())]]
    most = int(on_bar.argmax())
    said = f"Bar {look_at} ({int(in_bar.sum())} words, its bar line included): "
    if heads:
        said += (f"yes, head{'s' if len(heads) > 1 else ''} {' and '.join(map(str, heads))} "
                 f"put{' their' if len(heads) > 1 else 's its'} largest weight there")
    else:
        said += "no head puts its largest weight there"
    return [*lines, said + f"; head {most + 1} puts the most on its words together, {on_bar[most]:.0%} of its weight "
                           f"(an even spread over the {place + 1} words so far would give them {in_bar.sum() / (place + 1):.0%})."]
