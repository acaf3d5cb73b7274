"""AppTest of the Training page's GAN section and the Generate page using what it trained."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from gan.bundle import WEIGHTS_FILE, default_gan_dir, promoted_gan_dir, set_active_gan_dir
from gan.config import TrainConfig
from gan.jobs import GAN_MODEL, GENERATOR_FOLDER, GanJob, gan_run_dir, is_gan_run
from gan.start_record import started_from
from gan.state import load_checkpoint
from runs import launch
from runs.store import RunRegistry
from tests.conftest import REPO_ROOT
from ui.training_gan import run_settings


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GAN_THREADS", "1")  # the launched trainer's threads
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def training_page() -> AppTest:
    # the page file itself: AppTest does not deliver form submits after switch_page()
    at = AppTest.from_file(str(REPO_ROOT / "app_pages" / "training.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def generate_page() -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("app_pages/generate.py")
    at.run()
    assert not at.exception
    return at


def run_until(at: AppTest, done: Callable[[], object], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception
        if done():
            return
        time.sleep(1.0)
    raise AssertionError("the page never showed the expected state")


def keys(at: AppTest, element: str) -> set[str]:
    return {e.key for e in at.get(element) if getattr(e, "key", None)}


def test_launch_watch_promote_then_generate_with_it() -> None:
    at = training_page()
    assert [t.label for t in at.tabs] == ["🏷️ Classifier models", "🎹 Music generator"]
    note = " ".join(c.value for c in at.caption)
    shipped = json.loads((default_gan_dir() / "gan.json").read_text(encoding="utf-8"))
    assert f"The shipped generator trained for {shipped['training']['steps']} steps" in note
    at.number_input(key="gantrain-steps").set_value(4)
    at.number_input(key="gantrain-batch").set_value(4)
    at.number_input(key="gantrain-seed").set_value(5)
    at.button(key="gantrain-launch").click()
    at.run()
    assert not at.exception
    assert any("GAN training started" in s.value for s in at.success), [e.value for e in at.error]
    (run,) = [r for r in RunRegistry().list() if is_gan_run(r)]
    assert run.config["steps"] == 4 and run.config["seed"] == 5
    assert run.config["augment"] == TrainConfig.augment  # no pitch unless asked: the CLI's default
    # four steps, then the exported generator is measured (10 clips a genre) before it is ready
    run_until(at, lambda: f"gantrain-promote-{run.id}" in keys(at, "button"), timeout=600)
    done = RunRegistry().get(run.id)
    assert done.status == "finished"
    assert done.metrics["steps"] == 4
    assert done.metrics["measured_clips"] == 100 and 0 <= done.metrics["agreement"] <= 1
    recognised = [m for m in at.metric if m.label == "Recognised as the genre asked for"]
    assert recognised and recognised[0].value == f"{done.metrics['agreement']:.0%}"
    assert "against the shipped generator's" in recognised[0].delta
    assert any("this generator's clips as the genre asked for" in c.value for c in at.caption)
    # the page reran when the run ended: what the launch said is still under its button
    assert any("GAN training started" in s.value for s in at.success)
    assert any(m.label == "Generator loss" for m in at.metric)
    assert "gantrain-curves-" + run.id in keys(at, "plotly_chart")
    # finished GAN runs are not mixed into the classifiers' accuracy comparison
    assert any("Finished runs will be compared here." in i.value for i in at.info)

    at.button(key=f"gantrain-promote-{run.id}").click()
    at.run()
    assert not at.exception
    bundle_dir = done.folder / GENERATOR_FOLDER
    assert promoted_gan_dir() == bundle_dir.resolve()
    assert any("in use on the Generate page" in s.value for s in at.success)

    page = generate_page()
    assert not page.warning
    assert any(f"Using the generator you trained ({run.id}, 4 steps)" in i.value for i in page.info)
    assert "How the chosen generator was trained" in [e.label for e in page.expander]
    in_ten = round(10 * done.metrics["agreement"])
    assert any(f"recognises about {in_ten} in 10 of this generator's clips" in c.value
               for c in page.caption), [c.value for c in page.caption]  # fmt: skip
    page.multiselect(key="gan_genres").set_value(["jazz"])
    page.slider(key="gan_count").set_value(1)
    page.button(key="gan_go").click()
    page.run()
    assert not page.exception and not page.error
    assert len(page.get("audio")) == 1 and len(page.get("download_button")) == 1

    # restoring the shipped generator from the Training page
    run_until(at, lambda: "gantrain-restore" in keys(at, "button"), timeout=10)
    at.button(key="gantrain-restore").click()
    at.run()
    assert promoted_gan_dir() is None
    assert any("uses the shipped generator" in c.value for c in at.caption)


def test_the_shipped_recipes_switches_reach_the_training_process() -> None:
    """The page's plain-words switches for the shipped generator's recipe: judged by ear
    (``--musicnn-d 1``) and other keys (``--augment …,pitch``)."""
    at = training_page()
    assert "about 4× slower" in at.checkbox(key="gantrain-listen").label
    at.number_input(key="gantrain-steps").set_value(2)
    at.number_input(key="gantrain-batch").set_value(4)
    at.checkbox(key="gantrain-listen").check()
    at.checkbox(key="gantrain-pitch").check()
    at.button(key="gantrain-launch").click()
    at.run()
    assert not at.exception
    (run,) = [r for r in RunRegistry().list() if is_gan_run(r)]
    assert run.config["musicnn_weight"] == 1.0
    assert run.config["augment"] == f"{TrainConfig.augment},pitch"
    # the training process took them from the stored settings: its run folder says so
    stored = gan_run_dir(run) / "run.json"
    run_until(at, lambda: RunRegistry().get(run.id).status != "queued" and stored.is_file())
    trained = json.loads(stored.read_text(encoding="utf-8"))["config"]
    assert trained["musicnn_weight"] == 1.0
    assert trained["augment"] == f"{TrainConfig.augment},pitch"
    label = run_settings(RunRegistry().get(run.id))
    assert "judged by ear too" in label and "other keys too" in label
    launch.cancel(run.id, RunRegistry())


def test_a_cancelled_run_continues_from_the_page_where_it_stopped() -> None:
    at = training_page()
    at.number_input(key="gantrain-steps").set_value(5000)
    at.number_input(key="gantrain-batch").set_value(4)
    at.checkbox(key="gantrain-pitch").check()
    at.button(key="gantrain-launch").click()
    at.run()
    (run,) = [r for r in RunRegistry().list() if is_gan_run(r)]
    run_until(at, lambda: RunRegistry().get(run.id).step >= 12)  # past its first save
    at.button(key=f"gantrain-cancel-{run.id}").click()
    run_until(at, lambda: RunRegistry().get(run.id).status == "cancelled")
    stopped = RunRegistry().get(run.id)
    run_until(at, lambda: f"gantrain-continue-{run.id}" in keys(at, "button"), timeout=10)
    saved = load_checkpoint(gan_run_dir(stopped) / "checkpoint.pt").step
    assert any("What it learned so far is kept" in w.value for w in at.warning)
    assert any(f"The checkpoint at step {saved} is kept" in c.value for c in at.caption)
    at.button(key=f"gantrain-continue-{run.id}").click()
    at.run()
    assert not at.exception
    assert any("GAN training started" in s.value for s in at.success)
    (more,) = [r for r in RunRegistry().list() if is_gan_run(r) and r.id != run.id]
    assert more.config == {**stopped.config, "start_from": str(gan_run_dir(stopped))}
    # the new process goes on from the stopped run's save, with its settings (pitch included)
    run_until(at, lambda: RunRegistry().get(more.id).step > 0)
    assert started_from(gan_run_dir(more))["step"] == saved >= 12
    assert RunRegistry().get(more.id).step > saved
    trained = json.loads((gan_run_dir(more) / "run.json").read_text(encoding="utf-8"))["config"]
    assert trained["augment"] == f"{TrainConfig.augment},pitch" and trained["steps"] == 5000
    assert "continued" in run_settings(RunRegistry().get(more.id))
    assert RunRegistry().get(run.id).status == "cancelled"  # the stopped run stays as it was
    launch.cancel(more.id, RunRegistry())


def test_a_click_is_kept_when_the_page_sees_a_run_end_in_that_rerun() -> None:
    """A run that ends while the user clicks a button below the live section: the rerun that
    carries the click is also the one in which the live section sees the run gone. The click
    must still land (a rerun requested there would drop it: the promote click of the journey
    above, lost when the trainer finished between two page runs)."""
    registry = RunRegistry()
    run = registry.create(model=GAN_MODEL, split=None, dataset="shared GTZAN clips",
                          config=GanJob(steps=4).to_dict())  # fmt: skip
    trainer = subprocess.Popen(["sleep", "300"])  # a real process standing for the trainer
    try:
        registry.start(run.id, pid=trainer.pid)
        set_active_gan_dir(default_gan_dir())  # so "Restore the shipped generator" shows
        at = training_page()
        assert {f"gantrain-cancel-{run.id}", "gantrain-restore"} <= keys(at, "button")
    finally:
        trainer.kill()
        trainer.wait()
    at.button(key="gantrain-restore").click()
    at.run()
    assert not at.exception
    assert RunRegistry().get(run.id).status == "failed"  # the page saw the trainer vanish
    assert promoted_gan_dir() is None
    assert any("uses the shipped generator" in c.value for c in at.caption)


def test_a_broken_promoted_generator_falls_back_to_the_shipped_one_with_a_warning(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "damaged-gan"
    broken.mkdir()
    (broken / "gan.json").write_text("{not json")
    (broken / WEIGHTS_FILE).write_bytes(b"")
    set_active_gan_dir(broken)
    page = generate_page()
    assert not page.error
    (warning,) = [w.value for w in page.warning]
    assert "cannot be loaded, so the shipped one is used instead" in warning
    assert "unreadable metadata" in warning
    assert "How the shipped generator was trained" in [e.label for e in page.expander]
    assert not page.info  # not claiming the user's generator is in use
