"""GAN runs in the run registry: real ``python -m gan train`` processes, real SQLite, real clips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from gan import jobs as gan_jobs
from gan.bundle import META_FILE, WEIGHTS_FILE, load_gan_bundle
from gan.config import TrainConfig
from gan.jobs import GAN_MODEL, GENERATOR_FOLDER, GanJob, continuation, moves_pitch, with_pitch
from gan.loss_log import read_losses
from gan.start_record import started_from
from gan.state import load_checkpoint
from genre.labels import GTZAN_GENRES
from runs import launch
from runs.proc import CANCEL_MARKER
from runs.store import RunRegistry
from tests.conftest import REPO_ROOT
from tests.test_training_jobs import finished, wait_for

# one clip per genre of the shared GTZAN clips, a small batch, one thread: seconds, not minutes
# (measuring the exported generator is tested once, on the Training page's own journey)
TINY = {"batch_size": 4, "clips_per_genre": 1, "threads": 1, "measure_per_genre": 0}


def gan_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAN_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "gan", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_a_launched_run_finishes_with_losses_metrics_and_an_exported_generator(
    gtzan_dir: Path,
) -> None:
    registry = RunRegistry()
    run = gan_jobs.launch(GanJob(steps=6, checkpoint_every=3, seed=3, **TINY), registry)
    assert run.status == "queued" and run.pid and run.model == gan_jobs.GAN_MODEL
    done = wait_for(lambda: finished(registry, run.id), what="the GAN run to end")
    log = (done.folder / "log.txt").read_text()
    assert done.status == "finished", f"{done.error}\n{log}"
    assert (done.step, done.steps) == (6, 6) and done.started and done.ended
    # per-step losses, the checkpoint and the exported bundle, all in the run's own folder
    losses = read_losses(done.folder / "losses.csv")
    assert [row["step"] for row in losses] == [1, 2, 3, 4, 5, 6]
    assert load_checkpoint(done.folder / "checkpoint.pt").step == 6
    bundle_dir = done.folder / GENERATOR_FOLDER
    assert {META_FILE, WEIGHTS_FILE} <= {p.name for p in bundle_dir.iterdir()}
    bundle = load_gan_bundle(bundle_dir)
    assert bundle.labels == GTZAN_GENRES and bundle.meta["training"]["steps"] == 6
    # the registry's final metrics: last-steps mean losses, the generator to promote
    metrics = done.metrics
    assert metrics["kind"] == "gan" and metrics["steps"] == 6 and metrics["clips"] == 10
    expected_d = round(sum(r["d_loss"] for r in losses) / 6, 4)
    assert metrics["losses"]["d_loss_last6"] == expected_d
    assert metrics["generator"] == str(bundle_dir)
    assert json.loads((done.folder / "metrics.json").read_text())["generator"] == str(bundle_dir)
    assert "step 3/6" in log and "step 6/6" in log  # a line per checkpoint for the log


def test_cancel_keeps_the_checkpoint_and_a_terminal_run_resumes_from_it(gtzan_dir: Path) -> None:
    registry = RunRegistry()
    run = gan_jobs.launch(GanJob(steps=5000, checkpoint_every=2, **TINY), registry)
    training = wait_for(
        lambda: (r := registry.get(run.id)).step >= 3 and r.eta_s is not None and r,
        what="live progress with an ETA",
    )
    assert training.status == "running" and training.phase == "training"
    assert training.steps == 5000 and 0 < training.progress < 0.01
    assert launch.cancel(run.id, registry).startswith("Stopping run")
    done = wait_for(lambda: finished(registry, run.id), what="the cancel to land")
    assert done.status == "cancelled"
    assert (done.folder / CANCEL_MARKER).exists()
    # the process stopped after a step and saved it: checkpoint and loss log agree
    checkpoint = load_checkpoint(done.folder / "checkpoint.pt")
    rows = read_losses(done.folder / "losses.csv")
    assert checkpoint.step >= 3 and rows[-1]["step"] == checkpoint.step
    assert f"at step {checkpoint.step} is kept" in (done.error or "")
    assert not (done.folder / GENERATOR_FOLDER).exists()

    # the note's command continues it from a terminal, which registers a run of its own
    resumed = gan_cli("train", "--run", str(done.folder), "--steps", str(checkpoint.step + 2),
                      "--quiet", "--clips-per-genre", "1", "--batch", "4")  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout.splitlines()[-1])
    assert summary["resumed_from"] == checkpoint.step and summary["status"] == "finished"
    terminal = registry.get(summary["run_id"])
    assert terminal.status == "finished" and terminal.model == gan_jobs.GAN_MODEL
    assert gan_jobs.gan_run_dir(terminal) == done.folder.resolve()
    assert terminal.metrics["steps"] == checkpoint.step + 2
    assert terminal.metrics["generator"] is None  # no --export asked for


def test_a_cancelled_page_run_goes_on_from_its_checkpoint_as_a_new_run(gtzan_dir: Path) -> None:
    """The page's Continue: a new run with the stopped run's settings, started from its
    checkpoint (weights, optimiser state, step and loss log); the stopped run stays as it was."""
    registry = RunRegistry()
    run = gan_jobs.launch(GanJob(steps=5000, checkpoint_every=2, seed=4, **TINY), registry)
    wait_for(lambda: registry.get(run.id).step >= 3, what="a few steps")
    launch.cancel(run.id, registry)
    stopped = wait_for(lambda: finished(registry, run.id), what="the cancel to land")
    assert stopped.status == "cancelled"
    saved = load_checkpoint(stopped.folder / "checkpoint.pt").step
    job = continuation(stopped)
    assert job == replace(GanJob.from_dict(stopped.config), start_from=str(stopped.folder))
    # two steps more than it saved (the page keeps the run's own 5000), so it ends here
    more = gan_jobs.launch(replace(job, steps=saved + 2), registry)
    done = wait_for(lambda: finished(registry, more.id), what="the continued run to end")
    assert done.status == "finished", f"{done.error}\n{(done.folder / 'log.txt').read_text()}"
    assert done.config["start_from"] == str(stopped.folder) and done.config["seed"] == 4
    assert load_checkpoint(done.folder / "checkpoint.pt").step == saved + 2
    # the loss curve goes on from the stopped run's, without a gap or a repeat
    assert [r["step"] for r in read_losses(done.folder / "losses.csv")] == list(range(1, saved + 3))
    assert started_from(done.folder)["step"] == saved
    assert load_gan_bundle(done.folder / GENERATOR_FOLDER).meta["training"]["steps"] == saved + 2
    assert load_checkpoint(stopped.folder / "checkpoint.pt").step == saved  # left untouched
    assert continuation(done) is None  # finished: its generator is ready, nothing to go on


def test_only_a_stopped_page_run_with_a_checkpoint_offers_to_continue(tmp_path: Path) -> None:
    registry = RunRegistry()
    never = registry.create(model=GAN_MODEL, split=None, dataset="x", config=GanJob().to_dict())
    registry.mark_cancelled(never.id, "Cancelled by the user before it started.")
    assert continuation(registry.get(never.id)) is None  # no checkpoint to go on from
    terminal = registry.create(
        model=GAN_MODEL, split=None, dataset="x",
        config={"steps": 9, "batch_size": 4, "seed": 0, "run_dir": str(tmp_path)},
    )  # fmt: skip
    (tmp_path / "checkpoint.pt").write_bytes(b"saved")
    registry.mark_cancelled(terminal.id, "Stopped by --max-minutes at step 4 of 9.")
    # its recipe may hold options the page cannot repeat: the note gives the command instead
    assert continuation(registry.get(terminal.id)) is None


def test_bad_train_input_is_refused_with_a_message(tmp_path: Path) -> None:
    missing = gan_cli("train", "--data", str(tmp_path / "nowhere"), "--run", str(tmp_path / "r"))
    assert missing.returncode == 2
    assert f"The training folder {tmp_path / 'nowhere'} does not exist." in missing.stderr
    unknown = gan_cli("train", "--run-id", "20000101-000000-abcdef")
    assert unknown.returncode == 2 and "There is no run 20000101-000000-abcdef" in unknown.stderr
    for result in (missing, unknown):
        assert "Traceback" not in result.stderr
    assert RunRegistry().list() == []  # nothing half-registered


def test_a_page_run_trains_with_its_stored_settings_not_with_options(tmp_path: Path) -> None:
    """The launcher passes only the run id; a stored data folder that has since vanished
    fails the run with the folder's message (the page shows it), without a traceback."""
    registry = RunRegistry()
    job = GanJob(steps=3, data=str(tmp_path / "gone"), **TINY)
    run = gan_jobs.launch(job, registry)
    done = wait_for(lambda: finished(registry, run.id), what="the GAN run to end")
    assert done.status == "failed"
    assert f"The training folder {tmp_path / 'gone'} does not exist." in (done.error or "")
    assert GanJob.from_dict({**job.to_dict(), "run_dir": "/elsewhere"}) == job
    log = (done.folder / "log.txt").read_text()
    assert "Traceback" not in log


