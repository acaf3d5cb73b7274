"""How convincing are the generated clips? Four measures, all on what you would hear
(:mod:`gan.evaluation` takes them all on one set of clips for the model card).

1. Classifier agreement: the share of sonified clips the genre classifier assigns to the genre
   that was asked for (chance: 1 in 10).
2. Fréchet distance between the classifier's embeddings of real and generated clips, next to
   the distance between two halves of the real clips (the floor it could reach).
3. Round-trip spectral convergence: how closely the mel of the sonified audio matches the mel
   the generator drew (Griffin-Lim's own loss).
4. Diversity: how far apart two generated clips of one genre are in the classifier's embedding,
   as a share of how far apart two real excerpts of that genre (from different clips) are.
5. A Fréchet distance without any network (:func:`cepstral_statistics`): a generator trained
   against a network's features (``--musicnn-d``) can please the judges that share them, so
   one measure looks at the sound's plain spectral statistics instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from audio import LogMel, resample
from gan.bundle import GanBundle
from gan.config import COVERAGE_NEIGHBOURS
from gan.data import ClipMel
from gan.errors import GanError
from genre.classifier import BATCH_WINDOWS, Classifier
from genre.errors import GenreError
from genre.paths import active_bundle_dir, default_bundle_dir


def other_classifiers(main: Classifier) -> list[Classifier]:
    """Every other shipped genre classifier that loads (their agreement is reported too)."""
    from genre.paths import ASSETS_DIR

    found = []
    for meta in sorted(ASSETS_DIR.glob("*/bundle.json")):
        if meta.parent.resolve() == Path(main.bundle.path).resolve():
            continue
        try:
            judge = Classifier(meta.parent, detector=False)
        except GenreError:
            continue
        if set(judge.labels) == set(main.labels):
            found.append(judge)
    return found


def load_default_classifier() -> Classifier:
    """The promoted classifier if it loads, else the shipped default."""
    for folder in dict.fromkeys([active_bundle_dir(), default_bundle_dir()]):
        try:
            # Genre agreement is the metric: every window counts, music detector or not.
            return Classifier(folder, detector=False)
        except GenreError:
            continue
    raise GanError(
        "No genre classifier is available to judge the samples "
        f"(expected one at {default_bundle_dir()})."
    )


def spectral_convergence(target_db: torch.Tensor, estimate_db: torch.Tensor) -> torch.Tensor:
    """‖A − Â‖_F / ‖A‖_F on mel magnitudes (from dB power), one value per item of the batch."""
    a = torch.pow(10.0, target_db / 20.0)
    b = torch.pow(10.0, estimate_db / 20.0)
    dims = (-2, -1)
    return torch.linalg.vector_norm(a - b, dim=dims) / torch.linalg.vector_norm(a, dim=dims)


def round_trip_convergence(
    mel_db: torch.Tensor, waves: np.ndarray, bundle: GanBundle
) -> np.ndarray:
    """Spectral convergence between drawn mels [B, n_mels, T] and the mels of their audio."""
    with torch.inference_mode():
        rebuilt = LogMel(bundle.spec)(torch.from_numpy(np.ascontiguousarray(waves)))
    frames = min(rebuilt.shape[-1], mel_db.shape[-1])
    return spectral_convergence(mel_db[..., :frames], rebuilt[..., :frames]).numpy()


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of embeddings [n, d]."""
    if len(a) < 2 or len(b) < 2:
        raise GanError("The Fréchet distance needs at least two embeddings on each side.")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    # tr√(Σa Σb) = Σ √eig(√Σa Σb √Σa), a symmetric PSD product: stable without scipy's sqrtm.
    vals, vecs = np.linalg.eigh(cov_a)
    sqrt_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    middle = np.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a)
    trace_sqrt = float(np.sum(np.sqrt(np.clip(middle, 0, None))))
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)


CEPSTRAL_COEFFICIENTS = 20  # the spectral envelope's shape, as speech and music tools keep it


def cepstral_statistics(waves: list[np.ndarray], frontend: LogMel) -> np.ndarray:
    """Per clip [n, 42]: the mean and spread over time of the first 20 cepstral coefficients
    (DCT of the log-mel: the envelope's shape and level), and of the spectral flux (the mean
    dB change between frames: how much and how often the sound moves)."""
    from scipy.fft import dct

    rows = []
    for wave in waves:
        with torch.inference_mode():
            mel = frontend(torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)))
        mel_db = mel.clamp(min=-80.0).double().numpy()
        cepstrum = dct(mel_db, axis=0, norm="ortho")[:CEPSTRAL_COEFFICIENTS]
        flux = np.abs(np.diff(mel_db, axis=1)).mean(axis=0)
        rows.append(np.concatenate([cepstrum.mean(1), cepstrum.std(1), [flux.mean(), flux.std()]]))
    return np.stack(rows)


