"""Spectrogram inversion in torch: mel → linear magnitude → waveform (Griffin-Lim).

librosa's ``mel_to_audio`` spends most of its time in an NNLS mel inversion; a projected
pseudo-inverse plus multiplicative refinements through the (sparse) filterbank is far faster
and close enough to hear. Griffin-Lim then starts from PGHI phase (:mod:`audio.pghi`).
The filterbank and its pseudo-inverse are computed once per front-end and cached.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Literal

import torch

from audio.pghi import pghi_batch
from audio.spectrogram import MelSpec, decompress, mel_filterbank

PhaseInit = Literal["random", "pghi"]
# Measured on resynthesised GTZAN segments (bench/bench_sonification.py): see README, Generate.
DEFAULT_PHASE_INIT: PhaseInit = "pghi"
# A magnitude recovered from a mel has a floor; 1e-2 converges as well as the paper's 1e-5
# there and skips the quiet coefficients, about three times faster.
MEL_PGHI_TOL = 1e-2
# Refinements of the mel → linear magnitude (mel_to_linear), measured likewise: 100 rather than
# 10 brings the resynthesised segments' mel and genre embeddings closer to the real ones than
# the better phase does, for ~25 ms per 3-s clip with the sparse filterbank.
MEL_INVERSION_ITERS = 100


@lru_cache(maxsize=8)
def _filterbank_and_pinv(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None
) -> tuple[torch.Tensor, torch.Tensor]:
    # Cached for every caller, so made outside inference mode even when a serving call comes
    # first: inference tensors would refuse a caller that tracks gradients (audio.resonify).
    with torch.inference_mode(False):
        fb = torch.from_numpy(mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax))
        return fb, torch.linalg.pinv(fb)


def mel_basis(spec: MelSpec) -> torch.Tensor:
    """``spec``'s mel filterbank [n_mels, 1 + n_fft//2] as a tensor, from the cache above (so
    it serves callers with and without gradients alike)."""
    return _filterbank_and_pinv(spec.sample_rate, spec.n_fft, spec.n_mels, spec.fmin, spec.fmax)[0]


@lru_cache(maxsize=8)
def _hann(n_fft: int) -> torch.Tensor:
    return torch.hann_window(n_fft)


@lru_cache(maxsize=8)
def _sparse_filterbank(spec: MelSpec, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """The filterbank and its transpose as CSR: each linear bin feeds at most two mel bands, so
    the refinement's products cost a fifth of dense ones (2 000 of 131 000 entries are set)."""
    fb = mel_basis(spec)
    with warnings.catch_warnings(), torch.inference_mode(False):  # as above
        warnings.simplefilter("ignore", UserWarning)  # torch labels CSR support "beta"
        return fb.to(dtype).to_sparse_csr(), fb.T.contiguous().to(dtype).to_sparse_csr()


def mel_to_linear(mel_power: torch.Tensor, spec: MelSpec, n_iter: int = 10) -> torch.Tensor:
    """Non-negative linear power spectrogram [.., 1 + n_fft//2, T] whose mel projection ≈ input."""
    _, pinv = _filterbank_and_pinv(spec.sample_rate, spec.n_fft, spec.n_mels, spec.fmin, spec.fmax)
    # on the mel's device: the GAN's musicnn discriminator refines mels where it trains
    fb, fb_t = (m.to(mel_power.device) for m in _sparse_filterbank(spec, mel_power.dtype))
    lead, (n_mels, frames) = mel_power.shape[:-2], mel_power.shape[-2:]
    # One 2-D [n_mels, batch·T] operand: the sparse products take matrices only.
    mel = mel_power.reshape(-1, n_mels, frames).transpose(0, 1).reshape(n_mels, -1)
    linear = torch.clamp(pinv.to(device=mel.device, dtype=mel.dtype) @ mel, min=0.0) + 1e-10
    # Multiplicative NMF-style updates keep the estimate non-negative and reduce ||fb·x − mel||.
    numerator = fb_t @ mel  # constant across iterations
    for _ in range(n_iter):
        linear = linear * numerator / (fb_t @ (fb @ linear) + 1e-10)
    out = linear.reshape(linear.shape[0], -1, frames).transpose(0, 1)
    return out.reshape(*lead, linear.shape[0], frames).contiguous()


