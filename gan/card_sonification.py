"""The model card's Sonification section: how audio is made from a generated log-mel, and
whether the card's figures were measured that way."""

from __future__ import annotations

from typing import Any

from audio.inversion import DEFAULT_PHASE_INIT, MEL_INVERSION_ITERS
from gan.config import GRIFFIN_LIM_ITERS


def current_sonification() -> dict[str, Any]:
    """How audio is made from a log-mel now; ``evaluate`` stores it beside the figures."""
    return {
        "phase_init": DEFAULT_PHASE_INIT,
        "mel_iters": MEL_INVERSION_ITERS,
        "griffin_lim_iters": GRIFFIN_LIM_ITERS,
    }


def _describe_sonification(way: dict[str, Any]) -> str:
    start = (
        "PGHI phase (phase-gradient heap integration, `audio/pghi.py`)"
        if way.get("phase_init") == "pghi"
        else "random phase"
    )
    return (
        f"{way.get('mel_iters')} multiplicative refinements of the linear magnitude through the "
        f"mel filterbank, then {way.get('griffin_lim_iters')} Griffin-Lim iterations started "
        f"from {start}"
    )


def sonification_lines(metrics: dict[str, Any]) -> list[str]:
    now = current_sonification()
    lines = [
        "## Sonification",
        f"Audio is made from each log-mel with {_describe_sonification(now)}. What each step "
        "costs and gains on real segments sent through the mel and back is measured by "
        "`python bench/bench_sonification.py` (figures in the README, Generate).",
    ]
    measured_with = metrics.get("sonification")
    if metrics and measured_with != now:
        # Figures from before evaluate recorded its sonification used the first recipe.
        earlier = measured_with or {
            "phase_init": "random",
            "mel_iters": 10,
            "griffin_lim_iters": 24,
        }
        lines.append(
            f"The Quality figures above were measured with {_describe_sonification(earlier)}; "
            "`python -m gan evaluate --write` measures them again."
        )
    return lines
