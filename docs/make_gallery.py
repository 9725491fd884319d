"""Regenerate the README's gallery from the shipped models: python docs/make_gallery.py

Writes the challenge track's piano roll with its loudness curve and a compressed MP3 (Twinkle Twinkle, seed 0, 60 s,
as `make compose` makes it), the GAN's loss and figure curves, inside the harmonizer on Twinkle's first bar (Lab 3),
the AR-CNN's loss curves and the Transformer's bits per note against the Markov baseline.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))

from lab_utils.arcnn import SHIPPED_ARCNN, load_enhancer  # noqa: E402
from lab_utils.audio import write_audio  # noqa: E402
from lab_utils.compose import compose  # noqa: E402
from lab_utils.export import plot_composition, render_audio  # noqa: E402
from lab_utils.melody_source import melody_from  # noqa: E402
from lab_utils.gan import SHIPPED_MODEL  # noqa: E402
from lab_utils.harmonize import load_harmonizer  # noqa: E402
from lab_utils.plots import (epochs_from_one, plot_curves, plot_figures_vs_bach, plot_generator_scores,  # noqa: E402
                             plot_losses, read_log)
from lab_utils.transformer import load_melody_model, transformer_folder  # noqa: E402


def main() -> None:
    melody, title, _ = melody_from("twinkle")
    piece = compose(melody, load_harmonizer(), load_enhancer(), seconds=60, seed=0, title=title,
                    extender=load_melody_model())
    audio = render_audio(piece)
    plot_composition(piece, audio).savefig(DOCS / "challenge_track.png", dpi=80, metadata={"Software": None})
    write_audio(audio, DOCS / "challenge_track.mp3", compression=0.7)

    gan_log = read_log(SHIPPED_MODEL / "log.csv")
    plot_losses(gan_log, smooth=5).savefig(DOCS / "gan_losses.png", dpi=70, metadata={"Software": None})
    bach = json.loads((SHIPPED_MODEL / "evaluation.json").read_text())["bach_reference"]
    plot_figures_vs_bach(gan_log, {k: tuple(v) for k, v in bach.items()}).savefig(
        DOCS / "gan_figures.png", dpi=70, metadata={"Software": None})
    plot_generator_scores(melody, load_harmonizer(), bars=(1, 2)).savefig(
        DOCS / "gan_wishes.png", dpi=70, metadata={"Software": None})
    plot_curves(epochs_from_one(read_log(SHIPPED_ARCNN / "log.csv")), ("loss", "val_loss"), smooth=1).savefig(
        DOCS / "arcnn_loss.png", dpi=70, metadata={"Software": None})
    plot_curves(epochs_from_one(read_log(transformer_folder() / "log.csv")), ("val_bits_per_note",), smooth=1).savefig(
        DOCS / "transformer_bits.png", dpi=70, metadata={"Software": None})
    for path in sorted(DOCS.iterdir()):
        print(f"{path.name:24s} {path.stat().st_size / 1024:7.0f} KB")


if __name__ == "__main__":
    main()
