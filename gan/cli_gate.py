"""``python -m gan gate``: choose which recordings a generator with one class per recording plays
(:mod:`gan.gate`).

Prints one JSON object: ``bundle``, ``rule`` (``seed``, ``clips_per_genre``, ``min_share``,
``keep``), ``left_out`` (the recordings sampling will not pick, in class order) and
``recordings`` (for each, ``genre``, ``clips`` and ``heard_as_genre``: how many of its clips
the default classifier heard as its genre). With ``--write`` the left-out recordings are stored
in the bundle's ``gan.json`` and its model card is rendered again; measure it afterwards with
``gan evaluate --write``, since what it plays has changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from gan import cli_args
from gan.config import GateRule


def _cmd_gate(args: argparse.Namespace) -> int:
    import torch

    from gan.bundle import load_gan_bundle
    from gan.gate import left_out, recording_shares, store_gate
    from gan.metrics import ClassifierProbe, load_default_classifier

    torch.set_num_threads(args.threads)
    bundle = load_gan_bundle(args.bundle)
    rule = GateRule(clips_per_genre=args.per_genre)
    shares = recording_shares(
        bundle, ClassifierProbe(load_default_classifier()), rule,
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
    )  # fmt: skip
    left = left_out(shares, rule)
    if args.write:
        store_gate(bundle, rule, shares, left)
    recordings = {s.label: {"genre": s.genre, "clips": s.clips, "heard_as_genre": s.heard_as_genre}
                  for s in shares}  # fmt: skip
    print(json.dumps({"bundle": str(args.bundle), "rule": asdict(rule), "left_out": left,
                      "recordings": recordings}))  # fmt: skip
    return 0


def configure(sub: argparse._SubParsersAction, threads: int) -> None:
    p = sub.add_parser("gate", help="leave out recordings whose clips are seldom heard as "
                                    "their genre")  # fmt: skip
    p.add_argument("--bundle", type=Path, required=True,
                   help="a generator bundle with one class per recording")  # fmt: skip
    p.add_argument(
        "--per-genre",
        type=cli_args.sample_count,
        default=GateRule.clips_per_genre,
        help="clips per genre drawn to judge its recordings (default: %(default)s)",
    )
    p.add_argument("--threads", type=cli_args.threads, default=threads)
    p.add_argument("--write", action="store_true", help="store the choice in the bundle")
    p.set_defaults(handler=_cmd_gate)
