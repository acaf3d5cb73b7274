"""Sonification and sampling with the shipped generator: real audio, real lengths, real files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from audio import LogMel, load_audio, mel_to_audio
from gan.bundle import GanBundle, load_gan_bundle
from gan.data import PATCH_SPEC, ClipMel
from gan.errors import GanError
from gan.metrics import (
    cepstral_statistics,
    coverage_shares,
    diversity_ratios,
    frechet_distance,
    heard_as,
    mean_pairwise_distance,
    real_halves,
    spectral_convergence,
    standardised_frechet,
)
from gan.sample import (
    PEAK_LIMIT,
    TARGET_DBFS,
    clip_samples,
    generate,
    join_patches,
    normalise_loudness,
    sonify,
    spectrogram_png,
    write_samples,
)


@pytest.fixture(autouse=True)
def one_thread():
    """Behaviour, not speed, is tested here: one thread avoids oversubscribing shared cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# Measured on GTZAN patches: 24 iterations reach 0.14-0.22; a random-phase start is ~0.27.
SC_THRESHOLD = 0.25


@pytest.fixture(scope="module")
def bundle() -> GanBundle:
    return load_gan_bundle()


def test_griffin_lim_on_a_real_clip_reaches_spectral_convergence(gtzan_clip: Path) -> None:
    audio = load_audio(gtzan_clip, sample_rate=PATCH_SPEC.sample_rate)
    segment = torch.from_numpy(audio.samples[5 * 22050 : 5 * 22050 + 127 * 512])
    frontend = LogMel(PATCH_SPEC)
    with torch.inference_mode():
        mel = frontend(segment)
        wave = mel_to_audio(mel, PATCH_SPEC, n_iter=24, length=len(segment))
        rebuilt = frontend(wave)
        one_pass = frontend(mel_to_audio(mel, PATCH_SPEC, n_iter=1, length=len(segment)))
    assert wave.shape == segment.shape
    converged = float(spectral_convergence(mel, rebuilt))
    assert converged < SC_THRESHOLD
    assert converged < float(spectral_convergence(mel, one_pass))  # iterating helps


def test_sampled_audio_is_finite_of_the_right_length_and_not_silent(bundle: GanBundle) -> None:
    samples = generate(bundle, ["rock", "classical"], 1, seed=11, seconds=6.0)
    assert [s.genre for s in samples] == ["rock", "classical"]
    for sample in samples:
        assert sample.audio.dtype == np.float32
        assert len(sample.audio) == clip_samples(6.0, bundle)
        assert abs(sample.duration_s - 6.0) < 0.05
        assert np.isfinite(sample.audio).all()
        rms_db = 20 * np.log10(np.sqrt(np.mean(sample.audio.astype(np.float64) ** 2)))
        assert rms_db > TARGET_DBFS - 6  # loud enough to hear (peak limiting may lower it)
        assert np.max(np.abs(sample.audio)) <= PEAK_LIMIT + 1e-6
        assert sample.mel_db.shape[0] == 128
        assert np.isfinite(sample.mel_db).all()
        # Loudness normalisation lifts any non-zero signal, so judge what came before it: the
        # generated spectrogram has structure (a near-silent or flat field spans a few dB) and
        # the raw Griffin-Lim audio is already audible (shipped samples sit around -21 dBFS).
        low, high = np.percentile(sample.mel_db, [5, 95])
        assert high - low > 20 and high > -20, (sample.genre, low, high)
        assert sample.mel_db.std(axis=1).mean() > 2  # it changes over time
        raw = sonify(torch.from_numpy(sample.mel_db[None, :, :128]), bundle)[0]
        assert 20 * np.log10(np.sqrt(np.mean(raw.astype(np.float64) ** 2))) > -40


def test_one_patch_clip_and_seed_reproducibility(bundle: GanBundle) -> None:
    first = generate(bundle, ["jazz"], 2, seed=5, seconds=3.0)
    again = generate(bundle, ["metal", "jazz"], 2, seed=5, seconds=3.0)
    assert first[0].mel_db.shape == (128, 128)
    assert len(first[0].audio) == 127 * 512
    # Same (genre, seed, index) → same sample, whatever else is generated alongside.
    np.testing.assert_allclose(first[1].mel_db, again[3].mel_db, atol=1e-4)
    assert not np.allclose(first[0].mel_db, first[1].mel_db)
    other_seed = generate(bundle, ["jazz"], 1, seed=6, seconds=3.0)
    assert not np.allclose(first[0].mel_db, other_seed[0].mel_db)


