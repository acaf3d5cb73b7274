"""``python -m gan pick``: ship a run's best snapshot, chosen by evaluation (:mod:`gan.pick`).

Prints one JSON object: ``out`` (the bundle written), ``chosen_step``, ``rule``,
``agreement``, ``worst_genre_agreement``, ``fd`` (at the shipped truncation), ``truncation``
(the ψ chosen, 1 with ``--no-truncation``) and ``curve`` (every snapshot's step, agreement,
per-genre agreement and Fréchet distance, the same curve the model card shows).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

from gan import cli_args
from gan.config import MAX_CANDIDATES


def command_line(args: argparse.Namespace) -> str:
    """The call that repeats this pick, every setting spelled out (defaults included), as the
    bundle records it: built from the parsed options, so it is right in-process too."""
    words = ["python", "-m", "gan", "pick", "--run", str(args.run), "--out", str(args.out),
             "--per-genre", str(args.per_genre)]  # fmt: skip
    if args.data is not None:
        words += ["--data", str(args.data)]
    if args.no_truncation:
        words.append("--no-truncation")
    if args.from_step:
        words += ["--from-step", str(args.from_step)]
    if args.every > 1:
        words += ["--every", str(args.every)]
    if args.critic:
        words += ["--critic", str(args.critic)]
    return shlex.join([*words, "--threads", str(args.threads)])


def _cmd_pick(args: argparse.Namespace) -> int:
    import torch

    from gan.data import load_clips
    from gan.metrics import load_default_classifier
    from gan.pick import RULE, SnapshotChoice, pick

    torch.set_num_threads(args.threads)
    classifier = load_default_classifier()
    clips = load_clips(args.data)
    chosen, scores = pick(
        args.run.resolve(), args.out, classifier, clips, per_genre=args.per_genre,
        command=command_line(args), progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        truncate=not args.no_truncation, choice=SnapshotChoice(args.from_step, args.every),
        critic=args.critic,
    )  # fmt: skip
    print(json.dumps({
        "out": str(args.out), "chosen_step": chosen.step, "rule": RULE,
        "agreement": chosen.agreement, "worst_genre_agreement": chosen.worst_genre,
        "fd": chosen.fd, "truncation": chosen.truncation, "curve": [asdict(s) for s in scores],
    }))  # fmt: skip
    return 0


def configure(sub: argparse._SubParsersAction, default_run: Path, threads: int) -> None:
    p = sub.add_parser("pick", help="export a run's best snapshot, chosen by evaluation")
    p.add_argument("--run", type=Path, default=default_run,
                   help="run folder trained with --snapshot-every (default: %(default)s)",
                   )  # fmt: skip
    p.add_argument("--out", type=cli_args.output_folder, required=True,
                   help="folder for the chosen generator bundle")  # fmt: skip
    p.add_argument("--per-genre", type=cli_args.sample_count, default=10,
                   help="generated clips per genre scored per snapshot (default: 10)")  # fmt: skip
    p.add_argument("--data", type=Path, help="real clips to compare with (default: shared GTZAN)")
    p.add_argument("--no-truncation", action="store_true",
                   help="ship the chosen step at ψ = 1 instead of choosing ψ")  # fmt: skip
    p.add_argument("--from-step", type=cli_args.int_in(0, 10_000_000), default=0,
                   help="score only snapshots from this step on (default: all)")  # fmt: skip
    p.add_argument("--every", type=cli_args.int_in(1, 10_000_000), default=1,
                   help="score only snapshots at multiples of N steps (default: all)")  # fmt: skip
    p.add_argument("--critic", type=cli_args.int_in(0, MAX_CANDIDATES), default=0, metavar="K",
                   help="score each snapshot, and ship the chosen one, with its discriminator as "
                        "a critic keeping the most real of K noise walks per clip (default: 0, "
                        "none)")  # fmt: skip
    p.add_argument("--threads", type=cli_args.threads, default=threads)
    p.set_defaults(handler=_cmd_pick)
