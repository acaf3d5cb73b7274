"""The shipped default bundle (musicnn + genre head): loads, classifies real clips, CLI, training.

Clips used here were also used to train the head, so these tests check wiring and behaviour,
not accuracy; honest accuracy is grouped cross-validation, recorded in the bundle's metrics.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from audio import load_audio
from genre.bundle import load_bundle
from genre.classifier import Classifier
from genre.labels import GTZAN_GENRES
from genre.models.musicnn_genre import MusicnnGenre
from genre.musicnn import MSD_TAGS, MUSICNN_FRONTEND, load_musicnn
from genre.paths import ASSETS_DIR, REPO_ROOT

BUNDLE = ASSETS_DIR / "musicnn-genre"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(BUNDLE)


def clip(gtzan_dir: Path, name: str) -> Path:
    return gtzan_dir / "audio" / name.split(".")[0] / f"{name}.ogg"


def test_bundle_metadata_is_complete_and_consistent() -> None:
    bundle = load_bundle(BUNDLE)
    assert bundle.kind == "musicnn_genre"
    assert bundle.labels == GTZAN_GENRES
    assert bundle.tags == MSD_TAGS
    assert bundle.frontend == MUSICNN_FRONTEND
    assert bundle.window_frames == bundle.hop_frames == 187  # non-overlapping 3-s patches
    metrics = bundle.metrics
    assert 0.3 < metrics["grouped_cv_accuracy_mean"]["value"] <= 1.0
    assert len(metrics["fold_accuracies"]["value"]) == 5
    assert np.asarray(metrics["confusion_matrix"]["value"]).sum() == 100
    card = bundle.model_card
    assert "grouped" in card and "±" in card and "| true" in card
    for name in ("LICENSE", "MODEL_CARD.md"):
        assert (BUNDLE / name).is_file()
    assert "ISC" in (BUNDLE / "LICENSE").read_text(encoding="utf-8")


def test_bundle_backbone_is_the_converted_musicnn() -> None:
    """The bundle carries the verified port's weights unchanged (the head is the only training)."""
    model = load_bundle(BUNDLE).build_model()
    assert isinstance(model, MusicnnGenre)
    reference = load_musicnn(ASSETS_DIR / "musicnn-msd" / "weights.safetensors").state_dict()
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, reference[key]), key


def test_classifies_real_clips_with_tags(classifier: Classifier, gtzan_dir: Path) -> None:
    for name, genre in (("hiphop.00002", "hiphop"), ("metal.00003", "metal")):
        prediction = classifier.predict(clip(gtzan_dir, name))
        assert prediction.genre == genre, prediction.ranked()[:3]
        assert prediction.window_probs.shape == (10, 10)  # 30 s → ten 3-s patches
        assert abs(prediction.probs.sum() - 1) < 1e-6
        assert prediction.tags is not None and len(prediction.tags) == 50
        scores = list(prediction.tags.values())
        assert scores == sorted(scores, reverse=True)
    # "sounds like": the tags of a hip-hop clip lead with Hip-Hop, as musicnn itself says.
    hiphop = classifier.predict(clip(gtzan_dir, "hiphop.00002"))
    assert next(iter(hiphop.tags)) == "Hip-Hop"


