"""Run lifecycle with real ``python -m genre train`` processes and a real SQLite registry."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from genre.classifier import Classifier
from genre.cli import main
from genre.paths import (
    REPO_ROOT,
    active_bundle_dir,
    data_dir,
    default_bundle_dir,
    set_active_bundle_dir,
)
from genre.training import jobs
from genre.training.config import RunConfig
from runs import launch
from runs.errors import RunError
from runs.proc import process_start_time
from runs.store import Run, RunRegistry
from tests.conftest import tone
from tests.test_training_datasets import write_tiny_dataset

TINY = {"n_mels": 32, "window_s": 1.0, "hop_s": 0.5, "batch_size": 8, "crops_per_track": 4}


def wait_for(check: Callable[[], object], timeout: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def finished(registry: RunRegistry, run_id: str) -> Run | None:
    launch.refresh(registry)
    run = registry.get(run_id)
    return run if not run.active else None


def tiny_features(path: Path, tracks_per_class: int = 12) -> Path:
    rng = np.random.default_rng(0)
    lines = ["filename,length,f1,f2,f3,label"]
    for c, genre in enumerate(("blues", "metal", "pop")):
        for i in range(tracks_per_class):
            f = rng.normal(size=3) + np.array([2 * c, 0, -c])
            lines.append(f"{genre}.{i:05d}.au,661794,{f[0]},{f[1]},{f[2]},{genre}")
    path.write_text("\n".join(lines) + "\n")
    return path


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "genre", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, env={**os.environ},
    )  # fmt: skip


def test_cli_json_contract_and_run_files(tmp_path: Path, capsys) -> None:
    table = tiny_features(tmp_path / "features.csv")
    done = cli("train", "--model", "logreg", "--features", str(table), "--split", "holdout",
               "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"run_id", "model", "split", "test_accuracy", "macro_f1"} <= set(result)
    assert result["model"] == "logreg" and result["split"] == "holdout"
    assert 0.5 < result["test_accuracy"] <= 1.0  # separable classes
    run = RunRegistry().get(result["run_id"])
    assert run.status == "finished" and run.pid and run.started and run.ended
    files = {p.name for p in run.folder.iterdir()}
    assert {"config.json", "log.txt", "metrics.json", "confusion.csv", "model.pkl"} <= files
    assert "finished: test accuracy" in (run.folder / "log.txt").read_text()
    assert main(["runs"]) == 0
    listing = capsys.readouterr().out
    assert result["run_id"] in listing and "finished" in listing


def test_cli_rejects_bad_input_with_a_message(tmp_path: Path, capsys) -> None:
    assert main(["train", "--model", "nope", "--features", str(tmp_path / "x.csv")]) == 2
    assert "Unknown model 'nope'" in capsys.readouterr().err
    assert main(["train", "--model", "simple_cnn", "--features", str(tmp_path / "x.csv")]) == 2
    assert "reads spectrograms" in capsys.readouterr().err
    assert RunRegistry().list() == []  # usage errors leave no run behind
    missing = tmp_path / "missing"
    assert main(["train", "--model", "simple_cnn", "--dataset", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err
    failed = RunRegistry().list(status="failed")
    assert len(failed) == 1 and "does not exist" in (failed[0].error or "")


def test_background_run_streams_progress_then_finishes_with_a_bundle(tmp_path: Path) -> None:
    data = write_tiny_dataset(tmp_path / "clips")
    registry = RunRegistry()
    config = RunConfig(model="simple_cnn", dataset=str(data), split="holdout", epochs=3, **TINY)
    run = jobs.launch(config, registry)
    assert run.status == "queued" and run.pid
    rows = wait_for(lambda: registry.epochs(run.id), what="the first epoch row")
    assert rows[0]["epoch"] == 1 and rows[0]["train_loss"] > 0
    done = wait_for(lambda: finished(registry, run.id), what="the run to finish")
    assert done.status == "finished", done.error
    assert [r["epoch"] for r in registry.epochs(run.id)] == [1, 2, 3]
    assert all(r["val_acc"] is not None for r in registry.epochs(run.id))
    metrics = done.metrics
    assert metrics["n_test"] == 3 and len(metrics["confusion"]) == 3
    assert metrics["weights"] > 10_000 and metrics["windows_per_second"] > 0
    # promotion: the bundle serves the Classifier, and the default can be restored
    set_active_bundle_dir(Path(metrics["bundle"]))
    assert active_bundle_dir() == Path(metrics["bundle"])
    prediction = Classifier(active_bundle_dir()).predict_samples(tone(2.0)[:, 0])
    assert prediction.labels == ("blues", "classical", "country")
    set_active_bundle_dir(None)
    assert active_bundle_dir() == default_bundle_dir()


def test_cancel_and_kill(tmp_path: Path) -> None:
    """Two runs at once: one cancelled from the page's side, one killed outright."""
    data = write_tiny_dataset(tmp_path / "clips")
    registry = RunRegistry()
    config = RunConfig(model="linear_mel", dataset=str(data), split="holdout", epochs=5000, **TINY)
    cancelled, killed = jobs.launch(config, registry), jobs.launch(config, registry)
    for run in (cancelled, killed):
        wait_for(lambda run=run: registry.epochs(run.id), what="training to start")

    assert "Stopping" in launch.cancel(cancelled.id, registry)
    os.killpg(killed.pid, signal.SIGKILL)  # no chance to clean up: like a crash or the OOM killer

    done = wait_for(lambda: finished(registry, cancelled.id), what="the cancel")
    assert done.status == "cancelled"
    wait_for(lambda: not registry.get(cancelled.id).process_alive, timeout=30, what="exit")
    count = len(registry.epochs(cancelled.id))
    assert "already cancelled" in launch.cancel(cancelled.id, registry)

    dead = wait_for(lambda: finished(registry, killed.id), what="the reconcile")
    assert dead.status == "failed"
    assert "ended unexpectedly" in (dead.error or "")
    with pytest.raises(RunError):
        registry.start(killed.id, pid=1)  # a final run never moves again
    assert not registry.fail(killed.id, "again")
    assert len(registry.epochs(cancelled.id)) == count  # nothing was written after the end
    registry.delete(killed.id)
    assert not killed.folder.exists()
    with pytest.raises(RunError):
        registry.get(killed.id)


