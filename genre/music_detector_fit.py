"""Fitting the music detector with grouped cross-validation, and its model card.

    python -m genre fit-music-detector [--data GTZAN_DIR] [--out assets/music-detector]

Positives: every real music recording there is (the 100 shared GTZAN clips, the 5 extra
recordings), each also made quiet (-20 dB), lo-fi (band-limited to 4 kHz) and noisy (pink
noise at 15 dB SNR), since none of those may be rejected. Negatives: :mod:`genre.negatives`.
Some negative families and sources never take part in fitting (``HELD_OUT``): the model card
reports how often those, sounds of a kind the detector never saw, are still called music.

Folds keep a source on one side: GTZAN clips by ID blocks (artists cluster by ID), each extra
recording, espeak language, digit speaker, room recording and generated seed is one group, and a
clip's quiet/lo-fi/noisy copies share its group. The track threshold is chosen on out-of-fold
scores: as high as possible while every out-of-fold music track (all copies) stays music, with a
margin (:data:`THRESHOLD_MARGIN`), and never above 0.5.
"""

from __future__ import annotations

import hashlib
import itertools
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from audio import load_audio
from audio.degrade import add_noise, band_limit, gain
from genre.datasets import discover
from genre.music_detector import (
    CLASSES,
    FRAME_RATE,
    SIGNAL_FEATURES,
    SOUNDS_LIKE,
    Backbone,
    MusicDetector,
    judge_windows,
)
from genre.musicnn import MUSICNN_FRONTEND, PATCH_FRAMES
from genre.negatives import (
    EXTRA_NOTMUSIC,
    NotMusic,
    espeak_clips,
    room_noise,
    rooms,
    speakers,
    spoken_digits,
    synthetic,
)
from genre.negatives_synth import SAMPLE_RATE, SYNTHETIC
from genre.paths import data_dir, shared_extra_dir
from genre.splits import kfold_block_size
from genre.windows import window_starts

N_FOLDS = 5
L2_GRID = (1e-4, 1e-3, 1e-2)
THRESHOLD_MARGIN = 0.5  # the track threshold is at most half the lowest out-of-fold music score
MAX_TRACK_THRESHOLD = 0.5
SEEDS_PER_FAMILY = 6
TRAIN_LANGUAGES = ("en", "de", "fr", "it", "pt", "hi")
HELD_OUT_LANGUAGES = ("es", "nl", "pl")
# A first split also held out "sweep": 3 of 6 sweeps were called music, so sweeps (the test
# signal a user is likeliest to try) joined the fitting families.
HELD_OUT_FAMILIES = ("applause", "wind", "rain", "typing", "birdsong")
HELD_OUT_SPEAKER = "yweweler"
HELD_OUT_ROOM = "exercise_bike"
EXTRA_MUSIC = shared_extra_dir() / "music"
AUGMENTATIONS = ("original", "quiet", "lo-fi", "noisy")
COPY_SAMPLES = 12 * SAMPLE_RATE
# A quiet recording: GTZAN clips sit near -15 dBFS RMS; quiet classical or a phone held away
# from the speaker ~-35 dBFS.
QUIET_DB = -20.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Clip:
    samples: np.ndarray  # 16 kHz mono
    kind: str  # "music" or a genre.negatives kind
    family: str
    group: str
    variant: str = "original"


def augment(x: np.ndarray, variant: str, seed: int) -> np.ndarray:
    if variant == "quiet":
        return gain(x, QUIET_DB)
    if variant == "lo-fi":  # what a phone or an old 8 kHz recording keeps
        return band_limit(x, SAMPLE_RATE, 4000)
    if variant == "noisy":  # pink noise at 15 dB SNR
        return add_noise(x, SAMPLE_RATE, 15, 1, np.random.default_rng(seed))
    return x


