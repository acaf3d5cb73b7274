"""Sampling and sonification: genre → new log-mel spectrograms → audio you can play.

Longer clips are made of consecutive patches whose noise vectors take small steps on a sphere
(so neighbouring patches sound alike), step in level by at most a few dB
(gan.levels.even_level_steps), and overlap and cross-fade in the power domain;
the joined spectrogram is then inverted in one Griffin-Lim pass, so there is no phase seam.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from audio import mel_to_audio
from audio.render import spectrogram_png, wav_bytes
from gan.bundle import GanBundle
from gan.config import GRIFFIN_LIM_ITERS, MAX_SECONDS, SEED_MAX, max_samples, too_many_samples
from gan.critic import favourite_walks
from gan.data import denormalise
from gan.errors import GanError
from gan.levels import even_level_steps, redraw_dropouts

OVERLAP_FRAMES = 32  # ≈ 0.74 s cross-fade between consecutive patches
WALK_ANGLE = 0.6  # radians between consecutive patches' noise vectors
TARGET_DBFS = -20.0  # RMS loudness every sample is brought to
PEAK_LIMIT = 0.95  # never above this, so the WAV never clips
FADE_S = 0.01  # short fade in/out so a clip never starts or ends with a click
CHUNK = 4  # samples drawn and sonified together: batched, yet memory stays flat in the count


class GeneratedAudio:
    """What every generated clip offers: its length, a WAV and a PNG of its spectrogram."""

    audio: np.ndarray  # float32 mono
    sample_rate: int
    mel_db: np.ndarray  # log-mel [n_mels, frames] in dB

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate

    def wav_bytes(self) -> bytes:
        return wav_bytes(self.audio, self.sample_rate)

    def png_bytes(self) -> bytes:
        return spectrogram_png(self.mel_db)


@dataclass
class Sample(GeneratedAudio):
    genre: str
    seed: int
    index: int
    mel_db: np.ndarray  # generated log-mel [n_mels, frames] in dB
    audio: np.ndarray  # float32 mono, loudness-normalised, |x| <= PEAK_LIMIT
    sample_rate: int
    hop_s: float

    @property
    def name(self) -> str:
        return f"{self.genre}-seed{self.seed}-{self.index + 1:02d}"


def clip_frames(seconds: float, bundle: GanBundle) -> int:
    """Frames of a clip of ``seconds``; up to a patch and a bit (≈ 3.1 s), exactly one patch."""
    frames = round(seconds * bundle.spec.sample_rate / bundle.spec.hop) + 1
    return bundle.config.frames if frames <= bundle.config.frames + 8 else frames


def patches_for(seconds: float, bundle: GanBundle) -> int:
    """How many overlapping patches cover ``seconds`` of audio (at least one)."""
    frames = bundle.config.frames
    needed = clip_frames(seconds, bundle)
    return max(1, math.ceil((needed - OVERLAP_FRAMES) / (frames - OVERLAP_FRAMES)))


def frames_for(patches: int, frames: int) -> int:
    return frames + (patches - 1) * (frames - OVERLAP_FRAMES)


def clip_samples(seconds: float, bundle: GanBundle) -> int:
    """Audio length of a clip (Griffin-Lim of T frames gives (T - 1)·hop samples)."""
    return (clip_frames(seconds, bundle) - 1) * bundle.spec.hop


def genre_noise(seed: int, genre_id: int) -> torch.Generator:
    """The noise stream of one (seed, genre): the page, ``gan evaluate``, ``gan pick`` and the
    diagnostic tools draw a genre's clips from it, so a seed gives the same clips everywhere."""
    return torch.Generator().manual_seed(seed * 1009 + genre_id)


def noise_walk(
    n: int, patches: int, z_dim: int, generator: torch.Generator, angle: float = WALK_ANGLE
) -> torch.Tensor:
    """[n, patches, z_dim] noise; each patch's vector is a small rotation of the previous one."""
    z = torch.randn(n, z_dim, generator=generator)
    walk = [z]
    for _ in range(patches - 1):
        step = torch.randn(n, z_dim, generator=generator)
        z = z * math.cos(angle) + step * math.sin(angle)
        walk.append(z)
    return torch.stack(walk, dim=1)


