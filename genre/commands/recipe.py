"""``python -m genre recipe NAME [--data DIR] [--out DIR] [--json]``: rebuild a shipped bundle.

The recipe's run is registered in the run registry and trained exactly as
``python -m genre train`` trains a run (it appears on the Training page like any other); the
finished run is then shipped into ``--out`` (default ``assets/NAME``) with the shipped
metadata, model card and licence (:mod:`genre.recipes`). With ``--json`` the last line of
stdout is one JSON object: the shipped figures and the run's id. ``train-default`` and
``train-musicnn`` are this command for ``gtzan-cnn-baseline`` and ``musicnn-genre``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

from genre.errors import DatasetError, GenreError

NAME = "recipe"
HELP = "Rebuild a shipped bundle by its recipe: a registered run, then shipped to assets/."


def configure(parser: argparse.ArgumentParser) -> None:
    from genre.recipes import RECIPES

    names = parser.add_subparsers(dest="recipe", required=True, metavar="NAME")
    for recipe in RECIPES.values():
        configure_recipe(names.add_parser(recipe.name, help=recipe.help), recipe.name)


def configure_recipe(parser: argparse.ArgumentParser, name: str) -> None:
    """The options of recipe ``name``: the shared ones and the recipe's own."""
    from genre.paths import ASSETS_DIR
    from genre.recipes import get_recipe

    recipe = get_recipe(name)
    parser.add_argument("--data", type=Path, default=None, help="clips folder (default: shared)")
    parser.add_argument("--out", type=Path, default=ASSETS_DIR / recipe.name)
    parser.add_argument("--json", action="store_true", help="last stdout line: JSON summary")
    parser.add_argument(
        "--no-resume", action="store_true",
        help="start from epoch 1 even if an unfinished run of this recipe left a checkpoint",
    )  # fmt: skip
    recipe.configure(parser)
    parser.set_defaults(run=partial(run_recipe, name))


def run_recipe(name: str, args: argparse.Namespace) -> int:
    from genre.commands.train import train_new_run
    from genre.paths import shared_gtzan_dir
    from genre.recipes import Shipment, get_recipe

    recipe = get_recipe(name)
    progress = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    data = args.data or shared_gtzan_dir() / "audio"
    if not data.is_dir():
        raise DatasetError(f"No clips folder at {data}.")
    started = time.monotonic()
    config = recipe.config(data, args)
    progress(f"recipe {recipe.name}: a {config.model} run on {data}")
    outcome = train_new_run(config, no_resume=args.no_resume)
    if outcome.code or outcome.metrics is None:
        return outcome.code or 1
    assert outcome.run_id is not None and outcome.folder is not None
    progress(f"run {outcome.run_id} finished; shipping it to {args.out}")
    try:
        summary = recipe.ship(
            Shipment(
                run_id=outcome.run_id, run_folder=outcome.folder, config=config,
                metrics=outcome.metrics, data=data, out=args.out, options=args,
                minutes=(time.monotonic() - started) / 60, progress=progress,
            )
        )  # fmt: skip
    except GenreError as err:
        print(f"error: run {outcome.run_id} finished but could not be shipped: {err}",
              file=sys.stderr)  # fmt: skip
        return 2
    summary["run_id"] = outcome.run_id
    if args.json:
        print(json.dumps(summary), flush=True)
    return 0
