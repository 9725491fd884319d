"""The command line: ``python -m lab_utils COMMAND``, thin over the notebooks' functions.

A user's mistake gets one line on stderr, ``error: ...``, and exit code 2.
"""

from __future__ import annotations

import os
import sys
import warnings

from .cli import data, evaluation, music, train
from .cli.common import Parser, one_line_warning

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter stays off the terminal


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = one_line_warning
    parser = Parser(prog="python -m lab_utils", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in (data, train, music, evaluation):
        group.add_commands(commands)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
