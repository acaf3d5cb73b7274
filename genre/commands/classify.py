"""``python -m genre classify PATH... [--json]``: files and folders (recursive)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from tqdm import tqdm

from audio import DEFAULT_MAX_MINUTES, MAX_ANALYSIS_MINUTES, MAX_FILE_MB_ENV, max_file_mb
from genre.arguments import bounded_float, bounded_int
from genre.batch import MAX_WORKERS, classify_files
from genre.classifier import Classifier
from genre.inputs import expand, looks_like_audio, report_skipped
from genre.paths import active_bundle_dir
from genre.report import text_line

NAME = "classify"
HELP = "Classify audio files or folders by genre."
PROGRESS_FROM = 4  # files; fewer finish before a bar is worth drawing
MAX_FILE_MB_LIMIT = 100_000.0  # the flag's sanity bound (100 GB); the default is max_file_mb()
WORKERS_LIMIT = 32  # more threads than that only queue on the cores
# Kept importable from here (genre.library uses them); they live in genre.inputs.
__all__ = ["configure", "expand", "looks_like_audio", "report_skipped", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, help="audio files or folders")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--bundle", type=Path, help="model bundle folder (default: active model)")
    parser.add_argument(
        "--max-minutes", type=bounded_float(0, MAX_ANALYSIS_MINUTES, low_open=True),
        default=DEFAULT_MAX_MINUTES, metavar="MINUTES",
        help="analyse at most this many minutes of each file "
        f"(default %(default)s, at most {MAX_ANALYSIS_MINUTES:g})",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=bounded_int(1, WORKERS_LIMIT), metavar="N",
        help=f"files classified at once, one core each (at most {WORKERS_LIMIT}; default: one "
        f"per core, at most {MAX_WORKERS})",
    )  # fmt: skip
    parser.add_argument(
        "--max-file-mb", type=bounded_float(0, MAX_FILE_MB_LIMIT, low_open=True), metavar="MB",
        help=f"refuse files larger than this (default {max_file_mb():g}, "
        f"or {MAX_FILE_MB_ENV}); only the analysed part is read either way",
    )  # fmt: skip
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.max_file_mb is not None:  # the decoder reads the cap from there, in every thread
        os.environ[MAX_FILE_MB_ENV] = f"{args.max_file_mb:g}"
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
            bar.write(text_line(str(path), prediction), file=sys.stdout)
            for note in prediction.warnings:
                bar.write(f"  note: {note}", file=sys.stdout)
    bar.close()
    return 1 if failures else 0
