"""Choose the generator to ship by how it sounds, not by being the last step.

A run started with ``snapshot_every`` keeps its EMA generator every N steps. Each snapshot is
scored the way ``python -m gan evaluate`` scores a bundle, on fewer clips: the default
classifier's agreement (overall and per genre) on generated 3-s clips, and the Fréchet
distance of their embeddings to the real segments (every other segment of the real clips, as
``evaluate``'s half A). The chosen one maximises the *worst* genre's agreement (a generator
that sounds like six genres and not four is worse than one that sounds a little like all
ten), then overall agreement, then the lower distance; the whole curve goes into the card.

Then the chosen generator's truncation ψ (:attr:`gan.bundle.GanBundle.truncation`) is chosen
the same way among :data:`TRUNCATIONS`, keeping only those whose Fréchet distance stays within
:data:`FD_ALLOWANCE` of the untruncated one: a smaller ψ makes each genre more typical (the
judge recognises more) and less varied, and the distance guards the variety.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from gan.bundle import GanBundle, export_run, load_gan_bundle, write_meta
from gan.config import EVALUATION_SEED, SCORED_SECONDS
from gan.data import ClipMel
from gan.errors import GanError
from gan.floors import guarded, segment_guards
from gan.metrics import (
    ClassifierProbe,
    coverage_shares,
    diversity_ratios,
    frechet_distance,
    mean_ratio,
    real_halves,
)
from gan.sample import (
    clip_samples,
    generate_mels,
    genre_noise,
    normalise_loudness,
    patches_for,
    sonify,
)
from gan.state import list_snapshots
from genre.classifier import Classifier

RULE = "highest worst-genre agreement, then overall agreement, then lowest Fréchet distance"
TRUNCATIONS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)  # 1 first: the untruncated score
# A truncation may cost at most a tenth on the Fréchet distance. Set after measuring the
# generator shipped before (200 clips: ψ 0.8 cost 3 %, 0.65 7 %, 0.5 12 %), before scoring
# the run that ships now.
FD_ALLOWANCE = 0.10
TRUNCATION_RULE = (
    f"among ψ whose Fréchet distance is at most {100 * FD_ALLOWANCE:.0f} % above ψ = 1's, "
    "the same rule as for steps"
)


@dataclass(frozen=True)
class SnapshotScore:
    step: int
    agreement: float
    per_genre: dict[str, float]
    fd: float
    truncation: float = 1.0
    # how varied each genre's clips are against real ones (gan.metrics.diversity_ratios; None
    # with fewer than two real clips a genre, and in curves scored before it was): reported,
    # not part of the rule
    diversity: float | None = None
    # the share of real excerpts a generated clip comes near (gan.metrics.coverage_shares; None
    # with fewer than two real clips or six real segments a genre, and in curves scored before
    # it was): reported, not part of the rule
    coverage: float | None = None

    @property
    def worst_genre(self) -> float:
        return min(self.per_genre.values())

    def rank_key(self) -> tuple[float, float, float]:
        return (self.worst_genre, self.agreement, -self.fd)


def generated_clips(
    bundle: GanBundle, genre_id: int, n: int, seed: int = EVALUATION_SEED
) -> list[np.ndarray]:
    """``n`` clips of one genre, sonified and loudness-normalised, as they are scored."""
    patches = patches_for(SCORED_SECONDS, bundle)
    mel_db = generate_mels(bundle, [genre_id] * n, patches, genre_noise(seed, genre_id))
    return [normalise_loudness(w, bundle.spec.sample_rate) for w in sonify(mel_db, bundle)]


def score_bundle(
    bundle: GanBundle,
    probe: ClassifierProbe,
    real: RealSegments,
    per_genre: int,
    seed: int = EVALUATION_SEED,
) -> tuple[float, dict[str, float], float, float | None, float | None]:
    """(agreement, agreement per genre, Fréchet distance to half A, diversity, coverage) of
    generated clips, against ``real``'s embedded segments."""
    waves: list[np.ndarray] = []
    genres: list[str] = []
    for gid, genre in enumerate(bundle.labels):
        waves += generated_clips(bundle, gid, per_genre, seed)
        genres += [genre] * per_genre
    probs, embeddings = probe.clips(waves, bundle.spec.sample_rate)
    per = probe.agreement_per_genre(probs, genres, bundle.labels)
    ratios = diversity_ratios(embeddings, genres, real.embeddings, real.genres, real.clips,
                              bundle.labels)  # fmt: skip
    covered = coverage_shares(embeddings, genres, real.embeddings, real.genres, real.clips,
                              bundle.labels)  # fmt: skip
    fd = frechet_distance(embeddings, real.embeddings[: real.half_a])
    return probe.agreement(probs, genres), per, fd, mean_ratio(ratios), mean_ratio(covered)


