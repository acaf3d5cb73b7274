"""``python -m genre explain FILE --out DIR [--json]``: where the model found its evidence.

Writes two files into DIR (created if missing), named after FILE's stem:

* ``<stem>.why.png`` — the mel-spectrogram in grey (time left to right, low pitches at the
  bottom) with the cells that pushed the decision towards the genre in orange;
* ``<stem>.why.json`` — the contract below.

Without ``--json`` stdout gets the summary sentence, the caution and the two paths; with
``--json`` it gets the same object as the JSON file, on one line:

``file`` (str), ``genre`` (the explained genre: ``--genre``, else the genre ``classify`` names),
``summary`` (one plain sentence), ``caution`` (one sentence: where it looked, not proof),
``window_s`` (length of an analysis window, s), ``strongest_window`` / ``weakest_window`` (indexes
into ``windows``: the windows that sound most / least like the genre), ``regions`` (up to two,
strongest first: ``band`` in words, ``start_s``, ``end_s``, ``share`` of all the track's evidence),
``windows`` (one per analysis window, in time order: ``start_s``, ``genre_probability`` — the
model's probability for the genre in that window — and ``evidence_share``, the window's share of
the track's evidence, summing to 1),
``overlay_png`` and ``json`` (the paths written).

Exit codes as every ``python -m genre`` command: 0 ok; 2 with one line on stderr for a file
that cannot be read or decoded, an unknown ``--genre`` or an unusable ``--out``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from audio import DEFAULT_MAX_MINUTES, MAX_ANALYSIS_MINUTES
from genre.arguments import bounded_float
from genre.classifier import Classifier
from genre.errors import GenreError
from genre.explain import explain_source
from genre.paths import active_bundle_dir

NAME = "explain"
HELP = "Show where in a track the model found its evidence for the genre (PNG + JSON)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="an audio file")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG and JSON")
    parser.add_argument("--json", action="store_true", help="print the JSON object on stdout")
    parser.add_argument("--genre", help="explain this genre instead of the model's top genre")
    parser.add_argument("--bundle", type=Path, help="model bundle folder (default: active model)")
    parser.add_argument(
        "--max-minutes", type=bounded_float(0, MAX_ANALYSIS_MINUTES, low_open=True),
        default=DEFAULT_MAX_MINUTES, metavar="MINUTES",
        help="explain at most this many minutes (default %(default)s)",
    )  # fmt: skip
    parser.set_defaults(run=run)


def output_folder(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise GenreError(f"--out {out} is a file; give a folder for the PNG and JSON.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise GenreError(f"Cannot create the folder {out}: {err.strerror}.") from None
    return out


def run(args: argparse.Namespace) -> int:
    out = output_folder(args.out)
    classifier = Classifier(args.bundle or active_bundle_dir())
    explanation = explain_source(
        classifier, args.file, genre=args.genre, max_minutes=args.max_minutes
    )
    png_path = out / f"{args.file.stem}.why.png"
    json_path = out / f"{args.file.stem}.why.json"
    record = {"file": str(args.file), **explanation.to_json()}
    record.update(overlay_png=str(png_path), json=str(json_path))
    png_path.write_bytes(explanation.overlay_png())
    json_path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(record), flush=True)
    else:
        print(explanation.summary)
        print(f"Note: {record['caution']}")
        print(f"Wrote {png_path} and {json_path}")
    return 0
