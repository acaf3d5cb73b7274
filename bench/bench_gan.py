"""GAN quality and speed: classifier agreement, Fréchet distances, round trip, sampling time.

    python bench/bench_gan.py [--per-genre N] [--write-card]

``--write-card`` also stores the figures in the shipped bundle's gan.json and MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import os

import torch
from common import write_results

from gan.bundle import load_gan_bundle, write_meta
from gan.data import load_clips
from gan.evaluation import evaluate, time_sampling
from gan.metrics import load_default_classifier, other_classifiers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-genre", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write-card", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    bundle = load_gan_bundle()
    classifier = load_default_classifier()
    timing = time_sampling(bundle)  # first, before the long evaluation heats anything up
    report = evaluate(bundle, classifier, load_clips(), per_genre=args.per_genre,
                      progress=lambda msg: print(msg, flush=True),
                      other_judges=other_classifiers(classifier))  # fmt: skip
    report["speed_4x3s_s"] = round(timing.seconds, 3)
    report["speed_threads"] = torch.get_num_threads()
    report["speed_load_average"] = round(os.getloadavg()[0], 1)
    if args.write_card:
        write_meta(bundle.path, {**bundle.meta, "metrics": report})
    write_results(
        "gan",
        {
            "bundle": bundle.name,
            **report,
            "targets": {"agreement": 0.6, "speed_4x3s_s": 1.0},
        },
    )


if __name__ == "__main__":
    main()
