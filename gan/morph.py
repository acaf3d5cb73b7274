"""Genre morphs and blends: clips whose genre condition changes, or mixes, along the way.

A morph walks the genre condition from one genre to another over consecutive patches (a
smoothstep, so it lingers at both ends), while the noise takes the same small steps as any
long clip; the patches cross-fade and the whole spectrogram is inverted at once, as in
:mod:`gan.sample`. The generator blends genres by mixing their learnt embeddings and
batch-norm gains (:func:`gan.model.lookup`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from gan.bundle import GanBundle
from gan.config import GRIFFIN_LIM_ITERS, MAX_SECONDS, SEED_MAX
from gan.errors import GanError
from gan.sample import (
    OVERLAP_FRAMES,
    GeneratedAudio,
    clip_frames,
    mels_from_condition,
    noise_walk,
    normalise_loudness,
    patches_for,
    sonify,
)

MIN_MORPH_SECONDS = 10.0  # shorter and there is no room to drift


@dataclass
class Rendered(GeneratedAudio):
    """A generated clip with the genre mix each of its patches was asked for."""

    title: str
    audio: np.ndarray  # float32 mono, loudness-normalised
    sample_rate: int
    mel_db: np.ndarray  # [n_mels, frames]
    hop_s: float
    labels: tuple[str, ...]
    weights: np.ndarray  # [patches, n_labels], each row sums to 1
    patch_step_s: float  # time between the starts of consecutive patches


def blend_schedule(patches: int) -> np.ndarray:
    """Share of the second genre per patch: 0 → 1, never decreasing, flat at both ends."""
    if patches == 1:
        return np.array([0.5])
    t = np.linspace(0.0, 1.0, patches)
    return t * t * (3.0 - 2.0 * t)


def morph_weights(bundle: GanBundle, start: str, end: str, patches: int) -> np.ndarray:
    """[patches, n_labels] condition of a morph from ``start`` to ``end``."""
    a, b = bundle.genre_index(start), bundle.genre_index(end)
    share = blend_schedule(patches)
    weights = np.zeros((patches, len(bundle.labels)))
    weights[:, a] += 1.0 - share
    weights[:, b] += share
    return weights


def blend_weights(bundle: GanBundle, mix: Mapping[str, float], patches: int) -> np.ndarray:
    """[patches, n_labels]: the same mix of genres (normalised to sum to 1) in every patch."""
    row = np.zeros(len(bundle.labels))
    for genre, share in mix.items():
        row[bundle.genre_index(genre)] += max(0.0, float(share))
    if row.sum() <= 0:
        raise GanError("Give at least one genre a share above zero.")
    return np.tile(row / row.sum(), (patches, 1))


def _check(seconds: float, seed: int, low: float) -> None:
    if not low <= seconds <= MAX_SECONDS:
        raise GanError(f"Clips can be between {low:g} and {MAX_SECONDS:g} seconds long.")
    if not 0 <= int(seed) <= SEED_MAX:
        raise GanError(f"The seed must be between 0 and {SEED_MAX}.")


def render(
    bundle: GanBundle,
    weights: np.ndarray,
    seconds: float,
    seed: int,
    title: str,
    n_iter: int = GRIFFIN_LIM_ITERS,
) -> Rendered:
    """One clip of ``seconds`` whose k-th patch is conditioned on ``weights[k]``."""
    patches = patches_for(seconds, bundle)
    if weights.shape != (patches, len(bundle.labels)):
        raise GanError(f"Expected genre weights for {patches} patches.")
    rng = torch.Generator().manual_seed(int(seed))
    z = noise_walk(1, patches, bundle.config.z_dim, rng)
    y = torch.from_numpy(weights.astype(np.float32))
    mel_db = mels_from_condition(bundle, y, z)[..., : clip_frames(seconds, bundle)]
    rate, hop = bundle.spec.sample_rate, bundle.spec.hop
    wave = sonify(mel_db, bundle, n_iter=n_iter)[0]
    step_frames = bundle.config.frames - OVERLAP_FRAMES
    return Rendered(
        title=title,
        audio=normalise_loudness(wave, rate),
        sample_rate=rate,
        mel_db=mel_db[0].numpy(),
        hop_s=hop / rate,
        labels=bundle.labels,
        weights=weights,
        patch_step_s=step_frames * hop / rate,
    )


def morph(
    bundle: GanBundle,
    start: str,
    end: str,
    seconds: float = 20.0,
    seed: int = 0,
    n_iter: int = GRIFFIN_LIM_ITERS,
) -> Rendered:
    """A clip that starts as ``start`` and drifts into ``end``."""
    if start == end:
        raise GanError("Pick two different genres to morph between.")
    _check(seconds, seed, MIN_MORPH_SECONDS)
    patches = patches_for(seconds, bundle)
    weights = morph_weights(bundle, start, end, patches)
    return render(bundle, weights, seconds, seed, f"{start} → {end}", n_iter)


def blend(
    bundle: GanBundle,
    mix: Mapping[str, float],
    seconds: float = 10.0,
    seed: int = 0,
    n_iter: int = GRIFFIN_LIM_ITERS,
) -> Rendered:
    """A clip with the same mix of genres throughout (one genre: a plain long sample)."""
    _check(seconds, seed, 1.0)
    patches = patches_for(seconds, bundle)
    weights = blend_weights(bundle, mix, patches)
    shares = zip(bundle.labels, weights[0], strict=True)
    title = " + ".join(f"{g} {s:.0%}" for g, s in shares if s > 0)
    return render(bundle, weights, seconds, seed, title, n_iter)
