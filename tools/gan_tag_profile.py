"""What generated clips sound like to the classifier's backbone, beside real ones (a diagnostic).

    .venv/bin/python tools/gan_tag_profile.py [--bundle DIR] [--per-genre N] [--genres a,b]
        [--top K]

For each genre: N generated 3-s clips (drawn as ``gan pick`` and ``gan evaluate`` score them)
and N real 3-s segments of the training clips, spread over the clips, both sent through the
same mel → audio sonification, so the round trip weighs on both sides alike. The shipped musicnn
classifier (whose backbone was trained on the Million Song Dataset's tags) names each clip's
genre and scores its 50 tags. Where the judge does not hear a genre, the tags say what it hears
instead: a generator whose clips of every genre are tagged "electronic" or "experimental" has
learnt each genre's texture but not its instruments.

Prints one JSON object: ``bundle``, ``per_genre`` and ``genres``: per genre, ``generated`` and
``real`` (each ``top_tags``: [tag, mean score] best first, and ``heard``: the share of clips the
classifier named each genre) and ``profile_gap``: half the L1 distance between the two mean tag
profiles, each scaled to sum 1 (0: the same profile, 1: no tag in common).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio import LogMel, resample
from gan.bundle import load_gan_bundle
from gan.config import SCORED_SECONDS
from gan.data import load_clips
from gan.errors import GanError, print_json_report
from gan.metrics import real_segments
from gan.pick import generated_clips
from gan.sample import clip_samples, normalise_loudness, sonify
from genre.classifier import Classifier
from genre.errors import GenreError
from genre.paths import default_bundle_dir


def tag_means(classifier: Classifier, waves: list[np.ndarray], rate: int) -> tuple[dict, dict]:
    """(mean score per tag, share of the clips named each genre) of ``waves`` at ``rate``."""
    served = classifier.bundle.sample_rate
    tags: list[dict[str, float]] = []
    heard: list[str] = []
    for wave in waves:
        samples = resample(np.asarray(wave, dtype=np.float32), rate, served)
        prediction = classifier.predict_samples(np.ascontiguousarray(samples, dtype=np.float32))
        tags.append(prediction.tags or {})
        heard.append(prediction.genre)
    names = sorted({name for scores in tags for name in scores})
    means = {name: float(np.mean([scores.get(name, 0.0) for scores in tags])) for name in names}
    shares = {g: heard.count(g) / len(heard) for g in sorted(set(heard), key=heard.count)[::-1]}
    return means, shares


def profile_gap(a: dict[str, float], b: dict[str, float]) -> float:
    names = sorted(set(a) | set(b))
    pa = np.array([a.get(n, 0.0) for n in names])
    pb = np.array([b.get(n, 0.0) for n in names])
    pa, pb = pa / (pa.sum() or 1.0), pb / (pb.sum() or 1.0)
    return float(0.5 * np.abs(pa - pb).sum())


def side(means: dict[str, float], shares: dict[str, float], top: int) -> dict:
    ranked = sorted(means.items(), key=lambda item: -item[1])[:top]
    return {
        "top_tags": [[name, round(score, 3)] for name, score in ranked],
        "heard": {g: round(s, 3) for g, s in shares.items()},
    }


def profile(bundle_dir: Path, per_genre: int, genres: list[str] | None, top: int) -> dict:
    bundle = load_gan_bundle(bundle_dir)
    asked = bundle.genres_asked(genres)
    try:
        classifier = Classifier(default_bundle_dir(), detector=False)
    except GenreError as err:
        raise GanError(f"The shipped classifier cannot be loaded: {err}") from err
    if not classifier.bundle.tags:
        raise GanError("The shipped classifier has no backbone tags to report.")
    rate = bundle.spec.sample_rate
    length = clip_samples(SCORED_SECONDS, bundle)
    clips = load_clips(None)
    frontend = LogMel(bundle.spec)
    out: dict = {}
    for gid, genre in asked:
        generated = generated_clips(bundle, gid, per_genre)
        segments = real_segments([c for c in clips if c.genre == genre], length, rate)
        if not segments:
            raise GanError(f"No real {genre} clip of {SCORED_SECONDS:g} s or more to compare with.")
        chosen = np.linspace(0, len(segments) - 1, per_genre).round().astype(int)
        batch = torch.from_numpy(np.stack([segments[i][2] for i in chosen]))
        with torch.inference_mode():
            real = [normalise_loudness(w, rate) for w in sonify(frontend(batch), bundle)]
        g_means, g_heard = tag_means(classifier, generated, rate)
        r_means, r_heard = tag_means(classifier, real, rate)
        out[genre] = {
            "generated": side(g_means, g_heard, top),
            "real": side(r_means, r_heard, top),
            "profile_gap": round(profile_gap(g_means, r_means), 3),
        }
    return {"bundle": str(bundle_dir), "per_genre": per_genre, "genres": out}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("assets/gan-cgan"))
    parser.add_argument("--per-genre", type=int, default=12, help="clips per genre and side")
    parser.add_argument("--genres", default="", help="comma-separated (default: all)")
    parser.add_argument("--top", type=int, default=6, help="tags listed per side")
    args = parser.parse_args()
    if not 1 <= args.per_genre <= 200 or not 1 <= args.top <= 50:
        parser.error("--per-genre must be 1-200 and --top 1-50")
    genres = [g.strip() for g in args.genres.split(",") if g.strip()] or None
    return print_json_report(lambda: profile(args.bundle, args.per_genre, genres, args.top))


if __name__ == "__main__":
    sys.exit(main())