def test_a_cancel_while_measuring_keeps_the_finished_generator(gtzan_dir: Path) -> None:
    """Training has ended and the generator is exported: Cancel while it is being measured
    finishes the run without the figures, the generator ready to use."""
    registry = RunRegistry()
    job = GanJob(steps=2, **{**TINY, "measure_per_genre": 10})
    run = gan_jobs.launch(job, registry)
    wait_for(
        lambda: (registry.get(run.id).phase or "").startswith("measuring the generator"),
        what="the measuring phase",
    )
    launch.cancel(run.id, registry)
    done = wait_for(lambda: finished(registry, run.id), what="the run to end")
    assert done.status == "finished", done.error
    assert done.metrics["measure_error"] == "Measuring was cancelled; the generator is kept."
    assert "agreement" not in done.metrics
    bundle = load_gan_bundle(done.folder / GENERATOR_FOLDER)
    assert "agreement" not in bundle.meta.get("metrics", {})


def test_pitch_shifts_are_added_once_and_read_back_from_any_stored_value() -> None:
    assert with_pitch() == f"{TrainConfig.augment},pitch"
    assert with_pitch("") == "pitch" and with_pitch("shift, pitch") == "shift, pitch"
    assert moves_pitch(with_pitch()) and moves_pitch("gain, pitch")
    assert not moves_pitch(TrainConfig.augment) and not moves_pitch("pitches")
    assert not any(map(moves_pitch, (None, 3, ["pitch"], "")))
    TrainConfig(augment=with_pitch())  # a recipe the trainer accepts
