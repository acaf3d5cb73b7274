"""``python -m genre train --model NAME (--dataset DIR | --features CSV) --split KIND``.

Every run is recorded in the run registry (live progress, metrics, files). With ``--json`` the
last line of stdout is one JSON object with the run's results. Exit codes: 0 finished,
1 crashed (a bug; traceback in the run log), 2 bad input (or the run folder is in use by
another trainer), 130 cancelled (SIGTERM or Ctrl-C).

Spectrogram (torch) runs save an epoch checkpoint; after a kill or crash, the same command
resumes from the last finished epoch (:mod:`genre.training.resume`); ``--no-resume`` does not.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import traceback
from types import FrameType
from typing import TYPE_CHECKING

from genre.errors import GenreError
from runs.errors import RunError
from runs.lock import RunFolderBusy, run_folder_lock

if TYPE_CHECKING:
    from genre.training.config import RunConfig
    from genre.training.reporting import RegistryReporter
    from runs.store import RunRegistry

NAME = "train"
HELP = "Train and evaluate one model; the run is recorded in the run registry."


class RunCancelled(BaseException):
    """Raised in the main thread by SIGTERM; BaseException so no ``except Exception`` eats it."""


def configure(parser: argparse.ArgumentParser) -> None:
    from genre.training.config_cli import add_config_options

    add_config_options(parser)  # one option per RunConfig field, with its default
    parser.add_argument("--json", action="store_true", help="last stdout line: JSON results")
    parser.add_argument(
        "--no-resume", action="store_true",
        help="start from epoch 1 even if an unfinished run with these settings left a checkpoint",
    )  # fmt: skip
    parser.add_argument(
        "--run-id",
        help="train the run the Training page stored under this id, with its stored settings "
        "(the other options are ignored)",
    )
    parser.set_defaults(run=run)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one cancel is enough; let cleanup finish
    raise RunCancelled()


def run(args: argparse.Namespace) -> int:
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _train(args)
    finally:
        signal.signal(signal.SIGTERM, previous)  # matters when called in-process (tests)


def _train(args: argparse.Namespace) -> int:
    from genre.training.config import RunConfig
    from genre.training.config_cli import config_from_args
    from genre.training.reporting import RegistryReporter
    from runs.store import RunRegistry

    registry = RunRegistry()
    if args.run_id:  # a stored run: its config is read back, not rebuilt from options
        stored = registry.get(args.run_id)  # an unknown id: "There is no run …"
        run_id, config = stored.id, RunConfig.from_dict(stored.config)
        log_file = None  # the launcher already sends our output to the run's log
    else:
        config = config_from_args(args)
        from genre.models import get_model_spec
        from genre.training.experiment import check_compatible

        # usage errors (unknown model, wrong kind of data) are refused before a run exists
        check_compatible(get_model_spec(config.model), config)
        run_id = registry.create(
            model=config.model, split=config.split, dataset=config.data_source,
            config=config.to_dict(),
        ).id  # fmt: skip
        log_file = registry.folder(run_id) / "log.txt"
    folder = registry.folder(run_id)
    reporter = RegistryReporter(registry, run_id, log_file=log_file)
    with contextlib.ExitStack() as held:
        try:  # one trainer per run folder, for this process's whole life
            held.enter_context(run_folder_lock(folder))
        except RunFolderBusy as err:  # the run is the other trainer's: leave it alone
            print(f"error: {err}", file=sys.stderr)
            return 2
        return _train_locked(args, config, registry, run_id, reporter)


def _train_locked(
    args: argparse.Namespace,
    config: RunConfig,
    registry: RunRegistry,
    run_id: str,
    reporter: RegistryReporter,
) -> int:
    from genre.training.config_cli import config_to_args
    from genre.training.experiment import run_training, summary_line
    from genre.training.resume import EpochCheckpoint, claim_checkpoint

    folder = registry.folder(run_id)
    try:
        registry.start(run_id, pid=os.getpid())
        reporter.log(f"run {run_id}: {config.model} on {config.data_source}, split {config.split}")
        if args.run_id:  # how to repeat it from a terminal
            reporter.log("same settings: python -m genre train " + " ".join(config_to_args(config)))
        if args.no_resume:
            EpochCheckpoint(folder, config).remove()
        elif not args.run_id and (earlier := claim_checkpoint(registry, config, folder)):
            reporter.log(f"continuing run {earlier.id} ({earlier.status}) from its checkpoint")
        metrics = run_training(config, reporter, folder)
        registry.finish(run_id, metrics)
        EpochCheckpoint(folder, config).remove()  # finished: its model is saved apart
    except (RunCancelled, KeyboardInterrupt):
        registry.mark_cancelled(run_id)
        reporter.log("cancelled")
        print(f"run {run_id} cancelled", file=sys.stderr)
        return 130
    except (GenreError, RunError) as err:
        registry.fail(run_id, str(err))
        reporter.log(f"failed: {err}")
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # a bug: the traceback goes to the log, a sentence to the registry
        registry.fail(run_id, f"Unexpected error: {type(err).__name__}: {err}")
        with contextlib.suppress(OSError):  # the run is failed even if its log is unwritable
            reporter.log("crashed:\n" + traceback.format_exc())
        print(f"error: training crashed ({type(err).__name__}: {err}); see {folder}/log.txt",
              file=sys.stderr)  # fmt: skip
        return 1
    accuracy = metrics["test_accuracy"]
    extra = (
        f" (k-fold {metrics['kfold_mean']:.1%} ± {metrics['kfold_std']:.1%})"
        if "kfold_mean" in metrics else ""
    )  # fmt: skip
    reporter.log(
        f"finished: test accuracy {accuracy:.1%}{extra}, macro F1 {metrics['macro_f1']:.3f} "
        f"on {metrics['n_test']} tracks"
    )
    if args.json:
        print(summary_line(run_id, config, metrics), flush=True)
    else:
        print(f"run {run_id}: {config.model} test accuracy {accuracy:.1%}{extra}, "
              f"macro F1 {metrics['macro_f1']:.3f}; files in {folder}")  # fmt: skip
    return 0
