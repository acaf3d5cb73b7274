"""``Classifier``: audio in, per-window and track-level genre probabilities out.

The whole track's log-mel is computed once and sliced into overlapping windows, which run as
one batch. The object holds no per-request state, so one instance can serve many sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from audio import DEFAULT_MAX_MINUTES, Audio, AudioSource, LogMel, load_audio, resample
from genre.bundle import Bundle, load_bundle
from genre.fusion import fusion_from_meta
from genre.music_detector import (
    MusicDetector,
    TrackJudgement,
    detector_backbone,
    load_detector,
    window_features,
)
from genre.musicnn import MUSICNN_FRONTEND, PATCH_FRAMES
from genre.verdict import Verdict, VerdictThresholds, decide, music_window_mask
from genre.windows import loop_to_length, mean_probability, window_starts

BATCH_WINDOWS = 128  # bounds memory on 10-minute files


@dataclass
class Prediction:
    labels: tuple[str, ...]
    window_starts_s: np.ndarray  # [windows]
    window_probs: np.ndarray  # [windows, labels]
    probs: np.ndarray  # [labels], the mean of the window probabilities
    duration_s: float  # analysed audio
    source_duration_s: float
    mel: np.ndarray  # the front-end's output for the whole analysed track [n_mels, frames]
    mel_hop_s: float
    warnings: list[str] = field(default_factory=list)
    tags: dict[str, float] | None = (
        None  # auxiliary tag scores, best first (when the model has them)
    )
    # Is it music? Defaults (all music) keep predictions made without a detector valid.
    window_music_scores: np.ndarray = field(default_factory=lambda: np.ones(0))  # [windows] 0..1
    music_score: float = 1.0  # track level, 0..1
    is_music: bool = True  # the track-level verdict
    sounds_like: str | None = None  # when not music: "speech", "noise", "a steady tone", "silence"
    embedding: np.ndarray | None = None  # [200] mean backbone embedding over the music windows
    window_tags: np.ndarray | None = None  # [windows, tags] per-window tag probabilities
    # Verdict thresholds of the bundle that made the prediction (genre.verdict).
    thresholds: VerdictThresholds = field(default_factory=VerdictThresholds)

    @property
    def genre(self) -> str:
        return self.labels[int(np.argmax(self.probs))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probs))

    @property
    def probabilities(self) -> dict[str, float]:
        return {label: float(p) for label, p in zip(self.labels, self.probs, strict=True)}

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda item: item[1], reverse=True)

    @property
    def verdict(self) -> Verdict:
        """What the evidence allows us to say ("Jazz", "Jazz or blues", …), judged on the
        music windows with the bundle's thresholds."""
        music = music_window_mask(self, len(self.window_probs))
        return decide(
            self.probs, self.labels,
            window_probs=self.window_probs if music is None else self.window_probs[music],
            thresholds=self.thresholds,
            is_music=bool(getattr(self, "is_music", True)),
            sounds_like=getattr(self, "sounds_like", None),
        )  # fmt: skip

    def window_genres(self) -> list[str]:
        return [self.labels[i] for i in np.argmax(self.window_probs, axis=1)]

    def to_json(self, file: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {} if file is None else {"file": file}
        out.update(
            genre=self.genre if self.is_music else None,
            confidence=round(self.confidence, 6),
            probabilities={k: round(v, 6) for k, v in self.probabilities.items()},
            is_music=bool(self.is_music),
            music_score=round(float(self.music_score), 4),
        )
        if not self.is_music:
            out["sounds_like"] = self.sounds_like
        verdict = self.verdict
        out["verdict"] = {"kind": verdict.kind, "heading": verdict.heading}
        if self.tags:
            out["tags"] = {k: round(v, 4) for k, v in list(self.tags.items())[:10]}
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


class Classifier:
    """Loads a bundle once; :meth:`predict` is safe to call from several threads."""

    def __init__(
        self, bundle: Bundle | str | Path, *, detector: MusicDetector | bool | None = True
    ) -> None:
        """``detector``: True for the shipped music detector, False for none (every window
        counts as music), or a :class:`MusicDetector`."""
        self.bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
        self.detector = load_detector() if detector is True else (detector or None)
        self.model = self.bundle.build_model()
        self.frontend = LogMel(self.bundle.frontend).eval()
        # Tag fusion and verdict thresholds, where the bundle has them (genre.fusion).
        self.fusion = fusion_from_meta(
            self.bundle.extra.get("fusion"), self.labels, self.bundle.tags, str(self.bundle.path)
        )
        self.thresholds = VerdictThresholds.from_meta(self.bundle.extra.get("verdict"))

    @property
    def labels(self) -> tuple[str, ...]:
        return self.bundle.labels

    def predict(
        self,
        source: AudioSource | Audio,
        *,
        name: str | None = None,
        max_minutes: float = DEFAULT_MAX_MINUTES,
    ) -> Prediction:
        """Decode (raising ``audio.AudioError`` on bad input) and classify."""
        audio = (
            source
            if isinstance(source, Audio)
            else load_audio(
                source, sample_rate=self.bundle.sample_rate, max_minutes=max_minutes, name=name
            )
        )
        samples = resample(audio.samples, audio.sample_rate, self.bundle.sample_rate)
        return self.predict_samples(
            samples, source_duration_s=audio.source_duration_s, warnings=audio.warnings
        )

    def embed_windows(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
        """Cut a track's log-mel [n_mels, frames] into the bundle's window batch."""
        window, hop = self.bundle.window_frames, self.bundle.hop_frames
        mel = loop_to_length(mel, window, axis=1)  # a short clip fills one window
        starts = window_starts(mel.shape[1], window, hop)
        batch = torch.stack([mel[:, s : s + window] for s in starts])
        return batch, mel, starts

    def predict_samples(
        self,
        samples: np.ndarray,
        *,
        source_duration_s: float | None = None,
        warnings: list[str] | None = None,
    ) -> Prediction:
        """Classify mono float32 samples already at the bundle's sample rate."""
        with torch.inference_mode():
            wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
            mel = self.frontend(wave)
            batch, _, starts = self.embed_windows(mel)
            logits, tags, embeddings = [], [], []
            for chunk in torch.split(batch, BATCH_WINDOWS):
                out = self.model(chunk)
                if isinstance(out, dict):
                    logits.append(out["logits"])
                    if "tags" in out:
                        tags.append(out["tags"])
                    if "penultimate" in out:
                        embeddings.append(out["penultimate"])
                else:
                    logits.append(out)
            window_log_probs = torch.log_softmax(torch.cat(logits).double(), dim=1).numpy()
        hop_s = self.bundle.frontend.hop / self.bundle.sample_rate
        window_tags = torch.cat(tags).float().numpy() if tags and self.bundle.tags else None
        window_embeddings = torch.cat(embeddings).float().numpy() if embeddings else None
        window_probs = (
            np.exp(window_log_probs)
            if self.fusion is None or window_tags is None
            else self.fusion.fuse(window_log_probs, window_tags)
        )
        duration = len(samples) / self.bundle.sample_rate
        starts_s = np.asarray(starts, dtype=np.float64) * hop_s
        judged = self._judge_music(samples, starts_s, batch, window_embeddings)
        # Judged on the music: talk first and music later gets the music's genre and tags.
        music = (
            None if judged is None else judged.window_music_scores >= self.detector.window_threshold
        )
        if music is None or not judged.is_music or not music.any():
            music = np.ones(len(window_probs), dtype=bool)
        tag_scores = None
        if window_tags is not None:
            mean_tags = window_tags[music].mean(axis=0).tolist()
            tag_scores = dict(
                sorted(zip(self.bundle.tags, mean_tags, strict=True), key=lambda kv: -kv[1])
            )
        return Prediction(
            labels=self.labels,
            window_starts_s=starts_s,
            window_probs=window_probs,
            probs=mean_probability(window_probs[music]),
            duration_s=duration,
            source_duration_s=source_duration_s or duration,
            mel=mel.numpy(),
            mel_hop_s=hop_s,
            warnings=list(warnings or []),
            tags=tag_scores,
            embedding=None if window_embeddings is None else window_embeddings[music].mean(axis=0),
            window_tags=window_tags,
            thresholds=self.thresholds,
            **({} if judged is None else {
                "window_music_scores": judged.window_music_scores,
                "music_score": judged.music_score,
                "is_music": judged.is_music,
                "sounds_like": judged.sounds_like,
            }),
        )  # fmt: skip

    def _judge_music(
        self,
        samples: np.ndarray,
        starts_s: np.ndarray,
        batch: torch.Tensor,
        embeddings: np.ndarray | None,
    ) -> TrackJudgement | None:
        """The detector's verdict per window of this bundle; musicnn bundles reuse their own
        backbone pass, others run the shipped musicnn backbone at the same window times."""
        if self.detector is None:
            return None
        same_view = (
            embeddings is not None
            and self.bundle.frontend == MUSICNN_FRONTEND
            and self.bundle.window_frames == PATCH_FRAMES
        )
        if same_view:
            features = window_features(embeddings, batch.numpy())
        else:
            backbone = detector_backbone()
            mel = backbone.mel(samples, self.bundle.sample_rate)
            features = backbone.features_at(mel, starts_s)
        return self.detector.judge(features)
