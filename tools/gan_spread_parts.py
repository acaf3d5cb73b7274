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

Beside the judge's view, ``plain``: the same overall ratio in plain statistics of the log-mels
(the generated ones before Griffin-Lim): each band's mean level (``profile``), each band's
standard deviation over time (``dynamics``) and the first 20 cepstral coefficients of the mean
profile (``cepstrum``). A generator as varied as real music there but not in the judge's
embedding varies in loudness and colour, not in what the judge hears as content.

Prints one JSON object: ``bundle``, ``seed``, ``per_genre``, ``by_recording`` (whether the
generator picks recordings), ``genres`` (per genre, ``real`` and ``generated``, each
``across``, ``within`` and ``between_means``; ``ratios``, generated ÷ real for each and
``overall``; ``plain``, the three plain ratios) and ``mean_ratios`` over the genres.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.fft import dct

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio import LogMel
from gan.bundle import load_gan_bundle
from gan.config import EVALUATION_SEED, SCORED_SECONDS
from gan.data import load_clips
from gan.errors import GanError, print_json_report
from gan.gate import draw_clips, heard_waves
from gan.metrics import (
    ClassifierProbe,
    load_default_classifier,
    pairwise_distances,
    real_segments,
)
from gan.sample import clip_samples

PARTS = ("across", "within", "between_means")
PLAIN = ("profile", "dynamics", "cepstrum")
CEPSTRAL_COEFFICIENTS = 20


def plain_statistics(mel_db: torch.Tensor, floor: float, ceil: float) -> dict[str, np.ndarray]:
    """Per clip [n, ...] of dB log-mels [n, mels, frames] within the generator's range: each
    band's mean (``profile``), its standard deviation over time (``dynamics``) and the first
    cepstral coefficients of the profile (``cepstrum``)."""
    mel = mel_db.clamp(floor, ceil).double().numpy()
    profile = mel.mean(axis=2)
    cepstrum = dct(profile, axis=1, norm="ortho")[:, :CEPSTRAL_COEFFICIENTS]
    return {"profile": profile, "dynamics": mel.std(axis=2), "cepstrum": cepstrum}


def overall_spread(values: np.ndarray, groups: np.ndarray | None = None) -> float | None:
    """Mean distance over pairs (with ``groups``, pairs from different groups only)."""
    n = len(values)
    pairs = np.triu(np.ones((n, n), dtype=bool), k=1)
    if groups is not None:
        pairs &= groups[:, None] != groups[None, :]
    return _mean(pairwise_distances(values, values)[pairs])


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
    asked = bundle.genres_asked(genres)
    probe = ClassifierProbe(load_default_classifier())
    rate = bundle.spec.sample_rate
    length = clip_samples(SCORED_SECONDS, bundle)
    clips = load_clips(None)
    frontend = LogMel(bundle.spec)
    out: dict = {}
    for gid, genre in asked:
        segments = real_segments([c for c in clips if c.genre == genre], length, rate)
        if len({number for _, number, _ in segments}) < 2:
            raise GanError(f"Fewer than two real {genre} clips of {SCORED_SECONDS:g} s to compare.")
        _, real = probe.clips([s[2] for s in segments], rate)
        numbers = np.array([number for _, number, _ in segments])
        real_parts = spread_parts(real, numbers)
        with torch.inference_mode():
            real_mels = frontend(torch.from_numpy(np.stack([s[2] for s in segments])))
        mels, picked = draw_clips(bundle, gid, per_genre, seed)
        _, generated = probe.clips(heard_waves(mels, bundle), rate)
        gen_parts = spread_parts(generated, picked)
        frames = min(real_mels.shape[-1], mels.shape[-1])
        real_plain = plain_statistics(real_mels[..., :frames], bundle.db_floor, bundle.db_ceil)
        gen_plain = plain_statistics(mels[..., :frames], bundle.db_floor, bundle.db_ceil)
        out[genre] = {
            "real": real_parts,
            "generated": gen_parts,
            "ratios": {
                **{part: _ratio(gen_parts[part], real_parts[part]) for part in PARTS},
                "overall": _ratio(overall_spread(generated), real_parts["across"]),
            },
            "plain": {
                part: _ratio(
                    overall_spread(gen_plain[part]), overall_spread(real_plain[part], numbers)
                )
                for part in PLAIN
            },
        }
    means = {}
    for kind, parts in (("ratios", (*PARTS, "overall")), ("plain", PLAIN)):
        for part in parts:
            values = [g[kind][part] for g in out.values() if g[kind][part] is not None]
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
