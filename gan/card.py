"""MODEL_CARD.md for the shipped generator, rendered from its ``gan.json``."""

from __future__ import annotations

from typing import Any

from gan.card_diversity import coverage_line, diversity_ceiling, diversity_words
from gan.card_gate import gate_lines
from gan.card_pick import fmt as _fmt
from gan.card_pick import selection_lines, truncation_words
from gan.card_redraws import dropout_lines, hole_lines
from gan.card_sonification import sonification_lines
from gan.card_training import recipe_lines as _recipe_lines
from gan.card_training import reproduce_lines as _reproduce
from gan.card_training import threads_words as _threads_words
from gan.config import (
    CRITIC_KEY,
    EVALUATION_SEED,
    GanConfig,
)

AGREEMENT_AIM = (
    0.60  # the target share of clips the default classifier assigns to their genre
)


def render_card(meta: dict[str, Any]) -> str:
    training = meta.get("training", {})
    config = training.get("config", {})
    model = meta.get("model", {})
    losses = training.get("losses", {})
    metrics = meta.get("metrics", {})
    minutes = training.get("seconds", 0) / 60
    lines = [
        f"# {meta.get('title', meta['name'])} (`{meta['name']}`)",
        "",
        "Draws new 128-mel × 128-frame log-mel spectrograms (≈ 2.95 s at 22050 Hz, hop 512) for "
        "a chosen GTZAN genre. Audio is made from them with torch Griffin-Lim "
        "(`audio.mel_to_audio`); longer clips cross-fade consecutive patches.",
        "",
        "## Model",
        f"- Conditional DCGAN: generator {model.get('g_channels')} channels "
        f"({_upsampling_words(model)}) with genre-conditioned batch norm and a "
        f"{model.get('embed_dim')}-d genre embedding joined to "
        f"{model.get('z_dim')}-d noise; discriminator {model.get('d_channels')} channels, "
        "spectral norm, projection on the genre, a mel-position input channel and an auxiliary "
        f"genre classifier head (AC-GAN loss, weight {config.get('aux_weight')}).",
        "- Hinge loss, Adam "
        f"(lr G {config.get('lr_g')}, lr D {config.get('lr_d')}, betas "
        f"{config.get('beta1')}/{config.get('beta2')}), one D step per G step; the shipped "
        f"weights are the exponential moving average (decay {config.get('ema_decay')}) of the "
        "generator, with batch-norm statistics re-measured for those weights.",
        f"- {meta.get('parameters', 0):,} generator parameters (`{meta.get('weights')}`, float32).",
        *_critic_lines(meta),
        "",
        "## Data",
        f"- {meta.get('trained_on', {}).get('dataset')}: {training.get('clips')} clips, "
        "log-mel (128 mels, n_fft 2048, hop 512, dB), clamped to "
        f"[{meta['normalisation']['db_floor']:g}, {meta['normalisation']['db_ceil']:g}] dB and "
        "scaled to [-1, 1]; each batch is genre-balanced random 128-frame crops.",
        "- Ten clips per genre from very few artists: the generator imitates those recordings, "
        "not the genre at large.",
        *gate_lines(meta),
        "",
        "## Training",
        f"- {training.get('steps')} steps of batch {config.get('batch_size')} in "
        f"{minutes:.1f} min on CPU ({_threads_words(training)}).",
        *_recipe_lines(training),
        f"- Mean losses over the last steps: {_losses(losses)}. "
        "Per-step losses: `training_log.csv` (columns step, d_loss, g_loss, d_real, d_fake, "
        "aux_real, aux_fake, elapsed_s).",
        "- Reproduce (training resumes if interrupted):",
        "",
        "```",
        *_reproduce(meta),
        "```",
        "",
        "## Quality (measured by `python -m gan evaluate`, also in `make bench`)",
    ]
    if metrics:
        chance = 1 / max(1, len(meta.get("labels", [])))
        per = metrics.get("agreement_per_genre", {})
        lines += [
            f"Judge: the `{metrics.get('classifier')}` genre classifier, on "
            f"{metrics.get('generated_clips')} generated clips of {metrics.get('clip_seconds')} s "
            # figures from before evaluate took --seed were all drawn with the default seed
            f"(noise seed {metrics.get('seed', EVALUATION_SEED)}; sonified, "
            f"loudness-normalised{truncation_words(meta)}).",
            "",
            "| measure | value |",
            "|---|---|",
            f"| classifier agreement (chance {100 * chance:.0f} %, "
            f"aim ≥ {100 * AGREEMENT_AIM:.0f} %) | "
            f"{_fmt(metrics.get('agreement'), pct=True)} |",
            f"| same classifier on real segments (half B) | "
            f"{_fmt(metrics.get('agreement_real_half_b'), pct=True)} |",
            f"| … on those real segments after mel → Griffin-Lim | "
            f"{_fmt(metrics.get('agreement_real_resynthesised'), pct=True)} |",
            f"| Fréchet distance, generated vs real half A | "
            f"{_fmt(metrics.get('fd_generated_vs_real_a'))} |",
            f"| Fréchet distance, real half B vs real half A | "
            f"{_fmt(metrics.get('fd_real_b_vs_real_a'))} |",
            f"| Fréchet distance, Griffin-Lim-resynthesised B vs A | "
            f"{_fmt(metrics.get('fd_resynthesised_b_vs_real_a'))} |",
            *_cepstral_line(metrics),
            f"| diversity: distance between two generated clips of a genre ÷ between two real "
            f"excerpts of it (different clips; aim ≈ 1){diversity_ceiling(metrics)} | "
            f"{_fmt(metrics.get('diversity_ratio'))} |",
            *coverage_line(metrics),
            *_motion_line(meta, metrics),
            *dropout_lines(meta, metrics),
            *hole_lines(meta, metrics),
            f"| round-trip spectral convergence (mean / median) | "
            f"{_fmt(metrics.get('round_trip_sc_mean'))} / "
            f"{_fmt(metrics.get('round_trip_sc_median'))} |",
            f"| sample + sonify 4 × 3 s, warm, {metrics.get('speed_threads')} thread(s), load "
            f"average {metrics.get('speed_load_average')} | "
            f"{_fmt(metrics.get('speed_4x3s_s'))} s |",
            "",
            *_per_genre_lines(metrics),
        ]
        agreement = metrics.get("agreement")
        if agreement is not None and float(agreement) < AGREEMENT_AIM:
            missed = [g for g, v in per.items() if float(v) < MISHEARD_BELOW]
            lines += [
                f"**The aim of ≥ {100 * AGREEMENT_AIM:.0f} % agreement is not met.** "
                + (
                    f"The judge recognises {len(per) - len(missed)} of {len(per)} genres (in "
                    f"≥ {100 * MISHEARD_BELOW:.0f} % of their clips); it hears most of the "
                    f"generated {', '.join(missed)} as other genres. "
                    if missed
                    else ""
                )
                + _ceiling_words(metrics, missed),
                "",
            ]
        for name, other in metrics.get("other_classifiers", {}).items():
            lines += [
                f"Judged by `{name}` instead: agreement "
                f"{_fmt(other.get('agreement'), pct=True)} (real segments "
                f"{_fmt(other.get('agreement_real_half_b'), pct=True)}, after Griffin-Lim "
                f"{_fmt(other.get('agreement_real_resynthesised'), pct=True)})"
                + _other_fd_words(other)
                + ".",
                "",
            ]
        lines += [
            "Halves A and B are alternate clips in genre and number order (for GTZAN, the even- "
            "and odd-numbered clips), cut into non-overlapping "
            "segments as long as a generated clip. Embeddings are the classifier's own "
            "embedding output (else the input of its last linear layer), averaged over its "
            "windows. The classifiers were trained on these same 100 clips, so their agreement "
            "on real segments is an upper bound, not a test score.",
        ]
    else:
        lines.append("Not measured yet: run `python -m gan evaluate --write`.")
    lines += selection_lines(meta)
    lines += ["", *sonification_lines(metrics)]
    lines += [
        "",
        "## Limitations",
        "- Griffin-Lim guesses the phase the spectrogram lacks, which gives a metallic, "
        "slightly smeared sound; the 128-band mel also blurs pitch above ~1 kHz.",
        "- Three seconds of texture, not songs: there is no melody or structure beyond a patch.",
        "- Trained on a CPU from 100 clips, the generator draws the coarse spectral shape and "
        "rhythm of a genre but blurs harmonics and onsets, and two samples of one genre differ "
        f"less than two real excerpts do ({diversity_words(metrics)}).",
        *_misheard_lines(metrics),
        "",
        f"Created {meta.get('created')}. Licence: {meta.get('licence')}.",
        "",
    ]
    return "\n".join(lines)


