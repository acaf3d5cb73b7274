"""``python -m genre library add|list|similar|export``: the music library from the shell.

Contracts (``--json``): ``add`` prints progress on stderr and, last on stdout, one object
``{"added","updated","unchanged","missing","failed":[{"file","error"}],"tracks","cancelled"}``;
``list`` one object per track ``{"file","genre","confidence","tags","duration_s"}``;
``similar`` one object per match, best first, ``{"file","similarity","genre"}``.
Exit codes: 0 ok, 1 some file failed (add) or FILE could not be analysed (similar), 2 usage
(also `--engine ray` without Ray installed, or a Ray cluster that cannot be reached).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from genre.classifier import Classifier
from genre.commands.classify import report_skipped
from genre.library import export, store
from genre.library.analysis import analyse_file
from genre.library.indexer import index
from genre.library.schema import connect
from genre.library.similarity import similar
from genre.paths import active_bundle_dir

NAME = "library"
HELP = "Index music folders, list and export them, find similar tracks."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="library database (default: in the data folder)")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = sub.add_parser("add", help="index files or folders (incremental)")
    add.add_argument("paths", nargs="+", type=Path)
    add.add_argument("--json", action="store_true", help="summary as one JSON object")
    add.add_argument("--bundle", type=Path, help="model bundle (default: the active model)")
    add.add_argument("--reanalyse", action="store_true",
                     help="re-analyse tracks indexed with another model")  # fmt: skip
    add.add_argument("--workers", type=int, help="files analysed at once (Ray: workers)")
    add.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local threads, or Ray workers (pip install -r requirements-ray.txt)",
    )
    add.add_argument("--address", metavar="ray://HOST:10001|auto",
                     help="Ray cluster to use (default: start one on this machine)")  # fmt: skip
    add.set_defaults(run=run_add)

    ls = sub.add_parser("list", help="tracks in the library")
    _filters(ls)
    ls.add_argument("--json", action="store_true", help="one JSON object per track")
    ls.set_defaults(run=run_list)

    sim = sub.add_parser("similar", help="tracks most like FILE (in the library or not)")
    sim.add_argument("file", type=Path)
    sim.add_argument("--k", type=int, default=10, help="how many (default %(default)s)")
    sim.add_argument("--json", action="store_true", help="one JSON object per match")
    sim.add_argument("--bundle", type=Path, help="model bundle for a FILE outside the library")
    sim.set_defaults(run=run_similar)

    ex = sub.add_parser("export", help="a playlist of (filtered) tracks on stdout")
    kind = ex.add_mutually_exclusive_group(required=True)
    kind.add_argument("--m3u", action="store_true")
    kind.add_argument("--csv", action="store_true")
    _filters(ex)
    ex.set_defaults(run=run_export)


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--genre", help="only this genre")
    parser.add_argument("--tag", help="only tracks with this tag among their top five")


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def run_add(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        return _error("--workers must be at least 1")
    if args.address and args.engine != "ray":
        return _error("--address needs --engine ray")
    classifier = Classifier(args.bundle or active_bundle_dir())
    engine = None
    if args.engine == "ray":
        from genre.library.engines import EngineUnavailable, RayEngine

        try:
            engine = RayEngine(classifier.bundle.path, address=args.address, workers=args.workers)
        except EngineUnavailable as err:
            return _error(str(err))
    elif args.workers:
        from genre.library.engines import local_engine

        engine = local_engine(classifier, workers=args.workers)
    conn = connect(args.db)
    bar = tqdm(desc="indexing", unit="file", file=sys.stderr)

    def progress(done: int, total: int, _path: str) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        summary = index(conn, args.paths, classifier, engine=engine,
                        reanalyse=args.reanalyse, progress=progress)  # fmt: skip
    finally:
        bar.close()
        close = getattr(engine, "close", None)
        if close:
            close()  # a Ray instance this command started
    report_skipped(summary.skipped)
    result = summary.as_dict()
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"added {summary.added}, updated {summary.updated}, unchanged {summary.unchanged}, "
            f"missing {summary.missing}, failed {len(summary.failed)}; "
            f"{summary.tracks} tracks in the library"
        )
        for failure in summary.failed:
            print(f"  failed: {failure['file']}: {failure['error']}")
    return 1 if summary.failed else 0


def run_list(args: argparse.Namespace) -> int:
    rows = store.tracks(connect(args.db), genre=args.genre, tag=args.tag)
    for t in rows:
        if args.json:
            print(json.dumps(t.listing()))
        else:
            tags = ", ".join(t.top_tags(3))
            print(f"{t.path}: {t.genre} ({t.confidence:.0%}); {tags}")
    if not rows and not args.json:
        print("no tracks (add some with: python -m genre library add FOLDER)", file=sys.stderr)
    return 0


def run_similar(args: argparse.Namespace) -> int:
    if args.k < 1:
        return _error("--k must be at least 1")
    conn = connect(args.db)
    library = store.tracks(conn)
    if not library:
        return _error("the library is empty; add music with: python -m genre library add FOLDER")
    path = args.file.expanduser().resolve()
    row = store.get(conn, str(path))
    if row is not None and row.status == "ok" and row.embedding is not None:
        query = row.embedding
    else:  # outside the library (or changed): analysed, not added
        analysis = analyse_file(Classifier(args.bundle or active_bundle_dir()), path)
        if analysis.error or analysis.embedding is None:
            print(f"error: {path}: {analysis.error or 'this model gives no embedding'}",
                  file=sys.stderr)  # fmt: skip
            return 1
        query = analysis.embedding
    for match in similar(query, library, k=args.k, exclude=str(path)):
        if args.json:
            print(json.dumps(match.as_dict()))
        else:
            print(f"{match.similarity:6.3f}  {match.track.genre:<10} {match.track.path}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    rows = store.tracks(connect(args.db), genre=args.genre, tag=args.tag)
    sys.stdout.write(export.to_m3u(rows) if args.m3u else export.to_csv(rows))
    return 0