def music_clips(gtzan: Path, extra: Path = EXTRA_MUSIC) -> Iterator[Clip]:
    """Real music, each with its augmented copies; the group names the source."""
    tracks = discover(gtzan).tracks
    block = kfold_block_size([t.number for t in tracks], N_FOLDS)
    sources = [(t.path, f"gtzan:{(t.number // block) % N_FOLDS}:{t.track_id}") for t in tracks]
    sources += [(p, f"extra:{p.stem}") for p in sorted(extra.glob("*.ogg"))]
    for i, (path, group) in enumerate(sources):
        x = load_audio(path, sample_rate=SAMPLE_RATE).samples
        middle = x[max(0, len(x) // 2 - COPY_SAMPLES // 2) :][:COPY_SAMPLES]
        for variant in AUGMENTATIONS:  # copies: the middle 12 s (CPU time), original whole
            yield Clip(augment(x if variant == "original" else middle, variant, i), "music",
                       "music", group, variant)  # fmt: skip


def _clip(n: NotMusic) -> Clip:
    return Clip(n.samples, n.kind, n.family, n.group)


def negative_clips(held_out: bool, notmusic: Path = EXTRA_NOTMUSIC) -> Iterator[Clip]:
    """The fitting negatives, or (``held_out``) the families kept out of fitting."""
    languages = HELD_OUT_LANGUAGES if held_out else TRAIN_LANGUAGES
    yield from (_clip(c) for c in espeak_clips(languages, seed=1 if held_out else 0))
    for speaker in speakers(notmusic):
        if (speaker == HELD_OUT_SPEAKER) == held_out:
            for seed in range(3):
                yield _clip(spoken_digits(speaker, seed, notmusic))
    for room in rooms(notmusic):
        if (room == HELD_OUT_ROOM) == held_out:
            yield from (_clip(c) for c in room_noise(room, notmusic))
    for family in SYNTHETIC:
        if (family in HELD_OUT_FAMILIES) == held_out:
            base = 1000 if held_out else 0
            for seed in range(SEEDS_PER_FAMILY):
                yield _clip(synthetic(family, base + seed))


def serving_starts(n_samples: int) -> np.ndarray:
    """Window starts (s) as the shipped musicnn bundle serves them: back to back 3-s patches."""
    n_frames = n_samples // MUSICNN_FRONTEND.hop + 1
    return np.asarray(window_starts(n_frames, PATCH_FRAMES, PATCH_FRAMES)) / FRAME_RATE


@dataclass
class Table:
    """Window features with, per window, its clip index; per clip, class, group and names."""

    features: np.ndarray  # [windows, F]
    clip_of: np.ndarray  # [windows]
    clips: list[Clip]

    @property
    def y(self) -> np.ndarray:  # per clip
        return np.asarray([CLASSES.index(c.kind) for c in self.clips])

    @property
    def window_y(self) -> np.ndarray:
        return self.y[self.clip_of]

    def fold_of(self) -> np.ndarray:
        """Per clip; GTZAN clips follow the ID blocks, every other group a hash."""
        folds = []
        for c in self.clips:
            if c.group.startswith("gtzan:"):
                folds.append(int(c.group.split(":")[1]))
            else:
                folds.append(zlib.crc32(c.group.encode()) % N_FOLDS)
        return np.asarray(folds)


def _cached_features(clip: Clip, backbone: Backbone, cache: Path) -> np.ndarray:
    """Features of one clip, cached by content (re-fits after a change cost seconds)."""
    recipe = (backbone.precision + ",".join(SIGNAL_FEATURES)).encode()  # new stats: new key
    key = hashlib.sha1(clip.samples.tobytes() + recipe).hexdigest()
    path = cache / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    mel = backbone.mel(clip.samples, SAMPLE_RATE)
    f = backbone.features_at(mel, serving_starts(len(clip.samples)))
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, f)
    return f


def featurise(clips: Iterator[Clip], backbone: Backbone, progress: Progress) -> Table:
    cache = data_dir() / "cache" / "music-detector"
    feats, clip_of, kept = [], [], []
    for i, clip in enumerate(clips):
        f = _cached_features(clip, backbone, cache)
        feats.append(f)
        clip_of += [i] * len(f)
        kept.append(clip)
        if (i + 1) % 50 == 0:
            progress(f"  {i + 1} clips featurised")
    return Table(np.concatenate(feats), np.asarray(clip_of), kept)


def fit_logreg(x: np.ndarray, y: np.ndarray, l2: float, n_classes: int) -> MusicDetector:
    """Class-balanced multinomial logistic regression (L-BFGS) on standardised features."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = torch.from_numpy((x - mean) / scale).double()
    t = torch.from_numpy(y).long()
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    balance = torch.from_numpy(
        np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0)
    )
    w = torch.zeros(z.shape[1], n_classes, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(n_classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=300, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(z @ w + b, t, weight=balance) + l2 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return MusicDetector(mean, scale, w.detach().numpy(), b.detach().numpy(), 0.5, 0.5, {})


def track_scores(detector: MusicDetector, table: Table, threshold: float = 0.5) -> list:
    probs = detector.window_probs(table.features)
    return [judge_windows(probs[table.clip_of == i], threshold) for i in range(len(table.clips))]


@dataclass
class CrossValidated:
    l2: float
    scores: np.ndarray  # out-of-fold music score per clip
    window_probs: np.ndarray  # out-of-fold [windows, classes]


def cross_validate(table: Table, progress: Progress) -> CrossValidated:
    fold_of_clip = table.fold_of()
    fold_of_window = fold_of_clip[table.clip_of]
    y = table.window_y
    best = None
    for l2 in L2_GRID:
        oof = np.zeros((len(y), len(CLASSES)))
        for fold in range(N_FOLDS):
            train, test = fold_of_window != fold, fold_of_window == fold
            model = fit_logreg(table.features[train], y[train], l2, len(CLASSES))
            oof[test] = model.window_probs(table.features[test])
        nll = float(-np.mean(np.log(oof[np.arange(len(y)), y] + 1e-12)))
        progress(f"  L2 {l2:g}: out-of-fold window log-loss {nll:.4f}")
        if best is None or nll < best[0]:
            best = (nll, l2, oof)
    _, l2, oof = best
    scores = np.asarray(
        [judge_windows(oof[table.clip_of == i], 0.5).music_score for i in range(len(table.clips))]
    )
    return CrossValidated(l2, scores, oof)


def choose_track_threshold(scores: np.ndarray, is_music: np.ndarray) -> float:
    return float(min(MAX_TRACK_THRESHOLD, THRESHOLD_MARGIN * scores[is_music].min()))


def rates(table: Table, scores: np.ndarray, threshold: float) -> dict[str, dict[str, float]]:
    """Share called music per family (negatives) or per copy (music), with counts."""
    out: dict[str, dict[str, float]] = {}
    for name in sorted({c.variant if c.kind == "music" else c.family for c in table.clips}):
        idx = [
            i for i, c in enumerate(table.clips)
            if (c.variant if c.kind == "music" else c.family) == name
        ]  # fmt: skip
        called = int(np.sum(scores[idx] >= threshold))
        out[name] = {"tracks": len(idx), "called_music": called}
    return out


def fit_music_detector(
    gtzan: Path, out: Path, progress: Progress = print, notmusic: Path = EXTRA_NOTMUSIC
) -> dict:
    started = time.monotonic()
    backbone = Backbone()
    progress("featurising music and fitting negatives …")
    clips = itertools.chain(music_clips(gtzan), negative_clips(False, notmusic))
    table = featurise(clips, backbone, progress)
    progress(f"{len(table.clips)} clips, {len(table.features)} windows")
    cv = cross_validate(table, progress)
    is_music = table.y == 0
    threshold = choose_track_threshold(cv.scores, is_music)
    progress(
        f"track threshold {threshold:.3f} "
        f"(lowest out-of-fold music score {cv.scores[is_music].min():.3f})"
    )
    model = fit_logreg(table.features, table.window_y, cv.l2, len(CLASSES))
    progress("featurising held-out families …")
    held = featurise(negative_clips(True, notmusic), backbone, progress)
    held_judged = track_scores(model, held, threshold)
    held_scores = np.asarray([j.music_score for j in held_judged])
    detector = MusicDetector(model.mean, model.scale, model.weights, model.bias, 0.5, threshold, {})
    sounds = [(c.kind, j.sounds_like) for c, j in zip(held.clips, held_judged, strict=True)]
    metrics = {
        "l2": cv.l2,
        "folds": N_FOLDS,
        "fit_clips": len(table.clips),
        "fit_windows": len(table.features),
        "out_of_fold": rates(table, cv.scores, threshold),
        "lowest_music_score_out_of_fold": round(float(cv.scores[is_music].min()), 4),
        "held_out": rates(held, held_scores, threshold),
        "held_out_sounds_like": _sounds_like_rate(sounds),
        "minutes": round((time.monotonic() - started) / 60, 1),
    }
    meta = {
        "name": "music-detector",
        "backbone": f"musicnn-msd (penultimate, 200) + {len(SIGNAL_FEATURES)} signal statistics",
        "precision": backbone.precision,
        "held_out_families": {
            "espeak languages": list(HELD_OUT_LANGUAGES),
            "generated": list(HELD_OUT_FAMILIES),
            "digit speaker": HELD_OUT_SPEAKER,
            "room recording": HELD_OUT_ROOM,
        },
        "metrics": metrics,
        "window_threshold": 0.5,
        "track_threshold": round(threshold, 4),
    }
    detector = MusicDetector(detector.mean, detector.scale, detector.weights, detector.bias,
                             0.5, threshold, meta)  # fmt: skip
    detector.save(out)
    from genre.music_detector_card import write_model_card

    write_model_card(out, meta)
    return meta


def _sounds_like_rate(pairs: list[tuple[str, str | None]]) -> dict[str, float]:
    named = [(k, s) for k, s in pairs if s is not None]
    right = sum(SOUNDS_LIKE[k] == s for k, s in named)
    return {"tracks": len(pairs), "named": len(named), "named_right": right}
