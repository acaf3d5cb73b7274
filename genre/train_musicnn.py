"""Reproducible training of the default bundle: frozen musicnn (MSD) + a small genre head.

    python -m genre.train_musicnn [--out assets/musicnn-genre] [--data DIR] [--json]

1. Every clip goes through the pretrained backbone once: the serving windows (non-overlapping
   3-s patches, as musicnn and the Classifier cut them) plus windows shifted by half a patch,
   which double the training windows without new artists (augmentation)
   (:mod:`genre.training.musicnn_features`).
2. Honest accuracy: grouped 5-fold cross-validation where a fold holds out blocks of
   neighbouring GTZAN IDs of every genre (GTZAN is ordered by artist), never windows of one
   track on both sides. A held-out track is scored exactly as the Classifier scores it: the
   mean of its serving windows' softmax probabilities (:mod:`genre.training.musicnn_cv`).
3. Calibration: one temperature, fitted on the held-out folds' track probabilities.
4. The shipped head is trained on all clips with the same recipe
   (:mod:`genre.training.musicnn_head`) and saved with the backbone as one bundle
   (``assets/musicnn-genre``) by the writer a user's head run uses too
   (:mod:`genre.training.musicnn_bundle`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from genre.bundle import Bundle
from genre.errors import DatasetError, GenreError
from genre.labels import GTZAN_GENRES
from genre.models.musicnn_genre import MusicnnGenre
from genre.paths import ASSETS_DIR, shared_gtzan_dir
from genre.training.musicnn_bundle import (
    SHIPPED_HEAD,
    save_head_bundle,
    shipped_card,
    shipped_meta,
)
from genre.training.musicnn_cv import CrossValidation, cross_validate, stricter_metrics
from genre.training.musicnn_features import (
    Progress,
    WindowFeatures,
    extract_features,
    load_tracks,
)
from genre.training.musicnn_head import HeadConfig, fit_head, served_model

__all__ = ["configure", "main", "run", "train_musicnn"]  # the program; its parts live in
# the genre.training.musicnn_* modules above


def build_model(
    feats: WindowFeatures, labels: np.ndarray, config: HeadConfig, temperature: float
) -> MusicnnGenre:
    """The shipped head: trained on all clips with the recipe, on the backbone as served."""
    x = feats.select(config.features)
    mask = np.ones(len(x), dtype=bool) if config.shifted_windows else feats.serving
    head = fit_head(x[mask], labels[feats.track[mask]], config, len(GTZAN_GENRES), config.seed)
    return served_model(head, config, len(GTZAN_GENRES), temperature)


def train_musicnn(
    data_root: Path, out_dir: Path, config: HeadConfig, progress: Progress = print
) -> tuple[Bundle, CrossValidation]:
    started = time.monotonic()
    tracks, labels = load_tracks(data_root)
    progress(f"{len(tracks)} clips in {len(set(labels.tolist()))} genres from {data_root}")
    feats = extract_features(tracks, shifted=config.shifted_windows, progress=progress)
    cv = cross_validate(tracks, labels, feats, config, progress)
    extras = stricter_metrics(tracks, labels, feats, config)
    progress(
        f"grouped CV accuracy {cv.mean:.1%} ± {cv.std:.1%}; temperature {cv.temperature:.2f} "
        f"(held-out NLL {cv.nll_before:.3f} → {cv.nll_after:.3f})"
    )
    model = build_model(feats, labels, config, cv.temperature)
    minutes = (time.monotonic() - started) / 60
    meta = shipped_meta(out_dir, tracks, config, cv, minutes)
    meta["metrics"].update(extras)
    bundle = save_head_bundle(
        out_dir, model=model, meta=meta, card=shipped_card(meta, cv), head=SHIPPED_HEAD
    )
    progress(f"saved {out_dir} ({minutes:.1f} min)")
    return bundle, cv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m genre train-musicnn",
        description="Train the default bundle: frozen musicnn (MSD) + a genre head.",
    )
    configure(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except GenreError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def configure(parser: argparse.ArgumentParser) -> None:
    defaults = HeadConfig()
    parser.add_argument("--data", type=Path, default=None, help="clips folder (default: shared)")
    parser.add_argument("--out", type=Path, default=ASSETS_DIR / "musicnn-genre")
    parser.add_argument("--hidden", type=int, default=defaults.hidden, help="0: linear head")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--float32", action="store_true", help="serve in float32 even where bfloat16 is fast"
    )
    parser.add_argument(
        "--no-fusion", action="store_true",
        help="skip the tag fusion and verdict thresholds (python -m genre fit-fusion)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="last stdout line: JSON metrics")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    data = args.data or shared_gtzan_dir() / "audio"
    if not data.is_dir():
        raise DatasetError(f"No clips folder at {data}.")
    config = HeadConfig(
        hidden=args.hidden, epochs=args.epochs, seed=args.seed, low_precision=not args.float32
    )
    progress = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    _, cv = train_musicnn(data, args.out, config, progress=progress)
    fused = None
    if not args.no_fusion:  # the shipped default is the fused model (genre.fusion_fit)
        from genre.fusion_fit import fit_fusion  # imports this module

        # the non-GTZAN sanity check belongs to the shipped default, trained on the shared clips
        extra = shared_gtzan_dir().parent / "extra" / "music" if args.data is None else None
        fused = fit_fusion(args.out, data, extra, progress)
    if args.json:
        summary = {
            "bundle": str(args.out),
            "grouped_cv_accuracy_mean": round(cv.mean, 4),
            "grouped_cv_accuracy_std": round(cv.std, 4),
            "fold_accuracies": [round(a, 4) for a in cv.accuracies],
            "temperature": round(cv.temperature, 4),
        }
        if fused is not None:  # the bundle serves the fused model: its figures come first
            summary["head_cv_accuracy_mean"] = summary["grouped_cv_accuracy_mean"]
            summary["grouped_cv_accuracy_mean"], summary["grouped_cv_accuracy_std"] = fused[
                "fused_cv_accuracy"
            ]
            summary["fold_accuracies"] = fused["fused_fold_accuracies"]
            summary["fusion"] = fused
        print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
