"""``python -m gan``: train the conditional GAN, export it, sample from it, measure it.

Exit codes: 0 ok, 1 crashed (a bug: "unexpected error", traceback in the log), 2 usage or
data/model problem (one line says which; every option is range-checked before any work),
130 cancelled (SIGTERM or Ctrl-C; the checkpoint is kept), 141 stdout closed early
(``… | head -1``). Every ``train`` call is recorded in the run registry (:mod:`runs.store`), so
the Training page shows it live; a run folder takes one trainer at a time (``run.lock``).
``train --start-from OLD`` starts a new run folder from OLD's checkpoint (or from the generator
of a bundle) with the settings given (:mod:`gan.start_from`); resuming keeps a run's own
settings and says which it did not follow.

``sample`` prints one JSON object per sample as soon as it is written (:mod:`gan.cli_sample`).
``train`` prints one JSON summary as its last stdout line; with ``--export F --measure N`` the
bundle is then measured as ``evaluate --per-genre N --write`` would, and the summary gains
``agreement`` (or ``measure_error``: training and the export stand either way).
``morph`` and ``prompt`` write one WAV + PNG and print one JSON object (:mod:`gan.cli_morph`);
``pick`` exports a run's best snapshot and prints its scores (:mod:`gan.cli_pick`);
``evaluate`` measures a bundle and prints the card's figures (:mod:`gan.cli_evaluate`);
``gate`` leaves out the recordings a generator with one class per recording plays badly
(:mod:`gan.cli_gate`).
The training and model options are generated from the config in :mod:`gan.cli_train_options`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cliguard import guard_main
from gan import (
    cli_args,
    cli_evaluate,
    cli_gate,
    cli_morph,
    cli_pick,
    cli_sample,
    cli_train_options,
)
from gan.card_training import widening_words
from gan.config import DEVICES, MAX_CANDIDATES, TrainConfig
from gan.errors import GanError
from genre.errors import GenreError
from genre.logs import log_file
from genre.paths import data_dir
from runs.errors import RunError

# torch and the models load in the command handlers: a usage error is reported at once.
if TYPE_CHECKING:
    from collections.abc import Callable

    from runs.stop import StopRequest
    from runs.store import Run, RunRegistry


def default_threads(fallback: int) -> int:
    """``GAN_THREADS`` overrides every command's default thread count (within the range)."""
    configured = os.environ.get("GAN_THREADS", "")
    if configured.isdigit() and 0 < int(configured) <= cli_args.max_threads():
        return int(configured)
    return fallback


def default_run_dir() -> Path:
    return data_dir() / "gan-runs" / "cgan"


def _refuse_conflicts(args: argparse.Namespace) -> None:
    """Options that cannot go together, refused before any work."""
    if args.run_id and args.run:
        raise GanError("--run and --run-id cannot be combined: a registered run trains in its "
                       "own folder.")  # fmt: skip
    if args.measure and not args.export:
        raise GanError("--measure measures the exported generator: add --export FOLDER.")
    if args.start_from and args.no_resume:
        raise GanError("--start-from starts a new run folder: it cannot be combined with "
                       "--no-resume.")  # fmt: skip


def _read_stored_job(args: argparse.Namespace, registry: RunRegistry) -> None:
    """A page run trains with its stored settings (its :class:`GanJob`), not with options."""
    from gan.jobs import GanJob

    if args.start_from:  # a page run's start is one of its stored settings
        raise GanError("--start-from starts a new run folder: it cannot be combined with --run-id.")
    job = GanJob.from_dict(registry.get(args.run_id).config)  # an unknown id: a clear error
    args.start_from = Path(job.start_from) if job.start_from else None
    args.steps, args.batch_size, args.seed = job.steps, job.batch_size, job.seed
    args.checkpoint_every, args.clips_per_genre = job.checkpoint_every, job.clips_per_genre
    args.musicnn_weight, args.augment = job.musicnn_weight, job.augment
    args.measure = job.measure_per_genre or None
    if job.threads is not None:
        args.threads = job.threads
    try:
        args.data = cli_args.training_folder(job.data) if job.data else None
    except argparse.ArgumentTypeError as err:
        raise GanError(str(err)) from err


def _run_dir(args: argparse.Namespace, registry: RunRegistry) -> tuple[Path, Run | None]:
    """The folder this call trains in, and the page's run when launched with ``--run-id``."""
    if args.run_id:  # launched by the Training page, which registered the run
        run = registry.get(args.run_id)
        return run.folder, run
    return Path(args.run or default_run_dir()).resolve(), None


