"""The model card's lines on what sampling draws again: near-silent dropouts (gan.levels) and
holes (gan.holes), clips whose sound, or a band of it, drops away for half a second."""

from __future__ import annotations

from typing import Any

from gan.card_pick import fmt
from gan.config import HOLE_LIMITS_KEY, LEVEL_FLOORS_KEY
from gan.holes import BAND_BINS, HOLE_FRAMES
from gan.levels import MAX_REDRAWS


def _redraws_by(meta: dict[str, Any], key: str) -> bool:
    """Whether the bundle's sampling draws patches again by ``key`` (LEVEL_FLOORS_KEY or
    HOLE_LIMITS_KEY, stored in its ``sampling``)."""
    return key in meta.get("sampling", {})


def redraw_words(meta: dict[str, Any], key: str) -> str:
    """What a row's figure is after: the redraws, for a bundle that redraws by ``key``."""
    if not _redraws_by(meta, key):
        return ""
    return f", after sampling drew them again (up to {MAX_REDRAWS} times)"


def as_drawn_line(meta: dict[str, Any], key: str, drawn: Any) -> list[str]:
    """The row under it: the share before the redraws, for bundles that redraw by ``key``."""
    if not _redraws_by(meta, key) or drawn is None:
        return []
    return [f"| … as the generator first drew them | {fmt(drawn, pct=True)} |"]


def dropout_lines(meta: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    """Near-silent clips, after and before the redraws."""
    return [
        f"| near-silent clips: quieter than every real segment of their genre (real "
        f"music: none){redraw_words(meta, LEVEL_FLOORS_KEY)} | "
        f"{fmt(metrics.get('quiet_clips'), pct=True)} |",
        *as_drawn_line(meta, LEVEL_FLOORS_KEY, metrics.get("quiet_clips_as_drawn")),
    ]


def hole_lines(meta: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    """Holed clips, after and before the redraws: for cards measured since holes were counted
    (2026-11-27); none before."""
    limits, holed = metrics.get("hole_limits_db"), metrics.get("holed_clips")
    if not limits or holed is None:
        return []
    frontend = meta.get("frontend")
    seconds = (
        f"{HOLE_FRAMES * frontend['hop'] / frontend['sample_rate']:.2f} s"
        if frontend
        else f"{HOLE_FRAMES} frames"
    )
    return [
        f"| clips with a hole: for {seconds} the sound dips more than {fmt(limits['whole'])} dB "
        f"below the clip's median level, or one band of {BAND_BINS} mel bins more than "
        f"{fmt(limits['band'])} dB below its own (real segments: "
        f"{fmt(metrics.get('holed_real'), pct=True)}){redraw_words(meta, HOLE_LIMITS_KEY)} | "
        f"{fmt(holed, pct=True)} |",
        *as_drawn_line(meta, HOLE_LIMITS_KEY, metrics.get("holed_clips_as_drawn")),
    ]
