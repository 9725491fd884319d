"""The classic yardstick for a melody model: a variable-order Markov model over the same words.

Counts of what followed every context of up to ``max_order`` words, blended from the longest
context down to a uniform guess as PPM does with escape method C (Witten-Bell interpolation,
as IDyOM's default model blends them): ``P_k(x) = (c_k(x) + T_k P_{k-1}(x)) / (N_k + T_k)``,
where ``N_k`` is how often the context was seen and ``T_k`` how many different words followed
it. A context never seen passes the lower order's guess on. Everything is counted and looked up
with numpy (a context of up to 4 words, with the word after it, is one 55-bit key), so training
on half a million words takes seconds and nothing needs to be shipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .melody_tokens import HEADER_LENGTH, PAD, VOCAB_SIZE, note_count

assert VOCAB_SIZE <= 2**11

__all__ = ["MarkovModel", "train_markov", "bits_per_note", "markov_baseline", "MAX_ORDER"]

_BITS = 11  # bits of one word (VOCAB_SIZE <= 2048)
MAX_ORDER = 4  # 4 words of context and the word itself: 55 bits, one int64 key


def _padded(tunes: list[np.ndarray], order: int) -> tuple[np.ndarray, np.ndarray]:
    """All tunes in one array, each after ``order`` pad words, and the places of the scored words
    (every word after a tune's header)."""
    pieces, places, at = [], [], 0
    for words in tunes:
        pieces.append(np.concatenate([np.full(order, PAD, np.int64), np.asarray(words, np.int64)]))
        places.append(at + order + np.arange(HEADER_LENGTH, len(words)))
        at += order + len(words)
    return np.concatenate(pieces), np.concatenate(places)


def _context_keys(stream: np.ndarray, places: np.ndarray, order: int) -> np.ndarray:
    key = np.zeros(len(places), np.int64)
    for back in range(1, order + 1):
        key = (key << _BITS) | stream[places - back]
    return key


@dataclass
class _Table:
    """One order's counts: sorted (context, word) keys and counts; sorted contexts with their
    total count and number of different words."""

    pairs: np.ndarray
    pair_counts: np.ndarray
    contexts: np.ndarray
    totals: np.ndarray
    types: np.ndarray


def _lookup(keys: np.ndarray, sorted_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    at = np.clip(np.searchsorted(sorted_keys, keys), 0, max(len(sorted_keys) - 1, 0))
    found = sorted_keys[at] == keys if len(sorted_keys) else np.zeros(len(keys), bool)
    return np.where(found, values[at] if len(values) else 0, 0)


@dataclass
class MarkovModel:
    max_order: int
    tables: list[_Table] = field(repr=False)

    def word_probabilities(self, tunes: list[np.ndarray], order: int | None = None) -> np.ndarray:
        """P(word | the words before it) for every scored word of ``tunes`` (in order)."""
        order = self.max_order if order is None else min(order, self.max_order)
        stream, places = _padded(tunes, self.max_order)
        words = stream[places]
        p = np.full(len(places), 1.0 / VOCAB_SIZE)
        for k in range(order + 1):
            table = self.tables[k]
            context = _context_keys(stream, places, k)
            total = _lookup(context, table.contexts, table.totals)
            types = _lookup(context, table.contexts, table.types)
            count = _lookup((context << _BITS) | words, table.pairs, table.pair_counts)
            p = np.where(total > 0, (count + types * p) / np.maximum(total + types, 1), p)
        return p


def train_markov(tunes: list[np.ndarray], max_order: int = MAX_ORDER) -> MarkovModel:
    """Count every context of 0 to ``max_order`` words in the tunes' words."""
    if not 0 <= max_order <= MAX_ORDER:
        raise ValueError(f"max_order must be 0 to {MAX_ORDER}")
    stream, places = _padded(tunes, max_order)
    words = stream[places]
    tables = []
    for k in range(max_order + 1):
        context = _context_keys(stream, places, k)
        pairs, pair_counts = np.unique((context << _BITS) | words, return_counts=True)
        pair_contexts = pairs >> _BITS
        contexts, first, types = np.unique(pair_contexts, return_index=True, return_counts=True)
        totals = np.add.reduceat(pair_counts, first) if len(first) else np.zeros(0, np.int64)
        tables.append(_Table(pairs, pair_counts, contexts, totals, types))
    return MarkovModel(max_order, tables)


def bits_per_note(probabilities: np.ndarray, tunes: list[np.ndarray]) -> float:
    """-log2 P(all tunes) / their notes: the words' probabilities pooled over every tune."""
    notes = sum(note_count(words[HEADER_LENGTH:]) for words in tunes)
    return float(-np.log2(probabilities).sum() / notes) if notes else math.nan


def markov_baseline(train: list[np.ndarray], valid: list[np.ndarray]) -> tuple[int, float]:
    """The order (1 to ``MAX_ORDER``) whose model, trained on ``train``, scores ``valid`` best, and its bits per note."""
    model = train_markov(train, MAX_ORDER)
    scores = {order: bits_per_note(model.word_probabilities(valid, order), valid) for order in range(1, MAX_ORDER + 1)}
    best = min(scores, key=scores.get)
    return best, scores[best]