def pause_outside_sqlite(pid: int, registry: RunRegistry) -> None:
    """SIGSTOP ``pid`` at a moment it holds no registry lock (a paused writer would block
    everyone else, which is not what this test is about)."""
    for _ in range(100):
        os.kill(pid, signal.SIGSTOP)
        db = sqlite3.connect(registry.db_path, timeout=0.2, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.05)
        finally:
            db.close()
    raise AssertionError("the trainer never released the registry")


def test_a_terminal_run_survives_reconcile_and_finishes(tmp_path: Path) -> None:
    """`python -m genre train` typed in a terminal (no --run-id on its command line) while
    `python -m genre runs` (or the page) reconciles the registry: the run stays running."""
    data = write_tiny_dataset(tmp_path / "clips")
    registry = RunRegistry()
    args = ["--model", "linear_mel", "--dataset", str(data), "--split", "holdout", "--epochs",
            "150", *[f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "genre", "train", *args, "--json"], cwd=REPO_ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        run = wait_for(
            lambda: next((r for r in registry.list() if r.epoch >= 1), None), what="epoch 1"
        )
        assert run.pid == proc.pid and run.status == "running"
        assert run.id not in " ".join(proc.args)  # the case the old cmdline check got wrong
        pause_outside_sqlite(proc.pid, registry)  # hold it mid-training while others look
        try:
            listing = cli("runs")
            assert listing.returncode == 0, listing.stderr
            assert run.id in listing.stdout
            assert registry.reconcile() == []
            assert registry.get(run.id).status == "running", registry.get(run.id).error
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert json.loads(out.strip().splitlines()[-1])["run_id"] == run.id
    done = registry.get(run.id)
    assert done.status == "finished" and done.error is None
    assert [r["epoch"] for r in registry.epochs(run.id)][-1] == 150


def test_a_recycled_pid_is_not_the_runs_process(tmp_path: Path) -> None:
    """A run whose recorded process is gone while another process now has its pid (here:
    this test's own process, recorded with a different start time) is failed."""
    registry = RunRegistry(tmp_path / "home")
    run = registry.create(model="m", split="holdout", dataset="d", config={"epochs": 1})
    registry.start(run.id, pid=os.getpid())
    assert registry.get(run.id).pid_started == process_start_time(os.getpid())
    assert registry.reconcile() == []  # alive: this very process
    with registry._connect() as db:
        db.execute("UPDATE runs SET pid_started = pid_started - 1 WHERE id = ?", (run.id,))
    assert not registry.get(run.id).process_alive
    assert registry.reconcile() == [run.id]
    assert "ended unexpectedly" in (registry.get(run.id).error or "")


def test_a_run_that_errors_is_failed_with_its_message(tmp_path: Path) -> None:
    table = tmp_path / "broken.csv"
    table.write_text("filename,f1,label\nblues.00000.au,1,blues\n")  # one class only
    registry = RunRegistry()
    run = jobs.launch(RunConfig(model="logreg", features=str(table), split="holdout"), registry)
    done = wait_for(lambda: finished(registry, run.id), what="the failure")
    assert done.status == "failed"
    assert "only one class" in (done.error or "")


def test_a_crash_inside_training_fails_the_run_with_its_error(tmp_path: Path) -> None:
    """An error nobody planned for (a file where the spectrogram cache folder should be, so
    creating the cache raises NotADirectoryError) ends the run failed, exit status 1."""
    data = write_tiny_dataset(tmp_path / "clips", classes=2, per_class=3)
    cache = data_dir() / "cache" / "spectrograms"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("not a folder")
    done = cli("train", "--model", "linear_mel", "--dataset", str(data), "--split", "holdout",
               "--epochs", "1", "--json")  # fmt: skip
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: training crashed (NotADirectoryError") and "log.txt" in last
    assert done.stdout.strip() == ""  # no JSON result for a run that has none
    (run,) = RunRegistry().list()
    assert run.status == "failed" and run.ended
    assert (run.error or "").startswith("Unexpected error: NotADirectoryError")
    log = (run.folder / "log.txt").read_text()
    assert "crashed:" in log and "Traceback" in log and "cache_dir" in log
    assert not run.process_alive and RunRegistry().reconcile() == []


def test_registry_state_machine(tmp_path: Path) -> None:
    registry = RunRegistry(tmp_path / "home")
    run = registry.create(model="m", split="holdout", dataset="d", config={"epochs": 2})
    assert run.status == "queued" and run.folder.is_dir()
    registry.add_epoch(run.id, fold=1, epoch=1, train_loss=1.0, train_acc=0.5,
                       val_loss=None, val_acc=None)  # fmt: skip
    assert registry.epochs(run.id) == []  # not running yet: no rows
    registry.start(run.id, pid=os.getpid())
    registry.progress(run.id, epoch=1, step=3, steps=10, eta_s=5.0)
    registry.add_epoch(run.id, fold=1, epoch=1, train_loss=1.0, train_acc=0.5,
                       val_loss=1.2, val_acc=0.4)  # fmt: skip
    assert registry.get(run.id).step == 3
    registry.finish(run.id, {"test_accuracy": 0.5})
    assert registry.get(run.id).metrics == {"test_accuracy": 0.5}
    assert json.loads((run.folder / "metrics.json").read_text()) == {"test_accuracy": 0.5}
    assert not registry.mark_cancelled(run.id)
    assert registry.get(run.id).status == "finished"
    with pytest.raises(RunError, match="no run"):
        registry.get("nope")


def test_stft_kfold_with_early_stopping_in_process(tmp_path: Path) -> None:
    """STFT input trains but is not bundled (the Classify page computes log-mels)."""
    from genre.training.experiment import run_training
    from genre.training.reporting import Reporter

    data = write_tiny_dataset(tmp_path / "clips", per_class=6)
    config = RunConfig(
        model="linear_mel", dataset=str(data), split="kfold", folds=3, epochs=4, patience=1,
        frontend="stft", **TINY,
    )  # fmt: skip
    folder = tmp_path / "run"
    folder.mkdir()
    metrics = run_training(config, Reporter(), folder)
    assert metrics["n_test"] == 18  # every track tested once across the folds
    assert len(metrics["fold_accuracies"]) == 3 and "kfold_std" in metrics
    assert metrics["n_valid"] > 0  # early stopping holds out the next fold
    assert metrics["input"] == "stft" and "bundle" not in metrics
    assert not (folder / "bundle").exists() and (folder / "model.safetensors").is_file()
    assert metrics["weights"] == 2 * 256 * 3 + 3  # 256 STFT bins, 3 classes


def few_real_clips(root: Path, gtzan_dir: Path, genres=("blues", "classical", "metal")) -> Path:
    """Four real GTZAN clips per genre (IDs 0–3), plus one corrupt file that must be skipped."""
    for genre in genres:
        (root / genre).mkdir(parents=True)
        for i in range(4):
            name = f"{genre}.{i:05d}.ogg"
            (root / genre / name).symlink_to(gtzan_dir / "audio" / genre / name)
    (root / "blues" / "blues.00054.wav").write_bytes(b"RIFF\0\0\0\0WAVEjunk")
    return root


def test_the_musicnn_head_trains_as_a_run_and_serves_with_tags(
    tmp_path: Path, gtzan_dir: Path, capsys
) -> None:
    data = few_real_clips(tmp_path / "clips", gtzan_dir)
    done = cli("train", "--model", "musicnn_genre", "--dataset", str(data), "--split", "kfold",
               "--folds", "2", "--json", timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["model"] == "musicnn_genre" and result["n_test"] == 12
    run = RunRegistry().get(result["run_id"])
    assert run.status == "finished"
    metrics = run.metrics
    assert metrics["cache_hits"] == 0 and len(metrics["fold_accuracies"]) == 2
    assert [Path(p).name for p, _ in metrics["skipped"]] == ["blues.00054.wav"]
    assert metrics["trainable_weights"] == 200 * 3 + 3  # a linear head on 200 features
    rows = RunRegistry().epochs(run.id)
    assert {r["fold"] for r in rows} == {1, 2} and max(r["epoch"] for r in rows) == 150
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    # the same clips again: every embedding comes from the cache
    assert main(["train", "--model", "musicnn_genre", "--dataset", str(data), "--split",
                 "holdout", "--json"]) == 0  # fmt: skip
    second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert RunRegistry().get(second["run_id"]).metrics["cache_hits"] == 12
    # the bundle serves genres and the 50 MSD tags, on clips it never heard
    bundle = Path(result["bundle"])
    set_active_bundle_dir(bundle)
    classifier = Classifier(active_bundle_dir())
    assert classifier.labels == ("blues", "classical", "metal")
    for genre in ("classical", "metal"):
        prediction = classifier.predict(gtzan_dir / "audio" / genre / f"{genre}.00007.ogg")
        assert prediction.genre == genre
        assert prediction.tags is not None and len(prediction.tags) == 50
        assert all(0.0 <= p <= 1.0 for p in prediction.tags.values())
    set_active_bundle_dir(None)
    assert main(["train", "--model", "musicnn_genre", "--features", str(data / "x.csv")]) == 2
    assert "give --dataset FOLDER" in capsys.readouterr().err


def test_promotion_pointer_is_atomic_under_concurrent_writers(tmp_path: Path) -> None:
    """Two sessions promoting at once each write their own temporary file: one wins whole."""
    from concurrent.futures import ThreadPoolExecutor

    from genre.paths import write_pointer

    pointer = tmp_path / "active_bundle.txt"
    targets = [tmp_path / f"bundle-{i}" for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda target: write_pointer(pointer, target), targets))
    assert pointer.read_text(encoding="utf-8") in {str(t.resolve()) for t in targets}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["active_bundle.txt"]  # no leftovers
    write_pointer(pointer, None)
    assert not pointer.exists()


def test_a_killed_torch_run_resumes_from_its_last_epoch_with_the_same_command(
    tmp_path: Path,
) -> None:
    import fcntl

    from genre.training.resume import CHECKPOINT_FILE

    data = write_tiny_dataset(tmp_path / "clips")
    registry = RunRegistry()
    command = [sys.executable, "-m", "genre", "train", "--model", "linear_mel", "--dataset",
               str(data), "--split", "holdout", "--epochs", "60", "--json",
               *[f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]]  # fmt: skip
    first = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)  # fmt: skip
    assert first.stderr is not None
    # Unread, a one-page stderr pipe fills with the epoch lines after a few dozen epochs and
    # holds the trainer there: it cannot finish its 60 epochs before it is killed.
    fcntl.fcntl(first.stderr.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    try:
        run = wait_for(
            lambda: next((r for r in registry.list() if (r.folder / CHECKPOINT_FILE).is_file()),
                         None),
            what="the first epoch checkpoint",
        )  # fmt: skip
    finally:
        first.kill()  # SIGKILL: no cleanup, no cancel note
        first.wait()
        first.stderr.close()
    saved = torch_checkpoint_epoch(run.folder / CHECKPOINT_FILE)
    assert 1 <= saved < 60

    again = cli(*command[3:], timeout=300)  # the same command
    assert again.returncode == 0, again.stderr
    assert f"continuing run {run.id} (failed) from its checkpoint" in again.stderr
    assert f"resuming from epoch {saved} (epoch checkpoint)" in again.stderr
    resumed = registry.get(json.loads(again.stdout.strip().splitlines()[-1])["run_id"])
    assert resumed.id != run.id and resumed.status == "finished"
    assert registry.get(run.id).status == "failed"  # the killed run stays as it ended
    # the curve is whole: epochs up to the checkpoint come from it, the rest were trained
    assert [r["epoch"] for r in registry.epochs(resumed.id)] == list(range(1, 61))
    assert resumed.metrics["epochs_run"] == 60
    assert not (run.folder / CHECKPOINT_FILE).exists()  # taken over by the new run…
    assert not (resumed.folder / CHECKPOINT_FILE).exists()  # …which removed it when finished


def torch_checkpoint_epoch(path: Path) -> int:
    import torch

    return int(torch.load(path, map_location="cpu", weights_only=False)["fold_state"]["epoch"])
