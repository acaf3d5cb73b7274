"""``python -m genre benchmark [--deep]``: reproduce the README's results table.

Without ``--deep`` only the feature models run (under a minute). ``--deep`` adds every
spectrogram model on the 100 shared clips with grouped cross-validation: tens of minutes per
model on two CPU cores, so start it with ``nice`` and let it run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from genre.paths import REPO_ROOT

NAME = "benchmark"
HELP = "Reproduce the README table: feature models (fast) and, with --deep, spectrogram models."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--deep", action="store_true", help="also the spectrogram models (slow)")
    parser.add_argument("--only-deep", action="store_true", help="skip the feature models")
    parser.add_argument(
        "--report",
        action="store_true",
        help="print the table from the saved results; train nothing",
    )
    parser.add_argument("--models", nargs="+", help="only these models")
    parser.add_argument("--features", type=Path, help="feature table (default: shipped GTZAN)")
    parser.add_argument("--audio", type=Path, help="clips folder (default: the shared clips)")
    parser.add_argument("--epochs", type=int, help="epochs per fold for deep models")
    parser.add_argument("--folds", type=int, help="folds for deep models")
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "bench" / "results" / "benchmark.json",
        help="where to write the JSON results (default %(default)s)",
    )  # fmt: skip
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from genre.training import benchmark as bench

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    if args.report:
        if not args.out.is_file():
            print(
                f"error: no saved results at {args.out}; run the benchmark first", file=sys.stderr
            )
            return 2
        saved = json.loads(args.out.read_text(encoding="utf-8"))
        print(
            bench.markdown(saved.get("features", []), saved.get("deep"), saved.get("deep_started"))
        )
        return 0
    chosen = set(args.models or [])
    features: list[dict] = []
    if not args.only_deep:
        names = [m for m in bench.feature_models() if not chosen or m in chosen]
        features = bench.feature_benchmark(args.features or bench.FEATURE_TABLE, names, log)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    result = {
        "features": features or previous.get("features", []),
        "deep": previous.get("deep"),
        "created": started,
        # without --deep, table (b) is copied from the file: keep when it was measured
        "deep_started": previous.get("deep_started"),
    }

    def save(rows: list[dict] | None) -> None:
        if rows is not None:
            result["deep"] = rows
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    save(None)
    if args.deep or args.only_deep:
        names = [m for m in bench.deep_models() if not chosen or m in chosen]
        overrides = {k: v for k, v in (("epochs", args.epochs), ("folds", args.folds)) if v}
        previous_deep = result["deep"]
        if chosen:  # a subset: its rows replace theirs, the other saved rows stay

            def save_merged(rows: list[dict]) -> None:
                save(bench.merge_deep(previous_deep, rows))

            deep = bench.deep_benchmark(args.audio, names, log, on_result=save_merged, **overrides)
            save_merged(deep)
        else:
            result["deep_started"] = started
            deep = bench.deep_benchmark(args.audio, names, log, on_result=save, **overrides)
            save(deep)
    print(bench.markdown(result["features"], result["deep"], result["deep_started"]))
    log(f"results in {args.out}")
    return 0