def standardised_frechet(a: np.ndarray, b: np.ndarray, reference: np.ndarray) -> float:
    """:func:`frechet_distance` with every feature scaled by ``reference``'s mean and spread,
    so statistics in dB and in dB per frame weigh alike."""
    mean, spread = reference.mean(axis=0), reference.std(axis=0) + 1e-9
    return frechet_distance((a - mean) / spread, (b - mean) / spread)


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance of every row of ``a`` [N, D] to every row of ``b`` [M, D]: [N, M]."""
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.clip(squared, 0, None))


def mean_pairwise_distance(embeddings: np.ndarray, groups: np.ndarray | None = None) -> float:
    """Mean Euclidean distance over pairs of rows; with ``groups``, only pairs from different
    groups (two excerpts of one recording are not two pieces of a genre)."""
    n = len(embeddings)
    distances = pairwise_distances(embeddings, embeddings)
    pairs = np.triu(np.ones((n, n), dtype=bool), k=1)
    if groups is not None:
        pairs &= groups[:, None] != groups[None, :]
    if not pairs.any():
        raise GanError("Diversity needs at least two clips to compare.")
    return float(distances[pairs].mean())


def diversity_ratios(
    generated: np.ndarray,
    generated_genres: list[str],
    real: np.ndarray,
    real_genres: list[str],
    real_clips: list[int],
    labels: tuple[str, ...],
    generated_clips: list[int] | None = None,
) -> dict[str, float]:
    """Per genre: mean distance between its generated clips ÷ mean distance between its real
    excerpts of different clips (1: as varied as the real music; near 0: one sound). Genres
    with fewer than two generated clips or two real clips are left out. ``generated_clips``:
    which recording each "generated" segment came from, for real segments sent through the
    sonification (only pairs from different recordings count, as on the real side)."""
    gen_of, real_of = np.asarray(generated_genres), np.asarray(real_genres)
    clips = np.asarray(real_clips)
    gen_clips = None if generated_clips is None else np.asarray(generated_clips)
    ratios = {}
    for g in labels:
        mine = gen_of == g
        if mine.sum() < 2 or len(np.unique(clips[real_of == g])) < 2:
            continue
        if gen_clips is not None and len(np.unique(gen_clips[mine])) < 2:
            continue
        groups = None if gen_clips is None else gen_clips[mine]
        ratios[g] = mean_pairwise_distance(generated[mine], groups) / mean_pairwise_distance(
            real[real_of == g], clips[real_of == g]
        )
    return ratios


def coverage_shares(
    generated: np.ndarray,
    generated_genres: list[str],
    real: np.ndarray,
    real_genres: list[str],
    real_clips: list[int],
    labels: tuple[str, ...],
    generated_clips: list[int] | None = None,
    draw: dict[str, int] | None = None,
) -> dict[str, float]:
    """Per genre: the share of its real excerpts that have a generated clip of the genre inside
    their neighbourhood, the ball out to their 5th-nearest other real excerpt of the genre
    (the coverage of Naeem et al. 2020, "Reliable fidelity and diversity metrics for generative
    models"; 1: every kind of real piece is matched). Unlike the diversity ratio, spreading
    clips where no real music is does not raise it: only sounding like more of the genre's
    recordings does. ``generated_clips``: for real segments sent through the sonification,
    which recording each came from; one covers only other recordings' excerpts. ``draw``: per
    genre, how many generated clips one figure uses (the mean over disjoint sets of that many):
    more clips cover more, so two figures compare only at the same count. Genres with no
    generated clip, one real recording, or no more real excerpts than neighbours are left
    out (one recording says nothing of a genre's variety)."""
    gen_of, real_of = np.asarray(generated_genres), np.asarray(real_genres)
    clips = np.asarray(real_clips)
    shares = {}
    for g in labels:
        mine, theirs = gen_of == g, real_of == g
        if (not mine.any() or theirs.sum() <= COVERAGE_NEIGHBOURS
                or len(np.unique(clips[theirs])) < 2):  # fmt: skip
            continue
        reals = real[theirs]
        # column 0 of each sorted row is the excerpt itself (distance 0)
        radius = np.sort(pairwise_distances(reals, reals), axis=1)[:, COVERAGE_NEIGHBOURS]
        near = pairwise_distances(generated[mine], reals) <= radius[None, :]
        if generated_clips is not None:
            near &= np.asarray(generated_clips)[mine][:, None] != clips[theirs][None, :]
        size = min(draw.get(g, len(near)), len(near)) if draw else len(near)
        sets = [near[i : i + size] for i in range(0, len(near) - size + 1, size)] if size else []
        if sets:
            shares[g] = float(np.mean([s.any(axis=0).mean() for s in sets]))
    return shares


def mean_ratio(ratios: dict[str, float]) -> float | None:
    """The genres' mean of :func:`diversity_ratios` (or :func:`coverage_shares`), as the card
    gives it (None: none measured)."""
    return round(float(np.mean(list(ratios.values()))), 3) if ratios else None


class ClassifierProbe:
    """Clip-level probabilities and embeddings from a genre classifier.

    The embedding is the model's own ``"embedding"`` output when it has one, else the input of
    its last linear layer (the penultimate features), read with a forward hook.
    """

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier
        linears = [m for m in classifier.model.modules() if isinstance(m, nn.Linear)]
        self._last_linear = linears[-1] if linears else None

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    def _run_windows(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        captured: list[torch.Tensor] = []
        handle = None
        if self._last_linear is not None:
            handle = self._last_linear.register_forward_hook(
                lambda _m, inputs, _out: captured.append(inputs[0].detach().flatten(1))
            )
        try:
            out = self.classifier.model(batch)
        finally:
            if handle is not None:
                handle.remove()
        if isinstance(out, dict):
            logits = out["logits"]
            if "embedding" in out:
                return logits, out["embedding"].flatten(1)
        else:
            logits = out
        return logits, (captured[-1] if captured else None)

    def clips(self, waves: list[np.ndarray], sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
        """Per clip: mean window probabilities [n, labels] and mean embedding [n, d]."""
        probs, embeddings = [], []
        rate = self.classifier.bundle.sample_rate
        with torch.inference_mode():
            for wave in waves:
                samples = resample(np.asarray(wave, dtype=np.float32), sample_rate, rate)
                mel = self.classifier.frontend(torch.from_numpy(np.ascontiguousarray(samples)))
                batch, _, _ = self.classifier.embed_windows(mel)
                logits, emb = [], []
                for chunk in torch.split(batch, BATCH_WINDOWS):
                    lg, em = self._run_windows(chunk)
                    logits.append(lg)
                    if em is not None:
                        emb.append(em)
                probs.append(torch.softmax(torch.cat(logits), dim=1).mean(0).double().numpy())
                embeddings.append(torch.cat(emb).mean(0).double().numpy() if emb else np.zeros(0))
        return np.stack(probs), np.stack(embeddings)

    def agreement(self, probs: np.ndarray, genres: list[str]) -> float:
        chosen = [self.labels[i] for i in np.argmax(probs, axis=1)]
        return float(np.mean([c == g for c, g in zip(chosen, genres, strict=True)]))

    def agreement_per_genre(
        self, probs: np.ndarray, genres: list[str], labels: tuple[str, ...]
    ) -> dict[str, float]:
        """:meth:`agreement` among the clips of each genre in ``labels`` that has any."""
        return {
            g: round(self.agreement(probs[[x == g for x in genres]], [g] * genres.count(g)), 3)
            for g in labels
            if g in genres
        }


Segment = tuple[str, int, np.ndarray]  # (genre, clip number, samples)


def real_segments(clips: list[ClipMel], length: int, sample_rate: int) -> list[Segment]:
    """Non-overlapping ``length``-sample segments of every clip's audio: (genre, clip, samples)."""
    from audio import load_audio

    out = []
    for clip in clips:
        samples = load_audio(clip.path, sample_rate=sample_rate).samples
        for start in range(0, len(samples) - length + 1, length):
            out.append((clip.genre, clip.number, samples[start : start + length]))
    return out


def heard_as(asked: list[str], heard: list[str], floor: float = 0.1) -> dict[str, dict[str, float]]:
    """Per genre asked for, the share of its clips the judge named each genre (shares of at
    least ``floor``, most common first): what a generator's "jazz" actually sounds like."""
    out: dict[str, dict[str, float]] = {}
    for genre in dict.fromkeys(asked):
        names = [h for a, h in zip(asked, heard, strict=True) if a == genre]
        shares = {n: names.count(n) / len(names) for n in dict.fromkeys(names)}
        ranked = sorted(shares.items(), key=lambda item: -item[1])
        out[genre] = {n: round(v, 3) for n, v in ranked if v >= floor}
    return out


def real_halves(
    clips: list[ClipMel], length: int, sample_rate: int
) -> tuple[list[Segment], list[Segment]]:
    """The real segments split by clip into halves A and B: alternate clips in (genre,
    number) order, so every genre with two clips or more is in both (for GTZAN's numbering,
    A holds the even-numbered clips). A half with no segment is a :class:`GanError`: the
    comparisons need real clips on both sides."""
    half_a = real_segments(clips[0::2], length, sample_rate)
    half_b = real_segments(clips[1::2], length, sample_rate)
    if not half_a or not half_b:
        seconds = length / sample_rate
        raise GanError(
            f"Judging a generator needs at least two real clips of {seconds:.1f} s or more "
            f"to compare with (found {len(clips)} usable)."
        )
    return half_a, half_b
