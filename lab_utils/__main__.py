"""The command line: ``python -m lab_utils COMMAND``, thin over the notebooks' functions.

A user's mistake gets one line on stderr, ``error: ...``, and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {message} (see python -m lab_utils {self.prog.split()[-1]} --help)",
              file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR)


def _dataset(args: argparse.Namespace) -> int:
    from .chorales import load_dataset

    dataset = load_dataset(rebuild=args.rebuild, progress=not args.json)
    summary = dataset.summary()
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"{sum(summary['counts'].values())} chorales "
          f"(train {summary['counts']['train']}, valid {summary['counts']['valid']}, "
          f"test {summary['counts']['test']}), {len(summary['skipped'])} skipped")
    for chorale_id, reason in summary["skipped"].items():
        print(f"  skipped {chorale_id}: {reason}")
    print("GAN windows", summary["windows"], "of shape", summary["window_shape"])
    print("AR-CNN rolls", summary["arcnn_rolls"], "of shape", summary["arcnn_shape"])
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


def _melody(args: argparse.Namespace) -> int:
    from .midi import MidiFileError, extract_melody, read_midi, write_midi

    outdir = Path(args.output)
    if outdir.exists() and not outdir.is_dir():
        print(f"error: {outdir}: not a folder", file=sys.stderr)
        return EXIT_USER_ERROR
    failed = False
    for name, target in _output_paths(args.inputs, outdir).items():
        try:
            if isinstance(target, str):
                raise MidiFileError(target)
            melody = extract_melody(read_midi(name))
        except MidiFileError as exc:
            print(f"error: {name}: {exc}", file=sys.stderr)
            failed = True
            continue
        write_midi(melody, target)
        print(f"{name} -> {target} ({len(melody.notes())} notes)")
    return EXIT_USER_ERROR if failed else 0


def _compose(args: argparse.Namespace) -> int:
    print("error: compose is not built yet: it needs the GAN and AR-CNN labs (issues 3-5)",
          file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m lab_utils", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = commands.add_parser("dataset", help="build or load the Bach chorale dataset")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--rebuild", action="store_true", help="rebuild from music21's corpus")
    p.set_defaults(run=_dataset)

    p = commands.add_parser("melody", help="extract the melody of MIDI files")
    p.add_argument("inputs", nargs="+", metavar="IN.mid")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    p.set_defaults(run=_melody)

    p = commands.add_parser("compose", help="compose the one-minute challenge track")
    p.set_defaults(run=_compose)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
