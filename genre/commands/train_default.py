"""``python -m genre train-default``: ``python -m genre recipe gtzan-cnn-baseline``."""

from __future__ import annotations

import argparse

from genre.commands.recipe import configure_recipe

NAME = "train-default"
HELP = "Rebuild the from-scratch baseline bundle (= recipe gtzan-cnn-baseline)."


def configure(parser: argparse.ArgumentParser) -> None:
    configure_recipe(parser, "gtzan-cnn-baseline")
