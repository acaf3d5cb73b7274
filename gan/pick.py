"""Choose the generator to ship by how it sounds, not by being the last step.

A run started with ``snapshot_every`` keeps its EMA generator every N steps. Each snapshot is
scored the way ``python -m gan evaluate`` scores a bundle, on fewer clips: the default
classifier's agreement (overall and per genre) on generated 3-s clips, and the Fréchet
distance of their embeddings to the real segments (every other segment of the real clips, as
``evaluate``'s half A). The chosen one maximises the *worst* genre's agreement (a generator
that sounds like six genres and not four is worse than one that sounds a little like all
ten), then overall agreement, then the lower distance; the whole curve goes into the card.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan.bundle import GanBundle, export_run, load_gan_bundle, write_meta
from gan.data import ClipMel
from gan.errors import GanError
from gan.metrics import ClassifierProbe, frechet_distance, real_halves
from gan.sample import clip_samples, generate_mels, normalise_loudness, patches_for, sonify
from gan.train import list_snapshots
from genre.classifier import Classifier

RULE = "highest worst-genre agreement, then overall agreement, then lowest Fréchet distance"


@dataclass(frozen=True)
class SnapshotScore:
    step: int
    agreement: float
    per_genre: dict[str, float]
    fd: float

    @property
    def worst_genre(self) -> float:
        return min(self.per_genre.values())

    def rank_key(self) -> tuple[float, float, float]:
        return (self.worst_genre, self.agreement, -self.fd)


def real_embeddings(probe: ClassifierProbe, clips: list[ClipMel], bundle: GanBundle) -> np.ndarray:
    """Embeddings of every other real 3-s segment (``evaluate``'s half A)."""
    rate = bundle.spec.sample_rate
    half_a, _ = real_halves(clips, clip_samples(3.0, bundle), rate)
    return probe.clips([s[2] for s in half_a], rate)[1]


def score_bundle(
    bundle: GanBundle, probe: ClassifierProbe, real: np.ndarray, per_genre: int, seed: int = 1234
) -> tuple[float, dict[str, float], float]:
    """(agreement, agreement per genre, Fréchet distance to ``real``) of generated clips."""
    rate = bundle.spec.sample_rate
    waves: list[np.ndarray] = []
    genres: list[str] = []
    for gid, genre in enumerate(bundle.labels):
        rng = torch.Generator().manual_seed(seed * 1009 + gid)
        mel_db = generate_mels(bundle, [gid] * per_genre, patches_for(3.0, bundle), rng)
        waves += [normalise_loudness(w, rate) for w in sonify(mel_db, bundle)]
        genres += [genre] * per_genre
    probs, embeddings = probe.clips(waves, rate)
    heard = [probe.labels[i] for i in np.argmax(probs, axis=1)]
    hits = np.array([h == g for h, g in zip(heard, genres, strict=True)])
    per = {g: float(hits[[x == g for x in genres]].mean()) for g in bundle.labels}
    return float(hits.mean()), per, frechet_distance(embeddings, real)


def score_snapshots(
    run_dir: Path,
    classifier: Classifier,
    clips: list[ClipMel],
    per_genre: int = 10,
    progress: Callable[[str], None] | None = None,
) -> list[SnapshotScore]:
    if not run_dir.is_dir():
        raise GanError(f"No run folder at {run_dir}: give the folder `gan train --run` used.")
    snapshots = list_snapshots(run_dir)
    if not snapshots:
        raise GanError(f"The run in {run_dir} kept no snapshots: train it with --snapshot-every N.")
    probe = ClassifierProbe(classifier)
    scores: list[SnapshotScore] = []
    with tempfile.TemporaryDirectory() as scratch:
        real: np.ndarray | None = None
        for step, path in snapshots:
            bundle = load_gan_bundle(export_run(run_dir, Path(scratch) / "b", snapshot=path))
            if real is None:
                real = real_embeddings(probe, clips, bundle)
            agreement, per, fd = score_bundle(bundle, probe, real, per_genre)
            scores.append(SnapshotScore(step, round(agreement, 4), per, round(fd, 3)))
            if progress:
                progress(f"step {step}: agreement {agreement:.1%}, worst genre "
                         f"{min(per.values()):.0%}, FD {fd:.1f}")  # fmt: skip
    return scores


def best(scores: list[SnapshotScore]) -> SnapshotScore:
    return max(scores, key=SnapshotScore.rank_key)


def pick(
    run_dir: Path,
    out_dir: Path,
    classifier: Classifier,
    clips: list[ClipMel],
    per_genre: int = 10,
    command: str = "",
    progress: Callable[[str], None] | None = None,
) -> tuple[SnapshotScore, list[SnapshotScore]]:
    """Export the best snapshot of ``run_dir`` to ``out_dir``, its curve in the metadata."""
    scores = score_snapshots(run_dir, classifier, clips, per_genre, progress)
    chosen = best(scores)
    snapshot = dict(list_snapshots(run_dir))[chosen.step]
    export_run(run_dir, out_dir, command=command, snapshot=snapshot)
    bundle = load_gan_bundle(out_dir)
    meta: dict[str, Any] = dict(bundle.meta)
    meta["selection"] = {
        "rule": RULE,
        "clips_per_genre": per_genre,
        "chosen_step": chosen.step,
        "curve": [asdict(s) for s in scores],
    }
    write_meta(out_dir, meta)
    return chosen, scores
