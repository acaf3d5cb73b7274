"""``python -m genre fit-music-detector``: fit the "is it music?" detector by grouped CV.

Writes ``weights.safetensors``, ``detector.json`` (thresholds, held-out families, rates) and
``MODEL_CARD.md`` into ``--out``; the last stdout line with ``--json`` is the JSON metadata.
Needs espeak-ng (speech negatives) and the shared clips; takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from genre.errors import DatasetError
from genre.music_detector import DETECTOR_DIR
from genre.paths import shared_gtzan_dir

NAME = "fit-music-detector"
HELP = "Fit the music detector (music vs speech, noise, tones, silence) by grouped CV."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=None, help="GTZAN clips (default: shared)")
    parser.add_argument("--out", type=Path, default=DETECTOR_DIR, help="detector folder")
    parser.add_argument("--json", action="store_true", help="last stdout line: JSON metadata")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from genre.music_detector_fit import fit_music_detector

    data = args.data or shared_gtzan_dir() / "audio"
    if not data.is_dir():
        raise DatasetError(f"No clips folder at {data}.")
    meta = fit_music_detector(
        data, args.out, progress=lambda m: print(m, file=sys.stderr, flush=True)
    )
    if args.json:
        print(json.dumps(meta), flush=True)
    return 0
