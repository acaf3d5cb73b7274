"""What a GAN run's discriminator tells genres apart by (a diagnostic, not part of the app).

    .venv/bin/python tools/gan_probe_discriminator.py --checkpoint RUN/checkpoint.pt [--data CLIPS]

The discriminator's auxiliary genre head names the genre of random real patches of the training
clips, first as they are, then after each change below. A change that costs it much accuracy
removes something it relies on, and whatever it relies on is what the generator is taught about
a genre: a head that fails once notes move by two mel bins knows where the training clips' notes
sit, not their genre (the measurement behind ``gan train --augment …,pitch``). Also reported: the
head's accuracy on patches of the run's averaged (EMA) generator. Beside each accuracy stands
the discriminator's mean realness score: a discriminator trained with ``--negatives`` should
score real patches played backwards or block-shuffled as generated.

Prints one JSON object: ``step``, ``patches``, ``changes`` (per change: ``accuracy`` and
``per_genre``, shares 0-1, and ``realness``) and ``generated`` (the same for generated patches).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gan.data import DB_CEIL, DB_FLOOR, PatchSampler, load_clips
from gan.errors import GanError, print_json_report
from gan.negatives import blur_mels, moving_average, reverse, shuffle_blocks
from gan.state import GanState, load_checkpoint

DB = 2.0 / (DB_CEIL - DB_FLOOR)  # one decibel in the [-1, 1] units the networks see
Change = Callable[[torch.Tensor], torch.Tensor]


def move(x: torch.Tensor, bins: int) -> torch.Tensor:
    """Up (positive) or down by ``bins`` mel bins, the edge bin filling the gap."""
    index = (torch.arange(x.shape[-2]) - bins).clamp(0, x.shape[-2] - 1)
    return x[..., index, :]


def tilt(x: torch.Tensor, db: float) -> torch.Tensor:
    """A spectral tilt: the top mel bin ``db`` louder, the bottom unchanged, linear between."""
    return x + torch.linspace(0.0, db * DB, x.shape[-2]).view(-1, 1)


def flatten(x: torch.Tensor, axis: int) -> torch.Tensor:
    """Each patch's mean over ``axis`` removed (its overall mean kept): over mel bins (-2) that
    flattens the loudness contour over time; over frames (-1), the average spectrum."""
    return x - x.mean(axis, keepdim=True) + x.mean((-2, -1), keepdim=True)


CHANGES: dict[str, Change] = {
    "none": lambda x: x,
    "moved up 2 mel bins": lambda x: move(x, 2),
    "moved down 2 mel bins": lambda x: move(x, -2),
    "moved up 4 mel bins": lambda x: move(x, 4),
    "tilted +12 dB": lambda x: tilt(x, 12.0),
    "12 dB quieter": lambda x: x - 12.0 * DB,
    "time reversed": reverse,
    "blocks of 16 frames shuffled": lambda x: shuffle_blocks(x, torch.Generator().manual_seed(3)),
    "blurred over 3 mel bins": blur_mels,
    "blurred over 3 frames": lambda x: moving_average(x, -1, 3),
    "loudness contour flattened": lambda x: flatten(x, -2),
    "average spectrum flattened": lambda x: flatten(x, -1),
}


def judged(state: GanState, patches: torch.Tensor, genres: torch.Tensor) -> dict:
    """The share of ``patches`` whose genre the discriminator's head names right, overall and
    per genre (labels of the run), and its mean realness score for them (hinge scale: about +1
    or more is "real", -1 or less "generated")."""
    layout = torch.channels_last if patches.dim() == 4 else torch.contiguous_format
    scores, logits = state.discriminator.score_and_classify(
        patches.contiguous(memory_format=layout), genres
    )
    right = (logits.argmax(dim=1) == genres).float()
    per_genre = {
        label: round(right[genres == g].mean().item(), 3)
        for g, label in enumerate(state.labels)
        if bool((genres == g).any())
    }
    return {
        "accuracy": round(right.mean().item(), 3),
        "per_genre": per_genre,
        "realness": round(scores.mean().item(), 3),
    }


def probe(state: GanState, sampler: PatchSampler, patches: int, seed: int) -> dict:
    """:data:`CHANGES` applied to ``patches`` random real patches of ``sampler``, and the EMA
    generator's patches of the same genres, each judged by the discriminator's genre head."""
    if state.discriminator.classify is None:
        raise GanError("This run's discriminator has no genre head (it was trained with --aux 0).")
    state.discriminator.eval()
    state.ema.model.eval()
    real, genres = sampler.sample(patches, torch.Generator().manual_seed(seed))
    noise_rng = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        changes = {name: judged(state, f(real), genres) for name, f in CHANGES.items()}
        noise = torch.randn(patches, state.config.model.z_dim, generator=noise_rng)
        generated = judged(state, state.ema.model(noise, genres), genres)
    return {"step": state.step, "patches": patches, "changes": changes, "generated": generated}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="a run's checkpoint.pt")
    parser.add_argument("--data", type=Path, help="its training clips (default: shared GTZAN)")
    parser.add_argument("--patches", type=int, default=400, help="real patches (default: 400)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.patches < 1:
        parser.error("--patches must be 1 or more")
    torch.set_num_threads(1)

    def report() -> dict:
        state = load_checkpoint(args.checkpoint)
        sampler = PatchSampler(load_clips(args.data, labels=state.labels), state.labels)
        return probe(state, sampler, args.patches, args.seed)

    return print_json_report(report)


if __name__ == "__main__":
    sys.exit(main())
