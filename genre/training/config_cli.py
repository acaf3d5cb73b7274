"""``python -m genre train``'s options, generated from :class:`RunConfig`'s fields.

The config is the single source of the defaults and their help: a field added there is an
option here, with its type, its choices (a ``Literal``) and ``--x/--no-x`` for a flag.
"""

from __future__ import annotations

import argparse
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any, Literal

from genre.errors import GenreError
from genre.splits import SPLIT_KINDS
from genre.training.config import RunConfig

DATA_FIELDS = ("dataset", "features")  # exactly one, unless the run is read from the registry
CHOICES: dict[str, tuple[str, ...]] = {"split": SPLIT_KINDS}


def option_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`RunConfig` field (``--model`` and the data source unrequired:
    a run launched by the page is read from the registry instead)."""
    hints = typing.get_type_hints(RunConfig)
    source = parser.add_mutually_exclusive_group()
    for spec in fields(RunConfig):
        help_text = spec.metadata.get("help")
        if spec.name == "model":
            parser.add_argument("--model", help="model name (see `python -m genre runs --models`)")
        elif spec.name in DATA_FIELDS:
            source.add_argument(option_name(spec.name), type=Path, help=help_text)
        elif hints[spec.name] is bool:
            parser.add_argument(
                option_name(spec.name), action=argparse.BooleanOptionalAction,
                default=spec.default, help=help_text,
            )  # fmt: skip
        elif typing.get_origin(hints[spec.name]) is Literal:
            parser.add_argument(
                option_name(spec.name), choices=typing.get_args(hints[spec.name]),
                default=spec.default, help=help_text,
            )  # fmt: skip
        else:
            parser.add_argument(
                option_name(spec.name), type=hints[spec.name], default=spec.default,
                choices=CHOICES.get(spec.name), help=help_text,
            )  # fmt: skip


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The config the options describe; a missing model or data source is a usage error."""
    if not args.model:
        raise GenreError("Name the model to train: --model NAME.")
    if not any(getattr(args, name) for name in DATA_FIELDS):
        raise GenreError("Give the data to train on: --dataset FOLDER or --features TABLE.")
    values: dict[str, Any] = {}
    for spec in fields(RunConfig):
        value = getattr(args, spec.name)
        values[spec.name] = str(value) if isinstance(value, Path) else value
    return RunConfig(**values)


def config_to_args(config: RunConfig) -> list[str]:
    """The options that rebuild ``config`` (a terminal command for a stored run)."""
    args: list[str] = []
    for name, value in config.to_dict().items():
        if value is None:
            continue
        if isinstance(value, bool):
            args.append(option_name(name) if value else "--no-" + name.replace("_", "-"))
        else:
            args += [option_name(name), str(value)]
    return args