def _register(
    args: argparse.Namespace, registry: RunRegistry, run_dir: Path, config: TrainConfig
) -> str:
    """A terminal run registers itself (the page's runs are registered by the page), with the
    settings the page's run list names, as a page run has, taken from the config it trains."""
    from gan.jobs import GAN_MODEL, dataset_label

    run = registry.create(
        model=GAN_MODEL, split=None,
        dataset=dataset_label(str(args.data) if args.data else None),
        config={"steps": config.steps, "batch_size": config.batch_size, "seed": config.seed,
                "checkpoint_every": config.checkpoint_every, "run_dir": str(run_dir),
                "musicnn_weight": config.musicnn_weight, "augment": config.augment},
    )  # fmt: skip
    return run.id


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from runs.lock import RunFolderBusy, run_folder_lock
    from runs.stop import EXIT_CANCELLED, RunCancelled, StopRequest
    from runs.store import RunRegistry

    stop = StopRequest()
    run_id = args.run_id
    with stop.installed():  # first: a cancel may come while torch is still warming up
        try:
            registry = RunRegistry()
            if args.run_id and not args.run:
                _read_stored_job(args, registry)
            _refuse_conflicts(args)
            config = cli_train_options.config_from_args(args)
            from gan.train import training_device

            args.train_device = training_device(args.device)  # refused before any run exists
            # One thread by default: on a shared 2-core machine, two OpenMP threads competing
            # with other jobs were measured 5-14× slower per step than one.
            torch.set_num_threads(args.threads)
            run_dir, page_run = _run_dir(args, registry)
            hint = "Wait for it to finish, stop it, or train in another folder with --run."
            try:
                # Held until this process ends: a second trainer on the folder refuses at once.
                with run_folder_lock(cli_args.make_folder(run_dir), hint=hint):
                    if args.start_from:  # before registering: a refusal leaves no run behind
                        config = _start_from(args.start_from, run_dir, config)
                    run_id = page_run.id if page_run else _register(args, registry, run_dir, config)
                    return _train_locked(args, stop, registry, run_id, run_dir, config)
            except RunFolderBusy:
                raise  # the folder's run belongs to the trainer holding it: leave it alone
            except (GanError, GenreError, RunError) as err:
                if page_run is not None:  # the page's queued run must not wait for ever
                    registry.fail(page_run.id, str(err))
                raise
        except RunCancelled:
            if run_id:
                RunRegistry().mark_cancelled(run_id, "Cancelled by the user before it started.")
            print("cancelled", file=sys.stderr)
            return EXIT_CANCELLED


def _start_from(source: Path, run_dir: Path, config: TrainConfig) -> TrainConfig:
    from gan.start_from import start_from
    from gan.start_record import started_from

    config = start_from(source, run_dir, config)
    record = started_from(run_dir) or {}  # what start_from found there, in its own record
    what = "checkpoint"
    if record.get("bundle"):
        what = "generator bundle" + (" and its critic" if record.get("critic") else "")
    grown = ""
    if record.get("grown_to_recordings"):
        grown = (" Its class tables grow to one row per recording when the recordings are "
                 "read, beside a new discriminator.")  # fmt: skip
    if widened := record.get("widened_from"):
        change = widening_words(widened, config.model.g_channels)
        grown += (f" Its generator is widened {change}, drawing about what it drew, "
                  "with a new generator optimiser.")  # fmt: skip
    if record.get("noise_into_every"):
        grown += (" Its generator's noise now enters every layer (new maps, at zero: it "
                  "draws what it drew).")  # fmt: skip
    print(f"Starting from the {what} in {source.resolve()} with the settings given.{grown}",
          file=sys.stderr)  # fmt: skip
    return config


def _train_locked(
    args: argparse.Namespace,
    stop: StopRequest,
    registry: RunRegistry,
    run_id: str,
    run_dir: Path,
    config: TrainConfig,
) -> int:
    from functools import partial

    from gan.data import ClipMel, PatchSampler, load_clips
    from gan.registry_run import RecordedTraining
    from gan.train import train
    from genre.datasets import skipped_note

    clips: list[ClipMel] = []  # kept for the export's level floors

    def load_sampler() -> PatchSampler:
        print(f"Reading clips from {args.data or 'the shared GTZAN folder'}…", file=sys.stderr)
        skipped: list[tuple[Path, str]] = []
        clips[:] = load_clips(args.data, limit_per_genre=args.clips_per_genre, skipped=skipped)
        if skipped:
            print(skipped_note(skipped).strip(), file=sys.stderr)
        return PatchSampler(clips)

    export = None
    if args.export:
        from gan.bundle import export_run
        from gan.floors import store_guards

        command = shlex.join(["python", "-m", "gan", *args.argv])  # this call, as it was given

        def export() -> Path:  # the bundle draws dropouts and holes again, as a picked one does
            out = export_run(run_dir, Path(args.export), command=command)
            store_guards(out, clips)
            return out

    measure = None
    if args.measure:
        from gan.measure import measure_and_store

        def measure(bundle: Path, progress: Callable[[str], None]) -> dict[str, Any]:
            # against every clip of the folder, as `gan evaluate` measures the shipped card
            # (training may have used only some: --clips-per-genre)
            every_clip = load_clips(args.data)
            return measure_and_store(bundle, every_clip, per_genre=args.measure, progress=progress)

    recorded = RecordedTraining(
        registry=registry,
        run_id=run_id,
        run_dir=run_dir,
        config=config,
        load_sampler=load_sampler,
        train=partial(
            train, run_dir=run_dir, config=config, resume=not args.no_resume,
            max_minutes=args.max_minutes, progress=not args.quiet,
            device=args.train_device,
        ),
        export=export,
        log_every=args.checkpoint_every if args.quiet else 0,
        measure=measure,
    )  # fmt: skip
    code, summary = recorded.run(stop)
    print(json.dumps(summary), flush=True)
    return code