def griffin_lim(
    magnitude: torch.Tensor,
    n_fft: int,
    hop: int,
    n_iter: int = 32,
    momentum: float = 0.99,
    length: int | None = None,
    seed: int = 0,
    phase: torch.Tensor | None = None,
) -> torch.Tensor:
    """Fast Griffin-Lim (Perraudin et al. 2013): magnitude [.., F, T] → waveform [.., N].

    ``phase`` (radians, shaped like ``magnitude``) starts the iterations instead of random
    phase; with it ``n_iter`` may be 0 (that phase as it is). Random phase always gets at
    least one iteration, since unrefined it is noise.

    Matches ``torch.istft``/``torch.stft`` with a centred Hann window and zero padding. When
    ``hop`` divides ``n_fft`` the loop stays in the padded frame domain (one rfft, one irfft and
    an overlap-add of ``n_fft / hop`` shifted copies per iteration, no re-padding or trimming),
    which is about a quarter faster than calling ``torch.istft`` and ``torch.stft``.
    """
    shape = magnitude.shape
    frames_, bins = shape[-1], shape[-2]
    length = length if length is not None else (frames_ - 1) * hop
    window = _hann(n_fft).to(magnitude.dtype)
    iterations = n_iter if phase is not None else max(1, n_iter)
    if phase is None:
        generator = torch.Generator().manual_seed(seed)
        phase = torch.rand(shape, generator=generator, dtype=magnitude.dtype) * 2 * torch.pi
    angles = torch.polar(torch.ones_like(magnitude), phase.to(magnitude.dtype))
    alpha = momentum / (1 + momentum)
    if n_fft % hop != 0 or length > (frames_ - 1) * hop + n_fft // 2:  # torch's transforms
        previous = torch.zeros_like(angles)
        for _ in range(iterations):
            wave = torch.istft(magnitude * angles, n_fft, hop, window=window, length=length)
            rebuilt = torch.stft(
                wave, n_fft, hop, window=window, return_complex=True, pad_mode="constant"
            )
            angles = torch.sgn(torch.add(rebuilt, previous, alpha=-alpha))
            previous = rebuilt
        return torch.istft(magnitude * angles, n_fft, hop, window=window, length=length)

    # Frame-domain layout [batch, frames, bins]: rfft/irfft work on the last, contiguous axis.
    mag = magnitude.reshape(-1, bins, frames_).transpose(1, 2).contiguous()
    angles = angles.reshape(-1, bins, frames_).transpose(1, 2).contiguous()
    batch, ratio, pad = mag.shape[0], n_fft // hop, n_fft // 2
    n_padded = (frames_ - 1) * hop + n_fft
    envelope = _overlap_add((window**2).expand(1, frames_, n_fft), ratio, hop)[0, :n_padded]
    inside = torch.zeros(n_padded, dtype=mag.dtype)
    inside[pad : pad + length] = 1.0  # outside the signal the true STFT input is zero padding
    scale = inside / envelope.clamp(min=1e-11)

    def to_wave(spec: torch.Tensor) -> torch.Tensor:
        frames = torch.fft.irfft(spec, n=n_fft, dim=-1) * window
        return _overlap_add(frames, ratio, hop)[:, :n_padded] * scale

    def to_spec(wave: torch.Tensor) -> torch.Tensor:
        return torch.fft.rfft(wave.unfold(-1, n_fft, hop) * window, dim=-1)

    previous = torch.zeros_like(angles)
    for _ in range(iterations):
        rebuilt = to_spec(to_wave(mag * angles))
        angles = torch.sgn(torch.add(rebuilt, previous, alpha=-alpha))
        previous = rebuilt
    wave = to_wave(mag * angles)[:, pad : pad + length]
    return wave.reshape(*shape[:-2], length).contiguous() if batch else wave


def _overlap_add(frames: torch.Tensor, ratio: int, hop: int) -> torch.Tensor:
    """Sum frames [B, T, ratio·hop] placed ``hop`` apart → [B, (T + ratio - 1)·hop]."""
    batch, count = frames.shape[0], frames.shape[1]
    chunks = frames.reshape(batch, count, ratio, hop)
    out = torch.zeros(batch, count + ratio - 1, hop, dtype=frames.dtype)
    for j in range(ratio):
        out[:, j : j + count] += chunks[:, :, j]
    return out.reshape(batch, -1)


def mel_to_audio(
    log_mel: torch.Tensor,
    spec: MelSpec,
    n_iter: int = 32,
    length: int | None = None,
    phase_init: PhaseInit = DEFAULT_PHASE_INIT,
    mel_iters: int = MEL_INVERSION_ITERS,
) -> torch.Tensor:
    """Invert a log-mel made by :class:`audio.spectrogram.LogMel` with the same ``spec``.

    ``phase_init="pghi"`` starts Griffin-Lim from the phase the recovered magnitude implies
    (:mod:`audio.pghi`) rather than from random phase; ``mel_iters`` refines the magnitude.
    """
    magnitude = mel_to_magnitude(log_mel, spec, mel_iters)
    phase = pghi_phase(magnitude, spec) if phase_init == "pghi" else None
    return griffin_lim(magnitude, spec.n_fft, spec.hop, n_iter=n_iter, length=length, phase=phase)


def mel_to_magnitude(
    log_mel: torch.Tensor, spec: MelSpec, mel_iters: int = MEL_INVERSION_ITERS
) -> torch.Tensor:
    """Linear STFT magnitude [.., 1 + n_fft//2, T] recovered from a log-mel of ``spec``."""
    linear_power = mel_to_linear(decompress(log_mel, spec), spec, mel_iters)
    return torch.pow(linear_power, 1.0 / spec.power)


def pghi_phase(magnitude: torch.Tensor, spec: MelSpec, seed: int = 0) -> torch.Tensor:
    """The phase PGHI finds for a magnitude STFT [.., bins, frames] of ``spec`` (numpy, so no
    gradient flows through it), as a tensor of the magnitude's type and device."""
    found = pghi_batch(magnitude.detach().cpu().double().numpy(), spec.n_fft, spec.hop,
                       tol=MEL_PGHI_TOL, seed=seed)  # fmt: skip
    return torch.from_numpy(found).to(device=magnitude.device, dtype=magnitude.dtype)
