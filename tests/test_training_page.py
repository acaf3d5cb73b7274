"""AppTest of the Training page: launch a tiny run, see it finish, chart it, promote it."""

from __future__ import annotations

import json
import os
import shutil
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
from genre.training import jobs
from genre.training.config import RunConfig
from genre.training.data_choices import SHIPPED_CLIPS, SHIPPED_TABLE, TYPED, datasets_dir
from genre.training.metrics import classification_report, summarise_folds
from runs import launch
from runs.store import RunRegistry
from tests.test_training_data_choices import real_clips
from tests.test_training_datasets import write_tiny_dataset
from tests.test_training_jobs import few_real_clips


def open_page() -> AppTest:
    # the page file itself: AppTest does not deliver form submits after switch_page()
    at = AppTest.from_file(str(REPO_ROOT / "app_pages" / "training.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def pick_data(at: AppTest, choice: str, typed: Path | None = None) -> None:
    """Pick a data choice; for "Another folder or table…", type ``typed`` as its path."""
    at.selectbox(key="data-choice").set_value(choice)
    at.run()
    if typed is not None:
        at.text_input(key="data-path").set_value(str(typed))
        at.run()
    assert not at.exception


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


def promote(at: AppTest, run_id: str) -> None:
    """Click "Use this model"; confirm when the page asks (a lower accuracy than the model in
    use; the guard itself is tested in test_promoting_a_less_accurate_model_asks_first)."""
    at.button(key=f"promote-{run_id}").click()
    at.run()
    if f"promote-confirm-{run_id}" in [b.key for b in at.button]:
        at.button(key=f"promote-confirm-{run_id}").click()
        at.run()


def test_page_explains_why_splits_matter_and_validates_paths(tmp_path: Path) -> None:
    at = open_page()
    assert at.title[0].value == "📈 Training"
    assert "never heard in training" in at.markdown[0].value
    (why,) = [m.value for m in at.markdown if "both training and test" in m.value]
    assert "artist-filtered split keeps each artist on one side" in why  # in the popover
    pick_data(at, TYPED, tmp_path / "nowhere")
    assert [e.value for e in at.error] == [f"The folder {tmp_path / 'nowhere'} does not exist."]
    assert at.button(key="launch-button").disabled  # the check failed: nothing to launch
    data = write_tiny_dataset(tmp_path / "clips", classes=2, per_class=2)
    pick_data(at, TYPED, data)
    assert not at.button(key="launch-button").disabled
    at.selectbox(key="split").set_value("filtered")
    at.button(key="launch-button").click()
    at.run()
    assert "only for GTZAN" in at.error[0].value  # 2 × 2 tones are not GTZAN's listed tracks
    assert RunRegistry().list() == []


def test_data_is_picked_from_a_list_and_checked_before_launch(gtzan_dir: Path) -> None:
    real_clips(datasets_dir() / "my songs", gtzan_dir)  # two genres and one corrupt file
    at = open_page()  # the shipped feature table by default, already checked
    assert at.selectbox(key="data-choice").value == SHIPPED_TABLE
    assert any("Found 1000 tracks in 10 genres" in c.value for c in at.caption)
    assert "data-path" not in {t.key for t in at.text_input}  # no path to type for it
    pick_data(at, "datasets/my songs")
    (found,) = [c.value for c in at.caption if "Found" in c.value]
    assert "Found 6 tracks in 2 genres (blues, rock)" in found
    assert "Skipped 1 file(s): blues.00054.wav" in found
    assert not at.error and not at.button(key="launch-button").disabled
    assert "simple_cnn" in at.multiselect(key="models-audio").value  # audio models follow
    # the form's settings start from the run's own defaults
    assert at.number_input(key="epochs").value == RunConfig.default("epochs")
    assert at.number_input(key="crops").value == RunConfig.default("crops_per_track")


def test_a_path_that_holds_no_music_cannot_be_launched(tmp_path: Path) -> None:
    at = open_page()
    pick_data(at, TYPED)  # nothing typed yet: a prompt, not an error
    assert not at.error and at.info[0].value.startswith("Type the path")
    assert at.button(key="launch-button").disabled
    (tmp_path / "empty").mkdir()
    pick_data(at, TYPED, tmp_path / "empty")
    assert at.error[0].value.startswith(f"No audio tracks found in {tmp_path / 'empty'}")
    assert at.button(key="launch-button").disabled
    pick_data(at, TYPED, tmp_path / "table.csv")
    assert at.error[0].value == f"The feature table {tmp_path / 'table.csv'} does not exist."
    assert at.button(key="launch-button").disabled
    assert RunRegistry().list() == []


def test_the_split_follows_the_data_until_the_user_picks_one(tmp_path: Path, gtzan_dir) -> None:
    at = open_page()  # the shipped table of all 1000 GTZAN tracks: every genre on each side
    assert at.selectbox(key="split").value == "filtered"
    assert any("443/197/290" in c.value for c in at.caption)
    pick_data(at, SHIPPED_CLIPS)  # the 100 shared clips: the filtered lists keep 40/49/4
    assert any("Found 100 tracks in 10 genres" in c.value for c in at.caption)
    assert at.selectbox(key="split").value == "kfold"
    assert any("40/49/4" in c.value for c in at.caption)
    pick_data(at, SHIPPED_TABLE)
    assert at.selectbox(key="split").value == "filtered"
    # a split picked by hand stays, whatever data comes next
    at.selectbox(key="split").set_value("holdout")
    pick_data(at, SHIPPED_CLIPS)
    assert at.selectbox(key="split").value == "holdout"
    assert any("Suggested: grouped k-fold" in c.value for c in at.caption)
    pick_data(at, TYPED, write_tiny_dataset(tmp_path / "clips"))
    assert at.selectbox(key="split").value == "holdout"
    assert not at.exception


def test_launch_a_tiny_run_watch_it_finish_and_promote_it(tmp_path: Path) -> None:
    data = write_tiny_dataset(tmp_path / "clips")
    at = open_page()
    pick_data(at, TYPED, data)
    at.multiselect(key="models-audio").set_value(["linear_mel"])
    at.selectbox(key="split").set_value("holdout")
    at.number_input(key="epochs").set_value(3)
    at.number_input(key="n_mels").set_value(32)
    at.number_input(key="window_s").set_value(1.0)
    at.button(key="launch-button").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert "Started 1 run" in at.success[0].value
    at.run()  # a rerun (a run that ended reruns the page) keeps the message where it was
    assert "Started 1 run" in at.success[0].value
    registry = RunRegistry()
    (run,) = registry.list()

    def finished() -> bool:
        launch.refresh(registry)
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
    promote(at, run.id)
    assert active_bundle_dir() == run.folder / "bundle"
    assert any("in use on the Classify page" in s.value for s in at.success)
    at.button(key="restore-default").click()
    at.run()
    assert active_bundle_dir() == default_bundle_dir()


def test_a_k_fold_run_can_save_a_model_trained_on_every_track(tmp_path: Path) -> None:
    data = write_tiny_dataset(tmp_path / "clips")
    at = open_page()
    at.selectbox(key="split").set_value("kfold")
    at.run()
    assert "final-fit" not in {c.key for c in at.checkbox}  # feature-table models: never saved
    pick_data(at, TYPED, data)
    at.multiselect(key="models-audio").set_value(["linear_mel"])
    at.run()
    at.number_input(key="folds").set_value(2)
    at.number_input(key="epochs").set_value(1)
    at.number_input(key="n_mels").set_value(32)
    at.number_input(key="window_s").set_value(1.0)
    at.checkbox(key="final-fit").check()
    at.button(key="launch-button").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    registry = RunRegistry()
    (run,) = registry.list()
    assert run.config["final_fit"] is True and run.config["folds"] == 2
    run_until(at, lambda: launch.refresh(registry) or not registry.get(run.id).active)
    assert registry.get(run.id).status == "finished", registry.get(run.id).error
    meta = json.loads((run.folder / "bundle" / "bundle.json").read_text())
    assert "trained on every track" in json.dumps(meta)


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
        run_until(at, lambda: launch.refresh(registry) or not registry.get(run.id).active, 60)
        done = registry.get(run.id)
        assert done.status == "cancelled" and done.error == "Cancelled by the user."
        # The worker may end the run between the live section's read of the registry and the
        # comparison's, in one rerun (both then show it: the next poll settles that), so the
        # page is judged once it has seen the run end before drawing.
        at.run()
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
    pick_data(at, SHIPPED_CLIPS)
    offered = at.multiselect(key="models-audio").options
    assert offered[0] == "Pretrained musicnn + linear head"  # the best choice on little data
    pick_data(at, TYPED, data)
    at.multiselect(key="models-audio").set_value(["musicnn_genre"])
    at.selectbox(key="split").set_value("holdout")
    at.button(key="launch-button").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert "1 file(s) will be skipped" in at.success[0].value
    registry = RunRegistry()
    (run,) = registry.list()
    run_until(at, lambda: launch.refresh(registry) or not registry.get(run.id).active, 300)
    assert registry.get(run.id).status == "finished", registry.get(run.id).error
    at.run()
    table = frame_with(at, "accuracy %")
    assert list(table["model"]) == ["musicnn_genre"]
    assert list(table["input"]) == ["musicnn embedding"]
    promote(at, run.id)
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
    run_until(at, lambda: launch.refresh(registry) or registry.get(run.id).status == "finished")
    # The run can finish after the rerun drew it as running and before the registry is read,
    # so the page is judged on a rerun made once it has ended.
    at.run()
    assert any("the Classify page cannot use this model" in c.value for c in at.caption)
    assert f"promote-{run.id}" not in [b.key for b in at.button]


def finished_run_with_bundle(
    registry: RunRegistry, folder: Path, accuracy: float, model: str
) -> str:
    """A finished run whose bundle (a copy of the shipped CNN) records ``accuracy``."""
    bundle = folder / "bundle"
    shutil.copytree(ASSETS_DIR / "gtzan-cnn-baseline", bundle)
    meta = json.loads((bundle / "bundle.json").read_text())
    meta["metrics"] = {"test_accuracy": {"value": accuracy, "how": "held-out tracks"}}
    (bundle / "bundle.json").write_text(json.dumps(meta))
    run = registry.create(model=model, split="holdout", dataset="clips",
                          config={"epochs": 1})  # fmt: skip
    registry.start(run.id, pid=os.getpid())
    labels = ["blues", "jazz"]
    metrics = classification_report(np.array([0, 1]), np.array([0, 0]), labels)
    registry.finish(run.id, {**metrics, "test_accuracy": accuracy, "bundle": str(bundle)})
    return run.id


def test_promoting_a_less_accurate_model_asks_first(tmp_path: Path) -> None:
    registry = RunRegistry()
    worse = finished_run_with_bundle(registry, tmp_path / "worse", 0.51, "simple_cnn")
    better = finished_run_with_bundle(registry, tmp_path / "better", 0.99, "baseline_cnn")
    assert active_bundle_dir() == default_bundle_dir()  # the shipped musicnn head
    shipped = json.loads((default_bundle_dir() / "bundle.json").read_text(encoding="utf-8"))
    in_use = f"{shipped['metrics']['grouped_cv_accuracy_mean']['value']:.1%}"  # its card's figure
    at = open_page()
    at.button(key=f"promote-{worse}").click()
    at.run()
    assert not at.exception
    (warning,) = [w.value for w in at.warning]
    assert "51.0%" in warning and in_use in warning and "musicnn-genre" in warning
    assert active_bundle_dir() == default_bundle_dir()  # nothing changed yet
    at.button(key=f"promote-keep-{worse}").click()
    at.run()
    assert not at.warning and active_bundle_dir() == default_bundle_dir()
    at.button(key=f"promote-{worse}").click()
    at.run()
    at.button(key=f"promote-confirm-{worse}").click()
    at.run()
    assert active_bundle_dir() == tmp_path / "worse" / "bundle"
    # a model more accurate than the one in use (now 51 %) is promoted at once
    at.button(key=f"promote-{better}").click()
    at.run()
    assert not at.warning
    assert active_bundle_dir() == tmp_path / "better" / "bundle"


def test_models_have_plain_names_and_inputs_that_do_not_apply_are_hidden() -> None:
    at = open_page()  # the feature table, artist-filtered split: no folds, no epochs
    shown = {n.key for n in at.number_input}
    assert "folds" not in shown and "epochs" not in shown
    assert any("**Logistic regression**" in c.value and "`logreg`" in c.value for c in at.caption)
    at.selectbox(key="split").set_value("kfold")
    at.run()
    assert "folds" in {n.key for n in at.number_input}
    pick_data(at, SHIPPED_CLIPS)
    at.multiselect(key="models-audio").set_value(["musicnn_genre"])
    at.run()  # the pretrained head has no epochs or spectrogram options
    assert "epochs" not in {n.key for n in at.number_input}
    assert "n_mels" not in {n.key for n in at.number_input}
    assert any("Pretrained musicnn + linear head" in c.value for c in at.caption)
    at.multiselect(key="models-audio").set_value(["musicnn_genre", "simple_cnn"])
    at.run()
    assert {"epochs", "n_mels"} <= {n.key for n in at.number_input}
    assert not at.exception


def test_compare_opens_with_the_best_run_of_each_model() -> None:
    registry = RunRegistry()
    labels = ["blues", "jazz"]
    ids = {}
    for model, accuracy in (("linear_mel", 0.5), ("linear_mel", 0.9), ("simple_cnn", 0.7),
                            ("simple_cnn", 0.6)):  # fmt: skip
        run = registry.create(model=model, split="holdout", dataset="clips",
                              config={"epochs": 1})  # fmt: skip
        registry.start(run.id, pid=os.getpid())
        metrics = classification_report(np.array([0, 1]), np.array([0, 0]), labels)
        registry.finish(run.id, {**metrics, "test_accuracy": accuracy})
        ids[(model, accuracy)] = run.id
    at = open_page()
    assert at.multiselect(key="detail-runs").value == [
        ids[("linear_mel", 0.9)],
        ids[("simple_cnn", 0.7)],
    ]


def test_quick_start_trains_the_musicnn_head_on_the_shipped_clips(
    tmp_path: Path, gtzan_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "shipped"  # a smaller stand-in for the 100 shipped clips
    few_real_clips(shipped / "audio", gtzan_dir)
    monkeypatch.setenv("GENRE_SHARED_GTZAN", str(shipped))
    at = open_page()
    assert "Advanced: your own data, split, models and training options" in [
        e.label for e in at.expander
    ]
    at.button(key="quick-start").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert "Started 1 run" in at.success[0].value
    registry = RunRegistry()
    (run,) = registry.list()
    assert run.model == "musicnn_genre" and run.dataset == str(shipped / "audio")
    run_until(at, lambda: launch.refresh(registry) or not registry.get(run.id).active, 300)
    assert registry.get(run.id).status == "finished", registry.get(run.id).error
    at.run()
    table = frame_with(at, "accuracy %")
    assert list(table["model"]) == ["musicnn_genre"]
    assert 0 <= table["accuracy %"][0] <= 100
