"""The commands that make music: harmonize, enhance, extend, compose."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import (EXIT_USER_ERROR, at_least, between, for_each_input, load_enhancer_or_say,
                     load_harmonizer_or_say, positive)


def _harmonize(args: argparse.Namespace) -> int:
    from ..midi import extract_melody

    harmonizer = load_harmonizer_or_say(args.checkpoint, args.style, untrained=args.untrained, raw=args.raw)
    if harmonizer is None:
        return EXIT_USER_ERROR
    return for_each_input(args, lambda roll: harmonizer(extract_melody(roll), seed=args.seed),
                           lambda music: f"{music.seconds:.0f} s, {harmonizer.style}: {', '.join(music.names)}")


def _enhance(args: argparse.Namespace) -> int:
    enhancer = load_enhancer_or_say(args.checkpoint)
    if enhancer is None:
        return EXIT_USER_ERROR

    def run(roll):
        enhanced, counts = enhancer(roll, iterations=args.iterations,
                                   max_notes_added=args.max_notes_added, max_removed_pct=args.max_removed_pct,
                                   temperature=args.temperature, seed=args.seed)
        run.counts = counts
        return enhanced

    return for_each_input(args, run, lambda m: f"{run.counts.added} notes added, "
                           f"{run.counts.removed} removed or shortened in {run.counts.iterations} iterations")


def _extend(args: argparse.Namespace) -> int:
    from ..extend import ExtendError, extend, melody_of
    from ..midi import MidiFileError
    from ..transformer import Sampling, load_melody_model

    try:
        model = load_melody_model(args.checkpoint)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    sampling = Sampling(args.temperature, top_k=args.top_k, top_p=None if args.top_k else args.top_p)

    def run(roll):
        try:
            run.result = extend(melody_of(roll), model, seconds=args.seconds, sampling=sampling, seed=args.seed)
        except ExtendError as exc:
            raise MidiFileError(str(exc)) from None
        return run.result.music

    return for_each_input(args, run, lambda music: f"{run.result.new_from_step * music.seconds_per_step:.1f} s kept, "
                          f"{music.seconds - run.result.new_from_step * music.seconds_per_step:.1f} s new, "
                          f"{len(run.result.new_notes)} new notes")


def _model_record(folder: Path, given: str | None) -> str:
    """A model folder as the track's JSON records it, the same on every machine: relative to the
    repository where it is in it (the shipped models), else by the name of the folder given."""
    from ..files import in_repository

    return in_repository(folder) or Path(given or folder.resolve()).name


def _compose(args: argparse.Namespace) -> int:
    from ..audio import preload_soundfont

    preload_soundfont()  # its file is read while the models make the music
    from ..compose import compose
    from ..export import preload_writers, upload_metadata, write_composition

    preload_writers()  # imported while the models run
    from ..melody_source import MelodyError, melody_from

    try:
        melody, title, name = melody_from(args.melody)
        if Path(args.output).exists() and not Path(args.output).is_dir():
            raise MelodyError(f"{args.output}: not a folder")
    except MelodyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    harmonizer = load_harmonizer_or_say(args.gan, args.style)
    enhancer = load_enhancer_or_say(args.arcnn) if harmonizer is not None else None
    if harmonizer is None or enhancer is None:
        return EXIT_USER_ERROR
    from ..transformer import load_melody_model

    extender = load_melody_model()
    try:
        piece = compose(melody, harmonizer, enhancer, seconds=args.seconds, seed=args.seed, title=title,
                        extender=extender)
        given = Path(args.melody).name if Path(args.melody).is_file() else args.melody  # a file: its name only
        metadata = upload_metadata(piece, melody_source=given,
                                   models={"gan": _model_record(harmonizer.folder, args.gan or args.style),
                                           "arcnn": _model_record(enhancer.folder, args.arcnn),
                                           "transformer": _model_record(extender.folder, None)})
        paths = write_composition(piece, args.output, f"{name}-seed{args.seed}", force=args.force, metadata=metadata)
    except MelodyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:  # a folder that cannot be made or written
        print(f"error: {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"composed \"{piece.title}\": {args.seconds:g} s at {piece.parameters.tempo_bpm} bpm "
          f"({piece.parameters.form})")
    f = metadata["figures"]
    print(f"four voices: in key {f['in_key']:.2f}, consonant {f['consonant']:.2f}, chordal {f['chordal']:.2f}, "
          f"parallels {f['parallels']:.1f} per 100 moves")
    m = json.loads(paths["json"].read_text())["mastering"]
    print(f"audio: {m['integrated_lufs']:.1f} LUFS, true peak {m['true_peak_dbtp']:.1f} dBTP, loudness range "
          f"{m['loudness_range_lu']:.1f} LU, loudest 10 s from {m['loudest_10s_start']:.0f} s, "
          f"largest 1-s DC {m['max_window_dc']:.4f}")
    print("files (upload the MP3 with the title, description and tags in the JSON):")
    for path in paths.values():
        print(f"  {path}")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add 'harmonize', 'enhance', 'extend', 'compose' to the command line."""
    p = commands.add_parser("harmonize", help="add alto, tenor and bass to melodies")
    p.add_argument("inputs", nargs="+", metavar="IN.mid")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument("--checkpoint", metavar="DIR", help="a trained model (default: models/gan)")
    p.add_argument("--style", metavar="NAME|DIR", help="a style's model: models/gan-NAME, or a run folder")
    heard = p.add_mutually_exclusive_group()
    heard.add_argument("--untrained", action="store_true",
                       help="the same decoder over an untrained generator (seeded): what training brings")
    heard.add_argument("--raw", action="store_true",
                       help="the generator's own output, voice ranges only, no decoder: what the decoder brings")
    p.set_defaults(run=_harmonize)
    p = commands.add_parser("enhance", help="add and remove notes like Bach (the AR-CNN)")
    p.add_argument("inputs", nargs="+", metavar="IN.mid")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    p.add_argument("--iterations", type=at_least(0), default=100, help="cell flips per 8 bars")
    p.add_argument("--max-notes-added", type=at_least(0), default=500, help="notes to add at most (each at least an 8th)")
    p.add_argument("--max-removed-pct", type=between(0, 100), default=100.0, help="percent of the input's notes to remove or shorten at most")
    p.add_argument("--temperature", type=positive, default=1.0, help="creative risk")
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument("--checkpoint", metavar="DIR", help="a trained AR-CNN (default: models/arcnn)")
    p.set_defaults(run=_enhance)
    p = commands.add_parser("extend", help="continue melodies with the Transformer")
    p.add_argument("inputs", nargs="+", metavar="IN.mid")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    p.add_argument("--seconds", type=between(0.1, 600), default=20.0, help="how much longer (seconds of new music)")
    p.add_argument("--temperature", type=positive, default=1.0, help="creative risk: below 1 safer, above 1 bolder")
    choice = p.add_mutually_exclusive_group()
    choice.add_argument("--top-k", type=at_least(1), help="draw each word from the K likeliest only")
    choice.add_argument("--top-p", type=between(0.01, 1), default=0.9,
                        help="draw each word from the likeliest whose chances add up to P (nucleus; default 0.9)")
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument("--checkpoint", metavar="DIR", help="a trained Transformer (default: models/transformer)")
    p.set_defaults(run=_extend)
    p = commands.add_parser("compose", help="compose the one-minute challenge track")
    p.add_argument("--melody", default="twinkle", metavar="NAME|PATH",
                   help="a built-in melody (twinkle, ode_to_joy, ...), a MIDI file, or notes like 'C4 C4 G4 G4 A4 A4 G4-'")
    p.add_argument("--seconds", type=between(20, 600), default=60.0, help="length of the audio")
    p.add_argument("--seed", type=at_least(0), default=0, help="another seed, another piece")
    p.add_argument("-o", "--output", default="out/compose", metavar="DIR")
    p.add_argument("--force", action="store_true", help="overwrite earlier files of the same name")
    p.add_argument("--gan", metavar="DIR", help="a trained GAN (default: models/gan)")
    p.add_argument("--arcnn", metavar="DIR", help="a trained AR-CNN (default: models/arcnn)")
    p.add_argument("--style", metavar="NAME|DIR", help="the harmony's style: models/gan-NAME or a run (default: bach)")
    p.set_defaults(run=_compose)
