"""The evaluate command: a model's figures on melodies it never saw, beside its style's own."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import EXIT_USER_ERROR, write_json, load_harmonizer_or_say, load_enhancer_or_say


def _evaluate_arcnn(args: argparse.Namespace) -> int:
    from ..chorales import load_dataset
    from ..evaluate import ENHANCE_FIGURES, evaluate_enhancer

    enhancer = load_enhancer_or_say(args.checkpoint)
    if enhancer is None:
        return EXIT_USER_ERROR
    result = evaluate_enhancer(enhancer, load_dataset(progress=False))
    print("First 8 bars, 100 iterations, 0 % removal, at most 40 notes added (means per melody):")
    print(f"{'melodies':16s} " + " ".join(f"{f:>11s}" for f in ENHANCE_FIGURES) + f" {'remove-only subset':>19s}")
    for name, means in result["sets"].items():
        print(f"{name:16s} " + " ".join(f"{means[f]:11.3f}" for f in ENHANCE_FIGURES)
              + f" {result['remove_only_subset'][name]:19.2f}")
    write_json(result, args.json or "out/evaluate-arcnn.json")
    return 0


def _evaluate_compose(args: argparse.Namespace) -> int:
    from ..chorales import load_dataset
    from ..compose import compose
    from ..judging import evaluate_composer

    if args.checkpoint:
        print("error: --model compose judges the shipped models; it takes no --checkpoint", file=sys.stderr)
        return EXIT_USER_ERROR
    harmonizer, enhancer = load_harmonizer_or_say(None), load_enhancer_or_say(None)
    if harmonizer is None or enhancer is None:
        return EXIT_USER_ERROR
    from ..transformer import load_melody_model

    extender = load_melody_model()
    result = evaluate_composer(lambda melody, seed: compose(melody, harmonizer, enhancer, seed=seed, extender=extender),
                               load_dataset(progress=False))
    shown = ("in_key", "consonant", "chordal", "parallels", "originality", "integrated_lufs", "true_peak_dbtp",
             "loudness_range_lu", "max_window_dc")
    print(f"{'pieces':20s} " + " ".join(f"{k[:10]:>10s}" for k in shown) + f" {'meet all':>9s}")
    for group in ("tunes", "test_sopranos"):
        mean = result[f"mean_{group}"]
        print(f"{group + ' (' + str(len(result[group])) + ')':20s} " + " ".join(f"{mean[k]:10.3f}" for k in shown)
              + f" {result['meet_targets'][group]:9.2f}")
    print("targets: " + ", ".join(f"{k} {low:g}..{high:g}" for k, (low, high) in result["targets"].items()))
    write_json(result, args.json or "out/evaluate-compose.json")
    return 0


def _evaluate_transformer(args: argparse.Namespace) -> int:
    from ..melodies import load_tunes
    from ..melody_evaluation import CONTINUATION_FIGURES, evaluate_melody_model, read_melodies
    from ..transformer import load_melody_model

    melodies = None
    if args.melodies:
        if not Path(args.melodies).is_dir():
            print(f"error: {args.melodies}: not a folder", file=sys.stderr)
            return EXIT_USER_ERROR
        melodies, skipped = read_melodies(args.melodies)
        for name, reason in skipped.items():
            print(f"warning: {name} left out: {reason}", file=sys.stderr)
        if not melodies:
            print(f"error: {args.melodies}: no MIDI file with a melody in it", file=sys.stderr)
            return EXIT_USER_ERROR
    try:
        model = load_melody_model(args.checkpoint)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    result = evaluate_melody_model(model, load_tunes(progress=False), melodies)
    bits, c = result["bits_per_note"], result["continuations"]
    print(f"bits per note on {result['melodies']} ({result['tunes']} tunes; lower is better): Transformer "
          f"{bits['transformer']:.3f}, Markov baseline (order {result['markov_order']}) {bits['markov']:.3f}")
    for source, part in result.get("bits_per_note_by_source", {}).items():
        print(f"  {source} ({part['tunes']} tunes): Transformer {part['transformer']:.3f}, Markov {part['markov']:.3f}")
    print(f"{c['melodies']} melodies extended by 20 s: " + ", ".join(f"{k} {c[k]:.2f}" for k in CONTINUATION_FIGURES))
    if "real_continuations" in result:
        real = result["real_continuations"]
        print("the same tunes' own next notes:     " + ", ".join(f"{k} {real[k]:.2f}" for k in CONTINUATION_FIGURES))
    write_json(result, args.json or "out/evaluate-transformer.json")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    if args.model == "transformer":
        return _evaluate_transformer(args)
    if args.melodies:
        print("error: --melodies is for --model transformer", file=sys.stderr)
        return EXIT_USER_ERROR
    if args.model == "arcnn":
        return _evaluate_arcnn(args)
    if args.model == "compose":
        return _evaluate_compose(args)
    from ..evaluate import EvaluationError, ablation, ablation_table, evaluate_harmonizer, format_table
    from ..catalog import load_style
    from ..styles import StyleError

    harmonizer = load_harmonizer_or_say(args.checkpoint)
    if harmonizer is None:
        return EXIT_USER_ERROR
    try:
        dataset = load_style(args.data or harmonizer.style)
        result = evaluate_harmonizer(harmonizer, dataset)
    except (StyleError, EvaluationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(format_table(result))
    from ..harmonize import load_harmonizer
    from ..two_sample import (CHECKLIST_HEADER, RAW, TABLE_HEADER, TRAINED, UNTRAINED, checklist, checklist_rows,
                              describe, table_row, to_json, verdict, yardstick)

    untrained = load_harmonizer(harmonizer.folder, untrained=True)
    result["ablation"] = ablation({"untrained generator": untrained, "trained generator": harmonizer}, dataset)
    print(f"\nThe same decoder on the {result['split']} sopranos, untrained and trained generator, and Bach:")
    print(ablation_table(result["ablation"]))
    pieces = [piece.roll() for piece in dataset.split(result["split"])]
    rows = yardstick(pieces, {TRAINED: harmonizer, UNTRAINED: untrained, RAW: load_harmonizer(harmonizer.folder, raw=True)})
    result["two_sample"] = {row.name: to_json(row) for row in rows}
    print(f"\nCan a classifier tell the voices from {dataset.name}'s own under the {result['split']} melodies? "
          "(0.5: never; 1.0: always)")
    print(TABLE_HEADER)
    print("\n".join(table_row(row) for row in rows))
    print("\n" + verdict(rows, dataset.name.capitalize()) + "\n" + describe(rows[1]))
    print(f"\nA harmony teacher's checklist, rates in the two-bar windows ({dataset.name}'s against the trained "
          "model's):\n" + CHECKLIST_HEADER + "\n" + checklist_rows(checklist(rows[1])))
    if dataset.name != "bach":
        result["cross_style"] = _cross_style(harmonizer, dataset)
    write_json(result, args.json or "out/evaluate-gan.json")
    return 0


def _cross_style(harmonizer, dataset) -> dict:
    """A style's model beside the Bach model on both styles' held-out melodies: the distance of
    each model's pieces to each style's own figures (a model should land nearer its own style)."""
    from ..chorales import load_dataset
    from ..evaluate import cross_style, markdown_table
    from ..harmonize import load_harmonizer

    models = {f"{dataset.name} model": harmonizer, "bach model": load_harmonizer()}
    datasets = {dataset.name: dataset, "bach": load_dataset(progress=False)}
    result = {}
    for source in datasets:
        result[f"on {source} test melodies"] = rows = cross_style(models, datasets, source)
        print(f"\nMean distance to each style's figures, on {source}'s held-out melodies:")
        print(markdown_table({model: row for model, row in rows.items()}))
    return result


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add 'evaluate' to the command line."""
    p = commands.add_parser("evaluate", help="musical figures of a model against Bach's")
    p.add_argument("--model", choices=["gan", "arcnn", "transformer", "compose"], default="gan",
                   help="compose: the challenge track's four voices, shipped models")
    p.add_argument("--melodies", metavar="DIR", help="transformer: score and extend these MIDI files' melodies "
                   "(default: the test split's tunes)")
    p.add_argument("--checkpoint", metavar="DIR", help="a trained model (default: models/gan or models/arcnn)")
    p.add_argument("--json", metavar="FILE", help="where to write the figures (default: out/evaluate-MODEL.json)")
    p.add_argument("--data", metavar="NAME", help="the style to compare with (default: the model's own)")
    p.set_defaults(run=_evaluate)
