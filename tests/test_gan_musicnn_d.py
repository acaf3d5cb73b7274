"""The musicnn discriminator (``--musicnn-d``): patches judged by what the frozen pretrained
tagger hears in their sound, and the differentiable sonification it listens through."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from audio import load_audio, log_mel, mel_to_audio, resonify
from audio.inversion import _filterbank_and_pinv, _sparse_filterbank
from gan.card_training import recipe_lines
from gan.config import TrainConfig, training_options
from gan.data import PATCH_SPEC, PatchSampler, clip_mel, normalise
from gan.loss_log import read_losses
from gan.musicnn_update import musicnn_step
from gan.pretrained_judge import FEATURES, PretrainedHead, PretrainedJudge, backbone_features
from gan.start_from import start_from
from gan.state import GanState, load_checkpoint, save_checkpoint
from gan.train import train, train_step
from genre.labels import GTZAN_GENRES
from genre.musicnn import MUSICNN_FRONTEND, PATCH_FRAMES
from genre.paths import shared_gtzan_dir
from tests.test_gan_model import TINY, changed, one_thread, parameters, synthetic_clips  # noqa: F401


def real_clip(genre: str = "jazz", number: int = 0) -> Path:
    found = sorted((shared_gtzan_dir() / "audio" / genre).glob("*"))
    if not found:
        pytest.skip("the shared GTZAN clips are not here")
    return found[number]


def test_resonify_gives_the_target_front_end_with_finite_gradients_even_for_silence() -> None:
    mel = normalise(clip_mel(real_clip())[:, :128])
    silent = torch.full((128, 128), -80.0)
    batch = torch.stack([mel * 60 - 20, silent]).requires_grad_(True)
    out = resonify(batch, PATCH_SPEC, MUSICNN_FRONTEND, frames=PATCH_FRAMES)
    assert out.shape == (2, 96, PATCH_FRAMES)
    out.sum().backward()
    assert batch.grad is not None and torch.isfinite(batch.grad).all()
    assert batch.grad[0].abs().sum() > 0  # the sound depends on the mel…
    assert out[1].max() < 0.05 < out[0].mean()  # …and silence stays silence


def test_resonify_tracks_gradients_after_a_serving_call_filled_the_caches() -> None:
    """The page sonifies under inference mode; the filterbanks it caches must still serve a
    training step that needs gradients in the same process."""
    _filterbank_and_pinv.cache_clear()
    _sparse_filterbank.cache_clear()
    mel = torch.full((1, 128, 16), -30.0)
    with torch.inference_mode():
        mel_to_audio(mel, PATCH_SPEC, n_iter=1)
        resonify(mel, PATCH_SPEC, MUSICNN_FRONTEND)  # the target front-end's filterbank too
    batch = mel.clone().requires_grad_(True)
    resonify(batch, PATCH_SPEC, MUSICNN_FRONTEND).sum().backward()
    assert batch.grad is not None and torch.isfinite(batch.grad).all()


def test_resonified_patches_match_the_target_front_end_of_the_same_music() -> None:
    """musicnn's own log-mel of a clip is closer to the resonified GAN mel of that clip than
    to the resonified mel of a clip of another genre, frame by frame."""
    direct, resonified = [], []
    for genre in ("classical", "metal"):
        path = real_clip(genre)
        at_16k = load_audio(path, sample_rate=16000)
        target = log_mel(at_16k.samples, MUSICNN_FRONTEND)
        direct.append(torch.from_numpy(target)[:, :PATCH_FRAMES])
        gan_mel = torch.from_numpy(log_mel(load_audio(path, sample_rate=22050).samples,
                                           PATCH_SPEC))[:, :128]  # fmt: skip
        resonified.append(resonify(gan_mel[None], PATCH_SPEC, MUSICNN_FRONTEND,
                                   frames=PATCH_FRAMES)[0])  # fmt: skip

    def corr(a: torch.Tensor, b: torch.Tensor) -> float:
        return float(np.corrcoef(a.flatten().numpy(), b.flatten().numpy())[0, 1])

    for i in range(2):
        own, other = corr(direct[i], resonified[i]), corr(direct[i], resonified[1 - i])
        assert own > 0.8 and own > other + 0.1


def tiny_judge(batches: int = 2) -> tuple[PretrainedJudge, PatchSampler]:
    sampler = PatchSampler(synthetic_clips())
    return PretrainedJudge.build(sampler, batch_size=8, batches=batches), sampler


def test_the_head_learns_to_tell_real_patches_from_generated_ones_through_musicnn() -> None:
    torch.manual_seed(0)
    state = GanState.fresh(TrainConfig(batch_size=8, model=TINY, augment="", musicnn_weight=1.0))
    judge, _ = tiny_judge()
    assert judge.bank.shape == (16, FEATURES, PATCH_FRAMES)
    head = state.musicnn_head
    assert head is not None
    before_g, before_head = parameters(state.generator), parameters(head)
    for _ in range(25):
        losses = musicnn_step(state, judge, 4)
    assert set(losses) == {"musicnn_d", "musicnn_g"}
    assert changed(before_g, state.generator) and changed(before_head, head)
    real, genres = judge.real(16, torch.Generator().manual_seed(1))
    with torch.no_grad():
        fake = judge.hear(state.generator(torch.randn(16, TINY.z_dim), genres))
        assert head(real, genres).mean() > head(fake, genres).mean() + 0.5


def test_a_training_step_with_the_judge_updates_both_discriminators() -> None:
    torch.manual_seed(0)
    state = GanState.fresh(TrainConfig(batch_size=8, model=TINY, augment="", musicnn_weight=1.0))
    judge, sampler = tiny_judge(1)
    losses = train_step(state, *sampler.sample(8, state.data_rng), judge)
    assert {"d_loss", "g_loss", "musicnn_d", "musicnn_g"} <= set(losses)
    assert all(np.isfinite(v) for v in losses.values())
    plain = GanState.fresh(TrainConfig(batch_size=8, model=TINY, augment=""))
    assert plain.musicnn_head is None and not plain.extra_heads  # off by default
    assert "musicnn_d" not in train_step(plain, *sampler.sample(8, plain.data_rng))


def test_the_head_is_checkpointed_and_a_run_can_turn_it_on_part_way(tmp_path: Path) -> None:
    torch.manual_seed(0)
    source = GanState.fresh(TrainConfig(batch_size=8, model=TINY, augment=""))
    source.step = 5
    save_checkpoint(source, tmp_path / "old" / "checkpoint.pt")
    config = TrainConfig(steps=10, batch_size=8, model=TINY, augment="", musicnn_weight=1.0)
    start_from(tmp_path / "old", tmp_path / "new", config)
    state = load_checkpoint(tmp_path / "new" / "checkpoint.pt")
    assert state.musicnn_head is not None and state.step == 5  # a new head, the same trunk
    for mine, theirs in zip(state.generator.parameters(), source.generator.parameters(),
                            strict=True):  # fmt: skip
        assert torch.equal(mine, theirs)
    judge, sampler = tiny_judge(1)
    train_step(state, *sampler.sample(8, state.data_rng), judge)
    save_checkpoint(state, tmp_path / "new" / "checkpoint.pt")
    again = load_checkpoint(tmp_path / "new" / "checkpoint.pt")
    assert again.musicnn_head is not None and "musicnn" in again.extra_heads
    for mine, saved in zip(again.musicnn_head.parameters(), state.musicnn_head.parameters(),
                           strict=True):  # fmt: skip
        assert torch.equal(mine, saved)
    assert again.extra_heads["musicnn"].optimiser.state_dict()["state"]  # its Adam moments too
    assert "--musicnn-d 1.0" in " ".join(training_options(config))


def test_backbone_features_are_the_networks_front_and_mid_end() -> None:
    judge, _ = tiny_judge(1)
    mel = torch.rand(2, 96, PATCH_FRAMES) * 3
    with torch.no_grad():
        features = backbone_features(judge.backbone, mel)
        pooled = judge.backbone(mel)["mean_pool"]
    assert features.shape == (2, FEATURES, PATCH_FRAMES)
    assert torch.allclose(features.mean(dim=2), pooled, atol=1e-5)
    assert PretrainedHead(10)(features, torch.tensor([0, 1])).shape == (2,)


def test_a_tiny_run_with_the_musicnn_discriminator_trains_logs_and_resumes(tmp_path: Path) -> None:
    config = TrainConfig(batch_size=4, model=TINY, augment="", steps=2, musicnn_weight=0.5)
    said: list[str] = []
    sampler = PatchSampler(synthetic_clips())
    train(sampler, tmp_path / "run", config, progress=False, say=said.append)
    assert any("musicnn" in line for line in said)  # the minute of hearing is announced
    rows = read_losses(tmp_path / "run" / "losses.csv")
    assert [row["step"] for row in rows] == [1, 2]  # the log keeps its own columns
    result = train(sampler, tmp_path / "run", replace(config, steps=3), progress=False,
                   say=said.append)  # fmt: skip
    assert result.resumed_from == 2 and result.state.musicnn_head is not None
    assert any("A musicnn discriminator, weight 0.5" in line for line in recipe_lines(
        {"config": config.to_dict()}))  # fmt: skip
    assert not any("musicnn discriminator" in line for line in recipe_lines(
        {"config": TrainConfig().to_dict()}))  # fmt: skip
    with pytest.raises(ValueError, match="musicnn"):
        TrainConfig(musicnn_weight=-1.0)


def two_recordings_per_genre() -> PatchSampler:
    """The synthetic clips and a second, time-reversed recording of each: 20 classes."""
    clips = synthetic_clips()
    seconds = [replace(c, number=1, path=Path(f"{c.genre}.1.wav"), mel=c.mel.flip(1))
               for c in clips]  # fmt: skip
    return PatchSampler(clips + seconds, condition="recording")


def table_of(head: PretrainedHead) -> torch.Tensor:
    """The head's class table as trained (before its spectral normalisation)."""
    return head.embed.parametrizations.weight.original


