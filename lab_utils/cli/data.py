"""The dataset and melody commands: show a dataset, build a style from a folder or the corpus, repair its shards, extract melodies."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import EXIT_USER_ERROR, at_least, meter, part, for_each_input


def _dataset(args: argparse.Namespace) -> int:
    from ..chorales import load_dataset
    from ..catalog import load_style
    from ..styles import StyleError, read_report

    if args.action == "build":
        return _dataset_build(args)
    if args.action == "shards":
        return _dataset_shards(args)
    if args.folder or args.corpus:
        print("error: a folder or --corpus is read by 'dataset build' (see python -m lab_utils dataset --help)",
              file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        dataset = load_dataset(rebuild=args.rebuild, progress=not args.json) if args.name == "bach" \
            else load_style(args.name)
    except StyleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    summary = dataset.summary()
    if args.json:
        print(json.dumps(summary))
        return 0
    if dataset.name != "bach":  # a style's skipped files can run to hundreds: its report groups them
        print(read_report(args.name).table())
        return 0
    print(f"{sum(summary['counts'].values())} pieces of {dataset.name} "
          f"(train {summary['counts']['train']}, valid {summary['counts']['valid']}, "
          f"test {summary['counts']['test']}), {len(summary['skipped'])} skipped")
    for chorale_id, reason in summary["skipped"].items():
        print(f"  skipped {chorale_id}: {reason}")
    print("GAN windows", summary["windows"], "of shape", summary["window_shape"])
    print("AR-CNN rolls", summary["arcnn_rolls"], "of shape", summary["arcnn_shape"])
    return 0


def _dataset_shards(args: argparse.Namespace) -> int:
    from ..shards import ShardError, repair_shards
    from ..catalog import load_style
    from ..styles import StyleError

    try:
        dataset = load_style(args.name)
        written = repair_shards(dataset)
    except (StyleError, ShardError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"wrote {', '.join(written)}" if written else f"every shard of {args.name} is sound; nothing written")
    return 0


def _dataset_build(args: argparse.Namespace) -> int:
    from ..styles import (StyleError, build_part, build_style, check_replace, corpus_description, corpus_sources,
                         folder_description, folder_sources, style_folder)

    if bool(args.folder) == bool(args.corpus):
        print("error: give a folder or --corpus COMPOSER (see python -m lab_utils dataset --help)", file=sys.stderr)
        return EXIT_USER_ERROR
    if args.name == "bach":
        print("error: 'bach' is the chorales (python -m lab_utils dataset --rebuild); choose another --name",
              file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        out = style_folder(args.name)
        if args.corpus:
            sources, folder, described = corpus_sources(args.corpus), None, corpus_description(args.corpus)
        else:
            folder = Path(args.folder)
            sources, described = folder_sources(folder), folder_description(folder)
        check_replace(args.name, described, args.force)
        if args.part:
            manifest = build_part(args.name, sources, args.part, jobs=args.jobs,
                                  progress=not args.json and sys.stderr.isatty())
            print(f"part {args.part[0]}/{args.part[1]} read into {manifest.parent}; when every part is done "
                  f"(each machine's {manifest.parent.name} copied here), run this command without --part")
            return 0
        dataset, report = build_style(args.name, sources, out, meter=args.meter, folder=folder, jobs=args.jobs,
                                      progress=not args.json and sys.stderr.isatty(), source_description=described,
                                      corpus_relative=bool(args.corpus))
    except StyleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    if args.json:
        print(json.dumps(report.to_json()))
        return 0
    print(report.table())
    print(f"dataset in {out} (report.json, report.png); train on it: "
          f"python -m lab_utils train gan --data {args.name} -o runs/gan-{args.name}")
    return 0


def _melody(args: argparse.Namespace) -> int:
    from ..midi import extract_melody

    return for_each_input(args, extract_melody, lambda m: f"{len(m.notes())} notes")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add 'dataset', 'melody' to the command line."""
    p = commands.add_parser(
        "dataset", help="show a dataset (Bach's chorales by default), or build a style from a folder of music",
        description="'dataset' shows the Bach chorales (--name NAME: a style built before). 'dataset build DIR "
                    "--name NAME' reads every MIDI, MusicXML, kern and ABC file under DIR into a style, with a "
                    "report of what was used and skipped; '--corpus COMPOSER' reads music21's corpus instead. "
                    "An existing style is rebuilt from the source it was built from; another source needs "
                    "another --name, or --force. "
                    "A roles.json in DIR ({\"pattern\": [melody, part, part, part]}) overrides the roles.")
    p.add_argument("action", nargs="?", choices=["build", "shards"],
                   help="build: build a style; shards: write a style's missing or damaged training shards")
    p.add_argument("folder", nargs="?", metavar="DIR", help="the folder of music files to build from")
    p.add_argument("--name", default="bach", help="the style's name (default: bach, the chorales)")
    p.add_argument("--corpus", metavar="COMPOSER", help="build from music21's corpus (e.g. palestrina)")
    p.add_argument("--meter", type=meter, metavar="N/D|any",
                   help="keep pieces in this meter (default: the folder's most common; any: all)")
    p.add_argument("--jobs", type=at_least(1), help="processes reading files (default: every core)")
    p.add_argument("--part", type=part, metavar="I/N",
                   help="read only the I-th of N slices of the files (one job per machine); "
                        "the same command without --part then merges them")
    p.add_argument("--json", action="store_true", help="print the summary (or the build's report) as one JSON object")
    p.add_argument("--rebuild", action="store_true", help="rebuild the chorales from music21's corpus")
    p.add_argument("--force", action="store_true",
                   help="build: replace a style of this --name built from another folder or composer (rebuilding "
                        "from its own source needs no --force; a shipped style, one with a model in models/, is "
                        "rebuilt only from its own source, even with --force)")
    p.set_defaults(run=_dataset)
    p = commands.add_parser("melody", help="extract the melody of MIDI files")
    p.add_argument("inputs", nargs="+", metavar="IN.mid")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    p.set_defaults(run=_melody)