@dataclass(frozen=True)
class RealSegments:
    """Every real segment's embedding, half A's first (its Fréchet reference), with its genre
    and clip (diversity compares only segments of different clips)."""

    embeddings: np.ndarray
    genres: list[str]
    clips: list[int]
    half_a: int


class Scorer:
    """Scores generators on the same real segments, embedded once (on the first bundle), with
    dropouts and holes drawn again by the real clips' guards (gan.floors), as the page draws
    them."""

    def __init__(self, classifier: Classifier, clips: list[ClipMel], per_genre: int) -> None:
        self.probe = ClassifierProbe(classifier)
        self.clips, self.per_genre = clips, per_genre
        self._real: RealSegments | None = None
        self.guards: dict[str, Any] | None = None

    def score(self, bundle: GanBundle, step: int) -> SnapshotScore:
        if self._real is None:
            self._measure_real(bundle)
        if self.guards is not None:
            bundle = guarded(bundle, self.guards)
        agreement, per, fd, diversity, coverage = score_bundle(bundle, self.probe, self._real,
                                                               self.per_genre)  # fmt: skip
        return SnapshotScore(step, round(agreement, 4), per, round(fd, 3), bundle.truncation,
                             diversity, coverage)  # fmt: skip

    def _measure_real(self, bundle: GanBundle) -> None:
        """Embeddings of the real 3-s segments (``evaluate``'s halves A and B) and the sampling
        guards of all of them, from one decoding of the clips."""
        rate = bundle.spec.sample_rate
        half_a, half_b = real_halves(self.clips, clip_samples(SCORED_SECONDS, bundle), rate)
        segments = half_a + half_b
        self._real = RealSegments(
            self.probe.clips([s[2] for s in segments], rate)[1],
            [s[0] for s in segments], [s[1] for s in segments], len(half_a),
        )  # fmt: skip
        self.guards = segment_guards(bundle, segments)


def _say(progress: Callable[[str], None] | None, what: str, score: SnapshotScore) -> None:
    if progress:
        varied = "" if score.diversity is None else f", diversity {score.diversity:.2f}"
        covered = "" if score.coverage is None else f", coverage {score.coverage:.2f}"
        progress(f"{what}: agreement {score.agreement:.1%}, worst genre "
                 f"{score.worst_genre:.0%}, FD {score.fd:.1f}{varied}{covered}")  # fmt: skip


@dataclass(frozen=True)
class SnapshotChoice:
    """Which kept snapshots are scored: from ``from_step`` on, steps that are multiples of
    ``every`` (each one costs a minute or two of CPU: a long run keeps dozens)."""

    from_step: int = 0
    every: int = 1

    def of(self, run_dir: Path) -> list[tuple[int, Path]]:
        kept = list_snapshots(run_dir)
        if not kept:
            raise GanError(
                f"The run in {run_dir} kept no snapshots: train it with --snapshot-every N."
            )
        chosen = [(s, p) for s, p in kept if s >= self.from_step and s % self.every == 0]
        if not chosen:
            raise GanError(
                f"None of the run's snapshots (steps {kept[0][0]}–{kept[-1][0]}) is at step "
                f"{self.from_step} or later and a multiple of {self.every}."
            )
        return chosen

    def words(self) -> str:
        """How the card says which snapshots were scored (subject and verb)."""
        if self == SnapshotChoice():
            return "Every kept snapshot was"
        parts = [f"from step {self.from_step}"] if self.from_step else []
        parts += [f"every {self.every} steps"] if self.every > 1 else []
        return f"The kept snapshots {', '.join(parts)} were"


