"""Every zoo model trains on a tiny synthetic set and its loss falls (fast, tiny inputs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from genre.models import get_model_spec, model_names
from genre.training.config import RunConfig
from genre.training.data import TrackData
from genre.training.reporting import Reporter
from genre.training.sklearn_loop import train_sklearn
from genre.training.torch_loop import evaluate_tracks, train_torch

BINS, FRAMES, WINDOW = 16, 48, 24
ZOO_TORCH = [
    "linear_mel", "simple_cnn", "complex_cnn", "cnn_mlp", "lstm_mfcc", "bigru", "crnn",
    "prcnn", "resnet18_bigru",
]  # fmt: skip
ZOO_FEATURES = [
    "knn_10", "knn_15", "knn_20", "svm", "svm_tuned", "random_forest", "logreg",
    "logreg_tuned", "gradient_boosting", "feature_ensemble", "lda",
]  # fmt: skip


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one thread avoids oversubscription on a shared two-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def synthetic_spectrograms(n_per_class: int = 4, classes: int = 3, seed: int = 0):
    """Each class lights up its own band and has its own rhythm; plus noise, in dB-ish units."""
    rng = np.random.default_rng(seed)
    specs, labels = [], []
    for c in range(classes):
        for _ in range(n_per_class):
            spec = rng.normal(-40, 3, size=(BINS, FRAMES))
            band = slice(c * 5, c * 5 + 4)
            beat = (np.arange(FRAMES) % (c + 2) == 0) * 15.0
            spec[band] += 20 + beat
            specs.append(spec.astype(np.float16))
            labels.append(c)
    return specs, np.asarray(labels, dtype=np.int64)


# The issue's model zoo, model by model.
ISSUE_FEATURE_MODELS = {"knn_10", "knn_15", "knn_20", "svm", "random_forest", "logreg"}
ISSUE_SPECTROGRAM_MODELS = {
    "linear_mel", "simple_cnn", "complex_cnn", "cnn_mlp", "lstm_mfcc", "bigru", "crnn", "prcnn",
    "resnet18_bigru",
}  # fmt: skip
ISSUE_BACKBONE_HEAD = "musicnn_genre"  # "the pretrained-backbone head"
# Registered on purpose beyond the issue's list, each for a stated reason.
INTENTIONAL_EXTRAS = {
    "baseline_cnn": "the shipped CNN bundle's network, trainable like the zoo's",
    "svm_tuned": "honest means toward 60 %: hyper-parameters by grouped CV on training data",
    "logreg_tuned": "the same, for logistic regression",
    "gradient_boosting": "honest means toward 60 %: boosting",
    "feature_ensemble": "honest means toward 60 %: an ensemble of the feature models",
    "lda": "honest means toward 60 %: the best model on the artist-disjoint valid split",
}


def test_the_zoo_is_complete() -> None:
    expected = ISSUE_FEATURE_MODELS | ISSUE_SPECTROGRAM_MODELS | {ISSUE_BACKBONE_HEAD}
    assert set(model_names()) == expected | set(INTENTIONAL_EXTRAS)
    assert set(ZOO_TORCH) == ISSUE_SPECTROGRAM_MODELS
    assert set(ZOO_FEATURES) == ISSUE_FEATURE_MODELS | (set(INTENTIONAL_EXTRAS) - {"baseline_cnn"})
    for name in [*ZOO_TORCH, "baseline_cnn"]:
        assert get_model_spec(name).input == "mel"
    for name in ZOO_FEATURES:
        spec = get_model_spec(name)
        assert spec.input == "features" and spec.family == "sklearn"
    assert get_model_spec(ISSUE_BACKBONE_HEAD).input == "embedding"


@pytest.mark.parametrize("name", ZOO_TORCH)
def test_torch_model_loss_falls_in_one_epoch(name: str) -> None:
    torch.manual_seed(0)
    specs, y = synthetic_spectrograms()
    tracks = np.arange(len(y))
    model = get_model_spec(name).build(n_mels=BINS, n_classes=3)
    _, before = evaluate_tracks(model, specs, tracks, y, WINDOW, WINDOW // 2)
    config = RunConfig(
        model=name, dataset="unused", epochs=1, batch_size=8, lr=3e-3, crops_per_track=16
    )
    result = train_torch(
        model, specs, y, tracks, np.array([], dtype=np.int64), config, WINDOW, WINDOW // 2,
        Reporter(),
    )  # fmt: skip
    _, after = evaluate_tracks(model, specs, tracks, y, WINDOW, WINDOW // 2)
    assert result.windows_seen == 16 * len(y)
    assert after < before, f"{name}: loss {before:.3f} → {after:.3f}"
    # the served interface: any window length, logits for every class
    with torch.inference_mode():
        out = model(torch.zeros(2, BINS, 40))
    assert out.shape == (2, 3)


def test_lstm_computes_mfccs_from_the_log_mel() -> None:
    """The LSTM's first step is an orthonormal DCT: MFCC 0 of a flat spectrum is its level."""
    model = get_model_spec("lstm_mfcc").build(n_mels=BINS, n_classes=3)
    dct = model.dct
    assert torch.allclose(dct @ dct.T, torch.eye(dct.shape[0]), atol=1e-5)


def feature_data(seed: int = 0) -> TrackData:
    rng = np.random.default_rng(seed)
    n, classes = 60, 3
    y = np.repeat(np.arange(classes), n // classes)
    x = rng.normal(size=(n, 6))
    x[:, 0] += 2.0 * y  # informative
    x[:, 1] = np.exp(rng.normal(size=n) + y)  # skewed, like GTZAN's variance features
    return TrackData(
        source="synthetic", labels=["a", "b", "c"], y=y, keys=[f"k{i}" for i in range(n)],
        numbers=np.arange(n) % (n // classes), names=[f"t{i}" for i in range(n)],
        features=x, row_track=np.arange(n), feature_names=[f"f{i}" for i in range(6)],
    )  # fmt: skip


@pytest.mark.parametrize("name", ZOO_FEATURES)
def test_feature_model_fits_better_than_the_prior(name: str) -> None:
    data = feature_data()
    train = np.arange(data.n_tracks)
    result = train_sklearn(get_model_spec(name).build(), data, train, train)
    probs = result.test_probs
    assert probs.shape == (60, 3)
    prior_loss = np.log(3)
    loss = -np.mean(np.log(np.clip(probs[train, data.y], 1e-6, 1)))
    accuracy = np.mean(probs.argmax(axis=1) == data.y)
    assert accuracy > 0.6, f"{name}: training accuracy {accuracy:.2f}"
    if hasattr(result.model, "predict_proba"):
        assert loss < prior_loss, f"{name}: log loss {loss:.3f} ≥ prior {prior_loss:.3f}"


def test_mixup_and_grid_windows_also_train() -> None:
    specs, y = synthetic_spectrograms()
    tracks = np.arange(len(y))
    model: nn.Module = get_model_spec("simple_cnn").build(n_mels=BINS, n_classes=3)
    config = RunConfig(
        model="simple_cnn", dataset="unused", epochs=2, batch_size=8, mixup=0.4, augment=False,
        patience=1,
    )  # fmt: skip
    result = train_torch(model, specs, y, tracks[::2], tracks[1::2], config, WINDOW, 12, Reporter())
    assert [s.epoch for s in result.history][:1] == [1]
    assert all(s.val_acc is not None for s in result.history)
    assert 1 <= result.best_epoch <= 2
