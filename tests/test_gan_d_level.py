"""``gan train --d-level genre``: with one class per recording, the main discriminator judges
realness by genre while its AC head still names the recording."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from gan.card_training import recipe_lines
from gan.config import TrainConfig, training_options
from gan.start_from import start_from
from gan.state import GanState, load_checkpoint, save_checkpoint
from gan.train import train_step
from genre.labels import GTZAN_GENRES
from tests.test_gan_model import TINY, one_thread  # noqa: F401
from tests.test_gan_musicnn_d import two_recordings_per_genre

TABLE = "embed.weight_orig"  # the projection table as trained (before spectral normalisation)


def test_the_discriminator_can_judge_each_recording_as_real_for_its_genre(tmp_path: Path) -> None:
    torch.manual_seed(0)
    sampler = two_recordings_per_genre()
    per_recording = replace(TINY, n_classes=len(sampler.labels))
    by_class = TrainConfig(steps=10, batch_size=8, model=per_recording, augment="",
                           condition="recording")  # fmt: skip
    source = GanState.fresh(by_class, sampler.labels)
    train_step(source, *sampler.sample(8, torch.Generator().manual_seed(0)))
    assert source.opt_d.state_dict()["state"]
    trained = source.discriminator.state_dict()
    assert trained[TABLE].shape[0] == 20
    save_checkpoint(source, tmp_path / "old" / "checkpoint.pt")

    # Started at the genre level: ten rows, each the mean of its two recordings' rows; the
    # trunk and the AC head (which still names all 20 recordings) kept.
    start_from(tmp_path / "old", tmp_path / "new", replace(by_class, d_level="genre"))
    state = load_checkpoint(tmp_path / "new" / "checkpoint.pt")
    d = state.discriminator
    weights = d.state_dict()
    assert weights[TABLE].shape[0] == len(GTZAN_GENRES)
    blues = [i for i, label in enumerate(sampler.labels) if label.startswith("blues/")]
    assert len(blues) == 2
    assert torch.allclose(weights[TABLE][0], trained[TABLE][blues].mean(dim=0))
    for name in ("features.0.weight_orig", "score.weight_orig", "classify.weight"):
        assert torch.equal(weights[name], trained[name])
    assert weights["classify.weight"].shape[0] == 20
    assert not state.opt_d.state_dict()["state"]  # its moments were the old table's

    # Two recordings of one genre are judged as real by the same row; named apart.
    d.eval()
    x = torch.randn(1, 1, TINY.n_mels, TINY.frames)
    with torch.no_grad():
        first, second = (d.judge(x, torch.tensor([i]), local=False) for i in blues)
    assert torch.equal(first.score, second.score)
    assert first.logits is not None and first.logits.shape[1] == 20
    before = source.discriminator.eval()
    with torch.no_grad():
        apart = [before.judge(x, torch.tensor([i]), local=False).score for i in blues]
    assert not torch.equal(*apart)

    d.train()
    real, classes = sampler.sample(8, torch.Generator().manual_seed(1))
    table = d.state_dict()[TABLE].clone()
    losses = train_step(state, real, classes)
    assert all(np.isfinite(v) for v in losses.values())
    assert not torch.equal(table, d.state_dict()[TABLE])
    # resumed: the genre table and the discriminator's moments are the run's own
    save_checkpoint(state, tmp_path / "new" / "checkpoint.pt")
    again = load_checkpoint(tmp_path / "new" / "checkpoint.pt")
    assert torch.equal(again.discriminator.state_dict()[TABLE], d.state_dict()[TABLE])
    assert again.opt_d.state_dict()["state"]

    assert "--d-level genre" in " ".join(training_options(state.config))
    assert "Realness judged by genre" in " ".join(recipe_lines({"config": state.config.to_dict()}))
    assert "by genre" not in " ".join(recipe_lines({"config": by_class.to_dict()}))
    with pytest.raises(ValueError, match="discriminator's level must be one of"):
        TrainConfig(d_level="artist")
