"""Sample-rate conversion with soxr (fast, high quality, no numba)."""

import numpy as np
import soxr


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Resample a mono float32 signal; returns the input unchanged when the rates agree."""
    if source_rate == target_rate:
        return samples.astype(np.float32, copy=False)
    return soxr.resample(samples.astype(np.float32, copy=False), source_rate, target_rate)
