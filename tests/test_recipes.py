"""Recipes rebuild the shipped bundles through the run pipeline: a registered run, then shipped.

Real subprocesses, the real run registry (SQLite, in the test's private data folder) and real
GTZAN clips, cut short so each run takes seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from safetensors.torch import load_file

from genre.bundle import load_bundle
from genre.classifier import Classifier
from genre.labels import GTZAN_GENRES
from genre.paths import REPO_ROOT
from genre.recipes import RECIPES
from genre.training.config import RunConfig
from genre.training.experiment import run_training
from genre.training.head_loop import RECIPE as HEAD
from genre.training.head_loop import recipe as head_recipe
from genre.training.head_loop import run_config
from genre.training.reporting import Reporter
from runs.store import RunRegistry


@pytest.fixture(scope="module")
def clips(gtzan_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 genres × 4 clips (IDs 0–3) cut to 7 s."""
    data = tmp_path_factory.mktemp("recipe-clips")
    for genre in ("classical", "metal"):
        (data / genre).mkdir()
        for number in range(4):
            name = f"{genre}.{number:05d}"
            wave, rate = sf.read(gtzan_dir / "audio" / genre / f"{name}.ogg", dtype="float32")
            sf.write(data / genre / f"{name}.wav", wave[: 7 * rate], rate)
    return data


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genre", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_recipes_are_run_configs_with_final_fit() -> None:
    for name, recipe in RECIPES.items():
        parser = argparse.ArgumentParser()
        recipe.configure(parser)
        config = recipe.config(Path("clips"), parser.parse_args([]))
        assert config.split == "kfold" and config.final_fit, name
        assert config.class_names == list(GTZAN_GENRES), name


