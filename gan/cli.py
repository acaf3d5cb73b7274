"""``python -m gan``: train the conditional GAN, export it, sample from it, measure it.

Exit codes: 0 ok, 1 crashed (a bug), 2 usage or data/model problem (the message says which),
130 cancelled (SIGTERM or Ctrl-C; the checkpoint is kept). Every ``train`` call is recorded in
the run registry (:mod:`genre.runs`), so the Training page shows it live.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from gan.errors import GanError
from genre.errors import GenreError
from genre.paths import data_dir
from genre.runs import RunRegistry

if TYPE_CHECKING:
    from gan.train import TrainConfig


def default_threads(fallback: int) -> int:
    """``GAN_THREADS`` overrides every command's default thread count."""
    configured = os.environ.get("GAN_THREADS", "")
    return int(configured) if configured.isdigit() and int(configured) > 0 else fallback


def default_run_dir() -> Path:
    return data_dir() / "gan-runs" / "cgan"


def _train_config(args: argparse.Namespace) -> TrainConfig:
    from gan.model import GanConfig
    from gan.train import TrainConfig

    if args.run_id and args.run:
        raise GanError("--run and --run-id cannot be combined: a registered run trains in its "
                       "own folder.")  # fmt: skip
    if args.steps < 1 or args.batch < 1 or args.checkpoint_every < 1:
        raise GanError("--steps, --batch and --checkpoint-every must be at least 1.")
    if args.data is not None and not args.data.is_dir():
        raise GanError(f"The training folder {args.data} does not exist.")
    try:
        model = GanConfig(
            g_channels=tuple(args.g_channels), d_channels=tuple(args.d_channels), z_dim=args.z_dim
        )
    except ValueError as err:
        raise GanError(f"Invalid model shape: {err}.") from err
    return TrainConfig(
        steps=args.steps, batch_size=args.batch, lr_g=args.lr_g, lr_d=args.lr_d,
        ema_decay=args.ema_decay, aux_weight=args.aux_weight,
        checkpoint_every=args.checkpoint_every, seed=args.seed, model=model,
    )  # fmt: skip


def _register(args: argparse.Namespace, registry: RunRegistry) -> tuple[str, Path]:
    """The run's registry id and folder: the page's (``--run-id``), else a new terminal run."""
    from gan.jobs import GAN_MODEL, NO_SPLIT, dataset_label

    if args.run_id:  # launched by the Training page, which registered the run
        return args.run_id, registry.get(args.run_id).folder
    run_dir = Path(args.run or default_run_dir()).resolve()
    run = registry.create(
        model=GAN_MODEL, split=NO_SPLIT,
        dataset=dataset_label(str(args.data) if args.data else None),
        config={"steps": args.steps, "batch_size": args.batch, "seed": args.seed,
                "checkpoint_every": args.checkpoint_every, "run_dir": str(run_dir)},
    )  # fmt: skip
    return run.id, run_dir


def _cmd_train(args: argparse.Namespace) -> int:
    from functools import partial

    from gan.data import PatchSampler, load_clips
    from gan.registry_run import EXIT_CANCELLED, RecordedTraining, StopRequest, TrainingCancelled
    from gan.train import train

    stop = StopRequest()
    run_id = args.run_id
    with stop.installed():  # first: a cancel may come while torch is still warming up
        try:
            config = _train_config(args)
            # One thread by default: on a shared 2-core machine, two OpenMP threads competing
            # with other jobs were measured 5-14× slower per step than one.
            torch.set_num_threads(args.threads)
            registry = RunRegistry()
            run_id, run_dir = _register(args, registry)
        except TrainingCancelled:
            if run_id:
                RunRegistry().mark_cancelled(run_id, "Cancelled by the user before it started.")
            print("cancelled", file=sys.stderr)
            return EXIT_CANCELLED

        def load_sampler() -> PatchSampler:
            print(f"Reading clips from {args.data or 'the shared GTZAN folder'}…", file=sys.stderr)
            return PatchSampler(load_clips(args.data, limit_per_genre=args.clips_per_genre))

        export = None
        if args.export:
            from gan.bundle import export_run

            export = partial(export_run, run_dir, Path(args.export), command=" ".join(sys.argv))
        recorded = RecordedTraining(
            registry=registry,
            run_id=run_id,
            run_dir=run_dir,
            config=config,
            load_sampler=load_sampler,
            train=partial(
                train, run_dir=run_dir, config=config, resume=not args.no_resume,
                max_minutes=args.max_minutes, progress=not args.quiet,
            ),
            export=export,
            log_every=args.checkpoint_every if args.quiet else 0,
        )  # fmt: skip
        code, summary = recorded.run(stop)
    print(json.dumps(summary))
    return code


