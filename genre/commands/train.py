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
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genre.errors import GenreError
from runs.errors import RunError
from runs.lock import RunFolderBusy, run_folder_lock
from runs.stop import EXIT_CANCELLED, RunCancelled, StopRequest

if TYPE_CHECKING:
    from genre.training.config import RunConfig
    from genre.training.reporting import RegistryReporter
    from runs.store import RunRegistry

NAME = "train"
HELP = "Train and evaluate one model; the run is recorded in the run registry."


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


def run(args: argparse.Namespace) -> int:
    return _cancellable(lambda stop: _train(args, stop)).code


def _cancellable(call: Callable[[StopRequest], RunOutcome]) -> RunOutcome:
    """``call`` with SIGTERM and Ctrl-C turned into a Cancel (:mod:`runs.stop`)."""
    stop = StopRequest()
    with stop.installed():
        try:
            return call(stop)
        except RunCancelled:  # before training began: a started run records its own cancel
            print("cancelled", file=sys.stderr)
            return RunOutcome(EXIT_CANCELLED)


@dataclass(frozen=True)
class RunOutcome:
    """How a registered run ended: the exit code, and its metrics when it finished."""

    code: int
    run_id: str | None = None
    folder: Path | None = None
    metrics: dict[str, Any] | None = None


def train_new_run(
    config: RunConfig, *, json_out: bool = False, no_resume: bool = False
) -> RunOutcome:
    """Register a run with ``config`` and train it, exactly as ``python -m genre train`` does
    (also used by the shipped bundles' recipes, :mod:`genre.recipes`)."""
    from runs.store import RunRegistry

    return _cancellable(
        lambda stop: _train_registered(
            RunRegistry(), None, config, stop, json_out=json_out, no_resume=no_resume
        )
    )


def _train(args: argparse.Namespace, stop: StopRequest) -> RunOutcome:
    from genre.training.config import RunConfig
    from genre.training.config_cli import config_from_args
    from runs.store import RunRegistry

    registry = RunRegistry()
    if args.run_id:  # a stored run: its config is read back, not rebuilt from options
        stored = registry.get(args.run_id)  # an unknown id: "There is no run …"
        config = RunConfig.from_dict(stored.config)
        return _train_registered(
            registry, stored.id, config, stop, json_out=args.json, no_resume=args.no_resume
        )
    return _train_registered(
        registry, None, config_from_args(args), stop, json_out=args.json,
        no_resume=args.no_resume,
    )  # fmt: skip


def _train_registered(
    registry: RunRegistry,
    stored_id: str | None,
    config: RunConfig,
    stop: StopRequest,
    *,
    json_out: bool,
    no_resume: bool,
) -> RunOutcome:
    """Train the stored run ``stored_id``, or (None) a new run registered here with ``config``."""
    from genre.training.reporting import RegistryReporter

    if stored_id is not None:
        run_id = stored_id
        log_file = None  # the launcher already sends our output to the run's log
    else:
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
    reporter = RegistryReporter(registry, run_id, log_file=log_file, stop=stop)
    with contextlib.ExitStack() as held:
        try:  # one trainer per run folder, for this process's whole life
            held.enter_context(run_folder_lock(folder))
        except RunFolderBusy as err:  # the run is the other trainer's: leave it alone
            print(f"error: {err}", file=sys.stderr)
            return RunOutcome(2, run_id, folder)
        code, metrics = _train_locked(
            config, registry, run_id, reporter,
            stored=stored_id is not None, json_out=json_out, no_resume=no_resume,
        )  # fmt: skip
        return RunOutcome(code, run_id, folder, metrics)


def _train_locked(
    config: RunConfig,
    registry: RunRegistry,
    run_id: str,
    reporter: RegistryReporter,
    *,
    stored: bool,
    json_out: bool,
    no_resume: bool,
) -> tuple[int, dict[str, Any] | None]:
    from genre.training.config_cli import config_to_args
    from genre.training.experiment import run_training, summary_line
    from genre.training.resume import EpochCheckpoint, claim_checkpoint

    folder = registry.folder(run_id)
    try:
        registry.start(run_id, pid=os.getpid())
        reporter.log(f"run {run_id}: {config.model} on {config.data_source}, split {config.split}")
        if stored:  # how to repeat it from a terminal
            reporter.log("same settings: python -m genre train " + " ".join(config_to_args(config)))
        if no_resume:
            EpochCheckpoint(folder, config).remove()
        elif not stored and (earlier := claim_checkpoint(registry, config, folder)):
            reporter.log(f"continuing run {earlier.id} ({earlier.status}) from its checkpoint")
        metrics = run_training(config, reporter, folder)
        registry.finish(run_id, metrics)
        EpochCheckpoint(folder, config).remove()  # finished: its model is saved apart
    except (RunCancelled, KeyboardInterrupt):
        registry.mark_cancelled(run_id)
        reporter.log("cancelled")
        print(f"run {run_id} cancelled", file=sys.stderr)
        return EXIT_CANCELLED, None
    except (GenreError, RunError) as err:
        registry.fail(run_id, str(err))
        reporter.log(f"failed: {err}")
        print(f"error: {err}", file=sys.stderr)
        return 2, None
    except Exception as err:  # a bug: the traceback goes to the log, a sentence to the registry
        registry.fail(run_id, f"Unexpected error: {type(err).__name__}: {err}")
        with contextlib.suppress(OSError):  # the run is failed even if its log is unwritable
            reporter.log("crashed:\n" + traceback.format_exc())
        print(f"error: training crashed ({type(err).__name__}: {err}); see {folder}/log.txt",
              file=sys.stderr)  # fmt: skip
        return 1, None
    accuracy = metrics["test_accuracy"]
    extra = (
        f" (k-fold {metrics['kfold_mean']:.1%} ± {metrics['kfold_std']:.1%})"
        if "kfold_mean" in metrics else ""
    )  # fmt: skip
    reporter.log(
        f"finished: test accuracy {accuracy:.1%}{extra}, macro F1 {metrics['macro_f1']:.3f} "
        f"on {metrics['n_test']} tracks"
    )
    if json_out:
        print(summary_line(run_id, config, metrics), flush=True)
    else:
        print(f"run {run_id}: {config.model} test accuracy {accuracy:.1%}{extra}, "
              f"macro F1 {metrics['macro_f1']:.3f}; files in {folder}")  # fmt: skip
    return 0, metrics
