"""Choose the harmonizer's decoder weights on the validation split, and save them beside the model.

    python scripts/tune_decoder.py [--model models/gan] [--rounds 2] [--data NAME] [--pieces N]
                                   [--objective classifier|distance] [--sweep NAME=VALUE ...]

The statistics (chord transitions, voice motion, spacing, ornaments) are counted from the
training split. The weights are chosen by a coordinate search: each weight in turn is tried at
a few multiples of its default (the teacher's rules and the cadences stay as they are), and the
value that brings the validation sopranos' harmonizations closest to Bach's own validation
chorales is kept, unless it breaks a check that the best setting so far holds: the teacher's
checklist (``two_sample.CHECKLIST``: the bass standing still, wide leaps, consecutive fifths and
octaves, crossings), or each lower voice's mean note length and share of beats it moves on
within ``MOTION_TOLERANCE`` of the composer's own (``motion``). The checks come first: a value
that holds every check the best setting holds and more is kept even where the classifier tells
its voices apart more often. "Closest", by ``--objective``: ``classifier`` (the default), how often the
classifier two-sample test (``lab_utils.two_sample``) tells the voices from Bach's; ``distance``,
the mean distance over the eight figures of DESIGN.md and two of the bass's motion (how often
it stands still under moving voices, how often it moves by step). The test split and the
built-in tunes are never looked at. ``--sweep`` replaces the search: it starts from the model's
own decoder weights and tries the NAME=VALUE pairs given, in turn, each kept by the same rule
(a kept value stays for the pairs after it): for a weight whose default is 0, which the search's
multiples cannot move, or a step the search cannot take.
Prints every setting tried, with both measures; writes ``decoder.json`` in the model's folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path

import numpy as np

from lab_utils.gan_config import generator_folder
from lab_utils.harmonize import generator_evidence, load_harmonizer, voices_from
from lab_utils.catalog import load_style
from lab_utils.metrics import distance_to_bach, figures, reference_from, voice_leading_faults
from lab_utils.motion import MOTION_FIGURES, mean_motion
from lab_utils.two_sample import checklist, told_apart
from lab_utils.voice_leading import Decoder, DecoderWeights, count_voice_leading, save_decoder

MULTIPLES = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)  # tried for each weight, times its default value
# The teacher's rules (parallels, hidden octaves, leading tones) and the cadences stay firm:
# tuning them towards Bach's figures would buy back the few parallels he wrote, and no figure
# sees a cadence at a phrase end.
TUNED = ("gan", "harmony", "motion", "inner_motion", "spacing", "chromatic", "still", "overlap", "incomplete",
         "offbeat_gan")
# Beside the eight figures, how the bass moves (the first thing a harmony teacher hears)
JUDGED = ("bass_still", "bass_steps")
# A setting is kept only when it gains this much: the classifier's accuracy on the validation
# split moves by about half a point from fold noise alone
MIN_GAIN = {"classifier": 0.005, "distance": 0.001}
MOTION_TOLERANCE = 0.25  # a voice's note length and share of beats moved on, against the composer's
MOTION_CHECKS = [f for f in MOTION_FIGURES if f.endswith(("_quarters", "_moves"))]


def _figures(music) -> dict[str, float]:
    """The eight figures and the bass's motion."""
    faults = voice_leading_faults(music)
    return {**figures(music), **{f: faults[f] for f in JUDGED}}


def _name_value(item: str) -> tuple[str, float]:
    """``NAME=VALUE`` of ``--sweep``: a decoder weight and a number."""
    name, _, value = item.partition("=")
    if name not in {f.name for f in dataclasses.fields(DecoderWeights)}:
        raise ValueError(f"--sweep {item!r}: no decoder weight {name!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"--sweep {item!r}: {value!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"--sweep {item!r}: a weight is a number from 0 up")
    return name, number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a GAN folder (default: the shipped model)")
    search = parser.add_mutually_exclusive_group()
    search.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data", help="the style to count and judge on (default: the model's own)")
    parser.add_argument("--pieces", type=int, help="judge on the first N validation pieces (default: all)")
    parser.add_argument("--objective", choices=("classifier", "distance"), default="classifier",
                        help="what is minimized on the validation split (default: how often a classifier tells "
                             "the voices from Bach's)")
    search.add_argument("--sweep", nargs="+", metavar="NAME=VALUE",
                        help="instead of the search, try these weight values in turn, from the model's own decoder")
    args = parser.parse_args()
    try:
        sweep = [_name_value(item) for item in args.sweep or []]
    except ValueError as exc:
        parser.error(str(exc))  # one line, exit code 2
    folder = generator_folder(args.model)
    harmonizer = load_harmonizer(folder)
    ranges, roles = harmonizer.voice_ranges, harmonizer.roles
    dataset = load_style(args.data or harmonizer.style)
    stats = count_voice_leading(dataset.split("train"))
    valid = dataset.split("valid")[: args.pieces]
    reference = reference_from([_figures(c.roll()) for c in valid])
    melodies = [c.roll().track(0) for c in valid]
    evidence = [generator_evidence(m, harmonizer.generator, harmonizer.config, ranges, 0, harmonizer.melody_centre)
                for m in melodies]

    pieces = [c.roll() for c in valid]
    composer_motion = mean_motion(pieces)

    def objective(weights: DecoderWeights) -> tuple[float, set[str]]:
        """What is minimized (how often the voices are told from Bach's, or the mean distance to
        Bach's figures), and the teacher's checks the voices hold."""
        decoder = Decoder(stats, weights)
        music = [voices_from(m, e, ranges, decoder, roles=roles) for m, e in zip(melodies, evidence)]
        result = told_apart(pieces, music)
        distance = float(np.mean([distance_to_bach(_figures(piece), reference) for piece in music]))
        held = {check.feature for check in checklist(result) if check.passed}
        motion = mean_motion(music)
        held |= {f for f in MOTION_CHECKS if abs(motion[f] / composer_motion[f] - 1) <= MOTION_TOLERANCE}
        print(f"  told apart {result.accuracy:.3f}, distance {distance:.3f}, checks held {len(held)}, notes "
              + "/".join(f"{motion[f]:.2f}" for f in MOTION_CHECKS[:3]) + " quarters, moves "
              + "/".join(f"{motion[f]:.2f}" for f in MOTION_CHECKS[3:]), end=" ", flush=True)
        return (result.accuracy if args.objective == "classifier" else distance), held

    # the search starts from the defaults (the teacher's rules and cadences keep theirs), a sweep from the model's own
    best = harmonizer.decoder.weights if sweep else DecoderWeights()
    best_score, best_held = objective(best)
    print(f"start {best_score:.3f} {best}")
    if sweep:
        trials = [("sweep", name, value) for name, value in sweep]
    else:
        trials = [(f"round {round_ + 1}", name, getattr(DecoderWeights(), name) * multiple)
                  for round_ in range(args.rounds) for name in TUNED for multiple in MULTIPLES]
    for label, name, value in trials:
        trial = dataclasses.replace(best, **{name: value})
        started = time.perf_counter()
        score, held = objective(trial)
        print(f"{label} {name:10s} {value:7.3f} -> {score:.3f} ({time.perf_counter() - started:.0f} s)", flush=True)
        if held > best_held or held == best_held and score < best_score - MIN_GAIN[args.objective]:
            best, best_score, best_held = trial, score, held
    save_decoder(Decoder(stats, best), folder)
    print(f"chosen (validation {args.objective} {best_score:.3f}): {best}")
    print(f"written to {Path(folder) / 'decoder.json'}")


if __name__ == "__main__":
    main()
