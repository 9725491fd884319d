"""The command line: ``python -m lab_utils COMMAND``, thin over the notebooks' functions.

A user's mistake gets one line on stderr, ``error: ...``, and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from .distribute import STRATEGIES

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter stays off the terminal

EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {message} (see python -m lab_utils {self.prog.split()[-1]} --help)",
              file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR)


def _dataset(args: argparse.Namespace) -> int:
    from .chorales import load_dataset
    from .styles import StyleError, load_style, read_report

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


def _meter(text: str) -> tuple[int, int] | str:
    """``--meter``: ``3/4``-style, or ``any``."""
    if text == "any":
        return text
    try:
        numerator, denominator = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a meter like 3/4 or 'any', not {text!r}") from None
    if numerator < 1 or denominator not in (1, 2, 4, 8, 16):
        raise argparse.ArgumentTypeError(f"{text} is not a meter (a count over 1, 2, 4, 8 or 16)")
    return numerator, denominator


def _part(text: str) -> tuple[int, int]:
    """``--part``: ``I/N``, the I-th of N parts."""
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a part like 2/4, not {text!r}") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"{text}: the part must be between 1 and {max(count, 1)}")
    return index, count


def _dataset_shards(args: argparse.Namespace) -> int:
    from .shards import ShardError, repair_shards
    from .styles import StyleError, load_style

    try:
        dataset = load_style(args.name)
        written = repair_shards(dataset)
    except (StyleError, ShardError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"wrote {', '.join(written)}" if written else f"every shard of {args.name} is sound; nothing written")
    return 0


def _dataset_build(args: argparse.Namespace) -> int:
    from .styles import (StyleError, build_part, build_style, check_replace, corpus_description, corpus_sources,
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


def _output_paths(inputs: list[str], outdir: Path) -> dict[str, Path | str]:
    """Each input's output path, or the reason it has none (would overwrite work)."""
    outputs: dict[str, Path | str] = {}
    seen: set[Path] = set()
    for name in inputs:
        target = outdir / (Path(name).stem + ".mid")
        if target.resolve() == Path(name).resolve():
            outputs[name] = "the output would overwrite the input; choose another -o"
        elif target in seen:
            outputs[name] = "an earlier input has the same name; its output would be overwritten"
        else:
            outputs[name] = target
            seen.add(target)
    return outputs


def _write_new(music, target: Path) -> Path:
    """Write ``target``, or where it exists ``<stem>-2.mid``, ``-3``...: earlier work is kept,
    also when another run takes a name at the same moment."""
    from .files import numbered_stems
    from .midi import write_midi

    for stem in numbered_stems(target.stem):
        try:
            return write_midi(music, target.with_name(stem + target.suffix), overwrite=False)
        except FileExistsError:
            continue


