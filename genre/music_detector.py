"""Is it music? A small classifier over the musicnn backbone's view of each 3-s window.

Per window the features are the backbone's 200-d penultimate embedding (trained on hundreds of
thousands of songs, it knows what music looks like) and a few signal statistics of the same
log-mel patch that the embedding blurs: loudness, spectral flatness (noise is flat), frame-energy
spread, the share of energy modulation at syllable rate, 2.5–6 Hz (speech), and how far steady
spectral peaks stand out (notes do; noise of any colour has none). A multinomial
logistic regression gives each window P(music), P(speech), P(noise), P(tone), P(silence).

A track is music when its music score (the mean window P(music) over its best stretch, see
:meth:`MusicDetector.judge`) reaches the track threshold; both thresholds, and the weights, come
from grouped cross-validation (``python -m genre fit-music-detector``, see
:mod:`genre.music_detector_fit`) and ship in ``assets/music-detector``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from audio import LogMel, resample
from audio.spectrogram import finite_number
from genre.errors import GenreError
from genre.musicnn import (
    MUSICNN_FRONTEND,
    PATCH_FRAMES,
    PENULTIMATE_UNITS,
    Musicnn,
    load_musicnn,
)
from genre.paths import ASSETS_DIR, MUSICNN_BACKBONE_WEIGHTS
from genre.verdict import SOUNDS_LIKE
from genre.windows import loop_to_length

DETECTOR_DIR = ASSETS_DIR / "music-detector"
BACKBONE_WEIGHTS = MUSICNN_BACKBONE_WEIGHTS
CLASSES = ("music", "speech", "noise", "tone", "silence")
SIGNAL_FEATURES = (
    "level", "flatness", "flatness_spread", "energy_spread", "syllable_rate", "steady_peaks",
)  # fmt: skip
PEAK_BLOCK_FRAMES = 16  # ≈ 0.26 s: noise's random ripple averages out, a held note does not
PEAK_SMOOTH_BANDS = 7  # the spectral envelope a peak stands out from
FRAME_RATE = MUSICNN_FRONTEND.sample_rate / MUSICNN_FRONTEND.hop  # 62.5 frames/s
STRETCH_WINDOWS = 3  # a track's music score: its best ~9 s of music
SOUNDS_LIKE_SHARE = 0.6  # one kind must take this share of the not-music probability to name it


def signal_features(patches: np.ndarray) -> np.ndarray:
    """[windows, n_mels, frames] musicnn log-mel (log10(1 + 10000·mel)) → [windows, stats]."""
    power = np.maximum((10.0 ** patches.astype(np.float64) - 1.0) / 10000.0, 0.0) + 1e-12
    frame_power = power.mean(axis=1)  # [W, T]
    level = np.log10(frame_power.mean(axis=1))
    log_flat = np.log(power).mean(axis=1) - np.log(frame_power)  # [W, T], <= 0
    energy = np.log10(frame_power)
    centred = energy - energy.mean(axis=1, keepdims=True)
    spectrum = np.abs(np.fft.rfft(centred, axis=1)) ** 2
    freqs = np.fft.rfftfreq(centred.shape[1], 1 / FRAME_RATE)
    band = (freqs >= 2.5) & (freqs <= 6.0)
    modulated = (freqs >= 0.5) & (freqs <= 15.0)
    syllable = spectrum[:, band].sum(axis=1) / (spectrum[:, modulated].sum(axis=1) + 1e-12)
    stats = [level, log_flat.mean(axis=1), log_flat.std(axis=1), energy.std(axis=1), syllable]
    return np.stack([*stats, steady_peaks(power)], axis=1).astype(np.float32)


def steady_peaks(power: np.ndarray) -> np.ndarray:
    """[windows, n_mels, frames] mel power → [windows] how far steady spectral peaks stand out.

    Averaged over ~0.26-s blocks, the log spectrum of any noise (white, brown, wind, rain, a
    room) is smooth across bands, however coloured; notes and partials held that long stand
    out from their neighbours. Measured on the shipped clips' windows: noises 0.08-0.34, real
    music 0.28-1.46 (median per track), so a deep rumble no longer passes for a bass-heavy mix.
    """
    w, m, t = power.shape
    blocks = t // PEAK_BLOCK_FRAMES
    block_power = power[:, :, : blocks * PEAK_BLOCK_FRAMES].reshape(w, m, blocks, -1).mean(axis=3)
    log_power = np.log(block_power)
    half = PEAK_SMOOTH_BANDS // 2
    padded = np.pad(log_power, ((0, 0), (half, half), (0, 0)), mode="edge")
    cumulative = np.cumsum(np.pad(padded, ((0, 0), (1, 0), (0, 0))), axis=1)
    envelope = (cumulative[:, PEAK_SMOOTH_BANDS:] - cumulative[:, :-PEAK_SMOOTH_BANDS]) / (
        PEAK_SMOOTH_BANDS
    )
    return np.abs(log_power - envelope).mean(axis=(1, 2))


def window_features(embeddings: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """The detector's input per window: [windows, 200 + len(SIGNAL_FEATURES)]."""
    stats = [signal_features(patches[i : i + 64]) for i in range(0, len(patches), 64)]
    return np.concatenate([embeddings, *[np.concatenate(stats)]], axis=1).astype(np.float32)


