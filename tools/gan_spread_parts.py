"""Where a generator's variety falls short: between recordings, or within one (a diagnostic).

    .venv/bin/python tools/gan_spread_parts.py [--bundle DIR] [--per-genre N] [--genres a,b]
        [--seed S]

The card's diversity ratio divides the mean distance between a genre's generated clips by the
mean distance between real excerpts of different recordings, in the judge's embedding. This
splits both sides in two. Real: excerpts of *different* recordings, excerpts of the *same*
recording, and the distance between recordings' mean excerpts. Generated (a generator with one
class per recording, whose clips each play the recording their first noise picks): the same
three, grouped by the recording picked. A generator whose recordings all sound like their genre's
centre falls short between recordings; one that ignores its noise, within a recording. Clips are
drawn as ``gan evaluate`` draws them (same seed, same noise), so ``overall`` is the card's ratio.

Prints one JSON object: ``bundle``, ``seed``, ``per_genre``, ``by_recording`` (whether the
generator picks recordings), ``genres`` (per genre, ``real`` and ``generated``, each
``across``, ``within`` and ``between_means``; ``ratios``, generated ÷ real for each and
``overall``) and ``mean_ratios`` over the genres.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gan.bundle import load_gan_bundle
from gan.config import EVALUATION_SEED, SCORED_SECONDS
from gan.data import load_clips
from gan.errors import GanError, print_json_report
from gan.metrics import (
    ClassifierProbe,
    load_default_classifier,
    pairwise_distances,
    real_segments,
)
from gan.sample import (
    clip_noise,
    clip_samples,
    genre_noise,
    mels_from_noise,
    normalise_loudness,
    patches_for,
    sonify,
)

PARTS = ("across", "within", "between_means")


def spread_parts(embeddings: np.ndarray, groups: np.ndarray) -> dict[str, float | None]:
    """Mean distance of pairs from different groups (``across``), from one group (``within``;
    None when no group has two members) and between the groups' means (``between_means``;
    None with one group)."""
    n = len(embeddings)
    distances = pairwise_distances(embeddings, embeddings)
    pairs = np.triu(np.ones((n, n), dtype=bool), k=1)
    same = groups[:, None] == groups[None, :]
    names = np.unique(groups)
    means = np.stack([embeddings[groups == g].mean(axis=0) for g in names])
    between = pairwise_distances(means, means)[np.triu(np.ones((len(names),) * 2, bool), k=1)]
    return {
        "across": _mean(distances[pairs & ~same]),
        "within": _mean(distances[pairs & same]),
        "between_means": _mean(between),
    }


def _mean(values: np.ndarray) -> float | None:
    return round(float(values.mean()), 4) if values.size else None


def _ratio(generated: float | None, real: float | None) -> float | None:
    return None if generated is None or not real else round(generated / real, 4)


def measure(bundle_dir: Path, per_genre: int, genres: list[str] | None, seed: int) -> dict:
    bundle = load_gan_bundle(bundle_dir)
    unknown = [g for g in genres or [] if g not in bundle.labels]
    if unknown:
        raise GanError(f"Unknown genre {', '.join(unknown)}; use {', '.join(bundle.labels)}.")
    probe = ClassifierProbe(load_default_classifier())
    rate = bundle.spec.sample_rate
    patches, length = patches_for(SCORED_SECONDS, bundle), clip_samples(SCORED_SECONDS, bundle)
    clips = load_clips(None)
    out: dict = {}
    for gid, genre in enumerate(bundle.labels):
        if genres and genre not in genres:
            continue
        segments = real_segments([c for c in clips if c.genre == genre], length, rate)
        if len({number for _, number, _ in segments}) < 2:
            raise GanError(f"Fewer than two real {genre} clips of {SCORED_SECONDS:g} s to compare.")
        _, real = probe.clips([s[2] for s in segments], rate)
        real_parts = spread_parts(real, np.array([number for _, number, _ in segments]))
        # in chunks of ten, as gan evaluate draws them, so the same seed gives the same clips
        rng, waves, picked = genre_noise(seed, gid), [], []
        for start in range(0, per_genre, 10):
            n = min(10, per_genre - start)
            z = clip_noise(bundle, [gid] * n, patches, rng)
            # the recording each clip plays (its first noise picks it), or the genre itself
            chosen = bundle.condition(torch.full((n,), gid, dtype=torch.long), z[:, 0])
            picked += chosen.tolist()
            mel_db = mels_from_noise(bundle, [gid] * n, z)
            waves += [normalise_loudness(w, rate) for w in sonify(mel_db, bundle)]
        _, generated = probe.clips(waves, rate)
        gen_parts = spread_parts(generated, np.array(picked))
        overall = pairwise_distances(generated, generated)[np.triu_indices(per_genre, 1)]
        out[genre] = {
            "real": real_parts,
            "generated": gen_parts,
            "ratios": {
                **{part: _ratio(gen_parts[part], real_parts[part]) for part in PARTS},
                "overall": _ratio(_mean(overall), real_parts["across"]),
            },
        }
    means = {}
    for part in (*PARTS, "overall"):
        values = [g["ratios"][part] for g in out.values() if g["ratios"][part] is not None]
        means[part] = round(float(np.mean(values)), 4) if values else None
    return {"bundle": str(bundle_dir), "seed": seed, "per_genre": per_genre,
            "by_recording": bundle.picker is not None, "genres": out,
            "mean_ratios": means}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("assets/gan-cgan"))
    parser.add_argument("--per-genre", type=int, default=50, help="generated clips per genre")
    parser.add_argument("--genres", default="", help="comma-separated (default: all)")
    parser.add_argument("--seed", type=int, default=EVALUATION_SEED)
    args = parser.parse_args()
    if not 2 <= args.per_genre <= 500:
        parser.error("--per-genre must be 2-500")
    genres = [g.strip() for g in args.genres.split(",") if g.strip()] or None
    return print_json_report(lambda: measure(args.bundle, args.per_genre, genres, args.seed))


if __name__ == "__main__":
    sys.exit(main())