def test_recipe_command_registers_a_run_and_ships_a_loadable_bundle(
    clips: Path, tmp_path: Path, private_data_dir: Path
) -> None:
    out = tmp_path / "baseline"
    result = run_cli(
        "recipe", "gtzan-cnn-baseline", "--data", str(clips), "--out", str(out),
        "--epochs", "2", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    run = RunRegistry(private_data_dir).get(summary["run_id"])  # listed like any run
    assert run.status == "finished" and run.model == "baseline_cnn"
    assert run.config["final_fit"] and run.config["split"] == "kfold"
    assert run.metrics["checkpoint_from"].startswith("all tracks")
    bundle = load_bundle(out)
    assert bundle.kind == "baseline_cnn" and bundle.labels == GTZAN_GENRES
    assert bundle.metrics["grouped_cv_accuracy_mean"]["value"] == pytest.approx(
        float(np.mean(run.metrics["fold_accuracies"])), abs=1e-4
    )
    assert bundle.metrics["fold_accuracies"]["value"] == summary["fold_accuracies"]
    assert len(bundle.trained_on["files"]) == 8  # the saved model saw every clip
    assert bundle.extra["training"]["run"] == run.id
    assert "recipe gtzan-cnn-baseline" in bundle.model_card
    # the shipped weights are the run's (all-tracks) model
    shipped = load_file(str(out / "weights.safetensors"))
    trained = load_file(str(run.folder / "model.safetensors"))
    assert shipped.keys() == trained.keys()
    assert all(np.array_equal(shipped[k].numpy(), trained[k].numpy()) for k in shipped)
    assert Classifier(out).predict(clips / "metal" / "metal.00000.wav").genre in GTZAN_GENRES


def test_final_fit_saves_an_all_tracks_model_and_keeps_the_held_out_figures(
    clips: Path, tmp_path: Path
) -> None:
    """Same seed, with and without final_fit: identical folds (seeded before the weights are
    drawn, so fold 1 too), a different saved model, which says it saw every track."""
    config = RunConfig(
        model="baseline_cnn", dataset=str(clips), split="kfold", folds=2, fold_block=2,
        epochs=2, crops_per_track=2, seed=3, lr_schedule="one-cycle", label_smoothing=0.1,
    )  # fmt: skip
    folders = {}
    metrics = {}
    for final in (False, True):
        folder = folders[final] = tmp_path / f"final-{final}"
        folder.mkdir()
        metrics[final] = run_training(replace(config, final_fit=final), Reporter(), folder)
    assert metrics[True]["fold_accuracies"] == metrics[False]["fold_accuracies"]
    assert metrics[True]["confusion"] == metrics[False]["confusion"]
    assert metrics[False]["checkpoint_from"] == "fold 2"
    assert metrics[True]["checkpoint_from"].startswith("all tracks")
    last_fold = load_file(str(folders[False] / "model.safetensors"))
    all_tracks = load_file(str(folders[True] / "model.safetensors"))
    assert any(not np.array_equal(last_fold[k].numpy(), all_tracks[k].numpy()) for k in last_fold)
    meta = {f: json.loads((folders[f] / "bundle" / "bundle.json").read_text()) for f in folders}
    assert len(meta[False]["trained_on"]["files"]) == 4  # fold 2 trains on IDs 0–1
    assert len(meta[True]["trained_on"]["files"]) == 8
    assert "every track" in meta[True]["trained_on"]["split"]


def test_train_musicnn_alias_keeps_its_json_contract(clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "musicnn"
    result = run_cli(
        "train-musicnn", "--data", str(clips), "--out", str(out), "--epochs", "20",
        "--no-fusion", "--float32", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"bundle", "grouped_cv_accuracy_mean", "grouped_cv_accuracy_std",
            "fold_accuracies", "temperature", "run_id"} <= set(summary)  # fmt: skip
    assert "fusion" not in summary
    assert len(summary["fold_accuracies"]) == 2  # blocks of two IDs: 0–1 and 2–3
    bundle = load_bundle(out)
    assert bundle.kind == "musicnn_genre" and bundle.labels == GTZAN_GENRES
    assert bundle.params["low_precision"] is False
    assert bundle.extra["training"]["config"]["epochs"] == 20
    assert bundle.extra["training"]["run"] == summary["run_id"]
    assert "ISC" in (out / "LICENSE").read_text(encoding="utf-8")
    assert "plain_logreg_cv_accuracy_mean" in bundle.metrics
    # fit-fusion trains this head's folds again through the pipeline: 8 clips are too few
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    refused = run_cli("fit-fusion", "--bundle", str(out), "--data", str(clips))
    assert refused.returncode == 2, refused.stderr
    assert "needs at least 20 held-out clips" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert (out / "MODEL_CARD.md").read_text(encoding="utf-8") == card  # nothing written


def test_a_head_run_config_trains_exactly_that_head() -> None:
    """fit-fusion rebuilds a bundle's head run from its settings: the recipe's settings (seed,
    epochs, width and folds aside) map to a run and back; others are refused, by name."""
    head = replace(HEAD, seed=4, epochs=30, hidden=64, folds=3, block=5, low_precision=False)
    config = run_config(head, "clips", final_fit=False)
    assert (config.folds, config.fold_block, config.final_fit) == (3, 5, False)
    assert replace(head_recipe(config), folds=3, block=5, low_precision=False) == head
    assert run_config(HEAD, "clips") == RECIPES["musicnn-genre"].config(
        Path("clips"), argparse.Namespace(seed=HEAD.seed, epochs=HEAD.epochs, hidden=HEAD.hidden)
    )
    with pytest.raises(ValueError, match="lr, recording_copies"):
        run_config(replace(HEAD, lr=0.1, recording_copies=0), "clips")


def test_the_musicnn_recipe_ships_fusion_only_from_its_own_folds(clips: Path, tmp_path: Path):
    out = tmp_path / "musicnn"
    result = run_cli(
        "recipe", "musicnn-genre", "--data", str(clips), "--out", str(out), "--epochs", "5",
        "--float32", "--json",
    )  # fmt: skip
    # 8 clips in two folds: too few held-out clips to choose a fusion on, and no second CV
    assert result.returncode == 2, result.stderr
    assert "could not be shipped" in result.stderr and "--no-fusion" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()  # nothing half-shipped over the bundle in use
