"""How the lower voices move, counted on the beats of the piece's own metre (a half note in 4/2).

For each of alto, tenor and bass: how long its notes last (in quarters), and on what share of
the beats it sings it strikes a new note. For the three together, their rhythmic independence:
of the beats on which any of them strikes, the share on which all three strike (moving
together, as in a hymn) and on which one strikes alone (as in a motet's overlapping lines).

Beside them, read in Lab 8: how often a voice rests or two sing one pitch (``texture``), the
share of each lower voice's moves that are steps (``step_shares``) and parallel fifths and
octaves counted on the beats a harmonizer chose its chords on, or a composer's metre's
(``beat_parallels``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .metrics import figures
from .midi import STEPS_PER_BEAT, PianoRoll, beat_steps, beat_scale, on_quarter_beats, quarters_per_beat

__all__ = ["LOWER", "MOTION_FIGURES", "voice_motion", "mean_motion", "STEP", "step_shares", "Texture", "texture",
           "beat_parallels", "texture_sentences"]

STEP = 2  # semitones: a move of 1 or 2 is a step, a wider one a leap
BEAT_WORDS = {1: "every quarter", 2: "every half note"}  # a beat of so many quarters, in words

LOWER = ("alto", "tenor", "bass")  # tracks 1, 2, 3; the soprano (track 0) is the melody
MOTION_FIGURES = (*(f"{v}_quarters" for v in LOWER), *(f"{v}_moves" for v in LOWER), "together", "alone")


def voice_motion(roll: PianoRoll) -> dict[str, float]:
    """``MOTION_FIGURES`` of a four-part roll (soprano, alto, tenor, bass); NaN where there is
    nothing to count."""
    beat = beat_steps(roll.time_signature)
    first = roll.pickup_steps % beat
    n_beats = (roll.n_steps - first) // beat
    span = slice(first, first + n_beats * beat)
    struck = roll.onsets[span, :, 1:4].any(axis=1).reshape(n_beats, beat, 3).any(axis=1)  # (beats, 3)
    sung = roll.sounding[span, :, 1:4].any(axis=1).reshape(n_beats, beat, 3).any(axis=1)
    struck &= sung
    values: dict[str, float] = {}
    for v, name in enumerate(LOWER, start=1):
        lengths = [n.length for n in roll.notes(v)]
        values[f"{name}_quarters"] = float(np.mean(lengths)) / STEPS_PER_BEAT if lengths else float("nan")
    for k, name in enumerate(LOWER):
        values[f"{name}_moves"] = float(struck[sung[:, k], k].mean()) if sung[:, k].any() else float("nan")
    counted = struck.any(axis=1) & sung.all(axis=1)
    strikes = struck[counted].sum(axis=1)
    values["together"] = float((strikes == 3).mean()) if counted.any() else float("nan")
    values["alone"] = float((strikes == 1).mean()) if counted.any() else float("nan")
    return values


def mean_motion(rolls: Sequence[PianoRoll]) -> dict[str, float]:
    """``voice_motion`` averaged over pieces (each piece weighs the same)."""
    values = [voice_motion(r) for r in rolls]
    return {f: float(np.nanmean([v[f] for v in values])) if any(not np.isnan(v[f]) for v in values)
            else float("nan") for f in MOTION_FIGURES}


def step_shares(roll: PianoRoll) -> dict[str, float]:
    """For alto, tenor and bass (``{voice}_steps``): the share of the voice's moves, from one note
    to the next of another pitch, that are a step (at most ``STEP`` semitones); NaN where it never moves."""
    values = {}
    for v, name in enumerate(LOWER, start=1):
        pitches = [n.pitch for n in sorted(roll.notes(v))]
        moves = [abs(b - a) for a, b in zip(pitches, pitches[1:]) if b != a]
        values[f"{name}_steps"] = float(np.mean([m <= STEP for m in moves])) if moves else float("nan")
    return values


@dataclass(frozen=True)
class Texture:
    """Steps (16ths) of pieces where anything sounds, and among them those where a part rests or
    two parts sound one pitch (a unison): each lowers ``metrics.figures``' ``voices``, which counts
    the different pitches sounding."""

    steps: int
    rests: int
    unisons: int


def texture(rolls: Sequence[PianoRoll]) -> Texture:
    """``Texture`` summed over pieces, their drum tracks left out."""
    steps = rests = unisons = 0
    for roll in rolls:
        pitched = [k for k in range(roll.n_tracks) if not roll.drums[k]]
        sounding = roll.sounding[:, :, pitched]
        per_part = sounding.sum(axis=1)  # (steps, parts): pitches each part sounds
        active = per_part.any(axis=1)
        steps += int(active.sum())
        rests += int((active & (per_part == 0).any(axis=1)).sum())
        unisons += int((active & (per_part.sum(axis=1) > sounding.any(axis=2).sum(axis=1))).sum())
    return Texture(steps, rests, unisons)


def beat_parallels(roll: PianoRoll, beat_quarters: int | None = None) -> float:
    """``metrics.figures``' parallel fifths and octaves per 100 moves, counted on beats of
    ``beat_quarters`` quarters instead of on every quarter: a harmonizer's (its decoder's
    ``beat_quarters``: 2 for a 4/2 style, whose chords are chosen per half note), or, with None,
    the piece's own metre's. As the decoder does, every quarter is a beat where the melody (track 0)
    does not fit the longer beats."""
    scale = beat_scale(roll.track(0), quarters_per_beat(roll.time_signature) if beat_quarters is None else beat_quarters)
    return figures(on_quarter_beats(roll, scale))["parallels"]


def texture_sentences(groups: dict[str, list[PianoRoll]], beats: dict[str, int]) -> str:
    """For each group of pieces (a composer's, a model's): on how many of its sounding steps a part
    rests and on how many two parts sing one pitch, and its parallels per 100 moves (the mean over
    pieces) on the beats of ``beats[group]`` quarters (a model's decoder's), or of each piece's
    metre for a group ``beats`` leaves out (a composer's)."""
    lines = []
    for name, rolls in groups.items():
        t = texture(rolls)
        where = "the beats of each piece's meter"
        if name in beats:
            where = f"its decoder's beats ({BEAT_WORDS.get(beats[name], f'every {beats[name]} quarters')})"
        lines.append(
            f"- {name}: of {t.steps:,} sounding 16ths, a voice rests on {t.rests:,} ({t.rests / max(1, t.steps):.0%}) and "
            f"two voices sing one pitch on {t.unisons:,} ({t.unisons / max(1, t.steps):.0%}); parallels on {where}: "
            f"{np.mean([beat_parallels(r, beats.get(name)) for r in rolls]):.2f} per 100 moves")
    return "\n".join(lines)
