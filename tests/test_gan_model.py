"""The conditional GAN: shapes per genre, a training step, checkpoints, resume and export."""

from __future__ import annotations

import copy
import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from gan.bundle import export_run, load_gan_bundle
from gan.card import AGREEMENT_AIM, quality_sentence, render_card
from gan.card_diversity import variety_sentence
from gan.card_sonification import current_sonification
from gan.card_training import recipe_lines
from gan.config import EVALUATION_SEED, training_options
from gan.data import ClipMel, PatchSampler, denormalise, load_clips, normalise
from gan.errors import GanError
from gan.losses import mode_seeking_loss, paired_genres
from gan.model import Discriminator, GanConfig, Generator, recalibrate_batch_norm
from gan.sample import generate
from gan.state import GanState, load_checkpoint
from gan.train import TrainConfig, train, train_step
from genre.labels import GTZAN_GENRES


@pytest.fixture(autouse=True)
def one_thread():
    """Behaviour, not speed, is tested here: one thread avoids oversubscribing shared cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TINY = GanConfig(z_dim=8, embed_dim=4, g_channels=(16, 8, 8, 4, 4), d_channels=(4, 4, 8, 8, 16))


def synthetic_clips(frames: int = 150) -> list[ClipMel]:
    """One 'clip' per genre: a genre-specific bright band over noise, already in [-1, 1]."""
    rng = torch.Generator().manual_seed(0)
    clips = []
    for g, genre in enumerate(GTZAN_GENRES):
        mel = torch.rand(128, frames, generator=rng) * 0.4 - 0.8
        mel[10 * g : 10 * g + 8] = 0.7
        clips.append(ClipMel(genre, 0, Path(f"{genre}.wav"), mel))
    return clips


def tiny_config(**kw) -> TrainConfig:
    return TrainConfig(batch_size=4, model=TINY, **kw)


def parameters(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(b, p) for b, p in zip(before, module.parameters(), strict=True))


def test_generator_and_discriminator_shapes_for_every_genre() -> None:
    config = GanConfig()
    generator, discriminator = Generator(config).eval(), Discriminator(config).eval()
    genres = torch.arange(len(GTZAN_GENRES))
    with torch.no_grad():
        out = generator(torch.randn(len(genres), config.z_dim), genres)
        scores = discriminator(out, genres)
        _, logits = discriminator.score_and_classify(out, genres)
    assert logits is not None and logits.shape == (len(GTZAN_GENRES), len(GTZAN_GENRES))
    assert out.shape == (len(GTZAN_GENRES), 1, 128, 128)
    assert float(out.abs().max()) <= 1.0
    assert scores.shape == (len(GTZAN_GENRES),)
    assert torch.isfinite(scores).all()
    # The genre must change the output: the same noise drawn as two genres differs.
    with torch.no_grad():
        z = torch.randn(1, config.z_dim).expand(2, -1)
        pair = generator(z, torch.tensor([0, 6]))
    assert not torch.allclose(pair[0], pair[1])


@pytest.mark.parametrize("upsample", ["nearest", "transposed"])
def test_both_upsampling_layers_draw_full_size_patches(upsample: str) -> None:
    generator = Generator(GanConfig(**{**TINY.to_dict(), "upsample": upsample})).eval()
    with torch.no_grad():
        out = generator(torch.randn(3, TINY.z_dim), torch.tensor([0, 4, 9]))
    assert out.shape == (3, 1, 128, 128) and torch.isfinite(out).all()


def test_nearest_upsampling_leaves_no_checkerboard_at_initialisation() -> None:
    """The reason for the choice: a stride-2 transposed convolution gives even and odd frames
    different numbers of overlapping taps, so a freshly built generator already alternates
    frame to frame; nearest-neighbour copies followed by a 3 × 3 convolution do not."""

    def alternation(upsample: str) -> float:
        torch.manual_seed(0)
        config = GanConfig(**{**GanConfig().to_dict(), "upsample": upsample})
        generator = Generator(config).eval()
        with torch.no_grad():
            out = generator(torch.randn(8, config.z_dim), torch.arange(8))[:, 0]
        second = out[..., 2:] - 2 * out[..., 1:-1] + out[..., :-2]  # frame-to-frame zigzag
        first = out[..., 1:] - out[..., :-1]
        return float(second.abs().mean() / first.abs().mean())

    assert alternation("nearest") < alternation("transposed")


def test_configs_from_before_the_upsampling_choice_load_as_transposed() -> None:
    old = {k: v for k, v in GanConfig().to_dict().items() if k != "upsample"}
    assert GanConfig.from_dict(old).upsample == "transposed"
    assert GanConfig.from_dict(GanConfig().to_dict()).upsample == "nearest"
    with pytest.raises(ValueError, match="upsampling"):
        GanConfig(upsample="bilinear")


def test_new_runs_use_the_recipe_and_configs_from_before_it_resume_without() -> None:
    recipe = TrainConfig()
    assert recipe.augment and recipe.r1_gamma > 0 and recipe.mode_seeking > 0
    assert TrainConfig.from_dict(recipe.to_dict()) == recipe
    old = {
        k: v
        for k, v in recipe.to_dict().items()
        if k not in ("augment", "r1_gamma", "mode_seeking")
    }
    legacy = TrainConfig.from_dict(old)
    assert (legacy.augment, legacy.r1_gamma, legacy.mode_seeking) == ("", 0.0, 0.0)


def test_config_rejects_mismatched_sizes() -> None:
    with pytest.raises(ValueError):
        GanConfig(g_channels=(8, 8, 8, 8))  # 4 layers make 64 px, not 128


def test_one_training_step_changes_weights_and_keeps_losses_finite() -> None:
    state = GanState.fresh(tiny_config())
    sampler = PatchSampler(synthetic_clips())
    real, genres = sampler.sample(4, state.data_rng)
    assert real.shape == (4, 1, 128, 128)
    g_before, d_before = parameters(state.generator), parameters(state.discriminator)
    ema_before = parameters(state.ema.model)
    losses = train_step(state, real, genres)
    assert set(losses) == {"d_loss", "g_loss", "d_real", "d_fake", "aux_real", "aux_fake"}
    assert losses["aux_real"] > 0  # the genre head is trained
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    assert changed(g_before, state.generator)
    assert changed(d_before, state.discriminator)
    assert changed(ema_before, state.ema.model)
    assert state.step == 1


def test_checkpoint_resume_continues_exactly(tmp_path: Path) -> None:
    sampler = PatchSampler(synthetic_clips())
    straight = train(sampler, tmp_path / "straight", tiny_config(steps=4), progress=False)

    first = train(sampler, tmp_path / "split", tiny_config(steps=2, checkpoint_every=1),
                  progress=False)  # fmt: skip
    assert first.state.step == 2
    assert (tmp_path / "split" / "checkpoint.pt").is_file()
    resumed = train(sampler, tmp_path / "split", tiny_config(steps=4), progress=False)
    assert resumed.resumed_from == 2
    assert resumed.state.step == 4
    # Same data order, same noise, same optimiser state: identical weights to the straight run.
    for a, b in zip(straight.state.generator.parameters(),
                    resumed.state.generator.parameters(), strict=True):  # fmt: skip
        assert torch.equal(a, b)
    with (tmp_path / "split" / "losses.csv").open() as f:
        steps = [int(row["step"]) for row in csv.DictReader(f)]
    assert steps == [1, 2, 3, 4]
    assert load_checkpoint(tmp_path / "split" / "checkpoint.pt").step == 4


def test_resume_refuses_a_different_model(tmp_path: Path) -> None:
    sampler = PatchSampler(synthetic_clips())
    train(sampler, tmp_path, tiny_config(steps=1), progress=False)
    other = TrainConfig(steps=2, batch_size=4, model=GanConfig(z_dim=16, embed_dim=4,
                        g_channels=TINY.g_channels, d_channels=TINY.d_channels))  # fmt: skip
    with pytest.raises(GanError, match="different model"):
        train(sampler, tmp_path, other, progress=False)


def test_export_writes_a_loadable_bundle(tmp_path: Path) -> None:
    sampler = PatchSampler(synthetic_clips())
    train(sampler, tmp_path / "run", tiny_config(steps=2), progress=False)
    bundle_dir = export_run(
        tmp_path / "run", tmp_path / "bundle", command="python -m gan train", recalibrate_batches=2
    )
    for name in ("gan.json", "generator.safetensors", "MODEL_CARD.md", "training_log.csv"):
        assert (bundle_dir / name).is_file(), name
    bundle = load_gan_bundle(bundle_dir)
    assert bundle.labels == GTZAN_GENRES
    assert bundle.meta["training"]["steps"] == 2
    assert "python -m gan train" in bundle.model_card
    samples = generate(bundle, ["jazz"], 1, seed=0)
    assert samples[0].mel_db.shape == (128, 128)


def test_loading_a_missing_or_broken_bundle_says_why(tmp_path: Path) -> None:
    with pytest.raises(GanError, match=r"gan\.json is missing"):
        load_gan_bundle(tmp_path)
    (tmp_path / "gan.json").write_text("{not json")
    with pytest.raises(GanError, match="unreadable metadata"):
        load_gan_bundle(tmp_path)


def test_batch_norm_recalibration_keeps_outputs_finite() -> None:
    generator = Generator(TINY)
    recalibrate_batch_norm(generator, batches=2, batch_size=10)
    assert not generator.training
    with torch.no_grad():
        out = generator(torch.randn(3, TINY.z_dim), torch.tensor([1, 2, 3]))
    assert torch.isfinite(out).all()


def test_batch_norm_recalibration_measures_every_class_beyond_one_batch() -> None:
    config = replace(TINY, n_classes=40)
    generator = Generator(config)
    with torch.no_grad():
        generator.embed.weight[30:] = 1000.0  # only the last classes move the first layer
    recalibrate_batch_norm(generator, batches=4, batch_size=10)
    # batches of 10 drawn 0-9, 10-19, 20-29, 30-39: the last batch's huge rows were measured
    assert float(generator.norms[0].norm.running_var.max()) > 1000.0


def test_real_clips_give_normalised_genre_balanced_patches(gtzan_dir: Path) -> None:
    clips = load_clips(gtzan_dir / "audio", limit_per_genre=1)
    assert sorted(c.genre for c in clips) == sorted(GTZAN_GENRES)
    for clip in clips:
        assert clip.mel.shape[0] == 128 and clip.mel.shape[1] > 1000  # ~30 s at hop 512
        assert float(clip.mel.min()) >= -1.0 and float(clip.mel.max()) <= 1.0
        assert float(clip.mel.std()) > 0.05  # real music, not a clamped constant
    # dB → [-1, 1] → dB is exact inside the range.
    db = torch.tensor([-80.0, -20.0, 0.0, 40.0])
    torch.testing.assert_close(denormalise(normalise(db)), db)
    sampler = PatchSampler(clips)
    patches, genres = sampler.sample(20, torch.Generator().manual_seed(0))
    assert patches.shape == (20, 1, 128, 128)
    assert set(genres.tolist()) <= set(range(10)) and len(set(genres.tolist())) > 3


def test_a_folder_missing_a_genre_is_refused(tmp_path: Path) -> None:
    (tmp_path / "rock").mkdir()
    with pytest.raises(GanError):
        load_clips(tmp_path)


def test_model_card_says_plainly_when_the_agreement_aim_is_missed() -> None:
    """The shipped card is rendered from its gan.json; a missed aim is stated, not implied."""
    shipped = Path(__file__).resolve().parents[1] / "assets" / "gan-cgan"
    meta = json.loads((shipped / "gan.json").read_text())
    card = render_card(meta)
    assert (shipped / "MODEL_CARD.md").read_text() == card  # the shipped card is current
    assert ("is not met" in card) == (meta["metrics"]["agreement"] < AGREEMENT_AIM)
    worse = copy.deepcopy(meta)
    worse["metrics"]["agreement"] = 0.3
    worse["metrics"]["agreement_per_genre"] = {g: 0.0 if g == "classical" else 1 / 3
                                               for g in meta["labels"]}  # fmt: skip
    worse["metrics"]["heard_as_per_genre"] = {"classical": {"reggae": 0.75, "jazz": 0.25}}
    card = render_card(worse)
    assert "aim of ≥ 60 % agreement is not met" in card
    missed = card.split("is not met")[1].split("\n")[0]
    assert "classical" in missed and "jazz" not in missed  # names the missed genres
    assert "The judge mostly hears the generated classical as reggae (75 %)." in card
    # Figures measured at another truncation than the bundle now samples at are flagged.
    moved = copy.deepcopy(meta)
    moved["sampling"] = {"truncation": 0.5 if meta["metrics"].get("truncation") != 0.5 else 0.6}
    assert "`python -m gan evaluate --write` measures it again" in render_card(moved)
    # The card names the noise seed its clips were drawn with (the default before it was stored).
    reseeded = copy.deepcopy(meta)
    reseeded["metrics"]["seed"] = 7
    assert f"clips of {meta['metrics']['clip_seconds']} s (noise seed 7;" in render_card(reseeded)
    reseeded["metrics"].pop("seed")
    assert f"(noise seed {EVALUATION_SEED};" in render_card(reseeded)
    # Per genre, the card says whose shortfall it is: where Griffin-Lim keeps real segments
    # recognisable the generator's, where it blurs them the sonification's.
    worse["metrics"]["agreement_real_resynthesised_per_genre"] = {
        g: 0.2 if g == "classical" else 0.9 for g in meta["labels"]
    }
    blurred = render_card(worse)
    assert "| classical | 0.0 % | 20.0 % |" in blurred
    assert "Griffin-Lim itself blurs real classical below 30 %" in blurred
    assert "the shortfall is the generator's" not in blurred.split("is not met")[1]
    worse["metrics"]["agreement_real_resynthesised_per_genre"]["classical"] = 0.6
    kept = render_card(worse).split("is not met")[1].split("\n")[0]
    assert "Real classical segments stay recognisable after Griffin-Lim (at least 60 %)" in kept
    assert "blurs" not in kept
    del worse["metrics"]["agreement_real_resynthesised_per_genre"]["classical"]
    unknown = render_card(worse)  # no real classical segment: no per-genre claim about it
    assert "| classical | 0.0 % | no real segment |" in unknown
    assert "Real classical" not in unknown and "blurs real classical" not in unknown
    better = copy.deepcopy(meta)
    better["metrics"]["agreement"] = 0.75
    better["metrics"]["agreement_per_genre"] = {g: 0.75 for g in meta["labels"]}
    assert "is not met" not in render_card(better)


def test_model_card_says_which_sonification_its_figures_were_measured_with() -> None:
    """Figures measured before the PGHI inversion are flagged; figures measured with it are not."""
    shipped = Path(__file__).resolve().parents[1] / "assets" / "gan-cgan"
    meta = json.loads((shipped / "gan.json").read_text())
    card = render_card(meta)
    assert "## Sonification" in card and "started from PGHI phase" in card
    # the shipped figures were measured with today's sonification: no warning
    assert meta["metrics"]["sonification"] == current_sonification()
    assert "The Quality figures above were measured with" not in card
    older = copy.deepcopy(meta)  # figures from before evaluate recorded its sonification
    del older["metrics"]["sonification"]
    stale = "The Quality figures above were measured with 10 multiplicative refinements"
    assert stale in render_card(older)


def test_the_quality_sentence_says_what_the_weak_genres_sound_like() -> None:
    metrics = {
        "agreement": 0.43,
        "agreement_per_genre": {"blues": 0.1, "jazz": 0.0, "metal": 0.9, "pop": 0.4,
                                "rock": 0.2},
        "heard_as_per_genre": {"blues": {"hiphop": 0.6, "blues": 0.1}, "jazz": {"hiphop": 1.0},
                               "metal": {"metal": 0.9}, "pop": {"pop": 0.4, "rock": 0.3},
                               "rock": {"rock": 0.2, "metal": 0.2, "pop": 0.2}},
    }  # fmt: skip
    sentence = quality_sentence({"metrics": metrics}, name=str.title)
    assert sentence == (
        "The genre classifier recognises about 4 in 10 of this generator's clips as the genre "
        "asked for: best for Metal; not yet for Blues and Jazz (heard as Hiphop), Rock (heard "
        "as a mix of genres)."
    )
    del metrics["heard_as_per_genre"]  # evaluated before that was recorded
    assert quality_sentence({"metrics": metrics}).endswith("not yet for blues, jazz, rock.")
    # Most genres recognised: the few others are named instead of the many.
    most = {"agreement": 0.78, "agreement_per_genre": {"blues": 0.38, "jazz": 0.8, "metal": 0.98,
                                                       "pop": 0.8, "rock": 0.45}}  # fmt: skip
    assert quality_sentence({"metrics": most}).endswith(
        "asked for: at least half the time for every genre but blues and rock.")  # fmt: skip
    most["agreement_per_genre"] = {"jazz": 0.8, "metal": 0.98, "pop": 0.5}
    assert quality_sentence({"metrics": most}).endswith("asked for, every genre at least half "
                                                        "the time.")  # fmt: skip
    assert quality_sentence({"metrics": {}}) is None


def test_the_variety_sentence_says_how_alike_a_genres_clips_are() -> None:
    assert variety_sentence({"metrics": {"diversity_ratio": 0.613}}) == (
        "Clips of one genre are more alike than real music: two of them differ about 60 % as "
        "much as two real recordings of that genre."
    )
    assert "about 75 % as much" in variety_sentence({"metrics": {"diversity_ratio": 0.757}})
    assert variety_sentence({"metrics": {"diversity_ratio": 0.93}}) == (
        "Two clips of one genre differ about as much as two real recordings of it do."
    )
    for unusable in ({"metrics": {}}, {"metrics": {"diversity_ratio": "high"}}, {"metrics": []}):
        assert variety_sentence(unusable) is None


def test_mode_seeking_pairs_genres_and_rewards_different_patches() -> None:
    genres = torch.tensor([3, 1, 4, 1, 5])
    assert paired_genres(genres).tolist() == [3, 1, 3, 1, 5]  # odd batch: the last stays
    z = torch.randn(4, 8)
    same = torch.zeros(4, 1, 16, 16)
    varied = torch.cat([torch.zeros(2, 1, 16, 16), torch.ones(2, 1, 16, 16)])
    assert mode_seeking_loss(varied, z) < mode_seeking_loss(same, z)
    assert torch.isfinite(mode_seeking_loss(same, z))
    state = GanState.fresh(tiny_config(mode_seeking=1.0))
    real, real_genres = PatchSampler(synthetic_clips()).sample(4, state.data_rng)
    before = parameters(state.generator)
    losses = train_step(state, real, real_genres)
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    assert changed(before, state.generator)
    with pytest.raises(ValueError, match="mode-seeking"):
        TrainConfig(mode_seeking=-1.0)
    with pytest.raises(ValueError, match="cap"):
        TrainConfig(mode_seeking_cap=-0.1)


def test_capped_mode_seeking_stops_rewarding_pairs_already_far_apart() -> None:
    z = torch.cat([torch.zeros(2, 8), torch.ones(2, 8)])  # each pair's noises 1 apart
    # Pair 0 differs by 0.1 (like two real patches), pair 1 by 2 (sound against silence).
    fake = torch.zeros(4, 1, 4, 4)
    fake[2] += 0.1
    fake[3] += 2.0
    fake.requires_grad_(True)
    uncapped = mode_seeking_loss(fake, z)
    assert torch.allclose(uncapped, mode_seeking_loss(fake, z, cap=0.0))  # 0: no cap
    assert torch.allclose(uncapped, torch.tensor(1 / (1.05 + 1e-5)))
    capped = mode_seeking_loss(fake, z, cap=0.2)
    assert torch.allclose(capped, torch.tensor(1 / (0.15 + 1e-5)))
    (grad,) = torch.autograd.grad(capped, fake)
    assert grad[3].abs().sum() == 0 and grad[1].abs().sum() == 0  # past the cap: no push
    assert grad[2].abs().sum() > 0  # below it: still pushed apart
    (grad_uncapped,) = torch.autograd.grad(uncapped, fake)
    assert grad_uncapped[3].abs().sum() > 0


def test_a_capped_run_trains_and_records_its_cap(tmp_path: Path) -> None:
    config = tiny_config(steps=2, mode_seeking=1.0, mode_seeking_cap=0.2)
    train(PatchSampler(synthetic_clips()), tmp_path / "run", config)
    assert load_checkpoint(tmp_path / "run" / "checkpoint.pt").config.mode_seeking_cap == 0.2
    assert TrainConfig.from_dict({}).mode_seeking_cap == 0.0  # stored before the cap: uncapped
    words = training_options(config)
    assert words[words.index("--mode-seeking-cap") + 1] == "0.2"  # the card's reproduce command
    (line,) = [x for x in recipe_lines({"config": config.to_dict()}) if "Mode-seeking" in x]
    assert "capped at a distance of 0.2" in line
    assert "capped" not in " ".join(recipe_lines({"config": TrainConfig().to_dict()}))


def test_model_card_gives_diversity_beside_its_ceiling_and_another_judges_diversity() -> None:
    shipped = Path(__file__).resolve().parents[1] / "assets" / "gan-cgan"
    meta = json.loads((shipped / "gan.json").read_text())
    measured = copy.deepcopy(meta)
    measured["metrics"]["diversity_ratio"] = 0.63
    measured["metrics"]["diversity_ratio_resynthesised"] = 0.927
    measured["metrics"]["coverage"] = 0.111
    measured["metrics"]["coverage_resynthesised"] = 0.3
    others = measured["metrics"].setdefault("other_classifiers", {})
    others["gtzan-cnn-baseline"] = {"agreement": 0.9, "agreement_real_half_b": 0.95,
                                    "agreement_real_resynthesised": 0.9,
                                    "fd_generated_vs_real_a": 6.8, "fd_real_b_vs_real_a": 3.1,
                                    "diversity_ratio": 1.046}  # fmt: skip
    card = render_card(measured)
    assert (
        "(different clips; aim ≈ 1); real segments of half B after Griffin-Lim: 0.927 | 0.63 |"
        in card
    )
    assert "(real B vs A 3.1); diversity in its embedding 1.05." in card
    assert (
        "nearer than their 5th-nearest real excerpt (Naeem et al. 2020; real segments of half B "
        "after Griffin-Lim: 0.3) | 0.111 |" in card
    )
    older = copy.deepcopy(measured)  # measured before these figures existed: no claim
    del older["metrics"]["diversity_ratio_resynthesised"]
    del older["metrics"]["coverage"]
    del older["metrics"]["other_classifiers"]["gtzan-cnn-baseline"]["diversity_ratio"]
    card = render_card(older)
    assert "after Griffin-Lim: 0" not in card and "diversity in its embedding" not in card
    assert "coverage" not in card.split("## Which training step ships")[0]  # pick's curve has it
