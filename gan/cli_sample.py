"""``python -m gan sample``: WAV + PNG samples of one or more genres from a generator bundle.

Prints one JSON object per sample as soon as its WAV and PNG are written (``genre``, ``seed``,
``index``, ``wav``, ``png``, ``seconds``); at most ``GAN_MAX_SAMPLES`` (default 200) per genre.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gan import cli_args
from gan.config import MAX_SECONDS


def _cmd_sample(args: argparse.Namespace) -> int:
    import random

    import torch

    from gan.bundle import load_gan_bundle
    from gan.sample import iter_samples, write_sample

    torch.set_num_threads(args.threads)
    bundle = load_gan_bundle(args.bundle)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    genres = [g.strip().lower() for g in args.genre.split(",") if g.strip()]
    samples = iter_samples(bundle, genres, args.n, seed, seconds=args.seconds)  # checks first
    out = cli_args.make_folder(args.out)
    written = 0
    for sample in samples:  # each sample is written, and announced, as soon as it is made
        wav, png = write_sample(sample, out)
        written += 2
        print(json.dumps({"genre": sample.genre, "seed": seed, "index": sample.index,
                          "wav": str(wav), "png": str(png),
                          "seconds": round(sample.duration_s, 3)}), flush=True)  # fmt: skip
    print(f"wrote {written} files to {out}", file=sys.stderr)
    return 0


def configure(sub: argparse._SubParsersAction, threads: int) -> None:
    p = sub.add_parser("sample", help="write WAV + PNG samples of a genre")
    p.add_argument("--genre", required=True, help="a genre, or several separated by commas")
    p.add_argument("--n", type=cli_args.sample_count, default=1,
                   help="samples per genre (default 1; at most GAN_MAX_SAMPLES)")  # fmt: skip
    p.add_argument("--seed", type=cli_args.seed,
                   help="0 … 2³²−1; same seed → same samples (default: random)")  # fmt: skip
    p.add_argument("--seconds", type=cli_args.float_in(0.0, MAX_SECONDS, low_open=True),
                   default=3.0, help=f"length of each clip (at most {MAX_SECONDS:g})")  # fmt: skip
    p.add_argument("--out", type=cli_args.output_folder, required=True,
                   help="folder for the WAV and PNG files (created if needed)")  # fmt: skip
    p.add_argument("--bundle", type=Path, help="generator bundle (default: the shipped one)")
    p.add_argument("--threads", type=cli_args.threads, default=threads)
    p.set_defaults(handler=_cmd_sample)
