"""Measure a generator bundle and store the figures in it: what ``gan evaluate --write`` does
and what a Training-page run does after exporting its generator, so the Generate page can say
how often the classifier recognises its clips (``gan.card.quality_sentence``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from gan.bundle import GanBundle, load_gan_bundle, write_meta
from gan.config import EVALUATION_SEED
from gan.data import ClipMel
from gan.evaluation import evaluate, time_sampling
from gan.metrics import load_default_classifier, other_classifiers


def measure(
    bundle: GanBundle,
    clips: list[ClipMel],
    *,
    per_genre: int,
    seed: int = EVALUATION_SEED,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The model card's figures for ``bundle`` against the real ``clips``, with the time warm
    sampling of 4 × 3 s takes on this machine."""
    classifier = load_default_classifier()
    report = evaluate(
        bundle, classifier, clips, per_genre=per_genre, seed=seed, progress=progress,
        other_judges=other_classifiers(classifier),
    )  # fmt: skip
    timing = time_sampling(bundle)
    report["speed_4x3s_s"] = round(timing.seconds, 3)
    report["speed_threads"] = torch.get_num_threads()
    report["speed_load_average"] = round(os.getloadavg()[0], 1)
    return report


def store_metrics(bundle: GanBundle, report: dict[str, Any]) -> None:
    """``report`` becomes the bundle's ``metrics`` in ``gan.json`` and its model card."""
    write_meta(bundle.path, {**bundle.meta, "metrics": report})


def measure_and_store(
    folder: Path,
    clips: list[ClipMel],
    *,
    per_genre: int,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Measure the bundle in ``folder`` (the card's seed) and store the figures in it."""
    if progress:
        progress("loading the generator and the genre classifier")
    bundle = load_gan_bundle(folder)
    report = measure(bundle, clips, per_genre=per_genre, progress=progress)
    store_metrics(bundle, report)
    return report
