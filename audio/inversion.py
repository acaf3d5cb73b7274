"""Spectrogram inversion in torch: mel → linear magnitude → waveform (Griffin-Lim).

librosa's ``mel_to_audio`` spends most of its time in an NNLS mel inversion; a projected
pseudo-inverse plus a few multiplicative refinements is far faster and close enough to hear.
The filterbank and its pseudo-inverse are computed once per front-end and cached.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from audio.spectrogram import MelSpec, mel_filterbank


@lru_cache(maxsize=8)
def _filterbank_and_pinv(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None
) -> tuple[torch.Tensor, torch.Tensor]:
    fb = torch.from_numpy(mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax))
    return fb, torch.linalg.pinv(fb)


@lru_cache(maxsize=8)
def _hann(n_fft: int) -> torch.Tensor:
    return torch.hann_window(n_fft)


def mel_to_linear(mel_power: torch.Tensor, spec: MelSpec, n_iter: int = 10) -> torch.Tensor:
    """Non-negative linear power spectrogram [.., 1 + n_fft//2, T] whose mel projection ≈ input."""
    fb, pinv = _filterbank_and_pinv(spec.sample_rate, spec.n_fft, spec.n_mels, spec.fmin, spec.fmax)
    fb, pinv = fb.to(mel_power.dtype), pinv.to(mel_power.dtype)
    linear = torch.clamp(pinv @ mel_power, min=0.0) + 1e-10
    # Multiplicative NMF-style updates keep the estimate non-negative and reduce ||fb·x − mel||.
    numerator = fb.T @ mel_power  # constant across iterations
    for _ in range(n_iter):
        linear = linear * numerator / (fb.T @ (fb @ linear) + 1e-10)
    return linear


def griffin_lim(
    magnitude: torch.Tensor,
    n_fft: int,
    hop: int,
    n_iter: int = 32,
    momentum: float = 0.99,
    length: int | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Fast Griffin-Lim (Perraudin et al. 2013): magnitude [.., F, T] → waveform [.., N]."""
    window = _hann(n_fft).to(magnitude.dtype)
    generator = torch.Generator().manual_seed(seed)
    phase = torch.rand(magnitude.shape, generator=generator, dtype=magnitude.dtype) * 2 * torch.pi
    angles = torch.polar(torch.ones_like(magnitude), phase)
    previous = torch.zeros_like(angles)
    alpha = momentum / (1 + momentum)
    for _ in range(max(1, n_iter)):
        wave = torch.istft(magnitude * angles, n_fft, hop, window=window, length=length)
        rebuilt = torch.stft(
            wave, n_fft, hop, window=window, return_complex=True, pad_mode="constant"
        )
        # sgn(z) = z/|z| in one pass; the accelerated estimate re-uses the previous rebuild.
        angles = torch.sgn(rebuilt - alpha * previous)
        previous = rebuilt
    return torch.istft(magnitude * angles, n_fft, hop, window=window, length=length)


def mel_to_audio(
    log_mel: torch.Tensor, spec: MelSpec, n_iter: int = 32, length: int | None = None
) -> torch.Tensor:
    """Invert a log-mel made by :class:`audio.spectrogram.LogMel` with the same ``spec``."""
    if spec.log == "db":
        mel_power = torch.pow(10.0, log_mel / 10.0)
    elif spec.log == "log10_1p":
        mel_power = (torch.pow(10.0, log_mel) - 1.0) / 10000.0
    else:
        mel_power = log_mel
    linear_power = mel_to_linear(torch.clamp(mel_power, min=0.0), spec)
    magnitude = torch.pow(linear_power, 1.0 / spec.power)
    return griffin_lim(magnitude, spec.n_fft, spec.hop, n_iter=n_iter, length=length)
