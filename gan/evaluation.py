"""``python -m gan evaluate``'s measurement of a generator bundle: the figures of its model card.

Every measure comes from :mod:`gan.metrics`; this puts them together on the same clips: the
generated ones (per genre, from the evaluation seed), the real segments (halves A and B) and
those real segments after a trip through mel → Griffin-Lim (the sonification's own cost).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from audio import LogMel
from gan.bundle import GanBundle
from gan.card_sonification import current_sonification
from gan.config import EVALUATION_SEED, SCORED_SECONDS
from gan.data import ClipMel
from gan.holes import Dips, hole_limits, holed_share
from gan.levels import mel_levels, quiet_shares, real_levels_and_dips
from gan.metrics import (
    ClassifierProbe,
    cepstral_statistics,
    coverage_shares,
    diversity_ratios,
    frechet_distance,
    heard_as,
    mean_ratio,
    real_halves,
    round_trip_convergence,
    standardised_frechet,
)
from gan.partial_motion import MOTION_LAG, detail_correlations, mean_correlation
from gan.sample import (
    clip_noise,
    clip_samples,
    generate,
    genre_noise,
    mels_from_noise,
    normalise_loudness,
    patches_for,
    sonify,
)
from genre.classifier import Classifier


@dataclass
class Timing:
    seconds: float
    clips: int
    clip_seconds: float


def time_sampling(
    bundle: GanBundle, repeats: int = 5, clips: int = 4, seconds: float = 3.0
) -> Timing:
    """Median warm wall time to sample and sonify ``clips`` clips of ``seconds``."""
    generate(bundle, [bundle.labels[0]], clips, seed=0, seconds=seconds)  # warm-up
    times = []
    for r in range(repeats):
        started = time.perf_counter()
        result = generate(bundle, [bundle.labels[r % len(bundle.labels)]], clips, seed=r + 1,
                          seconds=seconds)  # fmt: skip
        times.append(time.perf_counter() - started)
    return Timing(float(np.median(times)), clips, result[0].duration_s)


def evaluate(
    bundle: GanBundle,
    classifier: Classifier,
    clips: list[ClipMel],
    per_genre: int = 50,
    seed: int = EVALUATION_SEED,
    progress: Any = None,
    other_judges: list[Classifier] | None = None,
) -> dict[str, Any]:
    """Agreement, Fréchet distances and round-trip convergence for ``bundle``.

    ``other_judges``: further classifiers whose agreement (on the same generated clips and
    the same real and resynthesised segments) is reported beside the main one's.
    """
    probe = ClassifierProbe(classifier)
    rate = bundle.spec.sample_rate
    patches = patches_for(SCORED_SECONDS, bundle)
    length = clip_samples(SCORED_SECONDS, bundle)
    half_a, half_b = real_halves(clips, length, rate)  # first: too few clips fails at once

    gen_genres: list[str] = []
    gen_waves: list[np.ndarray] = []
    sc_values: list[np.ndarray] = []
    gen_levels: list[np.ndarray] = []
    drawn_levels: list[np.ndarray] = []  # before dropouts are drawn again: how often they are
    gen_dips: list[Dips] = []  # holes (gan.holes), as sampled and as first drawn
    drawn_dips: list[Dips] = []
    gen_motion: list[np.ndarray] = []
    # without guards nothing is drawn again: its patches are not generated twice
    guarded = bundle.level_floors is not None or bundle.hole_limits is not None
    as_drawn = replace(bundle, level_floors=None, hole_limits=None) if guarded else None
    for gid, genre in enumerate(bundle.labels):
        rng = genre_noise(seed, gid)
        for chunk in range(0, per_genre, 10):
            n = min(10, per_genre - chunk)
            z = clip_noise(bundle, [gid] * n, patches, rng)
            mel_db = mels_from_noise(bundle, [gid] * n, z)
            gen_levels.append(mel_levels(mel_db))
            gen_dips.append(Dips.of(mel_db))
            if as_drawn is None:  # nothing was drawn again: as kept is as drawn
                drawn_levels.append(gen_levels[-1])
                drawn_dips.append(gen_dips[-1])
            else:
                first = mels_from_noise(as_drawn, [gid] * n, z)
                drawn_levels.append(mel_levels(first))
                drawn_dips.append(Dips.of(first))
            gen_motion.append(detail_correlations(mel_db, MOTION_LAG))
            waves = sonify(mel_db, bundle)
            sc_values.append(round_trip_convergence(mel_db, waves, bundle))
            gen_waves += [normalise_loudness(w, rate) for w in waves]
            gen_genres += [genre] * n
        if progress:
            progress(f"generated {genre}")
    gen_probs, gen_emb = probe.clips(gen_waves, rate)

    if progress:
        progress(f"{len(half_a) + len(half_b)} real segments")
    _, a_emb = probe.clips([s[2] for s in half_a], rate)
    b_probs, b_emb = probe.clips([s[2] for s in half_b], rate)

    # The same real segments after a trip through mel → Griffin-Lim: the sonification's own cost.
    frontend = LogMel(bundle.spec)
    resynth = []
    b_levels = []  # half B's mels are made here anyway: their levels, dips and motion come too
    b_dips = []
    b_motion = []
    for start in range(0, len(half_b), 16):
        batch = torch.from_numpy(np.stack([s[2] for s in half_b[start : start + 16]]))
        with torch.inference_mode():
            mel = frontend(batch)
        b_levels.append(mel_levels(mel))
        b_dips.append(Dips.of(mel))
        # within the generator's dB range, as its own mels are: detail below the floor is not music
        b_motion.append(detail_correlations(mel.clamp(bundle.db_floor, bundle.db_ceil), MOTION_LAG))
        resynth += [normalise_loudness(w, rate) for w in sonify(mel, bundle)]
    r_probs, r_emb = probe.clips(resynth, rate)
    cepstral_a = cepstral_statistics([s[2] for s in half_a], frontend)

    def cepstral_fd(waves: list[np.ndarray]) -> float:
        return round(standardised_frechet(cepstral_statistics(waves, frontend), cepstral_a,
                                          cepstral_a), 3)  # fmt: skip

    real = half_a + half_b
    a_levels, a_dips = real_levels_and_dips([s[2] for s in half_a], frontend)
    all_real_levels = np.concatenate([a_levels, *b_levels])
    real_dips = Dips.join([a_dips, *b_dips])
    real_holes = hole_limits(real_dips)
    real_genres = [s[0] for s in real]
    quiet = quiet_shares(np.concatenate(gen_levels), gen_genres, all_real_levels, real_genres)
    quiet_drawn = quiet_shares(
        np.concatenate(drawn_levels), gen_genres, all_real_levels, real_genres
    )

    real_clips = [s[1] for s in real]
    b_genres, b_clips = [s[0] for s in half_b], [s[1] for s in half_b]
    real_emb = np.concatenate([a_emb, b_emb])
    diversity = diversity_ratios(gen_emb, gen_genres, real_emb, real_genres, real_clips,
                                 bundle.labels)  # fmt: skip
    # the sonification's own ceiling: half B's segments after the trip, as varied as real?
    diversity_resynth = diversity_ratios(r_emb, b_genres, real_emb, real_genres, real_clips,
                                         bundle.labels, generated_clips=b_clips)  # fmt: skip
    # as many generated clips at a time as half B has real segments of the genre: the count the
    # sonification's ceiling is measured with (more clips cover more)
    coverage = coverage_shares(gen_emb, gen_genres, real_emb, real_genres, real_clips,
                               bundle.labels, draw=Counter(b_genres))  # fmt: skip
    coverage_resynth = coverage_shares(r_emb, b_genres, real_emb, real_genres, real_clips,
                                       bundle.labels, generated_clips=b_clips)  # fmt: skip
    heard = [probe.labels[i] for i in np.argmax(gen_probs, axis=1)]
    sc = np.concatenate(sc_values)
    motion = _partial_motion(
        np.concatenate(gen_motion), gen_genres, np.concatenate(b_motion), b_genres, bundle.labels
    )
    others = {}
    for judge in other_judges or []:
        other = ClassifierProbe(judge)
        g_p, g_e = other.clips(gen_waves, rate)
        b_p, b_e = other.clips([s[2] for s in half_b], rate)
        r_p, _ = other.clips(resynth, rate)
        _, a_e = other.clips([s[2] for s in half_a], rate)
        other_diversity = diversity_ratios(g_e, gen_genres, np.concatenate([a_e, b_e]),
                                           real_genres, real_clips, bundle.labels)  # fmt: skip
        others[judge.bundle.name] = {
            "agreement": round(other.agreement(g_p, gen_genres), 4),
            "agreement_real_half_b": round(other.agreement(b_p, b_genres), 4),
            "agreement_real_resynthesised": round(other.agreement(r_p, b_genres), 4),
            "fd_generated_vs_real_a": round(frechet_distance(g_e, a_e), 3),
            "fd_real_b_vs_real_a": round(frechet_distance(b_e, a_e), 3),
            "diversity_ratio": mean_ratio(other_diversity),
        }
    return {
        "classifier": classifier.bundle.name,
        "generated_clips": len(gen_waves),
        "clip_seconds": round(length / rate, 2),
        "agreement": round(probe.agreement(gen_probs, gen_genres), 4),
        "agreement_per_genre": probe.agreement_per_genre(gen_probs, gen_genres, bundle.labels),
        "heard_as_per_genre": heard_as(gen_genres, heard),
        "agreement_real_half_b": round(probe.agreement(b_probs, b_genres), 4),
        "agreement_real_resynthesised": round(probe.agreement(r_probs, b_genres), 4),
        # Each genre's ceiling: a genre Griffin-Lim itself blurs cannot be asked of the generator.
        "agreement_real_resynthesised_per_genre": probe.agreement_per_genre(
            r_probs, b_genres, bundle.labels
        ),
        "fd_generated_vs_real_a": round(frechet_distance(gen_emb, a_emb), 3),
        "fd_real_b_vs_real_a": round(frechet_distance(b_emb, a_emb), 3),
        "fd_resynthesised_b_vs_real_a": round(frechet_distance(r_emb, a_emb), 3),
        # the same comparisons without a network (gan.metrics.cepstral_statistics)
        "fd_cepstral_generated_vs_real_a": cepstral_fd(gen_waves),
        "fd_cepstral_real_b_vs_real_a": cepstral_fd([s[2] for s in half_b]),
        "fd_cepstral_resynthesised_b_vs_real_a": cepstral_fd(resynth),
        "real_segments": {"a": len(half_a), "b": len(half_b)},
        "diversity_ratio": mean_ratio(diversity),
        "diversity_ratio_per_genre": {g: round(v, 3) for g, v in diversity.items()},
        "diversity_ratio_resynthesised": mean_ratio(diversity_resynth),
        "coverage": mean_ratio(coverage),
        "coverage_per_genre": {g: round(v, 3) for g, v in coverage.items()},
        "coverage_resynthesised": mean_ratio(coverage_resynth),
        "quiet_clips": round(float(np.mean(list(quiet.values()))), 3) if quiet else None,
        "quiet_clips_per_genre": quiet,
        # as the generator drew them, before sampling drew the dropouts again (the same
        # figure as quiet_clips for a bundle without level floors)
        "quiet_clips_as_drawn": (
            round(float(np.mean(list(quiet_drawn.values()))), 3) if quiet_drawn else None
        ),
        # a half-second dip, of the whole or of a band, deeper than all but 1 % of these real
        # segments have (gan.holes); the real share is of either kind
        "hole_limits_db": None if real_holes is None else real_holes.to_dict(),
        "holed_clips": holed_share(Dips.join(gen_dips), real_holes),
        "holed_clips_as_drawn": holed_share(Dips.join(drawn_dips), real_holes),
        "holed_real": holed_share(real_dips, real_holes),
        **motion,
        "round_trip_sc_mean": round(float(sc.mean()), 4),
        "round_trip_sc_median": round(float(np.median(sc)), 4),
        "other_classifiers": others,
        "sonification": current_sonification(),
        "truncation": bundle.truncation,
        "seed": seed,
    }


def _partial_motion(
    generated: np.ndarray, gen_genres: list[str], real: np.ndarray, real_genres: list[str],
    labels: list[str],
) -> dict[str, Any]:  # fmt: skip
    """How much the generated and real clips' partials move (:mod:`gan.partial_motion`),
    overall and per genre (a genre without a real segment in half B has no real figure)."""

    def mean_of(values: np.ndarray, genres: list[str], genre: str | None) -> float | None:
        chosen = values[[genre is None or g == genre for g in genres]]
        return round(mean_correlation(chosen), 3) if chosen.size else None

    return {
        "partial_motion_lag_frames": MOTION_LAG,
        "partial_motion_generated": mean_of(generated, gen_genres, None),
        "partial_motion_real_half_b": mean_of(real, real_genres, None),
        "partial_motion_per_genre": {
            genre: {
                "generated": mean_of(generated, gen_genres, genre),
                "real": mean_of(real, real_genres, genre),
            }
            for genre in labels
        },
    }
