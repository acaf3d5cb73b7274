"""Spectrogram front-ends for training: the app's log-mel, or a log-power STFT.

Only the log-mel front-end matches what ``genre.Classifier`` computes at serving time, so only
models trained on it can be promoted to the Classify page.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import torch

from audio import MelSpec, log_mel

STFT_N_FFT = 510  # 256 frequency bins: fine detail at a size the small models can afford


@dataclass(frozen=True)
class Frontend:
    kind: str  # "mel" | "stft"
    spec: MelSpec  # for "stft": sample_rate, hop and log are used; n_fft is STFT_N_FFT

    @property
    def bins(self) -> int:
        return self.spec.n_mels if self.kind == "mel" else STFT_N_FFT // 2 + 1

    @property
    def servable(self) -> bool:
        """Can a model on this front-end be bundled for the Classify page?"""
        return self.kind == "mel"

    def frames_for(self, seconds: float) -> int:
        return self.spec.frames_for(seconds)

    def hop_frames(self, seconds: float) -> int:
        return max(1, round(seconds * self.spec.sample_rate / self.spec.hop))

    def key(self) -> str:
        """Stable hash of everything that changes the output; names the cache folder."""
        payload = json.dumps({"kind": self.kind, **self.spec.to_dict()}, sort_keys=True)
        return hashlib.sha1(payload.encode()).hexdigest()[:16]

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """Mono float32 samples at ``spec.sample_rate`` → [bins, frames] float32."""
        if self.kind == "mel":
            return log_mel(samples, self.spec)
        return log_stft(samples, self.spec.hop)


def log_stft(samples: np.ndarray, hop: int, n_fft: int = STFT_N_FFT) -> np.ndarray:
    """Power spectrogram in dB, [n_fft // 2 + 1, frames], same framing as the log-mel."""
    with torch.inference_mode():
        wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
        spec = torch.stft(
            wave,
            n_fft=n_fft,
            hop_length=hop,
            window=torch.hann_window(n_fft),
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        power = spec.abs() ** 2
        return (10.0 * torch.log10(torch.clamp(power, min=1e-10))).numpy()


def make_frontend(kind: str, sample_rate: int, n_fft: int, hop: int, n_mels: int) -> Frontend:
    spec = MelSpec(sample_rate=sample_rate, n_fft=n_fft, hop=hop, n_mels=n_mels, log="db")
    return Frontend(kind=kind, spec=spec)