def test_the_head_can_judge_each_recording_under_its_genre(tmp_path: Path) -> None:
    torch.manual_seed(0)
    sampler = two_recordings_per_genre()
    per_recording = replace(TINY, n_classes=len(sampler.labels))
    by_class = TrainConfig(steps=10, batch_size=8, model=per_recording, augment="",
                           condition="recording", musicnn_weight=1.0)  # fmt: skip
    source = GanState.fresh(by_class, sampler.labels)
    assert source.musicnn_head is not None and source.musicnn_head.embed.weight.shape[0] == 20
    save_checkpoint(source, tmp_path / "old" / "checkpoint.pt")

    # Started with the genre level: a table of ten genre rows, the rest of the head kept.
    start_from(tmp_path / "old", tmp_path / "new", replace(by_class, musicnn_d_level="genre"))
    state = load_checkpoint(tmp_path / "new" / "checkpoint.pt")
    head = state.musicnn_head
    assert head is not None and head.embed.weight.shape[0] == len(GTZAN_GENRES)
    trained = dict(source.musicnn_head.named_parameters())
    for name, value in head.named_parameters():
        assert torch.equal(value, trained[name]) != name.startswith("embed.")
    recordings = torch.tensor([0, 1, 4, 5])  # the two of blues, the two of country
    assert [sampler.labels[i] for i in recordings] == [
        "blues/blues.1.wav",
        "blues/blues.wav",
        "country/country.1.wav",
        "country/country.wav",
    ]
    assert state.musicnn_classes(recordings).tolist() == [0, 0, 2, 2]
    assert source.musicnn_classes(recordings).tolist() == recordings.tolist()

    judge = PretrainedJudge.build(sampler, batch_size=8, batches=1)
    table = table_of(head).detach().clone()
    losses = musicnn_step(state, judge, 8)
    assert np.isfinite(losses["musicnn_d"]) and np.isfinite(losses["musicnn_g"])
    assert not torch.equal(table, table_of(head))
    # resumed, the genre table and its optimiser are the run's own, not started afresh
    save_checkpoint(state, tmp_path / "new" / "checkpoint.pt")
    again = load_checkpoint(tmp_path / "new" / "checkpoint.pt")
    assert again.musicnn_head is not None
    assert torch.equal(table_of(again.musicnn_head), table_of(head))
    assert again.extra_heads["musicnn"].optimiser.state_dict()["state"]
    assert "--musicnn-d-level genre" in " ".join(training_options(state.config))
    card = " ".join(recipe_lines({"config": state.config.to_dict()}))
    assert "against real patches of its genre" in card
    assert "of its genre" not in " ".join(recipe_lines({"config": by_class.to_dict()}))
    with pytest.raises(ValueError, match="musicnn discriminator's level must be one of"):
        TrainConfig(musicnn_d_level="artist")
