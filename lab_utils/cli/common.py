"""What every command shares: one-line errors and exit code 2, checked option values, and
running a command over input files without ever replacing earlier work."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_USER_ERROR = 2


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {message} (see python -m lab_utils {self.prog.split()[-1]} --help)",
              file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR)


def at_least(minimum: int):
    """An option type: a whole number of at least ``minimum``."""

    def check(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value
    check.__name__ = "integer"
    return check


def positive(text: str) -> float:
    """An option type: a number above 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return value


def between(low: float, high: float):
    """An option type: a number from ``low`` to ``high``."""

    def check(text: str) -> float:
        value = float(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}")
        return value
    check.__name__ = "number"
    return check


def meter(text: str) -> tuple[int, int] | str:
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


def part(text: str) -> tuple[int, int]:
    """``--part``: ``I/N``, the I-th of N parts."""
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a part like 2/4, not {text!r}") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"{text}: the part must be between 1 and {max(count, 1)}")
    return index, count


def one_line_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ARG001
    """Warnings as a user reads them: one plain line, no source code."""
    return f"warning: {message}\n"


def output_paths(inputs: list[str], outdir: Path) -> dict[str, Path | str]:
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


def write_new(music, target: Path) -> Path:
    """Write ``target``, or where it exists ``<stem>-2.mid``, ``-3``...: earlier work is kept,
    also when another run takes a name at the same moment."""
    from ..files import numbered_stems
    from ..midi import write_midi

    for stem in numbered_stems(target.stem):
        try:
            return write_midi(music, target.with_name(stem + target.suffix), overwrite=False)
        except FileExistsError:
            continue


def for_each_input(args: argparse.Namespace, make, describe) -> int:
    """Run ``make(melody_roll_of_file)`` on every input; write ``OUTDIR/<name>.mid`` (or
    ``<name>-2.mid``... beside earlier output, which is never replaced).

    A bad input gets one line on stderr and nothing written; the others go on; exit code 2.
    """
    from ..files import shown
    from ..midi import MidiFileError, read_midi

    outdir = Path(args.output)
    if outdir.exists() and not outdir.is_dir():
        print(f"error: {outdir}: not a folder", file=sys.stderr)
        return EXIT_USER_ERROR
    failed = False
    for name, target in output_paths(args.inputs, outdir).items():
        try:
            if isinstance(target, str):
                raise MidiFileError(target)
            music = make(read_midi(name))
        except MidiFileError as exc:
            print(f"error: {shown(name)}: {shown(exc)}", file=sys.stderr)
            failed = True
            continue
        try:
            written = write_new(music, target)
        except OSError as exc:  # a folder that cannot be made or written
            print(f"error: {shown(target)}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        print(f"{shown(name)} -> {shown(written)} ({describe(music)})")
    return EXIT_USER_ERROR if failed else 0


def write_json(result: dict, path: str) -> None:
    from ..evaluate import nan_to_none

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(nan_to_none(result), indent=1))
    print(f"figures written to {target}")


def load_harmonizer_or_say(checkpoint: str | None, style: str | None = None, untrained: bool = False,
                           raw: bool = False):
    """``harmonize.load_harmonizer`` for a folder or a style's model (``untrained`` or ``raw`` as it
    takes them), or None after one line on stderr when there is none."""
    from ..harmonize import load_harmonizer
    from ..styles import model_for_style

    try:
        if style is not None:
            if checkpoint is not None:
                raise ValueError("give --style or a model folder, not both")
            checkpoint = str(model_for_style(style))
        return load_harmonizer(checkpoint, untrained=untrained, raw=raw)
    except (FileNotFoundError, ValueError) as exc:  # no model; a LAB_RUNTIME it cannot honour
        print(f"error: {exc}", file=sys.stderr)
        return None


def load_enhancer_or_say(checkpoint: str | None):
    """``arcnn.load_enhancer``, or None after one line on stderr when there is no model."""
    from ..arcnn import load_enhancer

    try:
        return load_enhancer(checkpoint)
    except (FileNotFoundError, ValueError) as exc:  # no model; a LAB_RUNTIME it cannot honour
        print(f"error: {exc}", file=sys.stderr)
        return None
