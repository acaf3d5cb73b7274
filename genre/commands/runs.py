"""``python -m genre runs``: list training runs; show, cancel or delete one; list models."""

from __future__ import annotations

import argparse
import json
import time

from genre.models import get_model_spec, model_names
from runs import launch
from runs.store import Run, RunRegistry

NAME = "runs"
HELP = "List training runs (newest first), or show, cancel or delete one."


def configure(parser: argparse.ArgumentParser) -> None:
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--show", metavar="RUN_ID", help="a run's config, progress and metrics")
    action.add_argument("--cancel", metavar="RUN_ID", help="stop a running run")
    action.add_argument("--delete", metavar="RUN_ID", help="remove a finished run and its files")
    action.add_argument("--models", action="store_true", help="list the model zoo")
    parser.add_argument("--status", help="only runs with this status")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(run=run)


def _row(run: Run) -> dict:
    m = run.metrics
    return {
        "run_id": run.id, "status": run.status, "model": run.model, "split": run.split,
        "dataset": run.dataset, "test_accuracy": m.get("test_accuracy"),
        "macro_f1": m.get("macro_f1"), "kfold_mean": m.get("kfold_mean"),
        "kfold_std": m.get("kfold_std"), "error": run.error,
        "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.created)),
    }  # fmt: skip


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def run(args: argparse.Namespace) -> int:
    if args.models:
        for name in model_names():
            spec = get_model_spec(name)
            print(f"{name:18s} {spec.input:9s} {spec.description}")
        return 0
    registry = RunRegistry()
    launch.refresh(registry)
    if args.cancel:
        print(launch.cancel(args.cancel, registry))
        return 0
    if args.delete:
        registry.delete(args.delete)
        print(f"deleted run {args.delete}")
        return 0
    if args.show:
        found = registry.get(args.show)
        detail = {**_row(found), "config": found.config, "metrics": found.metrics,
                  "folder": str(found.folder)}  # fmt: skip
        print(json.dumps(detail, indent=None if args.json else 2))
        return 0
    runs = registry.list(status=args.status, limit=args.limit)
    if args.json:
        for item in runs:
            print(json.dumps(_row(item)))
        return 0
    if not runs:
        print(f"no runs yet in {registry.root}")
        return 0
    print(
        f"{'run':24s} {'status':10s} {'model':18s} {'split':9s} {'accuracy':>9s} {'macro F1':>9s}"
    )
    for item in runs:
        row = _row(item)
        accuracy = _pct(row["test_accuracy"])
        if row["kfold_mean"] is not None:
            accuracy = f"{row['kfold_mean']:.1%}±{row['kfold_std']:.1%}"
        f1 = "—" if row["macro_f1"] is None else f"{row['macro_f1']:.3f}"
        print(f"{item.id:24s} {item.status:10s} {item.model:18s} {item.split or '—':9s} "
              f"{accuracy:>9s} {f1:>9s}")  # fmt: skip
    return 0
