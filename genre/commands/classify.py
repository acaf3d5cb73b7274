"""``python -m genre classify PATH... [--json]``: files and folders (recursive)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from tqdm import tqdm

from audio import DEFAULT_MAX_MINUTES
from audio.decode import sniff_format
from genre.batch import classify_files
from genre.classifier import Classifier
from genre.datasets import AUDIO_EXTENSIONS
from genre.paths import active_bundle_dir

NAME = "classify"
HELP = "Classify audio files or folders by genre."
PROGRESS_FROM = 4  # files; fewer finish before a bar is worth drawing
SNIFF_BYTES = 64  # enough for every container signature the decoder knows
SKIPPED_SHOWN = 10  # skipped files named on stderr; the rest are counted


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, help="audio files or folders")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--bundle", type=Path, help="model bundle folder (default: active model)")
    parser.add_argument(
        "--max-minutes", type=float, default=DEFAULT_MAX_MINUTES,
        help="analyse at most this many minutes of each file (default %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=int,
        help="files classified at once, one core each (default: one per core, at most 4)",
    )  # fmt: skip
    parser.set_defaults(run=run)


def looks_like_audio(path: Path) -> bool:
    """For a file with no extension: do its first bytes name an audio container?"""
    try:
        with path.open("rb") as f:
            return sniff_format(f.read(SNIFF_BYTES)) is not None
    except OSError:
        return False


def expand(paths: list[Path]) -> tuple[list[tuple[Path, str | None]], list[Path]]:
    """(file, None) to classify or (path, error) for paths that cannot be; and skipped files.

    Files named explicitly are always tried. In folders, files are picked by extension; a file
    with no extension is tried when its first bytes are audio, and every other file is skipped
    and reported, so nothing is left out silently.
    """
    items: list[tuple[Path, str | None]] = []
    skipped: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = []
            for candidate in sorted(p for p in path.rglob("*") if p.is_file()):
                suffix = candidate.suffix.lower()
                if suffix in AUDIO_EXTENSIONS or (not suffix and looks_like_audio(candidate)):
                    found.append(candidate)
                else:
                    skipped.append(candidate)
            if not found:
                items.append((path, f"No audio files found in folder {path}."))
            items.extend((p, None) for p in found)
        elif path.exists():
            items.append((path, None))
        else:
            items.append((path, f"File not found: {path}"))
    return items, skipped


def report_skipped(skipped: list[Path]) -> None:
    if not skipped:
        return
    shown = ", ".join(str(p) for p in skipped[:SKIPPED_SHOWN])
    more = f" and {len(skipped) - SKIPPED_SHOWN} more" if len(skipped) > SKIPPED_SHOWN else ""
    print(
        f"skipped {len(skipped)} file(s) that are not audio by name or content: {shown}{more} "
        "(name a file on the command line to try it anyway)",
        file=sys.stderr,
    )


def run(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.max_minutes) and args.max_minutes > 0):
        print("error: --max-minutes must be a positive number of minutes", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    classifier = Classifier(args.bundle or active_bundle_dir())
    items, skipped = expand(args.paths)
    report_skipped(skipped)
    failures = 0
    bar = tqdm(total=len(items), desc="classifying", unit="file", file=sys.stderr,
               disable=len(items) < PROGRESS_FROM)  # fmt: skip
    readable = [path for path, error in items if error is None]
    results = classify_files(
        classifier, readable, max_minutes=args.max_minutes, workers=args.workers
    )
    for path, error in items:
        prediction = None
        if error is None:
            result = next(results)  # in input order
            prediction, error = result.prediction, result.error
        bar.update()
        if error is not None:
            failures += 1
            if args.json:
                print(json.dumps({"file": str(path), "error": error}), flush=True)
            else:
                bar.write(f"{path}: error: {error}", file=sys.stdout)
            continue
        assert prediction is not None
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
    bar.close()
    return 1 if failures else 0