def clip_noise(
    bundle: GanBundle, genre_ids: list[int], patches: int, generator: torch.Generator
) -> torch.Tensor:
    """[len(genre_ids), patches, z_dim] noise walks for clips of those genres: with a critic
    (gan.critic), each clip's is the critic's favourite of ``bundle.candidates`` walks."""
    n, z_dim = len(genre_ids), bundle.config.z_dim
    if bundle.critic is None:
        return noise_walk(n, patches, z_dim, generator)
    walks = noise_walk(n * bundle.candidates, patches, z_dim, generator)
    return favourite_walks(bundle, genre_ids, walks.reshape(n, bundle.candidates, patches, z_dim))


def join_patches(mel_db: torch.Tensor, overlap: int = OVERLAP_FRAMES) -> torch.Tensor:
    """[B, patches, n_mels, F] dB → [B, n_mels, T] dB, linear cross-fades in the power domain."""
    batch, patches, n_mels, frames = mel_db.shape
    power = torch.pow(10.0, mel_db / 10.0)
    total = frames_for(patches, frames)
    out = torch.zeros(batch, n_mels, total, dtype=power.dtype)
    weight = torch.zeros(total, dtype=power.dtype)
    ramp = torch.ones(frames, dtype=power.dtype)
    if patches > 1:
        fade = torch.linspace(0.0, 1.0, overlap + 2, dtype=power.dtype)[1:-1]
        ramp[:overlap] = fade
        ramp[-overlap:] = fade.flip(0)
    for k in range(patches):
        w = ramp.clone()
        if k == 0:
            w[:overlap] = 1.0
        if k == patches - 1:
            w[-overlap:] = 1.0
        start = k * (frames - overlap)
        out[:, :, start : start + frames] += power[:, k] * w
        weight[start : start + frames] += w
    return 10.0 * torch.log10(torch.clamp(out / weight, min=1e-10))


@torch.inference_mode()
def generate_mels(
    bundle: GanBundle, genre_ids: list[int], patches: int, generator: torch.Generator
) -> torch.Tensor:
    """Log-mels in dB [len(genre_ids), n_mels, frames_for(patches)]."""
    return mels_from_noise(bundle, genre_ids, clip_noise(bundle, genre_ids, patches, generator))


@torch.inference_mode()
def mels_from_noise(bundle: GanBundle, genre_ids: list[int], z: torch.Tensor) -> torch.Tensor:
    """[n, patches, z_dim] noise → log-mels in dB [n, n_mels, frames_for(patches)]."""
    patches = z.shape[1]
    return mels_from_condition(bundle, torch.tensor(genre_ids).repeat_interleave(patches), z)


