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
from .mastering import measure
from .evaluate import AUDIO_TARGETS, COMPOSE_TARGETS
from .metrics import bach_reference, estimate_key

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


def judge(piece: Composition, audio: np.ndarray) -> list[Criterion]:
    """The five criteria for a composed piece and its audio."""
    voices = piece.voices()
    values = piece.figures()
    bach = {k: mean for k, (mean, _) in bach_reference().items()}
    written = piece.parameters.originality
    sound = measure(audio, SAMPLE_RATE)
    lowest = {k: low for k, (low, _) in COMPOSE_TARGETS.items()}
    most_parallels, ceiling, most_dc = (COMPOSE_TARGETS["parallels"][1], AUDIO_TARGETS["true_peak_dbtp"][1],
                                        AUDIO_TARGETS["max_window_dc"][1])
    flowing = COMPOSE_TARGETS["offbeat_motion"]
    tonic, _ = estimate_key(voices)
    final_bass = voices.notes(3)[-1].pitch % 12 if voices.notes(3) else -1
    return [
        Criterion("Originality", "share of the top line's notes the models wrote (a copy of your tune, "
                  "even transposed, does not count)", written, f"at least {lowest['originality']:.2f}", written >= lowest["originality"], "Could you sing the tune back? What did the variation add that the theme did not have?"),
        Criterion("Rhythm", "share of off-beat 8ths that move (Bach: %.2f)" % bach["offbeat_motion"],
                  values["offbeat_motion"], f"{flowing[0]:g} to {flowing[1]:g}", flowing[0] <= values["offbeat_motion"] <= flowing[1],
                  "Does the pulse flow, and do the slow-downs at phrase ends feel like breathing?"),
        Criterion("Accompaniment and chord progression",
                  "beats that are one chord (Bach: %.2f); parallels per 100 moves: %.1f" % (bach["chordal"], values["parallels"]),
                  values["chordal"], f"at least {lowest['chordal']:.2f}, parallels at most {most_parallels:g}",
                  values["chordal"] >= lowest["chordal"] and values["parallels"] <= most_parallels,
                  "Do the lower voices support the tune? Does the bass lead somewhere?"),
        Criterion("Cleanliness of sound", "true peak in dBTP (0 would clip); largest DC offset of a second: %.4f; "
                  "notes at least an 8th: %.2f" % (sound.max_window_dc, values["long_notes"]), sound.true_peak_dbtp,
                  f"at most {ceiling:g} dBTP and no DC", sound.true_peak_dbtp <= ceiling and sound.max_window_dc < most_dc,
                  "Any clicks, harsh clashes or muddy low notes? Is the tune clear above the pad?"),
        Criterion("The feeling it leaves", "short-term loudness range in LU; loudest 10 s from %.0f s of %.0f; ends on the "
                  "tonic: %s" % (sound.loudest_10s_start, len(audio) / SAMPLE_RATE, final_bass == tonic),
                  sound.loudness_range_lu, f"at least {AUDIO_TARGETS['loudness_range_lu'][0]:g} LU and a tonic ending",
                  sound.loudness_range_lu >= AUDIO_TARGETS["loudness_range_lu"][0] and final_bass == tonic,
                  "Close your eyes at the last chord: Baroque chapel, or a ship drifting past a planet?"),
    ]


def judging_table(criteria: list[Criterion]) -> str:
    """The criteria as a Markdown table for a notebook."""
    rows = ["| criterion | proxy | value | target | met | listen for |", "|---|---|---|---|---|---|"]
    for c in criteria:
        rows.append(f"| **{c.name}** | {c.proxy} | {c.value:.2f} | {c.target} | {'yes' if c.met else 'no'} | {c.listen} |")
    return "\n".join(rows)
