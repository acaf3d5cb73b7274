"""``python -m genre train-musicnn``: ``python -m genre recipe musicnn-genre``."""

from __future__ import annotations

import argparse

from genre.commands.recipe import configure_recipe

NAME = "train-musicnn"
HELP = "Rebuild the default bundle: musicnn (MSD) + a genre head (= recipe musicnn-genre)."


def configure(parser: argparse.ArgumentParser) -> None:
    configure_recipe(parser, "musicnn-genre")
