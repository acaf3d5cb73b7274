"""``python -m genre train-default``: rebuild the shipped baseline bundle reproducibly."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genre.paths import ASSETS_DIR, shared_gtzan_dir
from genre.train_default import TrainConfig, train_default

NAME = "train-default"
HELP = "Train the from-scratch baseline bundle on the 100 shared GTZAN clips."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=None, help="clips folder (default: shared)")
    parser.add_argument("--out", type=Path, default=ASSETS_DIR / "gtzan-cnn-baseline")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    data = args.data or shared_gtzan_dir() / "audio"
    config = TrainConfig(epochs=args.epochs, seed=args.seed)
    train_default(data, args.out, config, progress=lambda m: print(m, file=sys.stderr, flush=True))
    return 0
