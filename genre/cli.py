"""``python -m genre``: one sub-command per module in ``genre/commands``.

A command module defines ``NAME``, ``HELP`` and ``configure(parser)``; the parser's ``run``
default returns the exit code (0 ok, 1 some input failed, 2 usage or configuration error).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from genre import commands
from genre.errors import GenreError


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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except GenreError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