def _configure_train(p: argparse.ArgumentParser) -> None:
    count = cli_args.int_in(1, cli_train_options.MAX_STEPS)
    p.add_argument("--data", type=cli_args.training_folder,
                   help="folder of genre sub-folders (default: shared GTZAN)")  # fmt: skip
    p.add_argument("--run", type=cli_args.output_folder,
                   help=f"run folder, resumable (default: {default_run_dir()})")  # fmt: skip

    cli_train_options.add_config_options(p)  # from the config (why: its module's docstring)
    p.add_argument("--clips-per-genre", type=count, help="use only the first N clips of each genre")
    p.add_argument("--threads", type=cli_args.threads, default=default_threads(1))
    p.add_argument("--max-minutes", type=cli_args.float_in(0.0, 1e6, low_open=True),
                   help="stop this call after M minutes (resumable)")  # fmt: skip
    p.add_argument("--no-resume", action="store_true", help="start afresh even if a run exists")
    p.add_argument("--device", choices=DEVICES, default="auto",
                   help="where the networks train: a CUDA GPU, the CPU, or auto (the GPU when "
                        "one is visible); checkpoints resume on either")  # fmt: skip
    p.add_argument("--start-from", type=Path, metavar="FOLDER",
                   help="start this new run from another run's checkpoint (weights, step), or "
                   "from a generator bundle (its generator, with its critic as the "
                   "discriminator when it ships one, else a new one), and train on "
                   "with the settings given here")  # fmt: skip
    p.add_argument("--export", type=cli_args.output_folder,
                   help="write the finished generator bundle here")  # fmt: skip
    p.add_argument("--measure", type=cli_args.sample_count, metavar="N",
                   help="with --export: then measure the bundle with N clips a genre and "
                   "store the figures in it, as `gan evaluate --per-genre N --write` does, so "
                   "the Generate page can say how often its clips are recognised")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--run-id", help="train this run of the run registry with its stored "
                   "settings (set by the Training page; without it the run registers itself "
                   "with the options given)")  # fmt: skip
    p.set_defaults(handler=_cmd_train)


def _cmd_export(args: argparse.Namespace) -> int:
    from gan.bundle import export_run
    from gan.floors import store_folder_guards

    out = export_run(Path(args.run), Path(args.out), command=args.command_line or "",
                     critic_candidates=args.critic)  # fmt: skip
    # Its dropouts and holes drawn again, as the bundles of `train --export` and `pick` are:
    # without the floors, the shipped run's step 54 000 played 24 % near-silent clips and
    # scored a cepstral distance of 80 instead of 14 (2026-11-26).
    guards = None
    try:
        guards = store_folder_guards(out, args.data)
    except GanError as err:
        print(f"Exported without dropout floors or hole limits, so near-silent and holed "
              f"clips are kept: {err}", file=sys.stderr)  # fmt: skip
    print(json.dumps({"exported": str(out), "dropout_floors": guards is not None}))
    return 0


def _configure_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", type=Path, default=default_run_dir(), help="run folder to export")
    p.add_argument("--out", type=cli_args.output_folder, required=True,
                   help="bundle folder to write")  # fmt: skip
    p.add_argument("--data", type=cli_args.training_folder,
                   help="the run's training folder (default: shared GTZAN): its quietest real "
                   "segments set the levels below which sampling draws a clip again")  # fmt: skip
    p.add_argument("--command-line", help="the training command to record in the model card")
    p.add_argument("--critic", type=cli_args.int_in(0, MAX_CANDIDATES), default=0, metavar="K",
                   help="ship the run's discriminator as a critic that keeps, for every clip, "
                        f"the most real of K noise walks (2-{MAX_CANDIDATES}; default: 0, "
                        "none)")  # fmt: skip
    p.set_defaults(handler=_cmd_export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gan", description="A genre-conditioned GAN on mel spectrograms."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _configure_train(sub.add_parser("train", help="train (or resume training) the GAN"))
    _configure_export(sub.add_parser("export", help="write a run's generator as a bundle"))
    cli_sample.configure(sub, default_threads(2))
    cli_evaluate.configure(sub, default_threads(2))
    cli_morph.configure(sub)
    cli_pick.configure(sub, default_run_dir(), default_threads(2))
    cli_gate.configure(sub, default_threads(2))
    return parser


# gan reports audio problems as GanError (gan.data wraps them), so its family is these two.
@guard_main(prog="gan", errors=(GanError, GenreError, RunError), log_file=log_file, error_exit=2)
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    return int(args.handler(args))
