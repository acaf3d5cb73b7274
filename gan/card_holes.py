"""The model card's lines on holes (gan.holes): clips whose sound, or a band of it, drops away
for half a second."""

from __future__ import annotations

from typing import Any

from gan.card_pick import fmt
from gan.config import HOLE_LIMITS_KEY
from gan.holes import BAND_BINS, HOLE_FRAMES
from gan.levels import MAX_REDRAWS


def hole_lines(meta: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    """Table rows for cards measured since holes were counted (2026-11-27); none before."""
    limits, holed = metrics.get("hole_limits_db"), metrics.get("holed_clips")
    if not limits or holed is None:
        return []
    frontend = meta.get("frontend")
    seconds = (
        f"{HOLE_FRAMES * frontend['hop'] / frontend['sample_rate']:.2f} s"
        if frontend
        else f"{HOLE_FRAMES} frames"
    )
    redrawn = HOLE_LIMITS_KEY in meta.get("sampling", {})
    after = f", after sampling drew them again (up to {MAX_REDRAWS} times)" if redrawn else ""
    lines = [
        f"| clips with a hole: for {seconds} the sound dips more than {fmt(limits['whole'])} dB "
        f"below the clip's median level, or one band of {BAND_BINS} mel bins more than "
        f"{fmt(limits['band'])} dB below its own (real segments: "
        f"{fmt(metrics.get('holed_real'), pct=True)}){after} | {fmt(holed, pct=True)} |"
    ]
    drawn = metrics.get("holed_clips_as_drawn")
    if redrawn and drawn is not None:
        lines.append(f"| … as the generator first drew them | {fmt(drawn, pct=True)} |")
    return lines
