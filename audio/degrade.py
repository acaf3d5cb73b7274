"""Copies of a recording as other recording chains would deliver it: quieter or louder, band
limited (a phone, an old MP3, a laptop microphone), with noise behind, tilted towards bass or
treble. Used to train models that do not depend on how 1990s CDs sound, and to test them.
"""

from __future__ import annotations

import numpy as np

from audio.resample import resample


def coloured_noise(
    rng: np.random.Generator, n: int, exponent: float, sample_rate: int
) -> np.ndarray:
    """Noise with power ∝ 1/f^exponent (0 white, 1 pink, 2 brown)."""
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.fft.rfftfreq(n, 1 / sample_rate)
    f[0] = f[1]
    return np.fft.irfft(spectrum / f ** (exponent / 2), n)


def gain(x: np.ndarray, db: float) -> np.ndarray:
    return (x * 10 ** (db / 20)).astype(np.float32)


def band_limit(x: np.ndarray, sample_rate: int, cutoff_hz: float) -> np.ndarray:
    """Keep what a recording at twice ``cutoff_hz`` keeps (resampled down and back up)."""
    low = int(2 * cutoff_hz)
    if low >= sample_rate:
        return x.astype(np.float32)
    return resample(resample(x, sample_rate, low), low, sample_rate)[: len(x)]


def add_noise(
    x: np.ndarray, sample_rate: int, snr_db: float, exponent: float, rng: np.random.Generator
) -> np.ndarray:
    """``x`` with coloured noise ``snr_db`` below its own power."""
    noise = coloured_noise(rng, len(x), exponent, sample_rate)
    scale = np.sqrt(np.mean(x**2) / (np.mean(noise**2) + 1e-12)) * 10 ** (-snr_db / 20)
    return (x + scale * noise).astype(np.float32)


def eq_tilt(x: np.ndarray, sample_rate: int, db_per_octave: float) -> np.ndarray:
    """A straight spectral tilt around 1 kHz (negative: more bass, positive: more treble)."""
    spectrum = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / sample_rate)
    f[0] = f[1]
    shaped = spectrum * 10 ** (db_per_octave * np.log2(f / 1000) / 20)
    return np.fft.irfft(shaped, len(x)).astype(np.float32)


def random_recording_chain(x: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """One or two of: band limit (2.5-6 kHz), white or brown noise (8-25 dB SNR), gain
    (-30..+6 dB), EQ tilt (±4 dB per octave). Pink noise is left out so that it can test."""
    for step in rng.permutation(4)[: rng.integers(1, 3)]:
        if step == 0:
            x = band_limit(x, sample_rate, rng.uniform(2500, 6000))
        elif step == 1:
            x = add_noise(x, sample_rate, rng.uniform(8, 25), float(rng.choice([0, 2])), rng)
        elif step == 2:
            x = gain(x, rng.uniform(-30, 6))
        else:
            x = eq_tilt(x, sample_rate, rng.uniform(-4, 4))
    return np.clip(x, -1, 1).astype(np.float32)
