"""A melody that goes on: the input kept note for note, then the Transformer's continuation.

The melody is moved to C (its key found as ``metrics.melody_key`` finds it), written as words
(``melody_tokens``), continued by the Transformer for the seconds asked, ending on the tonic at a
bar line, and moved back: the continuation is in the input's key, metre and tempo. No note of
it is longer than twice the input's longest. The same seed gives the same notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .melodies import melody_in_c
from .melody_tokens import decode
from .midi import Note, PianoRoll, extract_melody
from .transformer import MelodyModel, Sampling, continue_melody

__all__ = ["ExtendError", "Extension", "extend", "new_bars", "melody_of", "MAX_SECONDS"]

MAX_SECONDS = 600.0


class ExtendError(ValueError):
    """A melody we cannot extend; ``str(error)`` is the one-line reason."""


@dataclass
class Extension:
    """The extended melody, where its new part starts, and the key the melody was read in."""

    music: PianoRoll
    new_from_step: int
    new_notes: list[Note]
    key: tuple[int, str]  # (tonic pitch class, mode): the key moved to C for the Transformer, as melody_in_c reads it


def melody_of(roll: PianoRoll) -> PianoRoll:
    """The melody of a file's roll, as ``melody`` finds it (``midi.extract_melody``)."""
    if all(roll.drums):
        raise ExtendError("only drums: no melody to extend")
    melody = extract_melody(roll)
    if not melody.notes(0):
        raise ExtendError("no notes to extend")
    return melody


def extend(melody: PianoRoll, model: MelodyModel, seconds: float = 20.0, sampling: Sampling = Sampling(),
           seed: int = 0) -> Extension:
    """``melody`` (one track) and at least ``seconds`` more of it, ending at a bar line on the tonic."""
    if not 0 < seconds <= MAX_SECONDS:
        raise ExtendError(f"--seconds must be above 0 and at most {MAX_SECONDS:g}, not {seconds:g}")
    return _continued(melody, model, math.ceil(seconds / melody.seconds_per_step), sampling, seed)


def new_bars(melody: PianoRoll, model: MelodyModel, bars: int, sampling: Sampling = Sampling(),
             seed: int = 0) -> PianoRoll:
    """``bars`` whole bars of new melody that could follow ``melody`` (one track, no pickup, whole
    bars): the continuation from the first bar line after the melody's last note, cut to length."""
    bar = melody.steps_per_bar
    result = _continued(melody, model, (bars + 1) * bar, sampling, seed)
    first = math.ceil(result.new_from_step / bar) * bar
    notes = [Note(n.start - first, n.pitch, min(n.length, first + bars * bar - n.start))
             for n in result.new_notes if first <= n.start < first + bars * bar]
    return PianoRoll.from_notes([notes], n_steps=bars * bar, tempo=melody.tempo, time_signature=melody.time_signature,
                                names=list(melody.names[:1]), programs=list(melody.programs[:1]))


def _continued(melody: PianoRoll, model: MelodyModel, new_steps: int, sampling: Sampling, seed: int) -> Extension:
    notes = melody.notes(0)
    if not notes:
        raise ExtendError("no notes to extend")
    read = melody_in_c(notes, melody.time_signature, melody.pickup_steps)
    bar = melody.steps_per_bar
    first_bar = melody.pickup_steps % bar
    last_start = max(n.start for n in notes)
    next_bar = first_bar + (math.floor((last_start - first_bar) / bar) + 1) * bar
    steps_now = max(n.start + n.length for n in notes)
    continuation = continue_melody(model, read.words.tolist(), steps_now, next_bar, bar, new_steps=new_steps,
                                   sampling=sampling, rng=np.random.default_rng(seed),
                                   longest=2 * max(n.length for n in notes))
    new = [Note(n.start, n.pitch - read.shift, n.length) for n in decode(continuation.words, steps_now).notes]
    music = PianoRoll.from_notes([notes + new], n_steps=steps_now + continuation.steps, tempo=melody.tempo,
                                 time_signature=melody.time_signature, pickup_steps=melody.pickup_steps,
                                 names=["Melody"], programs=melody.programs[:1])
    return Extension(music, steps_now, new, (read.tonic, read.mode))
