"""Command line: ``python -m mood emotion IMAGE`` and ``python -m mood recommend …``.

Exit codes: 0 success (also "no face" and the offline fallback, which are answers), 1 a
user-facing error (unreadable image, bad option value) or an unexpected one (one line; the
traceback goes to the log file it names), 2 wrong usage, 130 Ctrl-C, 141 stdout closed early.
Only regular image files are read, within the limits of ``mood.images`` (file size, megapixels).
"""

from __future__ import annotations

import os

# OpenMP threads busy-wait by default; with 2 cores shared with anything else that makes torch
# several times slower. Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from cliguard import guard_main
from mood.errors import MoodError
from mood.images import (
    DEFAULT_MAX_FILE_MB,
    DEFAULT_MAX_MEGAPIXELS,
    MAX_FILE_MB_ENV,
    MAX_MEGAPIXELS_ENV,
    SETTING_RANGES,
    ImageLimits,
)
from mood.labels import EMOTIONS
from mood.queries import DEFAULT_LANGUAGE, build_queries


def _emotion(args: argparse.Namespace) -> int:
    from mood.analysis import NO_FACE_MESSAGE, MoodAnalyzer
    from mood.emotion import recognizer_with_fallback
    from mood.faces import FaceDetector, read_image

    limits = ImageLimits.from_env()  # the options, when given, win over the environment
    if args.max_megapixels is not None:
        limits = replace(limits, max_megapixels=args.max_megapixels)
    if args.max_file_mb is not None:
        limits = replace(limits, max_file_mb=args.max_file_mb)
    image = read_image(args.image, limits)
    recognizer, why = recognizer_with_fallback(args.backend)
    if why:
        print(f"note: {why}", file=sys.stderr)
    analysis = MoodAnalyzer(recognizer, FaceDetector(max_width=1280)).analyze(image)
    if args.json:
        print(json.dumps(analysis.as_dict()))
    elif not analysis.faces:
        print(NO_FACE_MESSAGE)
    else:
        for i, face in enumerate(analysis.faces):
            tag = " (largest)" if i == 0 and len(analysis.faces) > 1 else ""
            top = sorted(face.probabilities.items(), key=lambda kv: -kv[1])[:3]
            ranked = ", ".join(f"{k} {v:.0%}" for k, v in top)
            print(f"face {i + 1}{tag} at {face.box.as_list()}: {face.emotion}  ({ranked})")
    if not analysis.faces and args.json:
        print(NO_FACE_MESSAGE, file=sys.stderr)
    return 0


def _recommend(args: argparse.Namespace) -> int:
    from mood.library import EMPTY_HINT, library_tracks, rank_tracks
    from mood.youtube import recommend

    artists = args.artist or ()
    queries = build_queries(args.emotion, args.language, artists)
    library = library_tracks(args.library)
    local = rank_tracks(library, args.emotion, language=args.language, artists=artists,
                        limit=args.n)  # fmt: skip
    result = recommend(
        queries, artists, per_query=args.n, timeout=args.timeout, offline=args.offline
    )
    hint = None if library else EMPTY_HINT
    if args.json:
        out = result.as_dict()
        out["local"] = [t.as_dict() for t in local]
        out["local_hint"] = hint
        print(json.dumps(out))
        return 0
    print("from your music library (plays offline):")
    for t in local:
        print(f"  {t.score:.3f}  {t.title} ({t.genre}; {t.reason})\n         {t.file}")
    if hint or not local:
        print(f"  {hint or 'nothing in your library fits this mood and language.'}")
    print("queries:")
    for q in queries:
        print(f"  {q.text}")
    print(result.message)
    if result.videos:
        for v in result.videos:
            print(f"  {v.duration_text:>7}  {v.title} — {v.channel}\n           {v.url}")
    else:
        print("search links (open them in your browser):")
        for link in result.links:
            print(f"  {link.query}: {link.url}")
    return 0


def _ranged(env: str) -> Callable[[str], float]:
    """An argparse type for a limit, with the range its environment variable accepts."""
    low, high = SETTING_RANGES[env]

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a number between {low:g} and {high:g}"
            )
        return value

    return parse


def _bounded(kind: Callable[[str], float], low: float, high: float) -> Callable[[str], float]:
    """An argparse type for a number within [low, high]: out of range is a usage error."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low:g} and {high:g}")
        return value

    return parse


def _log_file() -> Path:
    from genre.logs import log_file  # the app's one log; imported only when something went wrong

    return log_file()


@guard_main(prog="mood", errors=(MoodError,), log_file=_log_file, error_exit=1)
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mood", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("emotion", help="faces and emotions in an image")
    p.add_argument("image")
    p.add_argument("--json", action="store_true")
    p.add_argument("--backend", default="built-in", choices=["built-in", "deepface"])
    p.add_argument(
        "--max-megapixels", type=_ranged(MAX_MEGAPIXELS_ENV),
        help=f"refuse larger images (default ${MAX_MEGAPIXELS_ENV} or {DEFAULT_MAX_MEGAPIXELS:g})",
    )  # fmt: skip
    p.add_argument(
        "--max-file-mb", type=_ranged(MAX_FILE_MB_ENV),
        help=f"refuse larger files (default ${MAX_FILE_MB_ENV} or {DEFAULT_MAX_FILE_MB:g})",
    )  # fmt: skip
    p.set_defaults(run=_emotion)
    p = sub.add_parser("recommend", help="YouTube songs for a mood (or search links offline)")
    p.add_argument("--emotion", required=True, choices=EMOTIONS)
    p.add_argument("--language", default=DEFAULT_LANGUAGE)
    p.add_argument("--artist", action="append", help="repeat for several artists")
    p.add_argument("--offline", action="store_true", help="only print search links")
    p.add_argument("--n", type=_bounded(int, 1, 50), default=8,
                   help="results per query and library tracks (1-50, default 8)")  # fmt: skip
    p.add_argument("--timeout", type=_bounded(float, 1, 120), default=10.0,
                   help="seconds for the whole search (1-120, default 10)")  # fmt: skip
    p.add_argument("--library", type=Path, metavar="DB",
                   help="music library database (default: the one in the data folder)")  # fmt: skip
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_recommend)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