def _configure_train(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, help="folder of genre sub-folders (default: shared GTZAN)")
    p.add_argument("--run", type=Path, help=f"run folder, resumable (default: {default_run_dir()})")
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr-g", type=float, default=2e-4)
    p.add_argument("--lr-d", type=float, default=4e-4)
    p.add_argument("--ema-decay", type=float, default=0.995)
    p.add_argument("--aux-weight", type=float, default=1.0, help="AC-GAN genre loss weight")
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--z-dim", type=int, default=96)
    p.add_argument("--g-channels", type=int, nargs="+", default=[256, 128, 64, 32, 16])
    p.add_argument("--d-channels", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    p.add_argument("--clips-per-genre", type=int, help="use only the first N clips of each genre")
    p.add_argument("--threads", type=int, default=default_threads(1))
    p.add_argument("--max-minutes", type=float, help="stop this call after M minutes (resumable)")
    p.add_argument("--no-resume", action="store_true", help="start afresh even if a run exists")
    p.add_argument("--export", type=Path, help="write the finished generator bundle here")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--run-id", help="report into this run of the run registry (set by the "
                   "Training page; without it the run registers itself)")  # fmt: skip
    p.set_defaults(handler=_cmd_train)


def _cmd_export(args: argparse.Namespace) -> int:
    from gan.bundle import export_run

    out = export_run(Path(args.run), Path(args.out), command=args.command_line or "")
    print(json.dumps({"exported": str(out)}))
    return 0


def _configure_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", type=Path, default=default_run_dir(), help="run folder to export")
    p.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    p.add_argument("--command-line", help="the training command to record in the model card")
    p.set_defaults(handler=_cmd_export)


def _cmd_sample(args: argparse.Namespace) -> int:
    import random

    from gan.bundle import load_gan_bundle
    from gan.sample import generate, write_samples

    torch.set_num_threads(args.threads)
    bundle = load_gan_bundle(args.bundle)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    genres = [g.strip().lower() for g in args.genre.split(",") if g.strip()]
    samples = generate(bundle, genres, args.n, seed, seconds=args.seconds)
    paths = write_samples(samples, Path(args.out))
    for sample in samples:
        print(json.dumps({"genre": sample.genre, "seed": seed, "index": sample.index,
                          "wav": str(Path(args.out) / f"{sample.name}.wav"),
                          "png": str(Path(args.out) / f"{sample.name}.png"),
                          "seconds": round(sample.duration_s, 3)}))  # fmt: skip
    print(f"wrote {len(paths)} files to {args.out}", file=sys.stderr)
    return 0


def _configure_sample(p: argparse.ArgumentParser) -> None:
    p.add_argument("--genre", required=True, help="a genre, or several separated by commas")
    p.add_argument("--n", type=int, default=1, help="samples per genre")
    p.add_argument("--seed", type=int, help="same seed → same samples (default: random)")
    p.add_argument("--seconds", type=float, default=3.0, help="length of each clip")
    p.add_argument("--out", type=Path, required=True, help="folder for the WAV and PNG files")
    p.add_argument("--bundle", type=Path, help="generator bundle (default: the shipped one)")
    p.add_argument("--threads", type=int, default=default_threads(2))
    p.set_defaults(handler=_cmd_sample)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from gan.bundle import load_gan_bundle, write_meta
    from gan.data import load_clips
    from gan.metrics import evaluate, load_default_classifier, other_classifiers, time_sampling

    bundle = load_gan_bundle(args.bundle)
    classifier = load_default_classifier()
    clips = load_clips(args.data)
    torch.set_num_threads(args.threads)
    report = evaluate(
        bundle, classifier, clips, per_genre=args.per_genre,
        progress=lambda msg: print(msg, file=sys.stderr),
        other_judges=other_classifiers(classifier),
    )  # fmt: skip
    timing = time_sampling(bundle)
    report["speed_4x3s_s"] = round(timing.seconds, 3)
    report["speed_threads"] = torch.get_num_threads()
    report["speed_load_average"] = round(os.getloadavg()[0], 1)
    if args.write:
        meta = dict(bundle.meta)
        meta["metrics"] = report
        write_meta(bundle.path, meta)
    print(json.dumps(report))
    return 0


def _configure_evaluate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bundle", type=Path, help="generator bundle (default: the shipped one)")
    p.add_argument("--data", type=Path, help="real clips to compare with (default: shared GTZAN)")
    p.add_argument("--per-genre", type=int, default=50, help="generated clips per genre")
    p.add_argument("--threads", type=int, default=default_threads(2))
    p.add_argument("--write", action="store_true", help="store the figures in the model card")
    p.set_defaults(handler=_cmd_evaluate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gan", description="A genre-conditioned GAN on mel spectrograms."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _configure_train(sub.add_parser("train", help="train (or resume training) the GAN"))
    _configure_export(sub.add_parser("export", help="write a run's generator as a bundle"))
    _configure_sample(sub.add_parser("sample", help="write WAV + PNG samples of a genre"))
    _configure_evaluate(sub.add_parser("evaluate", help="measure how convincing samples are"))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (GanError, GenreError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
