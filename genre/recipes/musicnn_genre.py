"""The shipped default (``assets/musicnn-genre``): frozen musicnn (MSD) + a genre head.

The run trains the head with the shipped recipe (:data:`genre.training.head_loop.RECIPE`) in
the pipeline's grouped CV (blocks of two neighbouring IDs, fold k seeded ``seed + k - 1``),
calibrates one temperature on the held-out folds, then fits the saved head on every clip.
Shipping adds the card's reference figures (:func:`genre.training.musicnn_cv.stricter_metrics`:
the same pipeline on halves of the IDs, plain logistic regression),
writes the bundle with the shipped wording and, unless ``--no-fusion``, the tag fusion and
verdict thresholds chosen on the run's own held-out windows (:func:`genre.fusion_fit.ship_fusion`
on the run's ``held_out.npz``: the folds are not trained a second time).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from genre.bundle import load_bundle
from genre.errors import DatasetError
from genre.labels import GTZAN_GENRES
from genre.paths import shared_gtzan_dir
from genre.recipes.base import Recipe, Shipment, read_meta
from genre.training.config import RunConfig
from genre.training.head_loop import RECIPE as HEAD
from genre.training.head_loop import run_config


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hidden", type=int, default=HEAD.hidden, help="0: linear head")
    parser.add_argument("--epochs", type=int, default=HEAD.epochs)
    parser.add_argument("--seed", type=int, default=HEAD.seed)
    parser.add_argument(
        "--float32", action="store_true", help="serve in float32 even where bfloat16 is fast"
    )
    parser.add_argument(
        "--no-fusion", action="store_true",
        help="skip the tag fusion and verdict thresholds (python -m genre fit-fusion)",
    )  # fmt: skip


def config(data: Path, options: argparse.Namespace) -> RunConfig:
    head = replace(HEAD, seed=options.seed, epochs=options.epochs, hidden=options.hidden)
    return run_config(head, str(data))


def ship(shipment: Shipment) -> dict[str, Any]:
    from genre.training.data import load_embedding_dataset
    from genre.training.head_fusion import HELD_OUT_FILE
    from genre.training.head_loop import recipe
    from genre.training.musicnn_bundle import (
        SHIPPED_HEAD,
        CrossValidation,
        save_head_bundle,
        shipped_card,
        shipped_meta,
    )
    from genre.training.musicnn_cv import stricter_metrics
    from genre.training.musicnn_features import load_tracks
    from genre.training.musicnn_head import served_model

    options, metrics, progress = shipment.options, shipment.metrics, shipment.progress
    held_out = shipment.run_folder / HELD_OUT_FILE  # the run's own folds: no second CV
    if not options.no_fusion and not held_out.is_file():  # checked before anything is written
        raise DatasetError(
            "The run chose no tag fusion (it needs k-fold and at least 20 held-out clips); "
            "ship with --no-fusion."
        )
    head_config = replace(recipe(shipment.config), low_precision=not options.float32)
    tracks, labels = load_tracks(shipment.data)
    data = load_embedding_dataset(str(shipment.data), head_config.window_features)  # cached
    if data.keys != [t.gtzan_key for t in tracks] or data.embeddings is None:
        raise DatasetError(f"Some clips under {shipment.data} cannot be used for the shipped head.")
    before, after = metrics.get("calibration_nll", [float("nan")] * 2)
    cv = CrossValidation(
        shipment.fold_accuracies, shipment.confusion, float(metrics["temperature"]), before, after
    )
    progress("reference figures for the card: halves CV, plain logistic regression")
    extras = stricter_metrics(shipment.config, tracks, labels, data.embeddings, head_config)
    run_model = load_bundle(shipment.run_bundle).build_model()  # the all-clips head
    model = served_model(run_model.head, head_config, len(GTZAN_GENRES), cv.temperature)
    meta = shipped_meta(shipment.out, tracks, head_config, cv, shipment.minutes)
    meta["metrics"].update(extras)
    meta["training"]["run"] = shipment.run_id
    run_meta = read_meta(shipment.run_bundle)  # held-out thresholds (fusion refits them)
    meta["verdict"] = run_meta["verdict"]
    meta["metrics"]["verdict_evidence"] = run_meta["metrics"]["verdict_evidence"]
    save_head_bundle(shipment.out, model=model, meta=meta, card=shipped_card(meta, cv),
                     head=SHIPPED_HEAD)  # fmt: skip
    progress(f"shipped {shipment.out}")
    summary: dict[str, Any] = {
        "bundle": str(shipment.out),
        "grouped_cv_accuracy_mean": round(cv.mean, 4),
        "grouped_cv_accuracy_std": round(cv.std, 4),
        "fold_accuracies": [round(a, 4) for a in cv.accuracies],
        "temperature": round(cv.temperature, 4),
    }
    if options.no_fusion:
        return summary
    from genre.fusion_choice import HeldOut
    from genre.fusion_fit import ship_fusion

    # the non-GTZAN sanity check belongs to the shipped default, trained on the shared clips
    extra = shared_gtzan_dir().parent / "extra" / "music" if options.data is None else None
    fused = ship_fusion(shipment.out, HeldOut.load(held_out), extra, progress)
    # the bundle serves the fused model: its figures come first
    summary["head_cv_accuracy_mean"] = summary["grouped_cv_accuracy_mean"]
    summary["grouped_cv_accuracy_mean"], summary["grouped_cv_accuracy_std"] = fused[
        "fused_cv_accuracy"
    ]
    summary["fold_accuracies"] = fused["fused_fold_accuracies"]
    summary["fusion"] = fused
    return summary


RECIPE = Recipe(
    name="musicnn-genre",
    help="the default bundle: frozen musicnn (MSD) backbone + a genre head",
    config=config,
    ship=ship,
    configure=configure,
)
