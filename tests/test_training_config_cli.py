"""The training options come from RunConfig, and a stored run is trained from its stored config."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path

import pytest

from genre.cli import main
from genre.commands import train as train_command
from genre.errors import GenreError
from genre.training import jobs
from genre.training.config import RunConfig
from genre.training.config_cli import config_from_args, config_to_args, option_name
from runs.store import RunRegistry
from tests.test_training_jobs import cli, finished, tiny_features, wait_for


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser()
    train_command.configure(built)
    return built


def test_every_field_is_an_option_whose_default_is_the_configs() -> None:
    args = parser().parse_args(["--model", "logreg", "--features", "t.csv"])
    built = config_from_args(args)
    assert built == RunConfig(model="logreg", features="t.csv")
    options = {a.dest for a in parser()._actions}
    assert {f.name for f in fields(RunConfig)} <= options


def test_options_round_trip_a_config_with_every_setting_changed() -> None:
    config = RunConfig(
        model="simple_cnn", dataset="/music", split="kfold", epochs=7, folds=3, seed=4,
        frontend="stft", sample_rate=16000, n_fft=1024, hop=256, n_mels=64, window_s=2.0,
        hop_s=1.0, batch_size=8, lr=3e-4, weight_decay=0.0, crops_per_track=2, augment=False,
        mixup=0.2, patience=3, threads=2, classes="rock,jazz", fold_block=3, final_fit=True,
        lr_schedule="one-cycle", label_smoothing=0.1, head_epochs=40, head_hidden=16,
    )  # fmt: skip
    defaults = RunConfig(model="simple_cnn", dataset="/music")
    changed = [
        f.name for f in fields(RunConfig) if getattr(config, f.name) != getattr(defaults, f.name)
    ]
    assert len(changed) == len(fields(RunConfig)) - 3  # all but the model and the data source
    args = config_to_args(config)
    assert "--no-augment" in args and option_name("window_s") in args
    assert config_from_args(parser().parse_args(args)) == config


def test_a_choice_outside_the_configs_is_refused() -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["--model", "logreg", "--features", "t.csv", "--split", "random"])
    with pytest.raises(SystemExit):
        parser().parse_args(["--model", "logreg", "--features", "t.csv", "--frontend", "cqt"])


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"hop": 32}, "hop must give 10 to 200 frames a second"),
        ({"sample_rate": 400_000}, "sample rate must lie between 4000 and 192000 Hz"),
        ({"n_fft": 64}, "more mel bands than frequency bins"),
    ],
)
def test_a_front_end_no_bundle_could_load_is_refused_before_training(
    change: dict, words: str
) -> None:
    """The front-end checks of loading a bundle (MelSpec.checked) apply when it is configured,
    so no run trains for hours to write a bundle that cannot be loaded."""
    with pytest.raises(GenreError, match=f"Invalid training setting: .*{words}"):
        RunConfig(model="simple_cnn", dataset="/music", **change)


def test_missing_model_or_data_is_a_clear_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["train", "--features", str(tmp_path / "t.csv")]) == 2
    assert "--model NAME" in capsys.readouterr().err
    assert main(["train", "--model", "logreg"]) == 2
    assert "--dataset FOLDER or --features TABLE" in capsys.readouterr().err
    assert RunRegistry().list() == []


def test_a_stored_run_trains_from_its_stored_config(tmp_path: Path) -> None:
    """The launcher passes only the run id: the worker reads the settings from the registry."""
    table = tiny_features(tmp_path / "features.csv")
    registry = RunRegistry()
    config = RunConfig(model="knn_10", features=str(table), split="kfold", folds=3, seed=2)
    run = jobs.launch(config, registry)
    done = wait_for(lambda: finished(registry, run.id), what="the run to finish")
    assert done.status == "finished", done.error
    assert (
        done.metrics["n_folds"] == 3 if "n_folds" in done.metrics else "kfold_mean" in done.metrics
    )
    log = (done.folder / "log.txt").read_text()
    assert "same settings: python -m genre train " + " ".join(config_to_args(config)) in log
    stored = json.loads((done.folder / "config.json").read_text())
    assert RunConfig.from_dict(stored) == config


def test_an_unknown_run_id_is_refused_without_a_traceback() -> None:
    done = cli("train", "--run-id", "20000101-000000-abcdef")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "20000101-000000-abcdef" in done.stderr
