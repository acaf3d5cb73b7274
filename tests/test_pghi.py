"""PGHI phase reconstruction: a better Griffin-Lim start than random phase, on real audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from audio import LogMel, load_audio, mel_to_audio
from audio.inversion import griffin_lim, mel_to_linear, mel_to_magnitude
from audio.pghi import pghi, pghi_batch
from audio.spectrogram import mel_filterbank
from gan.data import PATCH_SPEC
from gan.metrics import spectral_convergence

N_FFT, HOP, RATE = PATCH_SPEC.n_fft, PATCH_SPEC.hop, PATCH_SPEC.sample_rate
WINDOW = torch.hann_window(N_FFT)


@pytest.fixture(autouse=True)
def one_thread():
    """Behaviour, not speed, is tested here: one thread avoids oversubscribing shared cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def segment(gtzan_clip: Path) -> torch.Tensor:
    """A 3-s stretch of a real GTZAN clip at the GAN's rate (129 frames, as the GAN draws)."""
    samples = load_audio(gtzan_clip, sample_rate=RATE).samples
    return torch.from_numpy(np.ascontiguousarray(samples[5 * RATE : 5 * RATE + 128 * HOP]))


def stft(wave: torch.Tensor) -> torch.Tensor:
    return torch.stft(
        wave, N_FFT, HOP, window=WINDOW, return_complex=True, pad_mode="constant"
    )  # fmt: skip


def convergence(magnitude: torch.Tensor, wave: torch.Tensor) -> float:
    """‖S − |STFT(x̂)|‖ / ‖S‖: how far the audio's spectrogram is from the one asked for."""
    return float(torch.linalg.norm(stft(wave).abs() - magnitude) / torch.linalg.norm(magnitude))


def random_phase(shape: torch.Size) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(0)) * 2 * torch.pi


@pytest.mark.parametrize("method", ["tree", "heap"])
def test_pghi_starts_closer_than_random_phase_on_a_real_clip(
    segment: torch.Tensor, method: str
) -> None:
    magnitude = stft(segment).abs()
    phase = torch.from_numpy(pghi(magnitude.double().numpy(), N_FFT, HOP, method=method))
    length = len(segment)
    with torch.inference_mode():
        for n_iter in (0, 4):
            ours = griffin_lim(magnitude, N_FFT, HOP, n_iter, length=length, phase=phase.float())
            rand = griffin_lim(
                magnitude, N_FFT, HOP, n_iter, length=length, phase=random_phase(magnitude.shape)
            )
            assert convergence(magnitude, ours) < convergence(magnitude, rand)
    # Without a single iteration PGHI's phase is already most of the way (random: ~0.6).
    assert convergence(magnitude, griffin_lim(magnitude, N_FFT, HOP, 0, phase=phase.float())) < 0.3


def test_mel_inversion_with_pghi_beats_random_at_the_same_iterations(segment: torch.Tensor) -> None:
    """The Generate page's path: log-mel → recovered magnitude → PGHI → Griffin-Lim."""
    with torch.inference_mode():
        mel = LogMel(PATCH_SPEC)(segment)
        magnitude = mel_to_magnitude(mel, PATCH_SPEC)
        for n_iter in (1, 8):
            ours, rand = (
                mel_to_audio(mel, PATCH_SPEC, n_iter, len(segment), phase_init=start)
                for start in ("pghi", "random")
            )
            assert convergence(magnitude, ours) < convergence(magnitude, rand)


def test_output_is_finite_and_of_the_asked_length(segment: torch.Tensor) -> None:
    with torch.inference_mode():
        mel = LogMel(PATCH_SPEC)(torch.stack([segment, segment.flip(0)]))
        waves = mel_to_audio(mel, PATCH_SPEC, n_iter=2, length=len(segment) - 100)
        default_length = mel_to_audio(mel[0], PATCH_SPEC, n_iter=0)
    assert waves.shape == (2, len(segment) - 100)
    assert torch.isfinite(waves).all() and waves.abs().max() > 0
    assert default_length.shape == ((mel.shape[-1] - 1) * HOP,)


def test_silence_gives_finite_silence() -> None:
    assert np.isfinite(pghi(np.zeros((1 + N_FFT // 2, 20)), N_FFT, HOP)).all()
    assert np.isfinite(pghi(np.zeros((1 + N_FFT // 2, 1)), N_FFT, HOP)).all()
    silent = torch.full((PATCH_SPEC.n_mels, 40), -100.0)  # LogMel's floor for digital silence
    with torch.inference_mode():
        wave = mel_to_audio(silent, PATCH_SPEC, n_iter=3, phase_init="pghi")
    assert torch.isfinite(wave).all()
    assert float(wave.abs().max()) < 1e-3


def test_a_pure_tone_phase_advances_at_its_frequency() -> None:
    freq = 1000.3  # between bins, so the frequency comes from the magnitude's slope
    t = torch.arange(3 * RATE, dtype=torch.float64) / RATE
    magnitude = stft(torch.sin(2 * torch.pi * freq * t).float()).abs()
    phase = pghi(magnitude.double().numpy(), N_FFT, HOP)
    peak = int(magnitude[:, 40].argmax())
    advance = np.angle(np.exp(1j * np.diff(phase[peak, 10:-10])))  # wrapped to (-π, π]
    expected = np.angle(np.exp(1j * 2 * np.pi * freq * HOP / RATE))
    assert np.allclose(advance, expected, atol=0.05)


def test_more_mel_refinements_bring_the_round_trip_closer(segment: torch.Tensor) -> None:
    frontend = LogMel(PATCH_SPEC)
    with torch.inference_mode():
        mel = frontend(segment)
        waves = [mel_to_audio(mel, PATCH_SPEC, 8, mel_iters=m) for m in (10, 100)]
        errors = [float(spectral_convergence(mel, frontend(wave))) for wave in waves]
    assert errors[1] < errors[0]


@pytest.mark.parametrize("shape", [(128, 40), (3, 128, 40), (2, 2, 128, 7)])
def test_sparse_mel_inversion_matches_the_dense_updates(shape: tuple[int, ...]) -> None:
    mel_power = torch.rand(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    fb = torch.from_numpy(mel_filterbank(RATE, N_FFT, PATCH_SPEC.n_mels)).double()
    start = torch.linalg.pinv(fb.float()).double()  # the float32 pseudo-inverse, as cached
    dense = torch.clamp(start @ mel_power, min=0.0) + 1e-10
    for _ in range(20):
        dense = dense * (fb.T @ mel_power) / (fb.T @ (fb @ dense) + 1e-10)
    assert torch.allclose(mel_to_linear(mel_power, PATCH_SPEC, 20), dense, rtol=1e-9, atol=1e-15)


def test_a_batch_is_phased_in_threads_to_the_same_values_as_one_by_one(segment) -> None:
    magnitude = stft(segment).abs().double().numpy()
    batch = np.stack([magnitude, magnitude * 0.5, magnitude[::-1].copy()])[None]  # [1, 3, ...]
    together = pghi_batch(batch, N_FFT, HOP, seed=4)
    assert together.shape == batch.shape
    for i, item in enumerate(batch[0]):
        assert np.array_equal(together[0, i], pghi(item, N_FFT, HOP, seed=4 + i))