@torch.inference_mode()
def mels_from_condition(bundle: GanBundle, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """[n, patches, z_dim] noise and each patch's genre (ids [n·patches], or genre weights
    [n·patches, n_classes] for blends) → log-mels in dB [n, n_mels, frames_for(patches)]."""
    return join_patches(patches_from_condition(bundle, y, z))


@torch.inference_mode()
def patches_from_condition(bundle: GanBundle, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Like :func:`mels_from_condition`, the clips' patches before they are joined: dB
    [n, patches, n_mels, F], dropouts and holes drawn again, level steps evened out."""
    n, patches = z.shape[0], z.shape[1]
    # with one class per recording, each clip's first noise picks its recording for every patch
    y = bundle.condition(y, z[:, :1].expand(-1, patches, -1).reshape(n * patches, -1))
    z = z.reshape(n * patches, -1) * bundle.truncation  # every path to the generator passes here

    def draw(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # [N, z_dim] → dB [N, mels, F]
        return denormalise(bundle.generator(z, y).squeeze(1), bundle.db_floor, bundle.db_ceil)

    mel_db = draw(z, y)
    if bundle.level_floors is not None or bundle.hole_limits is not None:
        # near-silent dropouts and holes: drawn again (gan.levels, gan.holes)
        mel_db = redraw_dropouts(draw, mel_db, z, y, bundle.truncation,
                                 bundle.class_floors(), bundle.hole_limits)  # fmt: skip
    return even_level_steps(mel_db.reshape(n, patches, *mel_db.shape[1:]))


def normalise_loudness(
    wave: np.ndarray,
    sample_rate: int,
    target_dbfs: float = TARGET_DBFS,
    peak_limit: float = PEAK_LIMIT,
) -> np.ndarray:
    """Bring the RMS to ``target_dbfs``, then lower the gain if a peak would pass the limit."""
    wave = np.nan_to_num(wave.astype(np.float64))
    fade = min(len(wave) // 4, int(FADE_S * sample_rate))
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade)
        wave[:fade] *= ramp
        wave[-fade:] *= ramp[::-1]
    rms = float(np.sqrt(np.mean(wave**2)))
    if rms < 1e-9:
        return wave.astype(np.float32)
    gain = 10 ** (target_dbfs / 20) / rms
    peak = float(np.max(np.abs(wave))) * gain
    if peak > peak_limit:
        gain *= peak_limit / peak
    return (wave * gain).astype(np.float32)


def sonify(mel_db: torch.Tensor, bundle: GanBundle, n_iter: int = GRIFFIN_LIM_ITERS) -> np.ndarray:
    """dB log-mels [B, n_mels, T] → raw waveforms [B, (T-1)·hop] with torch Griffin-Lim."""
    spec = bundle.spec
    length = (mel_db.shape[-1] - 1) * spec.hop
    with torch.inference_mode():
        wave = mel_to_audio(mel_db, spec, n_iter=n_iter, length=length)
    return wave.numpy()


def generate(
    bundle: GanBundle,
    genres: list[str],
    n: int,
    seed: int,
    seconds: float = 3.0,
    n_iter: int = GRIFFIN_LIM_ITERS,
) -> list[Sample]:
    """``n`` samples of each genre in ``genres``; the same (genre, seed, index) → same sample."""
    return list(iter_samples(bundle, genres, n, seed, seconds=seconds, n_iter=n_iter))


def iter_samples(
    bundle: GanBundle,
    genres: list[str],
    n: int,
    seed: int,
    seconds: float = 3.0,
    n_iter: int = GRIFFIN_LIM_ITERS,
    chunk: int = CHUNK,
) -> Iterator[Sample]:
    """Like :func:`generate`, one sample at a time, made ``chunk`` at a time so that memory
    does not grow with ``n``. The whole request is checked before anything is generated."""
    if n < 1:
        raise GanError("Ask for at least one sample.")
    cap = max_samples()
    if n > cap:
        raise GanError(too_many_samples(n, cap))
    if not genres:
        raise GanError("Pick at least one genre.")
    if not 0 < seconds <= MAX_SECONDS:
        raise GanError(f"Clips can be between 1 and {MAX_SECONDS:g} seconds long.")
    if not 0 <= int(seed) <= SEED_MAX:
        raise GanError(f"The seed must be between 0 and {SEED_MAX}.")
    ids = [bundle.genre_index(genre) for genre in genres]  # an unknown genre: before any work
    pairs = list(zip(genres, ids, strict=True))
    return _stream(bundle, pairs, n, int(seed), seconds, n_iter, max(1, chunk))


def _stream(
    bundle: GanBundle,
    genres: list[tuple[str, int]],
    n: int,
    seed: int,
    seconds: float,
    n_iter: int,
    chunk: int,
) -> Iterator[Sample]:
    patches = patches_for(seconds, bundle)
    frames = clip_frames(seconds, bundle)
    rate = bundle.spec.sample_rate
    hop_s = bundle.spec.hop / rate
    for genre, gid in genres:
        # One noise stream per (seed, genre), drawn whole (n·candidates·patches·z_dim floats:
        # a few MB at the cap): a sample does not change when chunks change.
        rng = genre_noise(seed, gid)
        noise = clip_noise(bundle, [gid] * n, patches, rng)
        for first in range(0, n, chunk):
            indices = range(first, min(n, first + chunk))
            mel_db = mels_from_noise(bundle, [gid] * len(indices), noise[first : indices.stop])
            mel_db = mel_db[..., :frames]
            waves = sonify(mel_db, bundle, n_iter=n_iter)
            for i, mel, wave in zip(indices, mel_db, waves, strict=True):
                yield Sample(
                    genre=genre,
                    seed=seed,
                    index=i,
                    mel_db=mel.numpy(),
                    audio=normalise_loudness(wave, rate),
                    sample_rate=rate,
                    hop_s=hop_s,
                )


def write_sample(sample: Sample, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<name>.wav`` and ``<name>.png`` into an existing folder; returns both paths."""
    wav = out_dir / f"{sample.name}.wav"
    png = out_dir / f"{sample.name}.png"
    sf.write(wav, sample.audio, sample.sample_rate, subtype="PCM_16")
    png.write_bytes(sample.png_bytes())
    return wav, png


def write_samples(samples: Iterable[Sample], out_dir: Path) -> list[Path]:
    """Write ``<name>.wav`` and ``<name>.png`` for every sample, as each one comes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for sample in samples:
        written += write_sample(sample, out_dir)
    return written