MISHEARD_BELOW = 0.3  # a genre the judge names for fewer of its clips counts as not recognised


def _upsampling_words(model: dict[str, Any]) -> str:
    if GanConfig.from_dict(model).upsample == "nearest":
        return "each doubling: nearest-neighbour upsampling, then a 3 × 3 convolution"
    return "each doubling: a stride-2 4 × 4 transposed convolution"


def _misheard_lines(metrics: dict[str, Any]) -> list[str]:
    """Which asked-for genres the judge mostly hears as something else, and as what."""
    heard = metrics.get("heard_as_per_genre")
    per = metrics.get("agreement_per_genre", {})
    if heard is None:  # measured before evaluate recorded it: the recorded impression
        return [
            "- A classifier trained on these same clips with the same spectrogram recognises "
            "the genres; a classifier pretrained on other music (musicnn) mostly hears the blur "
            "as pop, hip-hop, metal or rock."
        ]
    misheard = []
    for genre, shares in heard.items():
        if float(per.get(genre, 0)) >= MISHEARD_BELOW or not shares:
            continue
        top, share = next(iter(shares.items()))
        if top != genre:
            misheard.append(f"{genre} as {top} ({100 * share:.0f} %)")
    if not misheard:
        return []
    return [f"- The judge mostly hears the generated {'; '.join(misheard)}."]


