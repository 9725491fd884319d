"""A melody as words: the events the Transformer and the Markov baseline read and write.

A tune is a header (start, mode, metre) and then its notes in time order, one word each: the
note's pitch (or a rest) and its duration (16th steps, 1 to 32) together, with a bar word before
the first note of every bar and an end word. Pitches are written in C (a major tune's tonic is
C, a minor tune's too): both models learn degrees of the scale, not keys, and a melody in any key
is moved to C to be read and moved back when written. Bar words follow from the metre and the
durations, so they cost a model next to nothing to predict; they tell it where the strong beats
fall. Every word after the header is predicted, so bits per note counts all of them.
One word per note (not a pitch word and then a duration word) lets the Transformer see twice as
many notes in its window and learn from twice as many per second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .midi import Note, bar_steps, pitch_name

__all__ = ["PAD", "START", "BAR", "END", "MODES", "METERS", "PITCH_LOW", "PITCH_HIGH", "MAX_DURATION",
           "VOCAB_SIZE", "HEADER_LENGTH", "WORD_PITCHES", "WORD_LENGTHS", "TuneWords", "header", "encode", "decode",
           "note_word", "is_note", "meter_word", "note_count", "word_name"]

PAD, START, BAR, END = 0, 1, 2, 3
MODES = ("major", "minor")
METERS = ((2, 4), (3, 4), (4, 4), (3, 8), (6, 8), (9, 8), (12, 8), (2, 2), (3, 2), (4, 2), (6, 4), (5, 4))
PITCH_LOW, PITCH_HIGH = 36, 96  # C2 to B6, in C: a melody moved to C lies well inside
MAX_DURATION = 32  # 16th steps: two bars of 4/4; a longer note is held for two bars
_MODE0 = END + 1
_METER0 = _MODE0 + len(MODES)
_NOTE0 = _METER0 + len(METERS)
_REST_ROW = PITCH_HIGH - PITCH_LOW  # the rests' row, after the pitches'
VOCAB_SIZE = _NOTE0 + (_REST_ROW + 1) * MAX_DURATION  # under 2048: a word fits in 11 bits (the Markov keys)
HEADER_LENGTH = 3  # start, mode, metre
_words = np.arange(VOCAB_SIZE) - _NOTE0
WORD_PITCHES = np.where((_words >= 0) & (_words // MAX_DURATION < _REST_ROW), PITCH_LOW + _words // MAX_DURATION, -1)
WORD_LENGTHS = np.where(_words >= 0, _words % MAX_DURATION + 1, 0)  # steps each note or rest word lasts; 0: no note


def note_word(pitch: int | None, steps: int) -> int:
    """The word of a note (``pitch`` None: a rest) lasting ``steps`` 16ths (held to at most 32)."""
    row = _REST_ROW if pitch is None else int(np.clip(pitch, PITCH_LOW, PITCH_HIGH - 1)) - PITCH_LOW
    return _NOTE0 + row * MAX_DURATION + int(np.clip(steps, 1, MAX_DURATION)) - 1


def is_note(word: np.ndarray | int) -> np.ndarray | bool:
    """Words that are a note or a rest."""
    word = np.asarray(word)
    return (word >= _NOTE0) & (word < VOCAB_SIZE)


def meter_word(time_signature: tuple[int, int]) -> int:
    """The metre's word; a metre we have no word for takes that of a listed metre with the same
    bar length (7/8 has none: it reads as 4/4's word, its bars still counted as 7/8's)."""
    sig = tuple(time_signature)
    if sig in METERS:
        return _METER0 + METERS.index(sig)
    same_bar = [m for m in METERS if bar_steps(m) == bar_steps(sig)]
    return _METER0 + METERS.index(same_bar[0] if same_bar else (4, 4))


def header(mode: str, time_signature: tuple[int, int]) -> list[int]:
    return [START, _MODE0 + MODES.index(mode), meter_word(time_signature)]


@dataclass
class TuneWords:
    """What ``decode`` reads back: notes (in C) on the step grid and where the words stopped."""

    notes: list[Note]
    end_step: int
    ended: bool  # an end word was read


def encode(notes: list[Note], mode: str, time_signature: tuple[int, int], pickup_steps: int = 0,
           end: bool = True) -> np.ndarray:
    """The words of a monophonic tune whose notes (in C) start at step 0 or later; gaps become
    rests; a bar word goes before the first event of each bar (the first bar starts at
    ``pickup_steps``, or at 0 without a pickup). Notes overlapping the next are cut."""
    bar = bar_steps(time_signature)
    words = header(mode, time_signature)
    next_bar = pickup_steps % bar if pickup_steps else 0
    now = 0

    def event(start: int, pitch: int | None, length: int) -> None:
        nonlocal next_bar
        while next_bar <= start:
            words.append(BAR)
            next_bar += bar
        words.append(note_word(pitch, length))

    ordered = sorted(notes)
    for i, note in enumerate(ordered):
        while note.start > now:  # a rest, in pieces of at most MAX_DURATION
            gap = min(note.start - now, MAX_DURATION)
            event(now, None, gap)
            now += gap
        following = ordered[i + 1].start if i + 1 < len(ordered) else None
        length = note.length if following is None else max(1, min(note.length, following - note.start))
        length = min(length, MAX_DURATION)
        if following is not None and following <= note.start:
            continue  # two notes at one step: the melody keeps the later-sorted (higher) one
        event(note.start, note.pitch, length)
        now = note.start + length
    if end:
        words.append(END)
    return np.asarray(words, np.int32)


def decode(words: np.ndarray | list[int], start_step: int = 0) -> TuneWords:
    """Notes (in C) from words without their header; rests move time on; other words are passed over."""
    notes: list[Note] = []
    now = start_step
    for word in np.asarray(words).tolist():
        if word == END:
            return TuneWords(notes, now, True)
        if is_note(word):
            if WORD_PITCHES[word] >= 0:
                notes.append(Note(now, int(WORD_PITCHES[word]), int(WORD_LENGTHS[word])))
            now += int(WORD_LENGTHS[word])
    return TuneWords(notes, now, False)


def note_count(words: np.ndarray) -> int:
    """Notes and rests among the words."""
    return int(np.count_nonzero(is_note(words)))


def word_name(word: int) -> str:
    """A word as a person reads it: 'C4 4/16', 'rest 2/16', '|' (a bar line)... (for pictures of attention)."""
    if word in (PAD, START, BAR, END):
        return ("pad", "start", "|", "end")[word]
    if word < _METER0:
        return MODES[word - _MODE0]
    if word < _NOTE0:
        return "%d/%d" % METERS[word - _METER0]
    pitch = WORD_PITCHES[word]
    return f"{'rest' if pitch < 0 else pitch_name(pitch)} {WORD_LENGTHS[word]}/16"