def test_truncation_scales_every_noise_vector_before_the_generator(tmp_path: Path) -> None:
    """A bundle with ψ draws from ψ·z what the untruncated one draws from ψ·z, on every path
    (plain samples here; morphs and prompts reach the generator the same way)."""
    import copy
    import json
    import shutil

    from gan.sample import mels_from_noise

    truncated_dir = tmp_path / "truncated"
    shutil.copytree(load_gan_bundle().path, truncated_dir)
    meta = json.loads((truncated_dir / "gan.json").read_text())
    for bad in (0, 1.5, "half"):
        broken = copy.deepcopy(meta)
        broken["sampling"] = {"truncation": bad}
        (truncated_dir / "gan.json").write_text(json.dumps(broken))
        with pytest.raises(GanError, match="truncation"):
            load_gan_bundle(truncated_dir)
    del meta["sampling"]  # a bundle without the setting samples untruncated
    shutil.copytree(truncated_dir, tmp_path / "plain")
    (tmp_path / "plain" / "gan.json").write_text(json.dumps(meta))
    meta["sampling"] = {"truncation": 0.5}
    (truncated_dir / "gan.json").write_text(json.dumps(meta))
    plain, truncated = load_gan_bundle(tmp_path / "plain"), load_gan_bundle(truncated_dir)
    assert (plain.truncation, truncated.truncation) == (1.0, 0.5)
    z = torch.randn(2, 1, plain.config.z_dim, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(mels_from_noise(truncated, [3, 6], z),
                               mels_from_noise(plain, [3, 6], 0.5 * z))  # fmt: skip
    assert not torch.allclose(
        mels_from_noise(truncated, [3, 6], z), mels_from_noise(plain, [3, 6], z)
    )


def test_unknown_genre_and_bad_requests_are_refused(bundle: GanBundle) -> None:
    with pytest.raises(GanError, match="Unknown genre 'polka'"):
        generate(bundle, ["polka"], 1, seed=0)
    with pytest.raises(GanError):
        generate(bundle, ["rock"], 0, seed=0)
    with pytest.raises(GanError):
        generate(bundle, ["rock"], 1, seed=0, seconds=600)


def test_genres_asked_keeps_the_bundle_order_and_refuses_unknown_names(bundle: GanBundle) -> None:
    assert bundle.genres_asked(None) == list(enumerate(bundle.labels))
    rock, jazz = bundle.genre_index("rock"), bundle.genre_index("jazz")
    assert bundle.genres_asked(["rock", "jazz", "rock"]) == [(jazz, "jazz"), (rock, "rock")]
    with pytest.raises(GanError, match="Unknown genre 'polka'"):
        bundle.genres_asked(["jazz", "polka"])


def test_write_samples_makes_wav_and_png(bundle: GanBundle, tmp_path: Path) -> None:
    samples = generate(bundle, ["disco"], 2, seed=3)
    paths = write_samples(samples, tmp_path)
    assert sorted(p.name for p in paths) == [
        "disco-seed3-01.png", "disco-seed3-01.wav", "disco-seed3-02.png", "disco-seed3-02.wav",
    ]  # fmt: skip
    data, rate = sf.read(tmp_path / "disco-seed3-01.wav")
    assert rate == 22050 and len(data) == len(samples[0].audio)
    image = Image.open(tmp_path / "disco-seed3-01.png")
    assert image.size == (2 * 128, 2 * 128)


def test_cross_fade_of_equal_patches_is_seamless() -> None:
    patch = torch.full((1, 3, 4, 128), -12.0)
    joined = join_patches(patch)
    assert joined.shape == (1, 4, 128 + 2 * 96)
    torch.testing.assert_close(joined, torch.full_like(joined, -12.0), atol=1e-4, rtol=0)


def test_loudness_normalisation_never_clips() -> None:
    rate = 22050
    t = np.arange(rate) / rate
    spiky = 0.01 * np.sin(2 * np.pi * 220 * t)
    spiky[rate // 2] = 5.0  # one huge click: the RMS target would push it far past 1
    out = normalise_loudness(spiky.astype(np.float32), rate)
    assert np.max(np.abs(out)) <= PEAK_LIMIT + 1e-6
    quiet = normalise_loudness((0.001 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)
    rms_db = 20 * np.log10(np.sqrt(np.mean(quiet.astype(np.float64) ** 2)))
    assert abs(rms_db - TARGET_DBFS) < 0.5
    assert not normalise_loudness(np.zeros(rate, dtype=np.float32), rate).any()


def test_spectrogram_png_puts_low_pitches_at_the_bottom() -> None:
    mel = np.full((128, 64), -80.0)
    mel[:10] = 0.0  # loud bass
    image = np.asarray(Image.open(io.BytesIO(spectrogram_png(mel, scale=1))))
    assert image.shape == (128, 64, 3)
    assert image[-1].mean() > image[0].mean() + 100


def test_frechet_distance_and_spectral_convergence_basics() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    b = rng.standard_normal((4000, 3)) + np.array([2.0, 0.0, 0.0])
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, b) == pytest.approx(4.0, abs=0.3)
    x = torch.randn(2, 8, 8)
    assert torch.allclose(spectral_convergence(x, x), torch.zeros(2))


def test_the_network_free_distance_tells_steady_tones_from_noise_bursts() -> None:
    """Cepstral statistics: clips of one kind lie close together, another kind lies far off;
    the flux statistics see a sound that moves (bursts) against one that holds (a tone)."""
    rng = np.random.default_rng(0)
    rate, n = PATCH_SPEC.sample_rate, PATCH_SPEC.sample_rate * 2
    t = np.arange(n) / rate

    def tones(k: int) -> list[np.ndarray]:
        return [0.3 * np.sin(2 * np.pi * rng.uniform(200, 400) * t) for _ in range(k)]

    def bursts(k: int) -> list[np.ndarray]:
        gate = (np.arange(n) // 2205) % 2  # 0.1 s on, 0.1 s off
        return [0.3 * rng.standard_normal(n) * gate for _ in range(k)]

    frontend = LogMel(PATCH_SPEC)
    real, same_kind, other_kind = (cepstral_statistics(w, frontend)
                                   for w in (tones(12), tones(12), bursts(12)))  # fmt: skip
    assert real.shape == (12, 42)
    near, far = (standardised_frechet(x, real, real) for x in (same_kind, other_kind))
    assert near < 0.1 * far
    flux_mean = slice(40, 41)
    assert other_kind[:, flux_mean].mean() > 3 * real[:, flux_mean].mean()


def test_coverage_counts_the_real_pieces_matched_and_cannot_be_bought_by_spreading_out() -> None:
    """Two clusters of real jazz (two kinds of piece): a generator that plays only one kind covers
    about half; one that plays both covers nearly all; one spread wide, away from every real
    piece, has a high diversity ratio but covers nothing."""
    rng = np.random.default_rng(2)
    labels = ("jazz",)
    centres = np.zeros((2, 8))
    centres[1, 0] = 20.0
    real = np.concatenate([centres[i] + rng.standard_normal((10, 8)) for i in (0, 1)])
    genres, clips = ["jazz"] * 20, [i // 2 for i in range(20)]
    one_kind = centres[0] + rng.standard_normal((30, 8))
    both = np.concatenate([one_kind[:15], centres[1] + rng.standard_normal((15, 8))])
    wide = 40.0 + 15.0 * rng.standard_normal((30, 8))
    half = coverage_shares(one_kind, ["jazz"] * 30, real, genres, clips, labels)["jazz"]
    full = coverage_shares(both, ["jazz"] * 30, real, genres, clips, labels)["jazz"]
    assert 0.35 <= half <= 0.5 and full >= 0.9
    # by sets of 15: the first 15 play one kind, the next 15 the other, so each set covers
    # about half; a set larger than the clips there are is all of them
    by_15 = coverage_shares(both, ["jazz"] * 30, real, genres, clips, labels, draw={"jazz": 15})
    assert by_15["jazz"] == pytest.approx(half, abs=0.1)
    assert coverage_shares(both, ["jazz"] * 30, real, genres, clips, labels,
                           draw={"jazz": 99}) == {"jazz": full}  # fmt: skip
    assert coverage_shares(wide, ["jazz"] * 30, real, genres, clips, labels) == {"jazz": 0.0}
    assert diversity_ratios(wide, ["jazz"] * 30, real, genres, clips, labels)["jazz"] > 1.0
    # the real excerpts themselves cover every one; sent through the sonification unchanged, a
    # segment may not cover its own recording's excerpts, and the others' still cover them
    assert coverage_shares(real, genres, real, genres, clips, labels) == {"jazz": 1.0}
    grouped = coverage_shares(real, genres, real, genres, clips, labels, generated_clips=clips)
    assert grouped == {"jazz": 1.0}
    # the two excerpts of one recording, resynthesised, no longer cover those two themselves
    alone = coverage_shares(real[:2], genres[:2], real, genres, clips, labels,
                            generated_clips=clips[:2])["jazz"]  # fmt: skip
    ungrouped = coverage_shares(real[:2], genres[:2], real, genres, clips, labels)["jazz"]
    assert alone == pytest.approx(ungrouped - 2 / 20)
    # a genre with no generated clip, too few real excerpts to have 5 neighbours, or one real
    # recording: left out
    assert coverage_shares(one_kind, ["metal"] * 30, real, genres, clips, ("jazz", "metal")) == {}
    assert coverage_shares(one_kind, ["jazz"] * 30, real[:5], genres[:5], clips[:5], labels) == {}
    assert coverage_shares(one_kind, ["jazz"] * 30, real, genres, [0] * 20, labels) == {}


def test_diversity_ratio_compares_generated_spread_with_real_spread() -> None:
    rng = np.random.default_rng(1)
    labels = ("jazz", "metal")
    real = rng.standard_normal((40, 8))
    real_genres = ["jazz"] * 20 + ["metal"] * 20
    real_clips = [i // 2 for i in range(40)]  # two excerpts of every clip
    same_spread = rng.standard_normal((20, 8))
    one_sound = np.tile(rng.standard_normal((1, 8)), (20, 1))
    generated = np.concatenate([same_spread, one_sound])
    ratios = diversity_ratios(
        generated, ["jazz"] * 10 + ["metal"] * 10 + ["jazz"] * 10 + ["metal"] * 10,
        real, real_genres, real_clips, labels,
    )  # fmt: skip
    # jazz: half spread like the real clips, half one repeated sound; metal likewise
    assert 0.3 < ratios["jazz"] < 1.0 and 0.3 < ratios["metal"] < 1.0
    alike = diversity_ratios(same_spread, ["jazz"] * 20, real, real_genres, real_clips, labels)
    assert alike == {"jazz": pytest.approx(1.0, abs=0.15)}  # metal: no generated clips
    assert diversity_ratios(one_sound, ["metal"] * 20, real, real_genres, real_clips, labels) == {
        "metal": pytest.approx(0.0, abs=1e-6)
    }
    # excerpts of one clip are never compared with each other
    twins = np.repeat(rng.standard_normal((20, 8)), 2, axis=0)
    assert mean_pairwise_distance(twins, np.asarray(real_clips)) > 1.0
    assert mean_pairwise_distance(twins) < mean_pairwise_distance(twins, np.asarray(real_clips))


def test_heard_as_names_what_each_asked_for_genre_sounds_like() -> None:
    asked = ["jazz"] * 10 + ["metal"] * 4
    heard = ["hiphop"] * 6 + ["jazz"] * 3 + ["pop"] + ["metal"] * 4
    shares = heard_as(asked, heard)
    assert shares == {"jazz": {"hiphop": 0.6, "jazz": 0.3, "pop": 0.1}, "metal": {"metal": 1.0}}
    assert list(shares["jazz"]) == ["hiphop", "jazz", "pop"]  # most common first
    assert heard_as(asked, heard, floor=0.2)["jazz"] == {"hiphop": 0.6, "jazz": 0.3}


def test_real_halves_alternate_clips_and_refuse_a_single_clip(tmp_path: Path) -> None:
    rate = 22050
    clips = []
    for number, genre in enumerate(["jazz", "jazz", "metal"]):
        path = tmp_path / f"{genre}.{number:05d}.wav"
        sf.write(path, 0.1 * np.sin(np.arange(7 * rate) / 10.0).astype(np.float32), rate)
        clips.append(ClipMel(genre, number, path, torch.zeros(128, 128)))
    a, b = real_halves(clips, 3 * rate, rate)
    assert [(g, n) for g, n, _ in a] == [("jazz", 0), ("jazz", 0), ("metal", 2), ("metal", 2)]
    assert [(g, n) for g, n, _ in b] == [("jazz", 1), ("jazz", 1)]
    assert all(len(samples) == 3 * rate for _, _, samples in a + b)
    with pytest.raises(GanError, match="at least two real clips"):
        real_halves(clips[:1], 3 * rate, rate)


def test_diversity_of_resynthesised_real_segments_compares_only_different_recordings() -> None:
    """The sonification's own ceiling: real segments after the trip, paired as real ones are."""
    rng = np.random.default_rng(2)
    labels = ("jazz",)
    real = rng.standard_normal((20, 64))
    clips = [i // 5 for i in range(20)]  # five excerpts of each of four clips
    # each clip's excerpts "resynthesised" into one sound: paired freely they look less varied
    # than real music; paired only across recordings, as the real side is, about as varied
    resynthesised = np.repeat(real[0::5], 5, axis=0)
    free = diversity_ratios(resynthesised, ["jazz"] * 20, real, ["jazz"] * 20, clips, labels)
    grouped = diversity_ratios(resynthesised, ["jazz"] * 20, real, ["jazz"] * 20, clips, labels,
                               generated_clips=clips)  # fmt: skip
    assert free["jazz"] < 0.85 and 0.9 < grouped["jazz"] < 1.1
    one_recording = diversity_ratios(real[:2], ["jazz"] * 2, real, ["jazz"] * 20, clips, labels,
                                     generated_clips=[0, 0])  # fmt: skip
    assert one_recording == {}  # no pair of different recordings to compare
