"""The train and export commands: train the GAN or the AR-CNN in a run folder, write a model's LiteRT copy."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..distribute import STRATEGIES
from .common import EXIT_USER_ERROR, at_least, positive


def _train(args: argparse.Namespace) -> int:
    from ..distribute import StrategyError, WorkerLost, read_tf_config
    from ..runs import TrainingError, check_run_folder
    from ..shards import ShardError
    from ..catalog import load_style
    from ..gan_config import CHECKPOINT, run_config
    from ..styles import StyleError

    if args.model == "transformer":
        return _train_transformer(args)
    marker = CHECKPOINT if args.model == "gan" else "backup"
    if args.strategy == "multiworker" and args.model == "gan":  # a restarted cluster resumes where it was
        args.resume = (Path(args.output) / marker).is_dir()
    try:
        if args.strategy == "multiworker":
            read_tf_config()
        check_run_folder(Path(args.output), args.resume, marker)
        dataset = load_style(args.data or "bach")
        if args.model == "gan":  # a resume that cannot go on is said before TensorFlow loads
            run_config(Path(args.output), args.config, dataset.name, dataset.voice_ranges("train"), args.resume)
    except (TrainingError, StyleError, StrategyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    from ..runtime import import_tensorflow

    import_tensorflow()
    from ..training import train_arcnn, train_gan

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


def _train_transformer(args: argparse.Namespace) -> int:
    from ..runs import TrainingError, check_run_folder

    try:
        if args.iterations is not None or args.config != "default" or args.strategy != "default":
            raise TrainingError("the Transformer takes --epochs and --minutes, on one machine (one config)")
        check_run_folder(Path(args.output), args.resume, "backup")
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    from ..runtime import import_tensorflow

    import_tensorflow()
    from ..transformer_training import train_transformer

    try:
        history = train_transformer(args.output, minutes=args.minutes, epochs=args.epochs, resume=args.resume,
                                    data=args.data or "melodies")
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    bits = history.get("val_bits_per_note", [float("nan")])
    markov = history.get("val_markov_bits_per_note", [float("nan")])
    print(f"trained {len(history.get('loss', []))} epochs; best model in {args.output}/model; validation bits per "
          f"note {min(bits):.3f} (the Markov baseline: {markov[-1]:.3f})")
    return 0


def _export(args: argparse.Namespace) -> int:
    from ..arcnn import ARCNN_TFLITE, arcnn_folder
    from ..gan_config import GENERATOR_TFLITE, generator_folder
    from ..runtime import export_tflite, import_tensorflow

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
        from ..gan import load_generator

        path = export_tflite(load_generator(folder)[0], folder / GENERATOR_TFLITE)
    else:
        from ..arcnn import load_arcnn

        path = export_tflite(load_arcnn(folder)[0], folder / ARCNN_TFLITE)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB), which runs on LiteRT without TensorFlow")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add 'train', 'export' to the command line."""
    p = commands.add_parser("train", help="train the GAN, the AR-CNN or the Transformer in a folder")
    p.add_argument("model", choices=["gan", "arcnn", "transformer"])
    p.add_argument("--iterations", type=at_least(1), help="GAN: iterations in all (critic steps + 1 generator step)")
    p.add_argument("--epochs", type=at_least(1), help="AR-CNN and Transformer: epochs in all")
    p.add_argument("--minutes", type=positive, help="stop after this many minutes")
    p.add_argument("--config", choices=["default", "reference"], default="default")
    p.add_argument("--resume", action="store_true", help="continue the run saved in -o")
    p.add_argument("--sample-every", type=at_least(1), default=100, help="iterations between samples/checkpoints")
    p.add_argument("--data", metavar="NAME", help="GAN, AR-CNN: the style to learn (built by 'dataset build'; "
                   "default bach); Transformer: melodies (default: folk songs and Bach's sopranos), folk or bach")
    p.add_argument("--strategy", choices=STRATEGIES, default="default",
                   help="default: one device; mirrored: every GPU here; multiworker: several machines, each "
                        "started with this command and its TF_CONFIG (restarted, it resumes; see docs/TRAINING_AT_SCALE.md)")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.set_defaults(run=_train)
    p = commands.add_parser("export", help="write a trained model's LiteRT copy (train does it at the end of a run)")
    p.add_argument("folder", metavar="DIR", help="a trained GAN or AR-CNN (a model folder or a run)")
    p.set_defaults(run=_export)
