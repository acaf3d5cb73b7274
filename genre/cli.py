"""``python -m genre``: one sub-command per module in ``genre/commands``.

A command module defines ``NAME``, ``HELP`` and ``configure(parser)``; the parser's ``run``
default returns the exit code (0 ok, 1 some input failed, 2 usage or configuration error).
Errors of the genre and audio families print one line (exit 2); anything unexpected prints
"unexpected error …; details in LOG" (exit 1) with the traceback only in the log file; a closed
stdout (``… | head -1``) exits quietly with 141; Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from audio import AudioError
from cliguard import guard_main
from genre import commands
from genre.errors import GenreError
from genre.logs import log_file
from runs.errors import RunError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m genre", description="Classify music by genre, train and compare models."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.configure(command)
    return parser


@guard_main(
    prog="genre", errors=(GenreError, AudioError, RunError), log_file=log_file, error_exit=2
)
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))
