"""GAN training speed → bench/results/gan_train.json (not a test; numbers vary by machine).

Seconds per step of the default recipe (batch 16, DiffAugment, lazy R1, mode seeking) on real
patches of the shared clips, with the networks channels-last (how ``gan train`` runs them) and
in the default contiguous layout (how it ran them before), alternated so drift hits both.

    python bench/bench_gan_train.py [--steps 30] [--rounds 4] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from common import write_results

from gan.config import TrainConfig
from gan.data import PatchSampler, load_clips
from gan.state import GanState
from gan.train import train_step


def seconds_per_step(state: GanState, sampler: PatchSampler, steps: int) -> float:
    started = time.perf_counter()
    for _ in range(steps):
        real, genres = sampler.sample(state.config.batch_size, state.data_rng)
        train_step(state, real, genres)
    return (time.perf_counter() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    sampler = PatchSampler(load_clips())
    fast = GanState.fresh(TrainConfig())
    plain = GanState.from_checkpoint(fast.to_checkpoint()).in_layout(torch.contiguous_format)
    times: dict[str, list[float]] = {"channels_last": [], "contiguous": []}
    for state in (fast, plain):
        seconds_per_step(state, sampler, 3)  # warm-up: oneDNN picks its kernels
    for _ in range(args.rounds):
        times["channels_last"].append(seconds_per_step(fast, sampler, args.steps))
        times["contiguous"].append(seconds_per_step(plain, sampler, args.steps))
    median = {name: statistics.median(values) for name, values in times.items()}
    write_results(
        "gan_train",
        {
            "threads": torch.get_num_threads(),
            "batch_size": fast.config.batch_size,
            "seconds_per_step": {name: round(value, 4) for name, value in median.items()},
            "speedup_channels_last": round(median["contiguous"] / median["channels_last"], 3),
            "rounds": {name: [round(v, 4) for v in values] for name, values in times.items()},
        },
    )


if __name__ == "__main__":
    main()
