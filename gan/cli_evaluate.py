"""``python -m gan evaluate``: measure a generator bundle the way its model card reports it
(:mod:`gan.evaluation`).

Prints one JSON object: the figures of :func:`gan.evaluation.evaluate` (agreement overall and
per genre, Fréchet distances, diversity and coverage, near-silent shares, round-trip
convergence, other judges' agreement) plus ``speed_4x3s_s``, ``speed_threads`` and
``speed_load_average``. With ``--write`` they are stored in the bundle's ``gan.json`` and its
model card is rendered again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gan import cli_args
from gan.config import EVALUATION_SEED


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import torch

    from gan.bundle import load_gan_bundle
    from gan.data import load_clips
    from gan.measure import measure, store_metrics

    bundle = load_gan_bundle(args.bundle)
    clips = load_clips(args.data)
    torch.set_num_threads(args.threads)
    report = measure(
        bundle, clips, per_genre=args.per_genre, seed=args.seed,
        progress=lambda msg: print(msg, file=sys.stderr),
    )  # fmt: skip
    if args.write:
        store_metrics(bundle, report)
    print(json.dumps(report))
    return 0


def configure(sub: argparse._SubParsersAction, threads: int) -> None:
    p = sub.add_parser("evaluate", help="measure how convincing samples are")
    p.add_argument("--bundle", type=Path, help="generator bundle (default: the shipped one)")
    p.add_argument("--data", type=Path, help="real clips to compare with (default: shared GTZAN)")
    p.add_argument("--per-genre", type=cli_args.sample_count, default=50,
                   help="generated clips per genre")  # fmt: skip
    p.add_argument("--seed", type=cli_args.seed, default=EVALUATION_SEED,
                   help="noise for the generated clips; another seed shows how much the "
                        "figures move by chance (default: %(default)s, the card's)")  # fmt: skip
    p.add_argument("--threads", type=cli_args.threads, default=threads)
    p.add_argument("--write", action="store_true", help="store the figures in the model card")
    p.set_defaults(handler=_cmd_evaluate)
