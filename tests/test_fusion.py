"""Tag fusion: the math, the fixed mapping, and the fused default bundle on real clips."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from genre.bundle import load_bundle
from genre.calibration import draw_reliability, reliability
from genre.classifier import Classifier
from genre.errors import BundleError
from genre.fusion import TAG_GENRES, TagFusion, fusion_from_meta
from genre.labels import GTZAN_GENRES
from genre.musicnn import MSD_TAGS
from genre.paths import default_bundle_dir

TAGS = tuple(MSD_TAGS)


def fusion(weight: float = 1.0, floor: float = 0.1) -> TagFusion:
    return TagFusion(GTZAN_GENRES, TAGS, weight, floor, TAG_GENRES)


def head_log_probs(n: int, seed: int = 0) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(0, 3, (n, len(GTZAN_GENRES)))
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def tags_with(**named: float) -> np.ndarray:
    out = np.zeros((1, len(TAGS)))
    for name, p in named.items():
        out[0, TAGS.index(name.replace("_", " "))] = p
    return out


def test_the_mapping_covers_every_genre_with_real_tags() -> None:
    assert set(TAG_GENRES) == set(GTZAN_GENRES)
    for genre, tags in TAG_GENRES.items():
        assert set(tags) <= set(TAGS), genre
    assert TAG_GENRES["reggae"] == ()  # no MSD tag names it: neutral


def test_weight_zero_is_the_head() -> None:
    log_probs = head_log_probs(7)
    tags = np.random.default_rng(1).uniform(0, 1, (7, len(TAGS)))
    assert np.allclose(fusion(0.0).fuse(log_probs, tags), np.exp(log_probs))


def test_fused_probabilities_are_normalised_and_finite() -> None:
    rng = np.random.default_rng(2)
    log_probs = head_log_probs(50, seed=3)
    log_probs[0] = -1e4  # an extremely sure head, far below float underflow
    log_probs[0, 4] = 0.0
    for tags in (rng.uniform(0, 1, (50, len(TAGS))), np.zeros((50, 50)), np.ones((50, 50))):
        for weight in (0.5, 1.0, 3.0):
            fused = fusion(weight, 0.02).fuse(log_probs, tags)
            assert np.isfinite(fused).all() and (fused >= 0).all()
            assert np.allclose(fused.sum(axis=1), 1.0)


def test_a_firing_tag_moves_probability_to_its_genre() -> None:
    flat = np.log(np.full((1, len(GTZAN_GENRES)), 1 / len(GTZAN_GENRES)))
    jazz = GTZAN_GENRES.index("jazz")
    for weight in (0.5, 1.0, 2.0):
        fused = fusion(weight).fuse(flat, tags_with(jazz=0.9))
        assert fused[0].argmax() == jazz
    stronger = [fusion(w).fuse(flat, tags_with(jazz=0.9))[0, jazz] for w in (0.5, 1.0, 2.0)]
    assert stronger == sorted(stronger)
    # "dance" speaks for disco and pop alike
    dance = fusion().fuse(flat, tags_with(dance=0.8))[0]
    disco, pop = GTZAN_GENRES.index("disco"), GTZAN_GENRES.index("pop")
    assert dance[disco] == pytest.approx(dance[pop]) and dance[disco] == dance.max()


def test_reggae_gets_the_neutral_evidence() -> None:
    tags = np.random.default_rng(4).uniform(0, 1, (5, len(TAGS)))
    evidence = fusion().evidence(tags)
    reggae = GTZAN_GENRES.index("reggae")
    others = [i for i in range(len(GTZAN_GENRES)) if i != reggae]
    assert np.allclose(evidence[:, reggae], evidence[:, others].mean(axis=1))
    rock = GTZAN_GENRES.index("rock")
    rock_columns = [TAGS.index(t) for t in TAG_GENRES["rock"]]
    assert np.allclose(evidence[:, rock], tags[:, rock_columns].max(axis=1))


def test_fusion_block_is_validated() -> None:
    assert fusion_from_meta(None, GTZAN_GENRES, TAGS, "here") is None
    made = fusion_from_meta({"weight": 1.5, "floor": 0.1}, GTZAN_GENRES, TAGS, "here")
    assert made is not None and made.weight == 1.5 and dict(made.mapping) == TAG_GENRES
    for bad in ({"weight": -1, "floor": 0.1}, {"weight": 1}, [1, 2], {"weight": 1, "floor": 0},
                {"weight": 1, "floor": 0.1, "mapping": {"jazz": ["no such tag"]}}):  # fmt: skip
        with pytest.raises(BundleError, match="fusion"):
            fusion_from_meta(bad, GTZAN_GENRES, TAGS, "here")
    with pytest.raises(BundleError, match="no tag output"):
        fusion_from_meta({"weight": 1, "floor": 0.1}, GTZAN_GENRES, (), "here")


def test_the_default_bundle_is_fused_and_documents_it() -> None:
    bundle = load_bundle(default_bundle_dir())
    block = bundle.extra["fusion"]
    made = fusion_from_meta(block, bundle.labels, bundle.tags, str(bundle.path))
    assert made is not None and dict(made.mapping) == TAG_GENRES
    assert {"clear", "close_pair", "mix_share"} <= set(bundle.extra["verdict"])
    for key in ("head_cv_accuracy_mean", "grouped_cv_accuracy_mean", "ece_head", "ece_fused"):
        assert 0 <= bundle.metrics[key]["value"] <= 1, key
    card = bundle.model_card
    assert "How sure is it?" in card and f"w = {made.weight:g}" in card
    assert (bundle.path / "reliability.png").is_file()


@pytest.fixture(scope="module")
def unfused_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("unfused") / "bundle"
    shutil.copytree(default_bundle_dir(), copy)
    meta = json.loads((copy / "bundle.json").read_text(encoding="utf-8"))
    meta.pop("fusion")
    (copy / "bundle.json").write_text(json.dumps(meta), encoding="utf-8")
    return copy


def test_fused_default_classifies_the_shared_clips(gtzan_dir: Path, unfused_copy: Path) -> None:
    fused, plain = Classifier(default_bundle_dir()), Classifier(unfused_copy)
    assert fused.fusion is not None and plain.fusion is None
    for genre in ("classical", "hiphop"):  # (every clip, fused or not: a slow test)
        clip = gtzan_dir / "audio" / genre / f"{genre}.00002.ogg"
        with_tags, head = fused.predict(clip, max_minutes=0.1), plain.predict(clip, max_minutes=0.1)
        assert with_tags.window_tags is not None
        assert np.allclose(with_tags.window_probs.sum(axis=1), 1.0)
        # the served probabilities are exactly the head's, fused window by window
        expected = fused.fusion.fuse(np.log(head.window_probs), with_tags.window_tags)
        assert np.allclose(with_tags.window_probs, expected, atol=1e-9)
        assert np.allclose(with_tags.probs, with_tags.window_probs.mean(axis=0))
        assert with_tags.verdict.kind in {"clear", "close", "mix", "unsure"}


def test_calibration_error_and_diagram(tmp_path: Path) -> None:
    truth = np.array([0, 1, 0, 1])
    sure_and_right = np.array([[0.95, 0.05], [0.05, 0.95], [0.95, 0.05], [0.05, 0.95]])
    assert reliability(sure_and_right, truth).ece == pytest.approx(0.05)
    sure_and_wrong = sure_and_right[:, ::-1]
    assert reliability(sure_and_wrong, truth).ece == pytest.approx(0.95)
    curve = reliability(sure_and_right, truth)
    assert curve.count.sum() == 4 and curve.count[9] == 4
    out = tmp_path / "r.png"
    draw_reliability({"a": curve, "b": reliability(sure_and_wrong, truth)}, out, "test")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
