"""The model card's words on how varied a generator's clips are: the diversity ratio's ceiling,
coverage's row and the summary's phrase (:mod:`gan.card` renders the card)."""

from __future__ import annotations

from typing import Any

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