def score_snapshots(
    run_dir: Path,
    scorer: Scorer,
    progress: Callable[[str], None] | None = None,
    choice: SnapshotChoice = SnapshotChoice(),
    critic: int = 0,
) -> list[SnapshotScore]:
    """Each chosen snapshot scored as it would ship (with ``critic`` > 0: choosing every clip's
    noise with the discriminator kept beside it, among that many walks)."""
    if not run_dir.is_dir():
        raise GanError(f"No run folder at {run_dir}: give the folder `gan train --run` used.")
    snapshots = choice.of(run_dir)
    scores: list[SnapshotScore] = []
    with tempfile.TemporaryDirectory() as scratch:
        for step, path in snapshots:
            exported = export_run(run_dir, Path(scratch) / "b", snapshot=path,
                                  critic_candidates=critic)  # fmt: skip
            bundle = load_gan_bundle(exported)
            scores.append(scorer.score(bundle, step))
            _say(progress, f"step {step}", scores[-1])
    return scores


def score_truncations(
    bundle: GanBundle,
    scorer: Scorer,
    untruncated: SnapshotScore,
    progress: Callable[[str], None] | None = None,
) -> list[SnapshotScore]:
    """``bundle`` at every ψ of :data:`TRUNCATIONS`. ψ = 1 is ``untruncated``, the bundle's
    own score from the same clips and seeds, so it is not generated and judged again."""
    scores = [untruncated]
    for psi in TRUNCATIONS[1:]:
        scores.append(scorer.score(replace(bundle, truncation=psi), untruncated.step))
        _say(progress, f"truncation {psi}", scores[-1])
    return scores


def best(scores: list[SnapshotScore]) -> SnapshotScore:
    return max(scores, key=SnapshotScore.rank_key)


def best_truncation(scores: list[SnapshotScore]) -> SnapshotScore:
    """:func:`best` among the ψ whose distance is within :data:`FD_ALLOWANCE` of ψ = 1's."""
    untruncated = next(s for s in scores if s.truncation == 1.0)
    allowed = [s for s in scores if s.fd <= untruncated.fd * (1 + FD_ALLOWANCE)]
    return best(allowed)


def pick(
    run_dir: Path,
    out_dir: Path,
    classifier: Classifier,
    clips: list[ClipMel],
    per_genre: int = 10,
    command: str = "",
    progress: Callable[[str], None] | None = None,
    truncate: bool = True,
    choice: SnapshotChoice = SnapshotChoice(),
    critic: int = 0,
) -> tuple[SnapshotScore, list[SnapshotScore]]:
    """Export the best of ``run_dir``'s snapshots (those of ``choice``) to ``out_dir`` at its
    best truncation (when ``truncate``), both curves in the metadata; with ``critic`` > 0 each
    snapshot is scored, and the chosen one ships, with its discriminator as critic (gan.critic).
    Returns the shipped score and the step curve."""
    scorer = Scorer(classifier, clips, per_genre)
    scores = score_snapshots(run_dir, scorer, progress, choice, critic)
    chosen = best(scores)
    snapshot = dict(list_snapshots(run_dir))[chosen.step]
    export_run(run_dir, out_dir, command=command, snapshot=snapshot, critic_candidates=critic)
    bundle = load_gan_bundle(out_dir)
    meta: dict[str, Any] = dict(bundle.meta)
    meta["selection"] = {
        "rule": RULE,
        "clips_per_genre": per_genre,
        "snapshots": choice.words(),
        "chosen_step": chosen.step,
        "curve": [asdict(s) for s in scores],
    }
    shipped = chosen
    if truncate:
        truncations = score_truncations(bundle, scorer, chosen, progress)
        shipped = best_truncation(truncations)
        meta["selection"]["truncation_rule"] = TRUNCATION_RULE
        meta["selection"]["truncation_curve"] = [asdict(s) for s in truncations]
    meta["sampling"] = {"truncation": shipped.truncation}
    if scorer.guards is not None:
        meta["sampling"].update(scorer.guards)
    write_meta(out_dir, meta)
    return shipped, scores
