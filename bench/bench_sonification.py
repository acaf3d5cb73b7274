"""Sonification round trip: real GTZAN segments → GAN log-mel → audio, random vs PGHI phase.

    python bench/bench_sonification.py [--per-genre N] [--no-judge]

For each 3-s segment (the GAN's clip length and front-end) the mel is inverted the way the
Generate page does (mel → linear magnitude → Griffin-Lim) starting from random phase or from
PGHI phase (audio.pghi), for several iteration counts, and with more refinements of the
mel → linear magnitude (``_melN`` rows). Reported per setting:

* ``sc_magnitude``: ‖S − |STFT(x̂)|‖ / ‖S‖ against the magnitude Griffin-Lim was given;
* ``sc_mel``: the same on mel magnitudes against the segment's own mel (the round trip
  gan/evaluation.py reports for generated clips);
* ``sc_original``: against the original segment's own STFT magnitude;
* median seconds per 3-s segment on one thread (the mel inversion and PGHI separately).

Unless ``--no-judge``, the default genre classifier then labels the original segments and
their resyntheses in JUDGED (agreement with the GTZAN label; Fréchet distance of the
resynthesised odd clips' embeddings to the real even clips', as gan/evaluation.py does).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch
from common import write_results

from audio import LogMel
from audio.inversion import MEL_PGHI_TOL, griffin_lim, mel_to_magnitude
from audio.pghi import pghi_batch
from gan.bundle import load_gan_bundle
from gan.data import load_clips
from gan.metrics import (
    ClassifierProbe,
    frechet_distance,
    load_default_classifier,
    real_halves,
    spectral_convergence,
)
from gan.sample import clip_samples, normalise_loudness

ITERATIONS = (0, 8, 24, 32, 48, 64)
MEL_ITERS = (10, 30, 100)  # mel → linear refinements, tried at 24 Griffin-Lim iterations
# (start, Griffin-Lim iterations, mel refinements): today's setting first (random, 24, 10).
JUDGED = (("random", 24, 10), ("pghi", 24, 10), ("random", 24, 100), ("pghi", 24, 100))


def resynthesise(
    mel_db: torch.Tensor, spec, n_iter: int, init: str, seed: int, mel_iters: int = 10
) -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """(magnitude, wave, seconds before Griffin-Lim, seconds in it) for one log-mel [n_mels, T]."""
    started = time.perf_counter()
    magnitude = mel_to_magnitude(mel_db, spec, mel_iters)
    if init == "pghi":
        found = pghi_batch(magnitude.double().numpy(), spec.n_fft, spec.hop, tol=MEL_PGHI_TOL)
        phase = torch.from_numpy(found)
    else:
        generator = torch.Generator().manual_seed(seed)
        phase = torch.rand(magnitude.shape, generator=generator, dtype=torch.float64) * 2 * np.pi
    phased = time.perf_counter()
    length = (mel_db.shape[-1] - 1) * spec.hop
    wave = griffin_lim(
        magnitude, spec.n_fft, spec.hop, n_iter=n_iter, length=length, phase=phase.float()
    )
    return magnitude, wave, phased - started, time.perf_counter() - phased


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-genre", type=int, default=2, help="clips per genre")
    parser.add_argument("--no-judge", action="store_true", help="skip the classifier")
    args = parser.parse_args()
    torch.set_num_threads(1)

    bundle = load_gan_bundle()
    spec, rate = bundle.spec, bundle.spec.sample_rate
    frontend = LogMel(spec)
    window = torch.hann_window(spec.n_fft)
    clips = load_clips(limit_per_genre=args.per_genre)
    # Each clip's audio is decoded once: the judge compares the halves, the rest uses them all.
    halves = real_halves(clips, clip_samples(3.0, bundle), rate)
    segments = [*halves[0], *halves[1]]
    # One segment from the middle of each clip for the convergence figures.
    middle = {}
    for genre, number, samples in segments:
        middle.setdefault((genre, number), []).append(samples)
    probes = [pieces[len(pieces) // 2] for pieces in middle.values()]

    def stft(wave: torch.Tensor) -> torch.Tensor:
        return torch.stft(
            wave, spec.n_fft, spec.hop, window=window, return_complex=True, pad_mode="constant"
        ).abs()

    grid = [(init, n, 10) for init in ("random", "pghi") for n in ITERATIONS]
    grid += [(init, 24, m) for init in ("random", "pghi") for m in MEL_ITERS if m != 10]
    rows: dict[str, dict[str, float | str]] = {}
    per_segment: dict[tuple[str, int, int], list[float]] = {}
    for init, n_iter, mel_iters in grid:
        sc_mag, sc_mel, sc_true, t_init, t_total = [], [], [], [], []
        for i, samples in enumerate(probes):
            with torch.inference_mode():
                segment = torch.from_numpy(samples)
                mel = frontend(segment)
                magnitude, wave, t_before, t_gl = resynthesise(
                    mel, spec, n_iter, init, i, mel_iters
                )
                rebuilt, true = stft(wave), stft(segment)
                sc_mag.append(float(torch.linalg.norm(rebuilt - magnitude) / magnitude.norm()))
                sc_true.append(float(torch.linalg.norm(rebuilt - true) / true.norm()))
                sc_mel.append(float(spectral_convergence(mel, frontend(wave))))
            t_init.append(t_before)
            t_total.append(t_before + t_gl)
        row: dict[str, float | str] = {
            "sc_magnitude_mean": round(float(np.mean(sc_mag)), 4),
            "sc_mel_mean": round(float(np.mean(sc_mel)), 4),
            "sc_original_mean": round(float(np.mean(sc_true)), 4),
            "before_griffin_lim_s_median": round(statistics.median(t_init), 4),
            "total_s_median": round(statistics.median(t_total), 4),
        }
        per_segment[(init, n_iter, mel_iters)] = sc_mag
        if init == "pghi":  # on how many segments PGHI's start ends closer than random's
            base = per_segment[("random", n_iter, mel_iters)]
            wins = sum(p < r for p, r in zip(sc_mag, base, strict=True))
            row["pghi_better_segments"] = f"{wins}/{len(sc_mag)}"
        name = f"{init}_{n_iter}" + (f"_mel{mel_iters}" if mel_iters != 10 else "")
        rows[name] = row
        print(name, row, flush=True)

    results = {
        "bundle": bundle.name,
        "segment_seconds": round(len(probes[0]) / rate, 2),
        "segments": len(probes),
        "clips_per_genre": args.per_genre,
        "threads": torch.get_num_threads(),
        "load_average": round(os.getloadavg()[0], 1),
        "round_trip": rows,
    }
    if not args.no_judge:
        results["judged"] = judge(*halves, spec, rate, frontend)
    write_results("sonification", results)


def judge(half_a, half_b, spec, rate: int, frontend: LogMel) -> dict[str, object]:
    """Agreement and Fréchet distance of the resyntheses in ``JUDGED``."""
    probe = ClassifierProbe(load_default_classifier())
    genres = [s[0] for s in half_b]
    _, a_emb = probe.clips([s[2] for s in half_a], rate)
    b_probs, b_emb = probe.clips([s[2] for s in half_b], rate)
    out: dict[str, object] = {
        "classifier": probe.classifier.bundle.name,
        "segments": {"a": len(half_a), "b": len(half_b)},
        "agreement_real_b": round(probe.agreement(b_probs, genres), 4),
        "fd_real_b_vs_real_a": round(frechet_distance(b_emb, a_emb), 3),
    }
    for init, n_iter, mel_iters in JUDGED:
        waves = []
        for i, (_, _, samples) in enumerate(half_b):
            with torch.inference_mode():
                mel = frontend(torch.from_numpy(samples))
                _, wave, _, _ = resynthesise(mel, spec, n_iter, init, i, mel_iters)
            waves.append(normalise_loudness(wave.numpy(), rate))
        probs, emb = probe.clips(waves, rate)
        out[f"resynthesised_{init}_{n_iter}_mel{mel_iters}"] = {
            "agreement": round(probe.agreement(probs, genres), 4),
            "fd_b_vs_real_a": round(frechet_distance(emb, a_emb), 3),
        }
        print(init, n_iter, mel_iters, out, flush=True)
    return out


if __name__ == "__main__":
    main()