@dataclass(frozen=True)
class TrackJudgement:
    window_music_scores: np.ndarray  # [windows] P(music)
    music_score: float
    is_music: bool
    sounds_like: str | None


@dataclass(frozen=True)
class MusicDetector:
    mean: np.ndarray  # [features] standardisation
    scale: np.ndarray
    weights: np.ndarray  # [features, classes]
    bias: np.ndarray  # [classes]
    window_threshold: float  # P(music) from which a window counts as music
    track_threshold: float  # music score from which a track is music
    meta: dict

    def window_probs(self, features: np.ndarray) -> np.ndarray:
        """[windows, features] → [windows, classes] class probabilities."""
        z = (np.asarray(features, np.float64) - self.mean) / self.scale
        logits = z @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def judge(self, features: np.ndarray) -> TrackJudgement:
        probs = self.window_probs(features)
        return judge_windows(probs, self.track_threshold)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {
            "mean": self.mean,
            "scale": self.scale,
            "weights": self.weights,
            "bias": self.bias,
        }
        save_file({k: np.ascontiguousarray(v, np.float32) for k, v in arrays.items()},
                  str(folder / "weights.safetensors"))  # fmt: skip
        (folder / "weights.safetensors").chmod(0o644)
        meta = dict(self.meta, classes=list(CLASSES), signal_features=list(SIGNAL_FEATURES),
                    window_threshold=round(self.window_threshold, 4),
                    track_threshold=round(self.track_threshold, 4))  # fmt: skip
        (folder / "detector.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def judge_windows(probs: np.ndarray, track_threshold: float) -> TrackJudgement:
    """Track verdict from window class probabilities [windows, classes].

    The music score is the best mean P(music) over ``STRETCH_WINDOWS`` consecutive windows:
    talk first and music later is judged on the music, while a lone window that looks like
    music inside speech or noise is not enough.
    """
    music = probs[:, 0]
    n = min(STRETCH_WINDOWS, len(music))
    stretch = np.convolve(music, np.ones(n) / n, mode="valid")
    score = float(stretch.max()) if len(stretch) else 0.0
    is_music = score >= track_threshold
    sounds_like = None
    if not is_music:
        others = probs[:, 1:].mean(axis=0)
        best = int(np.argmax(others))
        if others[best] >= SOUNDS_LIKE_SHARE * others.sum():
            sounds_like = SOUNDS_LIKE[CLASSES[1 + best]]
    return TrackJudgement(music.astype(np.float64), score, is_music, sounds_like)


@lru_cache(maxsize=4)
def load_detector(folder: Path = DETECTOR_DIR) -> MusicDetector | None:
    """The shipped detector, or None where a checkout lacks it (predictions then say music).
    A damaged one is a GenreError that says what is wrong: without it the app would call any
    sound music, so it is never skipped quietly."""
    weights, meta_path = folder / "weights.safetensors", folder / "detector.json"
    if not (weights.is_file() and meta_path.is_file()):
        return None
    try:
        arrays = load_file(str(weights))
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except Exception as err:  # OSError, JSON, Unicode and safetensors' own error types
        raise _damaged(folder, f"its files cannot be read: {err}") from err
    if not isinstance(meta, dict):
        raise _damaged(folder, "detector.json must hold a JSON object")
    if meta.get("signal_features") != list(SIGNAL_FEATURES):
        raise GenreError(
            f"The music detector in {folder} was fitted on other signal statistics than this "
            "version computes; rebuild it with `python -m genre fit-music-detector`."
        )
    problem = _detector_problem(arrays, meta)
    if problem:
        raise _damaged(folder, problem)
    return MusicDetector(
        mean=arrays["mean"].astype(np.float64),
        scale=arrays["scale"].astype(np.float64),
        weights=arrays["weights"].astype(np.float64),
        bias=arrays["bias"].astype(np.float64),
        window_threshold=float(meta["window_threshold"]),
        track_threshold=float(meta["track_threshold"]),
        meta=meta,
    )


DETECTOR_FEATURES = PENULTIMATE_UNITS + len(SIGNAL_FEATURES)


def _detector_problem(arrays: dict[str, np.ndarray], meta: dict) -> str:
    """What makes a detector's arrays or thresholds unusable, in words ("" if nothing)."""
    if meta.get("classes", list(CLASSES)) != list(CLASSES):
        return f"'classes' must be {list(CLASSES)}"
    for key in ("window_threshold", "track_threshold"):
        if not (finite_number(meta.get(key)) and 0 <= meta[key] <= 1):
            return f"'{key}' must be a number from 0 to 1"
    shapes = {
        "mean": (DETECTOR_FEATURES,),
        "scale": (DETECTOR_FEATURES,),
        "weights": (DETECTOR_FEATURES, len(CLASSES)),
        "bias": (len(CLASSES),),
    }
    for name, shape in shapes.items():
        if name not in arrays:
            return f"the weights lack '{name}'"
        if arrays[name].shape != shape or not np.all(np.isfinite(arrays[name])):
            return f"'{name}' must be {list(shape)} finite numbers"
    if not np.all(arrays["scale"] > 0):
        return "'scale' must be above 0"
    return ""


def _damaged(folder: Path, reason: str) -> GenreError:
    return GenreError(
        f"The music detector in {folder} is damaged ({reason}). Restore the shipped one "
        "(`git checkout -- assets/music-detector`) or rebuild it with "
        "`python -m genre fit-music-detector`."
    )


class Backbone:
    """musicnn (MSD weights) on its own, for bundles whose model is not musicnn-based and for
    fitting: waveform → per-window embeddings and log-mel patches at given start times."""

    def __init__(self, weights: Path = BACKBONE_WEIGHTS) -> None:
        # The same precision as the shipped genre bundle's backbone, so features match.
        self.model: Musicnn = load_musicnn(weights).set_low_precision(True)
        self.precision = str(self.model.fast_precision or "float32")
        self.frontend = LogMel(MUSICNN_FRONTEND).eval()

    def mel(self, samples: np.ndarray, sample_rate: int) -> torch.Tensor:
        wave = resample(samples, sample_rate, MUSICNN_FRONTEND.sample_rate)
        with torch.inference_mode():
            return self.frontend(torch.from_numpy(np.ascontiguousarray(wave, np.float32)))

    def features_at(self, mel: torch.Tensor, starts_s: np.ndarray) -> np.ndarray:
        """Detector features for the 3-s patches starting at ``starts_s`` (seconds)."""
        patches = patches_at(mel, starts_s)
        with torch.inference_mode():
            embeddings = torch.cat(
                [self.model(chunk)["penultimate"] for chunk in torch.split(patches, 64)]
            )
        return window_features(embeddings.float().numpy(), patches.numpy())


def patches_at(mel: torch.Tensor, starts_s: np.ndarray) -> torch.Tensor:
    """musicnn log-mel [96, frames] → [len(starts_s), 96, 187] patches (short clips looped)."""
    mel = loop_to_length(mel, PATCH_FRAMES, axis=1)
    last = mel.shape[1] - PATCH_FRAMES
    frames = np.clip(np.round(np.asarray(starts_s) * FRAME_RATE).astype(int), 0, last)
    return torch.stack([mel[:, s : s + PATCH_FRAMES] for s in frames])


@lru_cache(maxsize=1)
def detector_backbone() -> Backbone:
    """One shared backbone per process for bundles that are not musicnn-based."""
    return Backbone()
