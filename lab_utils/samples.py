"""Built-in public-domain melodies, written in a small note language anyone can type.

The language: notes separated by spaces, each a pitch name with octave (``C4``, ``F#4``,
``Bb3``) or ``R`` for a rest. A note lasts one beat (a quarter note); each trailing ``-``
adds a beat, ``/`` halves it (``//`` a 16th), ``.`` makes it dotted. Bar lines ``|`` are
allowed and ignored. ``C4 C4 G4 G4 A4 A4 G4-`` is the start of Twinkle Twinkle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pretty_midi

from .midi import MAX_BEATS, STEPS_PER_BEAT, Note, PianoRoll

__all__ = ["Melody", "MELODIES", "parse_notes", "looks_like_notes", "melody_roll", "random_tune", "RANDOM_TUNES",
           "random_band_piece"]

_TOKEN = re.compile(r"^(?P<pitch>[A-Ga-g][#b]?-?\d|[Rr])(?P<beats>-*)(?P<halves>/*)(?P<dot>\.?)$")


@dataclass(frozen=True)
class Melody:
    """A named tune: its notes in the note language, meter, pickup and tempo."""

    title: str
    notes: str
    time_signature: tuple[int, int] = (4, 4)
    pickup_steps: int = 0
    tempo: float = 100.0


MELODIES: dict[str, Melody] = {
    "twinkle": Melody(
        "Twinkle Twinkle Little Star",
        "C4 C4 G4 G4 | A4 A4 G4- | F4 F4 E4 E4 | D4 D4 C4- | G4 G4 F4 F4 | E4 E4 D4- | "
        "G4 G4 F4 F4 | E4 E4 D4- | C4 C4 G4 G4 | A4 A4 G4- | F4 F4 E4 E4 | D4 D4 C4-",
    ),
    "ode_to_joy": Melody(
        "Ode to Joy (Beethoven)",
        "E4 E4 F4 G4 | G4 F4 E4 D4 | C4 C4 D4 E4 | E4. D4/ D4- | "
        "E4 E4 F4 G4 | G4 F4 E4 D4 | C4 C4 D4 E4 | D4. C4/ C4-",
    ),
    "frere_jacques": Melody(
        "Frère Jacques",
        "C4 D4 E4 C4 | C4 D4 E4 C4 | E4 F4 G4- | E4 F4 G4- | "
        "G4/ A4/ G4/ F4/ E4 C4 | G4/ A4/ G4/ F4/ E4 C4 | C4 G3 C4- | C4 G3 C4-",
    ),
    "mary_lamb": Melody(
        "Mary Had a Little Lamb",
        "E4 D4 C4 D4 | E4 E4 E4- | D4 D4 D4- | E4 G4 G4- | "
        "E4 D4 C4 D4 | E4 E4 E4 E4 | D4 D4 E4 D4 | C4---",
    ),
    "amazing_grace": Melody(
        "Amazing Grace",
        "D4 | G4- B4/ G4/ | B4- A4 | G4- E4 | D4- D4 | G4- B4/ G4/ | B4- A4 | D5-- | D5- "
        "B4 | D5. B4/ D5/ B4/ | G4- D4 | E4. G4/ G4/ E4/ | D4- D4 | G4- B4/ G4/ | B4- A4 | G4--",
        time_signature=(3, 4), pickup_steps=4, tempo=80.0,
    ),
    "auld_lang_syne": Melody(
        "Auld Lang Syne",
        "G3 | C4. C4/ C4 E4 | D4. C4/ D4 E4 | C4. C4/ E4 G4 | A4--- | "
        "A4. G4/ E4 E4 | C4. C4/ D4 C4 | D4. C4/ A3 G3 | C4--",
        pickup_steps=4, tempo=90.0,
    ),
    "silent_night": Melody(
        "Silent Night",
        "G4. A4/ G4 | E4-- | G4. A4/ G4 | E4-- | D5- D5 | B4-- | C5- C5 | G4-- | "
        "A4- A4 | C5. B4/ A4 | G4. A4/ G4 | E4-- | A4- A4 | C5. B4/ A4 | G4. A4/ G4 | E4-- | "
        "D5- D5 | F5. D5/ B4 | C5-- | E5-- | C5. G4/ E4 | G4. F4/ D4 | C4--",
        time_signature=(6, 8), tempo=70.0,
    ),
}


def parse_notes(text: str) -> list[Note]:
    """Notes of a melody written in the note language; ValueError names a bad token."""
    notes, step = [], 0
    tokens = text.replace("|", " ").split()
    for position, token in enumerate(tokens, start=1):
        match = _TOKEN.match(token)
        if match is None:
            raise ValueError(f"note {position} of {len(tokens)}, {token!r}, is not a note "
                             f"(write a pitch and octave like C4, F#4- or Bb3/, or R for a rest)")
        beats = 1 + len(match["beats"])
        length = beats * STEPS_PER_BEAT / 2 ** len(match["halves"]) * (1.5 if match["dot"] else 1)
        if length != int(length) or length < 1:
            raise ValueError(f"note {token!r} is shorter than a 16th or off the 16th grid")
        if match["pitch"].upper() != "R":
            name = match["pitch"][0].upper() + match["pitch"][1:]
            pitch = pretty_midi.note_name_to_number(name)
            if not 0 <= pitch < 128:
                raise ValueError(f"note {token!r} is outside the MIDI range")
            notes.append(Note(step, pitch, int(length)))
        step += int(length)
        if step > MAX_BEATS * STEPS_PER_BEAT:
            raise ValueError(f"the notes last over {MAX_BEATS} beats (the longest melody we take)")
    if not notes:
        raise ValueError("only rests: a melody needs at least one note" if tokens else "no notes given")
    return notes


def looks_like_notes(text: str) -> bool:
    """Whether a word is written in the note language (``C4``, ``F#4-``, ``R``)."""
    return all(_TOKEN.match(token) for token in text.replace("|", " ").split())


def melody_roll(name_or_text: str, **meta) -> PianoRoll:
    """A one-track roll of a built-in melody (by name) or of notes typed in the note language."""
    melody = MELODIES.get(name_or_text)
    if melody is not None:
        meta = dict(tempo=melody.tempo, time_signature=melody.time_signature,
                    pickup_steps=melody.pickup_steps) | meta
        text = melody.notes
    else:
        text = name_or_text
    return PianoRoll.from_notes([parse_notes(text)], names=["Melody"], programs=[0], **meta)


# Meters of the random tunes ``evaluate`` judges beside the built-in ones: (meter, seeds)
RANDOM_TUNES = {(3, 4): (1, 2, 3), (6, 8): (4, 5, 6)}
_RHYTHMS = {  # one bar of note lengths in 16ths, per meter
    (4, 4): ((4, 4, 4, 4), (8, 4, 4), (4, 4, 8), (6, 2, 4, 4), (4, 2, 2, 8), (16,)),
    (3, 4): ((4, 4, 4), (8, 4), (4, 8), (6, 2, 4), (4, 2, 2, 4), (12,)),
    (6, 8): ((6, 6), (4, 2, 6), (6, 4, 2), (2, 2, 2, 6), (12,)),
}


def random_tune(seed: int, time_signature: tuple[int, int] = (3, 4), bars: int = 8) -> PianoRoll:
    """A singable random tune no model has seen: a walk, mostly by step, through a major or minor
    scale in a random key, with one bar's rhythm from a small stock per bar, ending on its
    tonic with a long note. For judging on melodies beyond the built-in ones."""
    rng = np.random.default_rng(seed)
    tonic = 60 + int(rng.integers(-3, 5))
    scale = (0, 2, 4, 5, 7, 9, 11) if rng.random() < 0.6 else (0, 2, 3, 5, 7, 8, 11)
    step, degree, notes = 0, int(rng.choice([0, 2, 4])), []  # degree: scale steps above the tonic
    rhythms = _RHYTHMS[time_signature]
    for bar in range(bars):
        lengths = rhythms[-1] if bar == bars - 1 else rhythms[int(rng.integers(len(rhythms) - 1))]
        for k, length in enumerate(lengths):
            if bar == bars - 1 and k == len(lengths) - 1:
                degree = 7 if degree > 3 else 0  # home to the nearer tonic
            else:
                degree = int(np.clip(degree + rng.choice([-2, -1, -1, 0, 1, 1, 2, 3]), -3, 9))
            notes.append(Note(step, tonic + 12 * (degree // 7) + scale[degree % 7], length))
            step += length
    return PianoRoll.from_notes([notes], names=["Melody"], programs=[0], time_signature=time_signature,
                                tempo=90.0)


BAND_CHORDS = ((0, 4, 7), (5, 9, 12), (7, 11, 14), (9, 12, 16))  # I, IV, V, vi above the tonic
BAND_DRUMS = {"kick": 36, "snare": 38, "hat": 42}  # General MIDI drum keys


def random_band_piece(seed: int, bars: int = 8, time_signature: tuple[int, int] = (4, 4)) -> PianoRoll:
    """A made-up band piece no model has seen, in four tracks as band MIDI files come: a lead
    melody (``random_tune``), piano chords on every beat, a bass on the chords' roots and a drum
    kit (kick, snare, hi-hat) on MIDI channel 10. For building and testing styles from MIDI."""
    rng = np.random.default_rng(seed)
    lead = random_tune(seed, time_signature, bars)
    bar = lead.steps_per_bar
    tonic = 48 + int(rng.integers(0, 7))
    piano, bass, drums = [], [], []
    for b in range(bars):
        chord = BAND_CHORDS[int(rng.integers(len(BAND_CHORDS)))] if 0 < b < bars - 1 else BAND_CHORDS[0]
        for beat in range(0, bar, STEPS_PER_BEAT):
            start = b * bar + beat
            piano += [Note(start, tonic + p, STEPS_PER_BEAT) for p in chord]
            drums.append(Note(start, BAND_DRUMS["kick" if beat == 0 else "snare" if beat % 8 == 4 else "hat"], 1))
            drums.append(Note(start + 2, BAND_DRUMS["hat"], 1))
        bass += [Note(b * bar, tonic - 12 + chord[0], bar // 2), Note(b * bar + bar // 2, tonic - 12 + chord[0] + 7, bar - bar // 2)]
    return PianoRoll.from_notes([lead.notes(0), piano, bass, drums], n_steps=bars * bar, tempo=110.0,
                                time_signature=time_signature, names=["Lead", "Piano", "Bass", "Drums"],
                                programs=[81, 0, 33, 0], drums=[False, False, False, True])
