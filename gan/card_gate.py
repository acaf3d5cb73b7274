"""The model card's line on the recordings a generator with one class per recording leaves out
(``gan gate``, gan.gate)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from gan.config import GATE_KEY, LEFT_OUT_KEY, RECORDINGS_KEY, GateRule
from gan.recordings import genre_of


def stored_rule(meta: dict[str, Any]) -> GateRule | None:
    """The rule a bundle's gate was chosen by; None when it has none (or an unreadable one:
    the card then leaves the gate out rather than fail)."""
    gate = meta.get(GATE_KEY)
    try:
        return GateRule(**{k: v for k, v in gate.items() if k in GateRule.__dataclass_fields__})
    except (AttributeError, TypeError):
        return None


def gate_lines(meta: dict[str, Any]) -> list[str]:
    """One line for a gated bundle: how many recordings it plays, which genres lost some, and
    by what rule; none for any other bundle."""
    recordings, rule = meta.get(RECORDINGS_KEY), stored_rule(meta)
    left = recordings.get(LEFT_OUT_KEY) if isinstance(recordings, dict) else None
    if rule is None or not left or not isinstance(left, list):
        return []
    total = len(recordings.get("labels") or [])
    by_genre = Counter(genre_of(str(label)) for label in left)
    lost = ", ".join(f"{genre} {count}" for genre, count in by_genre.most_common())
    share = f"{rule.min_share * 100:.0f} %"
    return [
        f"- Sampling plays {total - len(left)} of its {total} recordings. After the step was "
        f"chosen, `python -m gan gate` left out {len(left)} ({lost}): fewer than {share} of "
        f"their clips were heard as their genre ({rule.clips_per_genre} clips a genre, seed "
        f"{rule.seed}, never an evaluation seed), while each genre kept at least its "
        f"{rule.keep} best. Left in, a genre sounded like itself only when the noise picked a "
        "good recording."
    ]
