"""The words on how varied a generator's clips are: the model card's (the diversity ratio's
ceiling, coverage's row and the summary's phrase; :mod:`gan.card` renders the card) and the
Generate page's plain sentence."""

from __future__ import annotations

from typing import Any

from audio.spectrogram import finite_number
from gan.card_pick import fmt as _fmt
from gan.config import COVERAGE_NEIGHBOURS


def coverage_line(metrics: dict[str, Any]) -> list[str]:
    """Coverage's row (none for cards measured before it was)."""
    if metrics.get("coverage") is None:
        return []
    return [f"| coverage: share of a genre's real excerpts with a generated clip nearer than their "
            f"{COVERAGE_NEIGHBOURS}th-nearest real excerpt (Naeem et al. 2020; real segments of "
            f"half B after Griffin-Lim: {_fmt(metrics.get('coverage_resynthesised'))}) | "
            f"{_fmt(metrics.get('coverage'))} |"]  # fmt: skip


def diversity_ceiling(metrics: dict[str, Any]) -> str:
    """What the sonification alone leaves of real music's diversity (older cards: nothing)."""
    ceiling = metrics.get("diversity_ratio_resynthesised")
    if ceiling is None:
        return ""
    return f"; real segments of half B after Griffin-Lim: {_fmt(ceiling)}"


def diversity_words(metrics: dict[str, Any]) -> str:
    ratio = metrics.get("diversity_ratio")
    if ratio is None:  # measured before diversity was: the old pixel-space estimate
        return "pixel distance about a third of the real one"
    return f"in the judge's embedding, {float(ratio):.2f} of the real distance; see Quality"


# A diversity ratio this close to real music's (1) is said as "about as much": the sonification
# alone leaves about 0.93 of it (the shipped card's ceiling).
AS_VARIED_AS_REAL = 0.9


def variety_sentence(meta: dict[str, Any]) -> str | None:
    """How much two clips of one genre differ next to two real recordings of it, in plain
    words for the Generate page; None before the generator has been evaluated (or when its
    metadata holds no usable figure: the page then says nothing rather than fail)."""
    metrics = meta.get("metrics")
    ratio = metrics.get("diversity_ratio") if isinstance(metrics, dict) else None
    if not finite_number(ratio):
        return None
    if ratio >= AS_VARIED_AS_REAL:
        return "Two clips of one genre differ about as much as two real recordings of it do."
    # to the nearest 5 %, not 10 %: 0.757 said as "80 %" would round the shortfall away
    return (
        "Clips of one genre are more alike than real music: two of them differ about "
        f"{round(20 * float(ratio)) * 5} % as much as two real recordings of that genre."
    )