def _cepstral_line(metrics: dict[str, Any]) -> list[str]:
    """The network-free Fréchet distance's row (none for cards measured before it existed)."""
    if metrics.get("fd_cepstral_generated_vs_real_a") is None:
        return []
    return [
        "| Fréchet distance without a network (mean and spread of 20 cepstral coefficients and "
        "of the spectral flux), generated / real B / resynthesised B vs A | "
        f"{_fmt(metrics.get('fd_cepstral_generated_vs_real_a'))} / "
        f"{_fmt(metrics.get('fd_cepstral_real_b_vs_real_a'))} / "
        f"{_fmt(metrics.get('fd_cepstral_resynthesised_b_vs_real_a'))} |"
    ]


def _other_fd_words(other: dict[str, Any]) -> str:
    if other.get("fd_generated_vs_real_a") is None:
        return ""
    diversity = other.get("diversity_ratio")
    return (f"; Fréchet distance in its embedding {_fmt(other.get('fd_generated_vs_real_a'))} "
            f"(real B vs A {_fmt(other.get('fd_real_b_vs_real_a'))})"
            + (f"; diversity in its embedding {_fmt(diversity)}" if diversity is not None
               else ""))  # fmt: skip


def _per_genre_lines(metrics: dict[str, Any]) -> list[str]:
    """Per genre: the generated clips' agreement beside its ceiling (real segments of the genre
    after Griffin-Lim) and diversity; older cards without the ceiling keep their two lines."""
    per = metrics.get("agreement_per_genre", {})
    ceiling = metrics.get("agreement_real_resynthesised_per_genre")
    varied = metrics.get("diversity_ratio_per_genre") or {}
    if ceiling:
        return [
            "| genre | generated clips recognised | real segments after Griffin-Lim | diversity |",
            "|---|---:|---:|---:|",
            *(
                f"| {g} | {_fmt(v, pct=True)} | "
                f"{_fmt(ceiling[g], pct=True) if g in ceiling else 'no real segment'} | "
                f"{_fmt(varied.get(g))} |"
                for g, v in per.items()
            ),
            "",
        ]
    lines = [
        "Per-genre agreement: "
        + ", ".join(f"{g} {100 * float(v):.0f} %" for g, v in per.items())
        + ".",
        "",
    ]
    if varied:
        lines += [
            "Per-genre diversity: "
            + ", ".join(f"{g} {float(v):.2f}" for g, v in varied.items())
            + ".",
            "",
        ]
    return lines


