"""One writer for musicnn-head bundles: the shipped one and a user's run write the same
LICENSE (musicnn's ISC text, then a line about the head), metadata and card licence wording.

Real files in tmp_path; the user's bundle comes from the head trainer itself, on synthetic
window embeddings (the backbone is the real shipped one).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from genre.bundle import load_bundle
from genre.models import get_model_spec
from genre.paths import ASSETS_DIR
from genre.splits import Split
from genre.training.config import RunConfig
from genre.training.data import TrackData
from genre.training.head_loop import HeadTrainer
from genre.training.musicnn_bundle import (
    BACKBONE_LICENCE,
    SHIPPED_HEAD,
    USER_HEAD,
    CrossValidation,
    card_licence,
    save_head_bundle,
    shipped_card,
    shipped_meta,
)
from genre.training.musicnn_features import WindowFeatures
from genre.training.musicnn_head import HeadConfig, fit_head, served_model
from genre.training.reporting import Reporter
from genre.training.trainers import cross_validate

SHIPPED = ASSETS_DIR / "musicnn-genre"


def synthetic_tracks(tmp_path: Path) -> TrackData:
    """Eight tracks of two classes, five windows each (three serving, two shifted)."""
    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 4)
    track = np.repeat(np.arange(len(y)), 5)
    features = (rng.normal(size=(len(track), 200)) + y[track, None]).astype(np.float32)
    return TrackData(
        source=str(tmp_path / "clips"),
        labels=["blues", "metal"],
        y=y,
        keys=[f"{g}/{g}.{i:05d}" for i, g in enumerate(["blues", "metal"] * 4)],
        numbers=np.arange(len(y)),
        names=[f"track {i}" for i in range(len(y))],
        embeddings=WindowFeatures(
            track=track,
            serving=np.tile([True, True, True, False, False], len(y)),
            features={"penultimate": features},
        ),
        backbone_seconds=np.full(len(y), 0.1),
    )


def test_a_users_head_bundle_and_the_shipped_writer_carry_the_isc_licence(tmp_path: Path) -> None:
    isc = BACKBONE_LICENCE.read_text(encoding="utf-8")
    assert "ISC License" in isc

    # a user's run: the head trainer writes its bundle
    data = synthetic_tracks(tmp_path)
    config = RunConfig(model="musicnn_genre", dataset=data.source, split="kfold", folds=2)
    halves = np.arange(4), np.arange(4, 8)
    splits = [Split(f"fold {k + 1}", a, np.zeros(0, int), b) for k, (a, b) in
              enumerate([halves, halves[::-1]])]  # fmt: skip
    reporter = Reporter(stream=io.StringIO())
    folder = tmp_path / "run"
    folder.mkdir()
    trainer = HeadTrainer(get_model_spec("musicnn_genre"), config, data, splits, reporter, folder)
    result = trainer.finish(cross_validate(trainer, splits, reporter))
    assert result.bundle == folder / "bundle"
    users = (folder / "bundle" / "LICENSE").read_text(encoding="utf-8")
    assert isc in users and USER_HEAD.file in users
    user_meta = json.loads((folder / "bundle" / "bundle.json").read_text(encoding="utf-8"))
    assert (
        user_meta["licence"].startswith("Backbone: ISC") and USER_HEAD.meta in user_meta["licence"]
    )
    assert card_licence(USER_HEAD) in load_bundle(folder / "bundle").model_card

    # the shipped bundle's writer, on a small head: the same texts as assets/musicnn-genre
    config = HeadConfig(epochs=5)
    x, window_y = data.embeddings.features["penultimate"], data.y[data.embeddings.track]
    model = served_model(fit_head(x, window_y, config, 10, 0), config, 10, 1.0)
    cv = CrossValidation([0.5, 0.5], np.eye(10, dtype=int), 1.0, 0.7, 0.7)
    meta = shipped_meta(tmp_path / "musicnn-genre", [], config, cv, 0.1)
    meta["metrics"].update(
        {f"plain_logreg_cv_accuracy_{s}": {"value": 0.5} for s in ("mean", "std")}
    )
    out = tmp_path / "musicnn-genre"
    save_head_bundle(out, model=model, meta=meta, card=shipped_card(meta, cv), head=SHIPPED_HEAD)
    shipped = (out / "LICENSE").read_text(encoding="utf-8")
    assert isc in shipped
    assert shipped == (SHIPPED / "LICENSE").read_text(encoding="utf-8")  # rebuilt identically
    shipped_json = json.loads((SHIPPED / "bundle.json").read_text(encoding="utf-8"))
    assert json.loads((out / "bundle.json").read_text())["licence"] == shipped_json["licence"]
    assert card_licence(SHIPPED_HEAD) in (SHIPPED / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert card_licence(SHIPPED_HEAD) in (out / "MODEL_CARD.md").read_text(encoding="utf-8")
