"""The challenge's five judging criteria, each with a figure you can compute and a question
you answer by listening.

The figures are proxies, not verdicts: they say whether the piece does what Bach's chorales
do (metrics.py) and whether the sound is clean, and leave the judging to your ears.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .audio import SAMPLE_RATE
from .compose import Composition
from .metrics import BACH_REFERENCE, estimate_key, figures

__all__ = ["Criterion", "judge", "judging_table"]


@dataclass(frozen=True)
class Criterion:
    """One judging criterion: its proxy figure, the piece's value, a target and a listening prompt."""

    name: str
    proxy: str
    value: float
    target: str
    met: bool
    listen: str


def _loudness_db(audio: np.ndarray) -> np.ndarray:
    """RMS level of each second, in dB below full scale."""
    seconds = len(audio) // SAMPLE_RATE
    frames = audio[: seconds * SAMPLE_RATE].reshape(seconds, SAMPLE_RATE, -1)
    return 20 * np.log10(np.sqrt((frames ** 2).mean(axis=(1, 2))) + 1e-9)


def judge(piece: Composition, audio: np.ndarray) -> list[Criterion]:
    """The five criteria for a composed piece and its audio."""
    voices = piece.voices()
    values = figures(voices)
    bach = {k: mean for k, (mean, _) in BACH_REFERENCE.items()}
    written = 1.0 - piece.parameters["melody_notes_copied"] / max(1, sum(len(voices.notes(k)) for k in range(4)))
    peak_db = float(20 * np.log10(float(np.abs(audio).max()) + 1e-9))
    levels = _loudness_db(audio)[:-4]  # leave out the fading tail
    dynamics = float(np.percentile(levels, 95) - np.percentile(levels, 5))
    tonic, _ = estimate_key(voices)
    final_bass = voices.notes(3)[-1].pitch % 12 if voices.notes(3) else -1
    return [
        Criterion("Originality", "share of the voices' notes the models wrote (not copied from your tune)", written, "at least 0.60",
                  written >= 0.6, "Could you sing the tune back? What did the variation add that the theme did not have?"),
        Criterion("Rhythm", "share of off-beat 8ths that move (Bach: %.2f)" % bach["offbeat_motion"],
                  values["offbeat_motion"], "0.35 to 0.85", 0.35 <= values["offbeat_motion"] <= 0.85,
                  "Does the pulse flow, and do the slow-downs at phrase ends feel like breathing?"),
        Criterion("Accompaniment and chord progression",
                  "beats that are one chord (Bach: %.2f); parallels per 100 moves: %.1f" % (bach["chordal"], values["parallels"]),
                  values["chordal"], "at least 0.75, parallels at most 3",
                  values["chordal"] >= 0.75 and values["parallels"] <= 3.0,
                  "Do the lower voices support the tune? Does the bass lead somewhere?"),
        Criterion("Cleanliness of sound", "peak level in dBFS (0 would clip); notes at least an 8th: %.2f"
                  % values["long_notes"], peak_db, "below -0.5 dBFS", peak_db < -0.5,
                  "Any clicks, harsh clashes or muddy low notes? Is the tune clear above the pad?"),
        Criterion("The feeling it leaves", "loudness range in dB (5th to 95th percentile); ends on the tonic: %s"
                  % (final_bass == tonic), dynamics, "at least 6 dB and a tonic ending", dynamics >= 6.0 and final_bass == tonic,
                  "Close your eyes at the last chord: Baroque chapel, or a ship drifting past a planet?"),
    ]


def judging_table(criteria: list[Criterion]) -> str:
    """The criteria as a Markdown table for a notebook."""
    rows = ["| criterion | proxy | value | target | met | listen for |", "|---|---|---|---|---|---|"]
    for c in criteria:
        rows.append(f"| **{c.name}** | {c.proxy} | {c.value:.2f} | {c.target} | {'yes' if c.met else 'no'} | {c.listen} |")
    return "\n".join(rows)
