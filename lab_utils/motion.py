"""How the lower voices move, counted on the beats of the piece's own metre (a half note in 4/2).

For each of alto, tenor and bass: how long its notes last (in quarters), and on what share of
the beats it sings it strikes a new note. For the three together, their rhythmic independence:
of the beats on which any of them strikes, the share on which all three strike (moving
together, as in a hymn) and on which one strikes alone (as in a motet's overlapping lines).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .midi import STEPS_PER_BEAT, PianoRoll, beat_steps

__all__ = ["LOWER", "MOTION_FIGURES", "voice_motion", "mean_motion"]

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
