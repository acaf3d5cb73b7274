"""AppTest of the Training page: launch a tiny run, see it finish, chart it, promote it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from genre.paths import (
    ASSETS_DIR,
    REPO_ROOT,
    active_bundle_dir,
    default_bundle_dir,
    set_active_bundle_dir,
)
from genre.runs import RunRegistry
from genre.training import jobs
from genre.training.config import RunConfig
from genre.training.metrics import classification_report, summarise_folds
from tests.test_training_datasets import write_tiny_dataset
from tests.test_training_jobs import few_real_clips


def open_page() -> AppTest:
    # the page file itself: AppTest does not deliver form submits after switch_page()
    at = AppTest.from_file(str(REPO_ROOT / "pages" / "training.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def frame_with(at: AppTest, column: str):
    """The first table showing ``column`` (AppTest does not expose dataframe keys)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def run_until(at: AppTest, done, timeout: float = 150.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception
        if done():
            return
        time.sleep(1.0)
    raise AssertionError("the page never showed the expected state")


def test_page_explains_why_splits_matter_and_validates_paths(tmp_path: Path) -> None:
    at = open_page()
    assert at.title[0].value == "📈 Training"
    assert "artist" in at.markdown[0].value and "both training and test" in at.markdown[0].value
    at.radio(key="source").set_value("audio")
    at.run()
    at.text_input(key="path-audio").set_value(str(tmp_path / "nowhere"))
    at.button(key="launch-button").click()
    at.run()
    assert [e.value for e in at.error] == [f"The folder {tmp_path / 'nowhere'} does not exist."]
    data = write_tiny_dataset(tmp_path / "clips", classes=2, per_class=2)
    at.text_input(key="path-audio").set_value(str(data))
    at.selectbox(key="split").set_value("filtered")
    at.button(key="launch-button").click()
    at.run()
    assert "only for GTZAN" in at.error[0].value  # 2 × 2 tones are not GTZAN's listed tracks
    assert RunRegistry().list() == []


def test_the_split_follows_the_data_until_the_user_picks_one(tmp_path: Path, gtzan_dir) -> None:
    at = open_page()  # the shipped table of all 1000 GTZAN tracks: every genre on each side
    assert at.selectbox(key="split").value == "filtered"
    assert any("443/197/290" in c.value for c in at.caption)
    at.radio(key="source").set_value("audio")
    at.run()  # the 100 shared clips: the filtered lists keep 40/49/4 of them
    assert at.text_input(key="path-audio").value == str(gtzan_dir / "audio")
    assert at.selectbox(key="split").value == "kfold"
    assert any("40/49/4" in c.value for c in at.caption)
    at.radio(key="source").set_value("features")
    at.run()
    assert at.selectbox(key="split").value == "filtered"
    # a split picked by hand stays, whatever data comes next
    at.selectbox(key="split").set_value("holdout")
    at.radio(key="source").set_value("audio")
    at.run()
    assert at.selectbox(key="split").value == "holdout"
    assert any("Suggested: grouped k-fold" in c.value for c in at.caption)
    at.text_input(key="path-audio").set_value(str(write_tiny_dataset(tmp_path / "clips")))
    at.run()
    assert at.selectbox(key="split").value == "holdout"
    assert not at.exception


def test_launch_a_tiny_run_watch_it_finish_and_promote_it(tmp_path: Path) -> None:
    data = write_tiny_dataset(tmp_path / "clips")
    at = open_page()
    at.radio(key="source").set_value("audio")
    at.run()
    at.text_input(key="path-audio").set_value(str(data))
    at.multiselect(key="models-audio").set_value(["linear_mel"])
    at.selectbox(key="split").set_value("holdout")
    at.number_input(key="epochs").set_value(3)
    at.number_input(key="n_mels").set_value(32)
    at.number_input(key="window_s").set_value(1.0)
    at.button(key="launch-button").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert "Started 1 run" in at.success[0].value
    registry = RunRegistry()
    (run,) = registry.list()

    def finished() -> bool:
        jobs.refresh(registry)
        return registry.get(run.id).status == "finished"

    run_until(at, finished)
    at.run()
    table = frame_with(at, "accuracy %")
    assert list(table["model"]) == ["linear_mel"] and list(table["split"]) == ["holdout"]
    assert 0 <= table["accuracy %"][0] <= 100
    charts = {c.proto.id for c in at.get("plotly_chart")}
    assert len(charts) >= 3  # bars, confusion matrix, training curves
    report = frame_with(at, "recall %")
    assert list(report["genre"]) == ["blues", "classical", "country"]
    at.button(key=f"promote-{run.id}").click()
    at.run()
    assert active_bundle_dir() == run.folder / "bundle"
    assert any("in use on the Classify page" in s.value for s in at.success)
    at.button(key="restore-default").click()
    at.run()
    assert active_bundle_dir() == default_bundle_dir()


def test_the_k_fold_columns_sort_as_numbers() -> None:
    """Means of 9.5 %, 55 % and 100 % sort in that order (as text, "100.0" < "55.0" < "9.5")."""
    registry = RunRegistry()
    labels = ["blues", "jazz"]
    for folds in ([0.09, 0.1], [0.5, 0.6], [1.0, 1.0], None):
        run = registry.create(model="linear_mel", split="kfold" if folds else "holdout",
                              dataset="clips", config={"epochs": 1})  # fmt: skip
        registry.start(run.id, pid=os.getpid())
        metrics = classification_report(np.array([0, 1]), np.array([0, 0]), labels)
        registry.finish(run.id, {**metrics, **(summarise_folds(folds) if folds else {})})
    at = open_page()
    table = frame_with(at, "k-fold mean %")
    assert pd.api.types.is_float_dtype(table["k-fold mean %"])
    assert pd.api.types.is_float_dtype(table["k-fold std %"])
    ordered = table.sort_values("k-fold mean %")["k-fold mean %"].tolist()
    assert ordered[:3] == pytest.approx([9.5, 55.0, 100.0]) and np.isnan(ordered[3])
    assert table.sort_values("k-fold std %")["k-fold std %"].tolist()[:3] == pytest.approx(
        [0.0, 0.5, 5.0]
    )


def test_the_cancel_button_stops_a_run(tmp_path: Path) -> None:
    data = write_tiny_dataset(tmp_path / "clips")
    registry = RunRegistry()
    config = RunConfig(model="linear_mel", dataset=str(data), split="holdout", epochs=5000,
                       n_mels=32, window_s=1.0, hop_s=0.5, batch_size=8)  # fmt: skip
    run = jobs.launch(config, registry)
    try:
        at = open_page()
        run_until(at, lambda: registry.epochs(run.id))  # training, and shown as running
        assert any(run.id in m.value for m in at.markdown)
        at.button(key=f"cancel-{run.id}").click()
        at.run()
        assert not at.exception
        run_until(at, lambda: jobs.refresh(registry) or not registry.get(run.id).active, 60)
        done = registry.get(run.id)
        assert done.status == "cancelled" and done.error == "Cancelled by the user."
        assert any(f"**linear_mel** · cancelled · `{run.id}`" in m.value for m in at.markdown)
        assert f"cancel-{run.id}" not in [b.key for b in at.button]
    finally:
        if registry.get(run.id).process_alive:
            os.killpg(run.pid, signal.SIGKILL)


def test_a_click_is_kept_when_the_page_sees_a_run_end_in_that_rerun() -> None:
    """The live section notices a run ended in the same rerun that carries a click on a button
    below it (here "Restore the shipped model"): the click must land, not be dropped by a
    rerun requested before that button is drawn."""
    registry = RunRegistry()
    run = registry.create(model="linear_mel", split="holdout", dataset="clips",
                          config={"epochs": 1})  # fmt: skip
    trainer = subprocess.Popen(["sleep", "300"])  # a real process standing for the trainer
    try:
        registry.start(run.id, pid=trainer.pid)
        set_active_bundle_dir(ASSETS_DIR / "gtzan-cnn-baseline")
        at = open_page()
        assert {f"cancel-{run.id}", "restore-default"} <= {b.key for b in at.button}
    finally:
        trainer.kill()
        trainer.wait()
    at.button(key="restore-default").click()
    at.run()
    assert not at.exception
    assert registry.get(run.id).status == "failed"  # the page saw the trainer vanish
    assert active_bundle_dir() == default_bundle_dir()


def test_the_musicnn_head_is_offered_launched_and_promoted(tmp_path: Path, gtzan_dir) -> None:
    data = few_real_clips(tmp_path / "clips", gtzan_dir)
    at = open_page()
    at.radio(key="source").set_value("audio")
    at.run()
    assert "musicnn_genre" in at.multiselect(key="models-audio").options
    at.text_input(key="path-audio").set_value(str(data))
    at.multiselect(key="models-audio").set_value(["musicnn_genre"])
    at.selectbox(key="split").set_value("holdout")
    at.button(key="launch-button").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert "1 file(s) will be skipped" in at.success[0].value
    registry = RunRegistry()
    (run,) = registry.list()
    run_until(at, lambda: jobs.refresh(registry) or not registry.get(run.id).active, 300)
    assert registry.get(run.id).status == "finished", registry.get(run.id).error
    at.run()
    table = frame_with(at, "accuracy %")
    assert list(table["model"]) == ["musicnn_genre"]
    assert list(table["input"]) == ["musicnn embedding"]
    at.button(key=f"promote-{run.id}").click()
    at.run()
    assert active_bundle_dir() == run.folder / "bundle"
    at.button(key="restore-default").click()
    at.run()
    assert active_bundle_dir() == default_bundle_dir()


def test_feature_runs_say_why_they_cannot_be_promoted(tmp_path: Path) -> None:
    at = open_page()
    at.multiselect(key="models-features").set_value(["knn_10"])
    at.button(key="launch-button").click()
    at.run()
    assert "train 640, test 290" in at.success[0].value
    registry = RunRegistry()
    (run,) = registry.list()
    run_until(at, lambda: jobs.refresh(registry) or registry.get(run.id).status == "finished")
    assert any("Only neural networks trained on log-mel" in c.value for c in at.caption)
    assert f"promote-{run.id}" not in [b.key for b in at.button]
