"""A GAN training run as the run registry sees it: started, live progress, and how it ended.

``python -m gan train`` records every run in the registry (:mod:`runs.store`) so the Training
page can watch it: status, phase, step/steps with an ETA, and the final loss figures. SIGTERM
(the page's Cancel) and Ctrl-C stop training after the current step, save a checkpoint and end
the run as cancelled, so stopping never loses more than one step.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gan.config import CHECKPOINT_FILE
from gan.errors import GanError
from gan.loss_log import loss_summary, read_losses
from gan.train import RunResult, TrainConfig
from genre.errors import GenreError
from runs.errors import RunError
from runs.stop import EXIT_CANCELLED, RunCancelled, StopRequest
from runs.store import RunRegistry

PROGRESS_EVERY_S = 1.0  # the registry asks for about one progress write a second
EXIT_OK, EXIT_CRASH, EXIT_BAD_INPUT = 0, 1, 2


class RegistryProgress:
    """The training loop's ``on_step``: step, steps and ETA into the registry, about once a
    second; with ``log_every``, also a plain line per that many steps (for the run's log)."""

    def __init__(self, registry: RunRegistry, run_id: str, steps: int, log_every: int = 0) -> None:
        self.registry, self.run_id = registry, run_id
        self.steps, self.log_every = steps, log_every
        self.baseline: tuple[int, float] | None = None  # first step seen (a resume starts late)
        self.last_write = 0.0

    def eta_s(self, step: int, now: float) -> float | None:
        if self.baseline is None or step <= self.baseline[0]:
            return None
        first_step, first_time = self.baseline
        return (self.steps - step) * (now - first_time) / (step - first_step)

    def __call__(self, step: int, losses: dict[str, float]) -> None:
        now = time.monotonic()
        if self.baseline is None:
            self.baseline = (step, now)
        if self.log_every and step % self.log_every == 0:
            print(f"step {step}/{self.steps}: d_loss {losses['d_loss']:.3f}, "
                  f"g_loss {losses['g_loss']:.3f}", flush=True)  # fmt: skip
        if now - self.last_write < PROGRESS_EVERY_S and step < self.steps:
            return
        self.last_write = now
        self.registry.progress(
            self.run_id, phase="training", step=step, steps=self.steps,
            eta_s=self.eta_s(step, now),
        )  # fmt: skip


@dataclass(frozen=True)
class RecordedTraining:
    """One ``python -m gan train`` call, recorded as registry run ``run_id``."""

    registry: RunRegistry
    run_id: str
    run_dir: Path
    config: TrainConfig
    load_sampler: Callable[[], Any]  # reads the clips: PatchSampler (slow, so inside the run)
    train: Callable[..., RunResult]  # gan.train.train with everything but these bound
    export: Callable[[], Path] | None  # writes the generator bundle, when asked for
    log_every: int = 0
    # measures the exported bundle and stores the figures in it (gan.measure), when asked for;
    # called with the bundle and a callback for progress lines
    measure: Callable[[Path, Callable[[str], None]], dict[str, Any]] | None = None

    def run(self, stop: StopRequest) -> tuple[int, dict[str, Any]]:
        """Train (and export); returns the exit code and the summary for stdout."""
        registry, run_id = self.registry, self.run_id
        summary: dict[str, Any] = {"run_id": run_id, "run": str(self.run_dir)}
        step = 0
        try:
            registry.start(run_id, pid=os.getpid())
            registry.progress(run_id, phase="reading the clips", step=0, steps=self.config.steps)
            sampler = self.load_sampler()
            progress = RegistryProgress(registry, run_id, self.config.steps, self.log_every)
            with stop.deferred():
                result = self.train(sampler, on_step=progress, should_stop=lambda: stop.requested)
            step = result.state.step
            summary.update(_result_summary(result, sampler.n_clips))
            if result.cancelled or stop.requested:
                raise RunCancelled()
            if result.stopped_early:
                registry.mark_cancelled(
                    run_id, f"Stopped by --max-minutes at step {step} of {self.config.steps}. "
                    "Run the same command again to continue from its checkpoint.",
                )  # fmt: skip
                return EXIT_OK, {**summary, "status": "cancelled"}
            if self.export is not None:
                registry.progress(run_id, phase="exporting the generator")
                summary["exported"] = str(self.export())
            metrics = final_metrics(self.run_dir, result, sampler.n_clips, summary.get("exported"))
            if self.measure is not None and self.export is not None:
                metrics.update(self.measured(Path(summary["exported"]), stop))
                summary.update(
                    {k: metrics[k] for k in ("agreement", "measure_error") if k in metrics}
                )
            registry.finish(run_id, metrics)
            return EXIT_OK, {**summary, "status": "finished"}
        except (RunCancelled, KeyboardInterrupt):
            registry.mark_cancelled(run_id, self.cancel_note(step))
            print(f"run {run_id} cancelled", file=sys.stderr)
            return EXIT_CANCELLED, {**summary, "status": "cancelled"}
        except (GanError, GenreError, RunError) as err:
            registry.fail(run_id, str(err))
            print(f"error: {err}", file=sys.stderr)
            return EXIT_BAD_INPUT, {**summary, "status": "failed"}
        except Exception as err:  # a bug: the traceback to the log, a sentence to the registry
            traceback.print_exc()
            registry.fail(run_id, f"Unexpected error: {type(err).__name__}: {err}")
            print(f"error: training crashed ({type(err).__name__}: {err})", file=sys.stderr)
            return EXIT_CRASH, {**summary, "status": "failed"}

    def measured(self, bundle: Path, stop: StopRequest) -> dict[str, Any]:
        """The registry's view of the exported generator's figures. Training has finished and
        the generator is saved, so a failure or a cancel here only leaves the figures out."""
        assert self.measure is not None

        def phase(message: str) -> None:
            stop.check()  # a cancel whose raise C code swallowed (runs.stop)
            self.registry.progress(self.run_id, phase=f"measuring the generator: {message}")

        phase("reading the real clips to compare with")
        try:
            report = self.measure(bundle, phase)
        except (RunCancelled, KeyboardInterrupt):
            return {"measure_error": "Measuring was cancelled; the generator is kept."}
        except (GanError, GenreError) as err:
            print(f"measuring the generator failed: {err}", file=sys.stderr)
            return {"measure_error": f"The generator could not be measured: {err}"}
        except Exception as err:  # a bug: the traceback to the log; the generator still stands
            traceback.print_exc()
            return {"measure_error": "The generator could not be measured (unexpected error: "
                                     f"{type(err).__name__}; see the run's log)."}  # fmt: skip
        return {
            "agreement": report.get("agreement"),
            "measured_clips": report.get("generated_clips"),
        }

    def cancel_note(self, step: int) -> str:
        if not (self.run_dir / CHECKPOINT_FILE).is_file():
            return "Cancelled by the user before the first checkpoint."
        at = f"at step {step}" if step else "from its last save"
        return (
            f"Cancelled by the user. The checkpoint {at} is kept in {self.run_dir}; continue "
            f"with: python -m gan train --run {self.run_dir} --steps {self.config.steps}"
        )


def _result_summary(result: RunResult, clips: int) -> dict[str, Any]:
    return {
        "step": result.state.step,
        "steps": result.state.config.steps,
        "resumed_from": result.resumed_from,
        "stopped_early": result.stopped_early,
        "elapsed_s": round(result.state.elapsed_s, 1),
        "clips": clips,
    }


def final_metrics(
    run_dir: Path, result: RunResult, clips: int, exported: str | None
) -> dict[str, Any]:
    """What the registry keeps of a finished GAN run (``generator``: the bundle to promote)."""
    log = run_dir / "losses.csv"
    losses = read_losses(log) if log.is_file() else []
    return {
        "kind": "gan",
        "steps": result.state.step,
        "resumed_from": result.resumed_from,
        "train_seconds": round(result.state.elapsed_s, 1),
        "clips": clips,
        "batch_size": result.state.config.batch_size,
        "seed": result.state.config.seed,
        "losses": loss_summary(losses),
        "run_dir": str(run_dir),
        "generator": exported,
    }