def _for_each_input(args: argparse.Namespace, make, describe) -> int:
    """Run ``make(melody_roll_of_file)`` on every input; write ``OUTDIR/<name>.mid`` (or
    ``<name>-2.mid``... beside earlier output, which is never replaced).

    A bad input gets one line on stderr and nothing written; the others go on; exit code 2.
    """
    from .files import shown
    from .midi import MidiFileError, read_midi

    outdir = Path(args.output)
    if outdir.exists() and not outdir.is_dir():
        print(f"error: {outdir}: not a folder", file=sys.stderr)
        return EXIT_USER_ERROR
    failed = False
    for name, target in _output_paths(args.inputs, outdir).items():
        try:
            if isinstance(target, str):
                raise MidiFileError(target)
            music = make(read_midi(name))
        except MidiFileError as exc:
            print(f"error: {shown(name)}: {shown(exc)}", file=sys.stderr)
            failed = True
            continue
        try:
            written = _write_new(music, target)
        except OSError as exc:  # a folder that cannot be made or written
            print(f"error: {shown(target)}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        print(f"{shown(name)} -> {shown(written)} ({describe(music)})")
    return EXIT_USER_ERROR if failed else 0


def _melody(args: argparse.Namespace) -> int:
    from .midi import extract_melody

    return _for_each_input(args, extract_melody, lambda m: f"{len(m.notes())} notes")


def _train(args: argparse.Namespace) -> int:
    from .distribute import StrategyError, WorkerLost, read_tf_config
    from .runs import TrainingError, check_run_folder
    from .shards import ShardError
    from .styles import StyleError, load_style

    marker = "checkpoint" if args.model == "gan" else "backup"
    if args.strategy == "multiworker" and args.model == "gan":  # a restarted cluster resumes where it was
        args.resume = (Path(args.output) / marker).is_dir()
    try:
        if args.strategy == "multiworker":
            read_tf_config()
        check_run_folder(Path(args.output), args.resume, marker)
        dataset = load_style(args.data)
    except (TrainingError, StyleError, StrategyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    from .runtime import import_tensorflow

    import_tensorflow()
    from .training import train_arcnn, train_gan

    try:
        if args.model == "gan":
            if args.epochs is not None:
                raise TrainingError("the GAN counts --iterations, not --epochs")
            history = train_gan(args.output, config_name=args.config, iterations=args.iterations,
                                minutes=args.minutes, resume=args.resume, sample_every=args.sample_every,
                                dataset=dataset, strategy=args.strategy)
        else:
            if args.iterations is not None or args.config != "default":
                raise TrainingError("the AR-CNN takes --epochs and --minutes (one config)")
            history = train_arcnn(args.output, epochs=args.epochs, minutes=args.minutes, resume=args.resume,
                                  dataset=dataset, strategy=args.strategy)
    except (TrainingError, ShardError, StrategyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except WorkerLost as exc:  # not the user's mistake: a cluster manager restarts what exits non-zero
        print(f"error: {exc}", file=sys.stderr)
        return 1
    last = {k: round(v[-1], 4) for k, v in history.items() if v}
    if args.strategy == "multiworker" and "iteration" not in last and "val_loss" not in last:
        print(f"done; the chief (worker 0) writes the model into {args.output}")
    elif args.model == "gan":
        print(f"trained to iteration {int(last.get('iteration', 0))}; model in {args.output}/generator; "
              f"distance to {dataset.name} {last.get('distance')}")
    else:
        print(f"trained {len(history.get('loss', []))} epochs; best model in {args.output}/model; "
              f"last validation loss {last.get('val_loss')}")
    return 0


def _load_harmonizer(checkpoint: str | None, style: str | None = None):
    """``harmonize.load_harmonizer`` for a folder or a style's model, or None after one line on
    stderr when there is none."""
    from .harmonize import load_harmonizer
    from .styles import model_for_style

    try:
        if style is not None:
            if checkpoint is not None:
                raise ValueError("give --style or a model folder, not both")
            checkpoint = str(model_for_style(style))
        return load_harmonizer(checkpoint)
    except (FileNotFoundError, ValueError) as exc:  # no model; a LAB_RUNTIME it cannot honour
        print(f"error: {exc}", file=sys.stderr)
        return None


def _harmonize(args: argparse.Namespace) -> int:
    from .midi import extract_melody

    harmonizer = _load_harmonizer(args.checkpoint, args.style)
    if harmonizer is None:
        return EXIT_USER_ERROR
    return _for_each_input(args, lambda roll: harmonizer(extract_melody(roll), seed=args.seed),
                           lambda music: f"{music.seconds:.0f} s, {harmonizer.style}: {', '.join(music.names)}")


def _load_enhancer(checkpoint: str | None):
    """``arcnn.load_enhancer``, or None after one line on stderr when there is no model."""
    from .arcnn import load_enhancer

    try:
        return load_enhancer(checkpoint)
    except (FileNotFoundError, ValueError) as exc:  # no model; a LAB_RUNTIME it cannot honour
        print(f"error: {exc}", file=sys.stderr)
        return None


def _enhance(args: argparse.Namespace) -> int:
    enhancer = _load_enhancer(args.checkpoint)
    if enhancer is None:
        return EXIT_USER_ERROR

    def run(roll):
        enhanced, counts = enhancer(roll, iterations=args.iterations,
                                   max_notes_added=args.max_notes_added, max_removed_pct=args.max_removed_pct,
                                   temperature=args.temperature, seed=args.seed)
        run.counts = counts
        return enhanced

    return _for_each_input(args, run, lambda m: f"{run.counts.added} notes added, "
                           f"{run.counts.removed} removed or shortened in {run.counts.iterations} iterations")


def _evaluate_arcnn(args: argparse.Namespace) -> int:
    from .chorales import load_dataset
    from .evaluate import ENHANCE_FIGURES, evaluate_enhancer

    enhancer = _load_enhancer(args.checkpoint)
    if enhancer is None:
        return EXIT_USER_ERROR
    result = evaluate_enhancer(enhancer, load_dataset(progress=False))
    print("First 8 bars, 100 iterations, 0 % removal, at most 40 notes added (means per melody):")
    print(f"{'melodies':16s} " + " ".join(f"{f:>11s}" for f in ENHANCE_FIGURES) + f" {'remove-only subset':>19s}")
    for name, means in result["sets"].items():
        print(f"{name:16s} " + " ".join(f"{means[f]:11.3f}" for f in ENHANCE_FIGURES)
              + f" {result['remove_only_subset'][name]:19.2f}")
    _write_json(result, args.json or "out/evaluate-arcnn.json")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .arcnn import ARCNN_TFLITE, arcnn_folder
    from .gan_config import GENERATOR_TFLITE, generator_folder
    from .runtime import export_tflite, import_tensorflow

    try:
        folder, kind = generator_folder(args.folder), "gan"
    except FileNotFoundError:
        try:
            folder, kind = arcnn_folder(args.folder), "arcnn"
        except FileNotFoundError:
            print(f"error: {args.folder}: no trained GAN or AR-CNN here (expected config.json and "
                  f"generator.weights.h5 or arcnn.weights.h5)", file=sys.stderr)
            return EXIT_USER_ERROR
    import_tensorflow()
    if kind == "gan":
        from .gan import load_generator

        path = export_tflite(load_generator(folder)[0], folder / GENERATOR_TFLITE)
    else:
        from .arcnn import load_arcnn

        path = export_tflite(load_arcnn(folder)[0], folder / ARCNN_TFLITE)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB), which runs on LiteRT without TensorFlow")
    return 0


def _write_json(result: dict, path: str) -> None:
    from .evaluate import nan_to_none

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(nan_to_none(result), indent=1))
    print(f"figures written to {target}")


def _evaluate_compose(args: argparse.Namespace) -> int:
    from .chorales import load_dataset
    from .compose import compose
    from .evaluate import evaluate_composer

    if args.checkpoint:
        print("error: --model compose judges the shipped models; it takes no --checkpoint", file=sys.stderr)
        return EXIT_USER_ERROR
    harmonizer, enhancer = _load_harmonizer(None), _load_enhancer(None)
    if harmonizer is None or enhancer is None:
        return EXIT_USER_ERROR
    result = evaluate_composer(lambda melody, seed: compose(melody, harmonizer, enhancer, seed=seed),
                               load_dataset(progress=False))
    shown = ("in_key", "consonant", "chordal", "parallels", "originality", "integrated_lufs", "true_peak_dbtp",
             "loudness_range_lu", "max_window_dc")
    print(f"{'pieces':20s} " + " ".join(f"{k[:10]:>10s}" for k in shown) + f" {'meet all':>9s}")
    for group in ("tunes", "test_sopranos"):
        mean = result[f"mean_{group}"]
        print(f"{group + ' (' + str(len(result[group])) + ')':20s} " + " ".join(f"{mean[k]:10.3f}" for k in shown)
              + f" {result['meet_targets'][group]:9.2f}")
    print("targets: " + ", ".join(f"{k} {low:g}..{high:g}" for k, (low, high) in result["targets"].items()))
    _write_json(result, args.json or "out/evaluate-compose.json")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    if args.model == "arcnn":
        return _evaluate_arcnn(args)
    if args.model == "compose":
        return _evaluate_compose(args)
    from .evaluate import EvaluationError, ablation, ablation_table, evaluate_harmonizer, format_table
    from .styles import StyleError, load_style

    harmonizer = _load_harmonizer(args.checkpoint)
    if harmonizer is None:
        return EXIT_USER_ERROR
    try:
        dataset = load_style(args.data or harmonizer.style)
        result = evaluate_harmonizer(harmonizer, dataset)
    except (StyleError, EvaluationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(format_table(result))
    from .harmonize import load_harmonizer

    result["ablation"] = ablation({"untrained generator": load_harmonizer(args.checkpoint, untrained=True),
                                   "trained generator": harmonizer}, dataset)
    print(f"\nThe same decoder on the {result['split']} sopranos, untrained and trained generator, and Bach:")
    print(ablation_table(result["ablation"]))
    if dataset.name != "bach":
        result["cross_style"] = _cross_style(harmonizer, dataset)
    _write_json(result, args.json or "out/evaluate-gan.json")
    return 0


def _cross_style(harmonizer, dataset) -> dict:
    """A style's model beside the Bach model on both styles' held-out melodies: the distance of
    each model's pieces to each style's own figures (a model should land nearer its own style)."""
    from .chorales import load_dataset
    from .evaluate import cross_style, markdown_table
    from .harmonize import load_harmonizer

    models = {f"{dataset.name} model": harmonizer, "bach model": load_harmonizer()}
    datasets = {dataset.name: dataset, "bach": load_dataset(progress=False)}
    result = {}
    for source in datasets:
        result[f"on {source} test melodies"] = rows = cross_style(models, datasets, source)
        print(f"\nMean distance to each style's figures, on {source}'s held-out melodies:")
        print(markdown_table({model: row for model, row in rows.items()}))
    return result


def _model_record(folder: Path, given: str | None) -> str:
    """A model folder as the track's JSON records it, the same on every machine: relative to the
    repository where it is in it (the shipped models), else by the name of the folder given."""
    from .files import in_repository

    return in_repository(folder) or Path(given or folder.resolve()).name


def _compose(args: argparse.Namespace) -> int:
    from .audio import preload_soundfont

    preload_soundfont()  # its file is read while the models make the music
    from .compose import compose
    from .export import preload_writers, upload_metadata, write_composition

    preload_writers()  # imported while the models run
    from .melody_source import MelodyError, melody_from

    try:
        melody, title, name = melody_from(args.melody)
        if Path(args.output).exists() and not Path(args.output).is_dir():
            raise MelodyError(f"{args.output}: not a folder")
    except MelodyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    harmonizer = _load_harmonizer(args.gan, args.style)
    enhancer = _load_enhancer(args.arcnn) if harmonizer is not None else None
    if harmonizer is None or enhancer is None:
        return EXIT_USER_ERROR
    try:
        piece = compose(melody, harmonizer, enhancer, seconds=args.seconds, seed=args.seed, title=title)
        given = Path(args.melody).name if Path(args.melody).is_file() else args.melody  # a file: its name only
        metadata = upload_metadata(piece, melody_source=given,
                                   models={"gan": _model_record(harmonizer.folder, args.gan or args.style),
                                           "arcnn": _model_record(enhancer.folder, args.arcnn)})
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


def _at_least(minimum: int):
    def check(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value
    check.__name__ = "integer"
    return check


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return value


def _between(low: float, high: float):
    def check(text: str) -> float:
        value = float(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}")
        return value
    check.__name__ = "number"
    return check


def _one_line_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ARG001
    """Warnings as a user reads them: one plain line, no source code."""
    return f"warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = _one_line_warning
    parser = _Parser(prog="python -m lab_utils", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

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
    p.add_argument("--meter", type=_meter, metavar="N/D|any",
                   help="keep pieces in this meter (default: the folder's most common; any: all)")
    p.add_argument("--jobs", type=_at_least(1), help="processes reading files (default: every core)")
    p.add_argument("--part", type=_part, metavar="I/N",
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

    p = commands.add_parser("train", help="train the GAN or the AR-CNN in a folder")
    p.add_argument("model", choices=["gan", "arcnn"])
    p.add_argument("--iterations", type=_at_least(1), help="GAN: iterations in all (critic steps + 1 generator step)")
    p.add_argument("--epochs", type=_at_least(1), help="AR-CNN: epochs in all")
    p.add_argument("--minutes", type=_positive, help="stop after this many minutes")
    p.add_argument("--config", choices=["default", "reference"], default="default")
    p.add_argument("--resume", action="store_true", help="continue the run saved in -o")
    p.add_argument("--sample-every", type=_at_least(1), default=100, help="iterations between samples/checkpoints")
    p.add_argument("--data", default="bach", metavar="NAME", help="the style to learn (built by 'dataset build')")
    p.add_argument("--strategy", choices=STRATEGIES, default="default",
                   help="default: one device; mirrored: every GPU here; multiworker: several machines, each "
                        "started with this command and its TF_CONFIG (restarted, it resumes; see README)")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.set_defaults(run=_train)

    p = commands.add_parser("harmonize", help="add alto, tenor and bass to melodies")
    p.add_argument("inputs", nargs="+", metavar="IN.mid")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    p.add_argument("--seed", type=_at_least(0), default=0)
    p.add_argument("--checkpoint", metavar="DIR", help="a trained model (default: models/gan)")
    p.add_argument("--style", metavar="NAME|DIR", help="a style's model: models/gan-NAME, or a run folder")
    p.set_defaults(run=_harmonize)

    p = commands.add_parser("enhance", help="add and remove notes like Bach (the AR-CNN)")
    p.add_argument("inputs", nargs="+", metavar="IN.mid")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    p.add_argument("--iterations", type=_at_least(0), default=100, help="cell flips per 8 bars")
    p.add_argument("--max-notes-added", type=_at_least(0), default=500, help="notes to add at most (each at least an 8th)")
    p.add_argument("--max-removed-pct", type=_between(0, 100), default=100.0, help="percent of the input's notes to remove or shorten at most")
    p.add_argument("--temperature", type=_positive, default=1.0, help="creative risk")
    p.add_argument("--seed", type=_at_least(0), default=0)
    p.add_argument("--checkpoint", metavar="DIR", help="a trained AR-CNN (default: models/arcnn)")
    p.set_defaults(run=_enhance)

    p = commands.add_parser("evaluate", help="musical figures of a model against Bach's")
    p.add_argument("--model", choices=["gan", "arcnn", "compose"], default="gan",
                   help="compose: the challenge track's four voices, shipped models")
    p.add_argument("--checkpoint", metavar="DIR", help="a trained model (default: models/gan or models/arcnn)")
    p.add_argument("--json", metavar="FILE", help="where to write the figures (default: out/evaluate-MODEL.json)")
    p.add_argument("--data", metavar="NAME", help="the style to compare with (default: the model's own)")
    p.set_defaults(run=_evaluate)

    p = commands.add_parser("compose", help="compose the one-minute challenge track")
    p.add_argument("--melody", default="twinkle", metavar="NAME|PATH",
                   help="a built-in melody (twinkle, ode_to_joy, ...), a MIDI file, or notes like 'C4 C4 G4 G4 A4 A4 G4-'")
    p.add_argument("--seconds", type=_between(20, 600), default=60.0, help="length of the audio")
    p.add_argument("--seed", type=_at_least(0), default=0, help="another seed, another piece")
    p.add_argument("-o", "--output", default="out/compose", metavar="DIR")
    p.add_argument("--force", action="store_true", help="overwrite earlier files of the same name")
    p.add_argument("--gan", metavar="DIR", help="a trained GAN (default: models/gan)")
    p.add_argument("--arcnn", metavar="DIR", help="a trained AR-CNN (default: models/arcnn)")
    p.add_argument("--style", metavar="NAME|DIR", help="the harmony's style: models/gan-NAME or a run (default: bach)")
    p.set_defaults(run=_compose)

    p = commands.add_parser("export", help="write a trained model's LiteRT copy (train does it at the end of a run)")
    p.add_argument("folder", metavar="DIR", help="a trained GAN or AR-CNN (a model folder or a run)")
    p.set_defaults(run=_export)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
