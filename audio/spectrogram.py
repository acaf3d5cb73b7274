"""Mel spectrograms in torch, numerically matching ``librosa.feature.melspectrogram``.

librosa's own call compiles numba kernels on first use (~2 s); this front-end is plain torch,
so the first request is as fast as the hundredth.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeGuard, get_args

import numpy as np
import torch

LogKind = Literal["none", "db", "log10_1p"]


@dataclass(frozen=True)
class MelSpec:
    """Front-end parameters; stored in every model bundle so training and serving agree."""

    sample_rate: int = 22050
    n_fft: int = 2048
    hop: int = 512
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    power: float = 2.0
    # "db": 10·log10(max(x, 1e-10)); "log10_1p": log10(1 + 10000·x), musicnn's compression.
    log: LogKind = "db"

    def frames_for(self, seconds: float) -> int:
        """Number of frames in a window of ``seconds`` (floored, as musicnn does)."""
        return int(seconds * self.sample_rate / self.hop)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MelSpec:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    @classmethod
    def checked(cls, data: object) -> MelSpec:
        """:meth:`from_dict` for a front-end read from a bundle's file: ValueError naming the
        first field of the wrong kind or out of range, before any model or sound is made."""
        if not isinstance(data, dict):
            raise ValueError("the front-end must be an object")
        spec = cls.from_dict(data)
        for name in ("sample_rate", "n_fft", "hop", "n_mels"):
            value = getattr(spec, name)
            if not whole_number(value) or value < 1:
                raise ValueError(f"the front-end's {name} must be a whole number above 0, "
                                 f"not {value!r}")  # fmt: skip
        if not MIN_SAMPLE_RATE <= spec.sample_rate <= MAX_SAMPLE_RATE:
            raise ValueError(f"the front-end's sample rate must lie between {MIN_SAMPLE_RATE} "
                             f"and {MAX_SAMPLE_RATE} Hz, not {spec.sample_rate}")  # fmt: skip
        if not MIN_FFT <= spec.n_fft <= MAX_FFT:
            raise ValueError(f"the front-end's n_fft must lie between {MIN_FFT} and {MAX_FFT}")
        if not MIN_FRAME_RATE <= spec.sample_rate / spec.hop <= MAX_FRAME_RATE:
            raise ValueError(f"the front-end's hop must give {MIN_FRAME_RATE} to "
                             f"{MAX_FRAME_RATE} frames a second")  # fmt: skip
        if spec.n_mels > spec.n_fft // 2 + 1:
            raise ValueError("the front-end has more mel bands than frequency bins")
        if not finite_number(spec.fmin) or not 0 <= spec.fmin < spec.sample_rate / 2:
            raise ValueError(f"the front-end's fmin must lie from 0 Hz up to half the sample "
                             f"rate, not {spec.fmin!r}")  # fmt: skip
        if spec.fmax is not None and (
            not finite_number(spec.fmax) or not spec.fmin < spec.fmax <= spec.sample_rate / 2
        ):
            raise ValueError(f"the front-end's fmax must be empty or lie above fmin and up to "
                             f"half the sample rate, not {spec.fmax!r}")  # fmt: skip
        if not finite_number(spec.power) or not 0 < spec.power <= 2:
            raise ValueError(f"the front-end's power must lie above 0 and at most 2, "
                             f"not {spec.power!r}")  # fmt: skip
        if spec.log not in get_args(LogKind):
            raise ValueError(f"the front-end's log must be one of {', '.join(get_args(LogKind))}, "
                             f"not {spec.log!r}")  # fmt: skip
        return spec


# What a front-end read from a file may ask for (MelSpec.checked): every front-end this project
# uses lies well inside, and outside them a clip's frames or windows would not fit in memory.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4000, 192000
MIN_FFT, MAX_FFT = 16, 65536
MIN_FRAME_RATE, MAX_FRAME_RATE = 10, 200


def whole_number(value: object) -> TypeGuard[int]:
    """Whether a value read from a JSON file is a whole number (an int, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def finite_number(value: object) -> TypeGuard[int | float]:
    """Whether a value read from a JSON file is a number a float can hold: an int or float (not
    a bool), neither NaN nor infinite, nor an integer too long for a float. Every bundle check
    (MelSpec.checked, gan.bundle_checks, genre.bundle) asks this one question."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # a 400-digit integer is valid JSON
        return False


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, ``htk=False``)."""
    hz = np.asanyarray(hz, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = hz / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    log_region = hz >= min_log_hz
    mels = np.where(
        log_region, min_log_mel + np.log(np.maximum(hz, 1e-12) / min_log_hz) / logstep, mels
    )
    return mels


def mel_to_hz(mels: np.ndarray) -> np.ndarray:
    mels = np.asanyarray(mels, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(
        mels >= min_log_mel, min_log_hz * np.exp(logstep * (mels - min_log_mel)), f_sp * mels
    )


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Slaney-normalised triangular filters, shape [n_mels, 1 + n_fft // 2], float32."""
    fmax = sample_rate / 2.0 if fmax is None else fmax
    fft_freqs = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)
    mel_freqs = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(mel_freqs)
    ramps = mel_freqs[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_freqs[2 : n_mels + 2] - mel_freqs[:n_mels]))[:, None]
    return weights.astype(np.float32)


class LogMel(torch.nn.Module):
    """Waveform [batch, samples] (or [samples]) → log-mel [batch, n_mels, frames]."""

    def __init__(self, spec: MelSpec) -> None:
        super().__init__()
        self.spec = spec
        fb = mel_filterbank(spec.sample_rate, spec.n_fft, spec.n_mels, spec.fmin, spec.fmax)
        self.register_buffer("filterbank", torch.from_numpy(fb), persistent=False)
        self.register_buffer("window", torch.hann_window(spec.n_fft), persistent=False)

    def power_mel(self, wave: torch.Tensor) -> torch.Tensor:
        squeeze = wave.dim() == 1
        wave = wave.unsqueeze(0) if squeeze else wave
        stft = torch.stft(
            wave,
            n_fft=self.spec.n_fft,
            hop_length=self.spec.hop,
            window=self.window.to(wave.dtype),
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        mag = stft.abs()
        power = mag**2 if self.spec.power == 2.0 else mag**self.spec.power
        mel = torch.matmul(self.filterbank.to(power.dtype), power)
        return mel.squeeze(0) if squeeze else mel

    def compress(self, mel: torch.Tensor) -> torch.Tensor:
        return compress(mel, self.spec)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.compress(self.power_mel(wave))


def compress(mel_power: torch.Tensor, spec: MelSpec) -> torch.Tensor:
    """Mel power → ``spec``'s log scale (see :attr:`MelSpec.log`)."""
    if spec.log == "db":
        return 10.0 * torch.log10(torch.clamp(mel_power, min=1e-10))
    if spec.log == "log10_1p":
        return torch.log10(1.0 + 10000.0 * mel_power)
    return mel_power


def decompress(log_mel: torch.Tensor, spec: MelSpec) -> torch.Tensor:
    """The inverse of :func:`compress`: ``spec``'s log scale → mel power (never negative)."""
    if spec.log == "db":
        power = torch.pow(10.0, log_mel / 10.0)
    elif spec.log == "log10_1p":
        power = (torch.pow(10.0, log_mel) - 1.0) / 10000.0
    else:
        power = log_mel
    return torch.clamp(power, min=0.0)


def log_mel(samples: np.ndarray, spec: MelSpec) -> np.ndarray:
    """Convenience numpy wrapper: mono float32 samples → [n_mels, frames] float32."""
    with torch.inference_mode():
        out = LogMel(spec)(torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)))
    return out.numpy()