@pytest.mark.parametrize(
    "name", ["reggae.00004", "blues.00000", "classical.00001", "jazz.00011", "country.00003"]
)
def test_serving_precision_stays_close_to_float32(
    classifier: Classifier, gtzan_dir: Path, name: str
) -> None:
    """The int8/bfloat16 serving path (when this CPU has it) barely moves genres and tags."""
    samples = load_audio(clip(gtzan_dir, name), sample_rate=16000).samples
    backbone = classifier.model.backbone
    was = backbone.fast_precision
    try:
        backbone.set_low_precision(False)
        exact = classifier.predict_samples(samples)
        backbone.set_low_precision(True)
        fast = classifier.predict_samples(samples)
    finally:
        backbone.use_fast_frontend(was)
    assert exact.genre == fast.genre
    assert np.abs(exact.probs - fast.probs).max() < 0.03
    assert np.abs(exact.window_probs - fast.window_probs).max() < 0.05
    tag_gap = max(abs(exact.tags[k] - fast.tags[k]) for k in exact.tags)
    assert tag_gap < 0.02
    # The top three "sounds like" tags agree, up to near-ties (< 0.01 apart) swapping places.
    third = list(exact.tags.values())[2]
    for tag in set(list(fast.tags)[:3]) - set(list(exact.tags)[:3]):
        assert exact.tags[tag] > third - 0.01, (tag, exact.tags[tag], third)


def test_short_clip_is_looped_to_one_patch(
    classifier: Classifier, gtzan_dir: Path, tmp_path: Path
) -> None:
    wave, rate = sf.read(clip(gtzan_dir, "disco.00005"), dtype="float32")
    path = tmp_path / "two-seconds.wav"
    sf.write(path, wave[5 * rate : 7 * rate], rate)
    prediction = classifier.predict(path)
    assert prediction.window_probs.shape == (1, 10)
    assert prediction.tags is not None and np.isfinite(list(prediction.tags.values())).all()


def test_cli_classify_uses_the_bundle(gtzan_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "genre", "classify", "--json", "--bundle", str(BUNDLE),
         str(clip(gtzan_dir, "classical.00001"))],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["genre"] == "classical"
    assert set(line["probabilities"]) == set(GTZAN_GENRES)
    assert len(line["tags"]) == 10 and all(t in MSD_TAGS for t in line["tags"])


def test_train_musicnn_cli_builds_a_loadable_bundle(gtzan_dir: Path, tmp_path: Path) -> None:
    """A real, small run: 2 genres × 10 clips cut to 7 s, five grouped folds (20 held-out
    clips: enough to choose the tag fusion on), shipped with that fusion, then classify."""
    data = tmp_path / "clips"
    for genre in ("classical", "metal"):
        (data / genre).mkdir(parents=True)
        for number in range(10):
            wave, rate = sf.read(clip(gtzan_dir, f"{genre}.{number:05d}"), dtype="float32")
            sf.write(data / genre / f"{genre}.{number:05d}.wav", wave[: 7 * rate], rate)
    out = tmp_path / "bundle"
    result = subprocess.run(
        [sys.executable, "-m", "genre", "train-musicnn", "--data", str(data), "--out", str(out),
         "--epochs", "30", "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(summary["fold_accuracies"]) == 5  # IDs 0–1, 2–3, … held out in turn
    # shipped with the fusion its own run chose on those folds (no second cross-validation)
    assert "thresholds" in summary["fusion"]
    bundle = load_bundle(out)
    assert bundle.extra["verdict"] == summary["fusion"]["thresholds"]
    assert bundle.kind == "musicnn_genre" and bundle.tags == MSD_TAGS
    assert (
        bundle.metrics["grouped_cv_accuracy_mean"]["value"] == summary["grouped_cv_accuracy_mean"]
    )
    prediction = Classifier(out).predict(data / "metal" / "metal.00000.wav")
    assert prediction.genre in GTZAN_GENRES and prediction.tags is not None
    # fit-fusion on the shipped bundle trains the same head run again through the pipeline
    # (unregistered): the same folds, so the same fusion and thresholds
    (tmp_path / "no-extra").mkdir()
    refit = subprocess.run(
        [sys.executable, "-m", "genre", "fit-fusion", "--bundle", str(out), "--data", str(data),
         "--extra", str(tmp_path / "no-extra"), "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert refit.returncode == 0, refit.stderr
    refitted = json.loads(refit.stdout.strip().splitlines()[-1])
    for key in ("weight", "floor", "temperature", "thresholds", "fused_cv_accuracy"):
        assert refitted[key] == summary["fusion"][key], key