def _ceiling_words(metrics: dict[str, Any], missed: list[str]) -> str:
    """Whose shortfall it is: the generator's where Griffin-Lim keeps the genre recognisable."""
    ceiling = metrics.get("agreement_real_resynthesised_per_genre")
    if not ceiling or not any(g in ceiling for g in missed):
        return (
            "The ceiling is the judge's agreement on real segments after Griffin-Lim "
            "(above), so the shortfall is the generator's, not the sonification's: see "
            "Limitations."
        )
    # A genre with no real segment in half B has no ceiling: it is claimed neither way.
    blurred = [g for g in missed if g in ceiling and float(ceiling[g]) < MISHEARD_BELOW]
    kept = [g for g in missed if g in ceiling and g not in blurred]
    words = []
    if kept:
        lowest = min(float(ceiling[g]) for g in kept)
        words.append(
            f"Real {', '.join(kept)} segments stay recognisable after Griffin-Lim (at least "
            f"{100 * lowest:.0f} %), so for {'it' if len(kept) == 1 else 'them'} the "
            "shortfall is the generator's, not the sonification's."
        )
    if blurred:
        words.append(
            f"Griffin-Lim itself blurs real {', '.join(blurred)} below "
            f"{100 * MISHEARD_BELOW:.0f} %: there the sonification limits what can be heard."
        )
    return " ".join(words) + " See Limitations."


def _losses(losses: dict[str, float]) -> str:
    if not losses:
        return "not recorded"
    return ", ".join(f"{k} {v:.3f}" for k, v in losses.items())


def quality_sentence(meta: dict[str, Any], name: Any = str) -> str | None:
    """How often the genre classifier recognises this generator's clips, in plain words
    (``name`` shows a genre to people); None before the generator has been evaluated."""
    metrics = meta.get("metrics", {})
    agreement, per_genre = metrics.get("agreement"), metrics.get("agreement_per_genre", {})
    if agreement is None:
        return None
    in_ten = round(10 * float(agreement))
    sentence = (
        f"The genre classifier recognises about {in_ten} in 10 of this generator's clips as "
        "the genre asked for"
    )
    good = [g for g, share in per_genre.items() if share >= 0.5]
    weak = [g for g, share in per_genre.items() if share < MISHEARD_BELOW]
    rest = [name(g) for g in per_genre if g not in good]
    if good and not rest:
        sentence += ", every genre at least half the time"
    elif good and len(good) > len(rest):  # most genres: name the few others instead
        sentence += f": at least half the time for every genre but {_listed(rest)}"
    elif good:
        sentence += f": best for {', '.join(name(g) for g in good)}"
    if weak:
        sentence += f"; not yet for {_weak_words(weak, metrics.get('heard_as_per_genre'), name)}"
    return sentence + "."


def _weak_words(weak: list[str], heard: dict[str, dict[str, float]] | None, name: Any) -> str:
    """The genres not yet recognised, grouped by what they come out sounding like."""
    if not heard:
        return ", ".join(name(g) for g in weak)
    groups: dict[str, list[str]] = {}
    for genre in weak:
        top = next(iter(heard.get(genre) or {}), genre)
        groups.setdefault(top, []).append(genre)
    parts = []
    for top, genres in groups.items():
        heard_as = "heard as a mix of genres" if top in genres else f"heard as {name(top)}"
        parts.append(f"{_listed([name(g) for g in genres])} ({heard_as})")
    return ", ".join(parts)


def _listed(names: list[str]) -> str:
    """The names joined as "a", "a and b" or "a, b and c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _motion_line(meta: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    """Whether the partials change like real notes or hold like a drone (cards measured since)."""
    lag = metrics.get("partial_motion_lag_frames")
    if lag is None:
        return []
    frontend = meta.get("frontend")
    when = f" ({lag * frontend['hop'] / frontend['sample_rate']:.2f} s)" if frontend else ""
    return [
        f"| partial motion: correlation of the fine frequency detail {lag} frames{when} "
        "apart, generated / real half B (changing notes: low; a drone: near 1) | "
        f"{_fmt(metrics.get('partial_motion_generated'))} / "
        f"{_fmt(metrics.get('partial_motion_real_half_b'))} |"
    ]


def _critic_lines(meta: dict[str, Any]) -> list[str]:
    """How each clip's noise is chosen, for a bundle that ships its discriminator (gan.critic)."""
    critic = meta.get(CRITIC_KEY)
    if not critic:
        return []
    return [
        f"- Sampling keeps, for every clip, the one of {critic['candidates']} noise walks whose "
        f"patches the discriminator of step {critic['step']} (`{critic['weights']}`) scores as "
        "most real (discriminator rejection sampling, Azadi et al. 2019)."
    ]
