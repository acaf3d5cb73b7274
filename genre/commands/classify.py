"""``python -m genre classify PATH... [--json]``: files and folders (recursive)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from audio import DEFAULT_MAX_MINUTES, AudioError
from genre.classifier import Classifier
from genre.datasets import AUDIO_EXTENSIONS
from genre.logs import get_logger
from genre.paths import active_bundle_dir

NAME = "classify"
HELP = "Classify audio files or folders by genre."
PROGRESS_FROM = 4  # files; fewer finish before a bar is worth drawing


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, help="audio files or folders")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--bundle", type=Path, help="model bundle folder (default: active model)")
    parser.add_argument(
        "--max-minutes", type=float, default=DEFAULT_MAX_MINUTES,
        help="analyse at most this many minutes of each file (default %(default)s)",
    )  # fmt: skip
    parser.set_defaults(run=run)


def expand(paths: list[Path]) -> Iterator[tuple[Path, str | None]]:
    """Yield (file, None) to classify, or (path, error) for paths that cannot be."""
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
            )
            if not found:
                yield path, f"No audio files found in folder {path}."
            yield from ((p, None) for p in found)
        elif path.exists():
            yield path, None
        else:
            yield path, f"File not found: {path}"


def run(args: argparse.Namespace) -> int:
    if args.max_minutes <= 0:
        print("error: --max-minutes must be positive", file=sys.stderr)
        return 2
    classifier = Classifier(args.bundle or active_bundle_dir())
    items = list(expand(args.paths))
    failures = 0
    bar = tqdm(items, desc="classifying", unit="file", file=sys.stderr,
               disable=len(items) < PROGRESS_FROM)  # fmt: skip
    for path, error in bar:
        if error is None:
            try:
                prediction = classifier.predict(path, max_minutes=args.max_minutes)
            except AudioError as err:
                error = str(err)
            except Exception as err:  # one bad file never stops a batch
                get_logger("genre.cli").exception("classifying %s failed", path)
                error = f"Unexpected error ({type(err).__name__}); details in the log."
        if error is not None:
            failures += 1
            if args.json:
                print(json.dumps({"file": str(path), "error": error}), flush=True)
            else:
                bar.write(f"{path}: error: {error}", file=sys.stdout)
            continue
        if args.json:
            print(json.dumps(prediction.to_json(str(path))), flush=True)
        else:
            runner_up = prediction.ranked()[1]
            bar.write(
                f"{path}: {prediction.genre} ({prediction.confidence:.0%}; "
                f"next {runner_up[0]} {runner_up[1]:.0%})",
                file=sys.stdout,
            )
            for note in prediction.warnings:
                bar.write(f"  note: {note}", file=sys.stdout)
    return 1 if failures else 0
