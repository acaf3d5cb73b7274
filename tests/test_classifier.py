"""The Classifier on the real shared GTZAN clips, and bundle validation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from audio import AudioError
from genre.bundle import load_bundle, shipped_bundles
from genre.classifier import Classifier
from genre.errors import BundleError
from genre.labels import GTZAN_GENRES
from genre.paths import default_bundle_dir
from tests.conftest import wav_bytes

BUNDLES = shipped_bundles()
CLIPS = ["blues/blues.00001.ogg", "classical/classical.00002.ogg", "metal/metal.00003.ogg"]


def test_default_bundle_is_shipped() -> None:
    assert default_bundle_dir() in BUNDLES
    bundle = load_bundle(default_bundle_dir())
    assert bundle.labels == GTZAN_GENRES
    assert "grouped" in json.dumps(bundle.trained_on) + json.dumps(bundle.metrics)
    assert "not train" in bundle.model_card or "did not train" in bundle.model_card


@pytest.fixture(scope="module", params=BUNDLES, ids=lambda p: p.name)
def classifier(request: pytest.FixtureRequest) -> Classifier:
    return Classifier(request.param)


@pytest.mark.parametrize("clip", CLIPS)
def test_outputs_are_distributions_over_the_labels(
    classifier: Classifier, gtzan_dir: Path, clip: str
) -> None:
    prediction = classifier.predict(gtzan_dir / "audio" / clip)
    assert prediction.window_probs.shape[1] == len(GTZAN_GENRES)
    assert np.allclose(prediction.window_probs.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(prediction.window_probs >= 0)
    assert set(prediction.probabilities) == set(GTZAN_GENRES)
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    # A 30-s clip in 3-s windows: several windows, covering the whole clip.
    assert len(prediction.window_probs) >= 8
    assert prediction.window_starts_s[-1] + classifier.bundle.window_s == pytest.approx(
        prediction.duration_s, abs=classifier.bundle.hop_s
    )


def test_window_and_track_results_agree(classifier: Classifier, gtzan_dir: Path) -> None:
    prediction = classifier.predict(gtzan_dir / "audio" / CLIPS[1])
    assert np.allclose(prediction.probs, prediction.window_probs.mean(axis=0))
    assert prediction.genre == GTZAN_GENRES[int(np.argmax(prediction.window_probs.mean(axis=0)))]
    assert prediction.confidence == pytest.approx(max(prediction.probabilities.values()))
    # The track's genre is the genre most windows lean to, for a clear-cut classical clip.
    votes = prediction.window_genres()
    assert max(set(votes), key=votes.count) == prediction.genre


def test_same_input_same_output(classifier: Classifier, gtzan_dir: Path) -> None:
    path = gtzan_dir / "audio" / CLIPS[2]
    first, second = classifier.predict(path), classifier.predict(path.read_bytes())
    assert np.array_equal(first.window_probs, second.window_probs)


def test_short_clip_is_looped_to_one_window(classifier: Classifier) -> None:
    prediction = classifier.predict(wav_bytes(seconds=1.5))
    assert prediction.window_probs.shape == (1, len(GTZAN_GENRES))


@pytest.mark.parametrize("ffmpeg_on_path", [True, False], ids=["with-ffmpeg", "without-ffmpeg"])
def test_bad_audio_raises_audio_error(
    classifier: Classifier,
    ffmpeg_on_path: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not ffmpeg_on_path:
        monkeypatch.setenv("PATH", str(tmp_path))  # a folder with no ffmpeg in it
    with pytest.raises(AudioError, match=r"notes\.txt is not a recognised audio file"):
        classifier.predict(b"hello, this is text" * 100, name="notes.txt")


def test_json_output_shape(classifier: Classifier, gtzan_dir: Path) -> None:
    out = classifier.predict(gtzan_dir / "audio" / CLIPS[0]).to_json("x.ogg")
    assert out["file"] == "x.ogg"
    assert out["genre"] in GTZAN_GENRES
    assert 0 < out["confidence"] <= 1


@pytest.fixture
def bundle_copy(tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(default_bundle_dir(), target)
    return target


def edit_meta(folder: Path, **changes: object) -> None:
    meta = json.loads((folder / "bundle.json").read_text())
    for key, value in changes.items():
        if value is None:
            meta.pop(key)
        else:
            meta[key] = value
    (folder / "bundle.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"labels": None}, "lacks labels"),
        ({"labels": ["rock", "rock"]}, "distinct"),
        ({"kind": "no_such_net"}, "Unknown model"),
        ({"weights": "gone.safetensors"}, "weights file gone.safetensors is missing"),
        ({"sample_rate": 8000}, "sample rate differs"),
        ({"hop_s": 0}, "hop_s"),
        ({"hop_s": "high"}, "hop_s"),
        ({"window_s": 1e9}, "window_s"),
        ({"window_s": 10**400}, "window_s"),
        ({"frontend": {"n_fft": True}}, "n_fft must be a whole number above 0"),
        ({"frontend": {"hop": 1}}, "hop must give 10 to 200 frames a second"),
        ({"params": "high"}, "'params' must be an object"),
        ({"params": {"no_such_option": 1}}, "cannot be built from the 'params'"),
        ({"metrics": []}, "'metrics' must be an object"),
        ({"trained_on": 7}, "'trained_on' must be an object"),
        ({"tags": [1, 2]}, "'tags' must be a list of tag names"),
    ],
)
def test_inconsistent_bundles_are_refused(bundle_copy: Path, changes: dict, message: str) -> None:
    edit_meta(bundle_copy, **changes)
    with pytest.raises(BundleError, match=message):
        Classifier(bundle_copy)


def test_missing_or_broken_metadata_is_refused(bundle_copy: Path) -> None:
    (bundle_copy / "bundle.json").write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(bundle_copy)
    (bundle_copy / "bundle.json").unlink()
    with pytest.raises(BundleError, match=r"bundle\.json is missing"):
        load_bundle(bundle_copy)


def test_weights_that_do_not_fit_are_refused(bundle_copy: Path) -> None:
    meta = json.loads((bundle_copy / "bundle.json").read_text())
    edit_meta(bundle_copy, labels=[*meta["labels"], "polka"])
    with pytest.raises(BundleError, match="do not fit"):
        Classifier(bundle_copy)


def test_a_network_larger_than_its_weights_is_refused_before_it_is_built(
    bundle_copy: Path,
) -> None:
    # Two million classes: about 1.6 GB of head had the network been built before the check
    # (the wording below names the shapes, which only the header comparison gives).
    meta = json.loads((bundle_copy / "bundle.json").read_text())
    edit_meta(bundle_copy, params={**meta["params"], "n_classes": 2_000_000})
    with pytest.raises(BundleError, match=r"is \[10, 200\] in the weights, \[2000000, 200\]"):
        Classifier(bundle_copy)


def test_damaged_weights_are_refused(bundle_copy: Path) -> None:
    weights = bundle_copy / json.loads((bundle_copy / "bundle.json").read_text())["weights"]
    weights.write_bytes(b"garbage")
    with pytest.raises(BundleError, match="cannot be read"):
        Classifier(bundle_copy)


def test_concurrent_requests_do_not_mix_results(classifier: Classifier, gtzan_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    paths = [gtzan_dir / "audio" / clip for clip in CLIPS] * 2
    sequential = [classifier.predict(p).probs for p in paths]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda p: classifier.predict(p).probs, paths))
    for one, other in zip(sequential, parallel, strict=True):
        assert np.allclose(one, other, atol=1e-6)


def test_musicnn_bundle_gives_embedding_and_window_tags(gtzan_dir: Path) -> None:
    prediction = Classifier(default_bundle_dir()).predict(gtzan_dir / "audio" / CLIPS[0])
    windows = len(prediction.window_probs)
    assert prediction.embedding is not None and prediction.embedding.shape == (200,)
    assert np.isfinite(prediction.embedding).all()
    assert prediction.window_tags is not None and prediction.window_tags.shape == (windows, 50)
    assert ((prediction.window_tags >= 0) & (prediction.window_tags <= 1)).all()
    assert prediction.tags is not None  # the track's tags are the windows' mean
    top = next(iter(prediction.tags))
    column = load_bundle(default_bundle_dir()).tags.index(top)
    assert prediction.tags[top] == pytest.approx(prediction.window_tags[:, column].mean(), abs=1e-6)


WRONG_VALUES: list[object] = [
    None,
    [1, 2],
    "high",
    -1.5,
    7,
    True,
    {"x": "y"},
    float("nan"),
    10**400,
]


def test_every_damaged_entry_is_a_clear_error_or_a_classifier_that_works(
    bundle_copy: Path, gtzan_dir: Path
) -> None:
    """Every entry of the default bundle.json, and every field of its front-end, params, verdict
    thresholds and tag fusion, as each wrong value: a plain BundleError, or a classifier that
    classifies."""
    original = json.loads((bundle_copy / "bundle.json").read_text())
    entries = [(key,) for key in original]
    sections = ("frontend", "params", "verdict", "fusion")
    entries += [(section, key) for section in sections for key in original[section]]
    refused = worked = 0
    for entry in entries:
        for value in WRONG_VALUES:
            meta = json.loads(json.dumps(original))
            (meta[entry[0]] if len(entry) == 2 else meta)[entry[-1]] = value
            (bundle_copy / "bundle.json").write_text(json.dumps(meta))
            try:
                classifier = Classifier(bundle_copy, detector=False)
            except BundleError as err:
                assert str(err).endswith(".") and "\n" not in str(err), (entry, value)
                refused += 1
                continue
            prediction = classifier.predict(gtzan_dir / "audio" / CLIPS[0], max_minutes=0.1)
            assert np.allclose(prediction.window_probs.sum(axis=1), 1.0, atol=1e-5), entry
            worked += 1
    assert refused > 50 and worked > 20  # both outcomes are exercised
