"""Print a harmonization beat by beat, as a harmony teacher reads it:
python scripts/print_voices.py twinkle [seed] [style]   (style: bach, palestrina, or a model folder)."""

from __future__ import annotations

import sys

from lab_utils.harmonize import load_harmonizer
from lab_utils.metrics import beat_table, figures, voice_leading_faults

from lab_utils.samples import melody_roll
from lab_utils.styles import model_for_style

if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else "twinkle"
    harmonizer = load_harmonizer(model_for_style(sys.argv[3] if len(sys.argv) > 3 else "bach"))
    music = harmonizer(melody_roll(name), seed=int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    print(beat_table(music))
    print({k: round(v, 3) for k, v in {**figures(music), **voice_leading_faults(music)}.items()})
