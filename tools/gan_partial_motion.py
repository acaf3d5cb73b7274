"""Do the generator's partials move like real music's, or hold like a drone? (a diagnostic)

    .venv/bin/python tools/gan_partial_motion.py [--bundle DIR] [--per-genre N] [--genres a,b]
        [--lags 1,4,16]

The measure is :mod:`gan.partial_motion`'s (``gan evaluate`` puts its 16-frame figure on the
model card); this tool gives it at several lags, per genre. For each genre and lag, the mean
correlation of the fine frequency detail between frames t and t + lag, over N real 128-frame
crops of the training clips (seeded by genre, taken in turn from its clips) and N generated patches
(as the bundle draws them, its ψ included; noise seeded by genre).

Prints one JSON object: ``bundle``, ``truncation``, ``per_genre``, ``lags``, ``genres`` (per genre:
``real`` and ``generated``, one correlation per lag) and ``mean`` (the same, averaged over the
genres). Figures in docs/generator.md come from this tool.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gan.bundle import load_gan_bundle
from gan.data import denormalise, load_clips
from gan.errors import GanError, print_json_report
from gan.partial_motion import detail_correlation
from gan.sample import generate_mels


def motion(bundle_dir: Path, per_genre: int, genres: list[str] | None, lags: list[int]) -> dict:
    bundle = load_gan_bundle(bundle_dir)
    asked = bundle.genres_asked(genres)
    frames = bundle.config.frames
    clips = load_clips(None)
    out: dict = {}
    for gid, genre in asked:
        mine = [c for c in clips if c.genre == genre and c.mel.shape[1] > frames]
        if not mine:
            raise GanError(f"No real {genre} clip longer than one patch to compare with.")
        rng = np.random.default_rng(gid)  # each genre's crops whatever else is asked for
        crops = []
        for i in range(per_genre):
            mel = mine[i % len(mine)].mel
            start = int(rng.integers(0, mel.shape[1] - frames))
            crops.append(
                denormalise(mel[:, start : start + frames], bundle.db_floor, bundle.db_ceil)
            )
        real = torch.stack(crops)
        generated = generate_mels(bundle, [gid] * per_genre, 1, torch.Generator().manual_seed(gid))
        out[genre] = {
            side: [round(detail_correlation(m, lag), 3) for lag in lags]
            for side, m in (("real", real), ("generated", generated))
        }
    mean = {
        side: [
            round(float(np.mean([g[side][i] for g in out.values()])), 3) for i in range(len(lags))
        ]
        for side in ("real", "generated")
    }
    return {"bundle": str(bundle_dir), "truncation": bundle.truncation, "per_genre": per_genre,
            "lags": lags, "genres": out, "mean": mean}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("assets/gan-cgan"))
    parser.add_argument("--per-genre", type=int, default=20, help="patches per genre and side")
    parser.add_argument("--genres", default="", help="comma-separated (default: all)")
    parser.add_argument("--lags", default="1,4,16", help="frames apart, comma-separated")
    args = parser.parse_args()
    try:
        lags = [int(lag) for lag in args.lags.split(",") if lag.strip()]
    except ValueError:
        parser.error("--lags must be whole numbers of frames, such as 1,4,16")
    if not lags or not all(1 <= lag <= 64 for lag in lags) or not 1 <= args.per_genre <= 200:
        parser.error("--lags must be 1-64 frames and --per-genre 1-200")
    genres = [g.strip() for g in args.genres.split(",") if g.strip()] or None
    torch.set_num_threads(1)
    return print_json_report(lambda: motion(args.bundle, args.per_genre, genres, lags))


if __name__ == "__main__":
    sys.exit(main())
