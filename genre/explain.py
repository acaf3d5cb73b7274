"""Why this genre? Where on the mel-spectrogram the model found its evidence.

Gradient × input against silence as the reference (:mod:`genre.saliency`): a cell's evidence is
how much the genre's score would fall if that cell were silent (to first order).
Positive evidence is stitched over the track's analysis windows, smoothed, and summarised in
words by frequency band ("the bass and kick drum") and time; the windows that sound most and
least like the genre can be played back. Saliency shows where the model looked, not proof of
why; every view says so (:data:`CAUTION`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from audio import DEFAULT_MAX_MINUTES, AudioSource, load_audio, resample
from audio.render import overlay_png, wav_bytes
from audio.spectrogram import hz_to_mel, mel_to_hz
from genre.classifier import Classifier
from genre.errors import GenreError
from genre.saliency import window_evidence
from genre.verdict import display_name

CAUTION = (
    "The orange shows where the model looked when it decided, not proof of why: "
    "a model can look at the right place for the wrong reason."
)
# Frequency bands a visitor can picture, lowest first: (upper edge in Hz, words).
BANDS: tuple[tuple[float, str], ...] = (
    (150.0, "the bass and kick drum"),
    (600.0, "the bass line and low notes"),
    (3000.0, "the melody and voices"),
    (float("inf"), "the cymbals, hi-hats and brightness"),
)
SMOOTH_S = 0.25  # overlay smoothing in time
SMOOTH_BINS = 5  # … and in mel bands
REGIONS_NAMED = 2
MIN_REGION_SHARE = 0.05  # a region named in words holds at least this share of the evidence


@dataclass(frozen=True)
class Region:
    band: str
    start_s: float
    end_s: float
    share: float  # of all positive evidence in the track

    def to_json(self) -> dict[str, Any]:
        return {
            "band": self.band,
            "start_s": round(self.start_s, 2),
            "end_s": round(self.end_s, 2),
            "share": round(self.share, 4),
        }


@dataclass
class Explanation:
    genre: str
    mel_db: np.ndarray  # [n_mels, frames] in dB-like units, for drawing
    saliency: np.ndarray  # [n_mels, frames], 0..1
    mel_hop_s: float
    window_starts_s: np.ndarray  # [windows]
    window_s: float
    window_genre_probs: np.ndarray  # [windows], the genre's probability in each window
    window_evidence: np.ndarray  # [windows], share of the track's positive evidence
    regions: list[Region]
    samples: np.ndarray  # the analysed mono audio, for playing the strongest/weakest windows
    sample_rate: int

    @property
    def strongest_window(self) -> int:
        return int(np.argmax(self.window_genre_probs))

    @property
    def weakest_window(self) -> int:
        return int(np.argmin(self.window_genre_probs))

    @property
    def size_bytes(self) -> int:
        """Roughly what keeping this explanation costs in memory."""
        arrays = (self.mel_db, self.saliency, self.samples, self.window_genre_probs)
        return sum(a.nbytes for a in arrays) + 1000

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    def window_span_s(self, index: int) -> tuple[float, float]:
        start = float(self.window_starts_s[index])
        return start, min(start + self.window_s, self.duration_s)

    def window_label(self, index: int) -> str:
        """A window's time span in words, e.g. "0:03–0:06"."""
        start, end = self.window_span_s(index)
        return f"{clock(start)}–{clock(end)}"

    def window_wav(self, index: int) -> bytes:
        """The audio of one analysis window as WAV bytes, to play it back."""
        start, end = self.window_span_s(index)
        first, last = int(start * self.sample_rate), int(end * self.sample_rate)
        return wav_bytes(self.samples[first:last], self.sample_rate)

    @property
    def summary(self) -> str:
        if not self.regions:
            return "The model found no clear evidence for one part of the sound over another."
        parts = [f"{r.band} around {clock(r.start_s)}–{clock(r.end_s)}" for r in self.regions]
        lead = f"For {display_name(self.genre)}, the model listened most to "
        return lead + ", and to ".join(parts) + "."

    def overlay_png(self, width: int = 1000, height: int = 320) -> bytes:
        return overlay_png(self.mel_db, self.saliency, width, height)

    def to_json(self) -> dict[str, Any]:
        windows = [
            {
                "start_s": round(float(s), 3),
                "genre_probability": round(float(p), 6),
                "evidence_share": round(float(e), 6),
            }
            for s, p, e in zip(
                self.window_starts_s, self.window_genre_probs, self.window_evidence, strict=True
            )
        ]
        return {
            "genre": self.genre,
            "summary": self.summary,
            "caution": CAUTION,
            "window_s": round(self.window_s, 3),
            "strongest_window": self.strongest_window,
            "weakest_window": self.weakest_window,
            "regions": [r.to_json() for r in self.regions],
            "windows": windows,
        }


def clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _box_smooth(x: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Mean over a rows × cols neighbourhood (edges padded by reflection)."""
    for axis, size in ((0, rows), (1, cols)):
        if size <= 1 or x.shape[axis] < 2:
            continue
        pad = [(0, 0), (0, 0)]
        pad[axis] = (size // 2, size - 1 - size // 2)
        padded = np.pad(x, pad, mode="edge")
        csum = np.cumsum(padded, axis=axis, dtype=np.float64)
        csum = np.insert(csum, 0, 0.0, axis=axis)
        upper = np.take(csum, np.arange(size, csum.shape[axis]), axis=axis)
        lower = np.take(csum, np.arange(0, csum.shape[axis] - size), axis=axis)
        x = (upper - lower) / size
    return x


def band_of_bins(classifier: Classifier) -> np.ndarray:
    """Index into ``BANDS`` of every mel bin, from the bins' centre frequencies."""
    spec = classifier.bundle.frontend
    fmax = spec.fmax or spec.sample_rate / 2
    edges = mel_to_hz(np.linspace(hz_to_mel(spec.fmin), hz_to_mel(fmax), spec.n_mels + 2))
    centres = edges[1:-1]
    uppers = np.array([upper for upper, _ in BANDS])
    return np.searchsorted(uppers, centres, side="right").clip(0, len(BANDS) - 1)


def _as_db(mel: np.ndarray, log_kind: str) -> np.ndarray:
    """Any front-end's output in dB-like units, for drawing."""
    if log_kind == "log10_1p":
        return 10.0 * mel  # log10(1 + 10⁴·power): 10 per decade, like dB above the floor
    if log_kind == "none":
        return 10.0 * np.log10(np.maximum(mel, 1e-10))
    return mel


def _regions(
    evidence: np.ndarray, bands: np.ndarray, hop_s: float, window_s: float
) -> list[Region]:
    """The strongest (band, stretch of one window's length) cells, at most one per band."""
    total = float(evidence.sum())
    if total <= 0:
        return []
    frames_per_cell = max(1, round(window_s / hop_s))
    n_cells = -(-evidence.shape[1] // frames_per_cell)
    cells = []
    for b in range(len(BANDS)):
        rows = evidence[bands == b]
        if rows.size == 0:
            continue
        per_frame = rows.sum(axis=0)
        for c in range(n_cells):
            share = float(per_frame[c * frames_per_cell : (c + 1) * frames_per_cell].sum()) / total
            cells.append((share, b, c))
    cells.sort(reverse=True)
    chosen: list[Region] = []
    used_bands: set[int] = set()
    for share, b, c in cells:
        if b in used_bands or share < MIN_REGION_SHARE:
            continue
        start = c * frames_per_cell * hop_s
        end = min((c + 1) * frames_per_cell, evidence.shape[1]) * hop_s
        chosen.append(Region(BANDS[b][1], start, end, share))
        used_bands.add(b)
        if len(chosen) == REGIONS_NAMED:
            break
    return chosen


def _check_genre(classifier: Classifier, genre: str | None) -> None:
    if genre is not None and genre not in classifier.labels:
        known = ", ".join(classifier.labels)
        raise GenreError(f"'{genre}' is not one of this model's genres ({known}).")


def explain(classifier: Classifier, samples: np.ndarray, genre: str | None = None) -> Explanation:
    """Explain the classifier's decision on mono samples at the bundle's sample rate.

    ``genre`` (one of the classifier's labels) defaults to the genre the Classifier would name
    (the top mean window probability, tag fusion included).
    """
    _check_genre(classifier, genre)
    bundle = classifier.bundle
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    with torch.no_grad():
        mel = classifier.frontend(torch.from_numpy(samples))
        batch, looped, starts = classifier.embed_windows(mel)
        silence = float(classifier.frontend.compress(torch.zeros(())).item())

    def choose(probs: np.ndarray) -> int:  # as Prediction.genre: the top mean probability
        return classifier.labels.index(genre) if genre else int(probs.mean(axis=0).argmax())

    contribution, probs, target = window_evidence(classifier, batch, silence, choose)
    window_probs = probs[:, target]

    n_frames = mel.shape[1]
    width = bundle.window_frames
    heat = np.zeros(looped.shape, dtype=np.float64)
    cover = np.zeros(looped.shape[1], dtype=np.float64)
    for start, contrib in zip(starts, contribution, strict=True):
        heat[:, start : start + width] += contrib
        cover[start : start + width] += 1
    heat = (heat / np.maximum(cover, 1))[:, :n_frames]
    per_window = contribution.reshape(len(contribution), -1).sum(axis=1).astype(np.float64)
    total = per_window.sum()
    window_evidence_share = per_window / total if total > 0 else per_window

    hop_s = bundle.frontend.hop / bundle.sample_rate
    smooth = _box_smooth(heat, SMOOTH_BINS, max(1, round(SMOOTH_S / hop_s)))
    scale = float(np.percentile(smooth, 99.5)) if smooth.size else 0.0
    saliency = np.clip(smooth / scale, 0, 1) if scale > 0 else np.zeros_like(smooth)
    return Explanation(
        genre=classifier.labels[target],
        mel_db=_as_db(mel.numpy(), bundle.frontend.log),
        saliency=saliency,
        mel_hop_s=hop_s,
        window_starts_s=np.asarray(starts, dtype=np.float64) * hop_s,
        window_s=width * hop_s,
        window_genre_probs=window_probs,
        window_evidence=window_evidence_share,
        regions=_regions(heat, band_of_bins(classifier), hop_s, bundle.window_s),
        samples=samples,
        sample_rate=bundle.sample_rate,
    )


def explain_source(
    classifier: Classifier,
    source: AudioSource,
    *,
    genre: str | None = None,
    name: str | None = None,
    max_minutes: float = DEFAULT_MAX_MINUTES,
) -> Explanation:
    """Decode a file, bytes or stream (raising ``audio.AudioError`` on bad input) and explain."""
    _check_genre(classifier, genre)
    audio = load_audio(
        source, sample_rate=classifier.bundle.sample_rate, max_minutes=max_minutes, name=name
    )
    samples = resample(audio.samples, audio.sample_rate, classifier.bundle.sample_rate)
    return explain(classifier, samples, genre)
