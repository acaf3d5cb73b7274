"""Fusing the genre head with the backbone's own 50 MSD tags (a product of experts).

The head was trained on 100 GTZAN clips by few artists; the musicnn backbone's tag output was
trained on ~200 k songs. Per analysis window:

    fused log p(g) = (head log p(g) + weight · log prior(g | tags)) / temperature   (renormalised)

    prior(g | tags) ∝ floor + evidence(g),   evidence(g) = max of the tag probabilities that
                                             TAG_GENRES maps to g

The mapping is fixed and written down here rather than learned: learned on 100 GTZAN clips it
would inherit their artists, while the tags' meaning comes from the much larger MSD. A genre no
tag names (reggae) gets neutral evidence, the mean of the others', so the prior neither favours
nor penalises it. ``weight``, ``floor`` and ``temperature`` (which re-calibrates the product)
are chosen by grouped cross-validation (:mod:`genre.fusion_fit`) and stored in the bundle's
``bundle.json`` under ``"fusion"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genre.errors import BundleError

# Genre ← MSD tags that speak for it. "dance" speaks for disco and pop alike. MSD has no
# classical tag: instrumental, beautiful and ambient are its nearest signs (they also fire on
# instrumental jazz and chill-out, hence the floor and the weight). Reggae has no tag.
TAG_GENRES: dict[str, tuple[str, ...]] = {
    "blues": ("blues",),
    "classical": ("instrumental", "beautiful", "ambient"),
    "country": ("country", "folk"),
    "disco": ("dance", "funk", "70s", "House", "party"),
    "hiphop": ("Hip-Hop", "rnb"),
    "jazz": ("jazz",),
    "metal": ("metal", "heavy metal", "hard rock"),
    "pop": ("pop", "female vocalists", "catchy", "dance", "indie pop"),
    "reggae": (),
    "rock": ("rock", "classic rock", "alternative rock", "indie rock", "punk", "guitar"),
}


@dataclass(frozen=True)
class TagFusion:
    """Head probabilities × a tag prior, for one bundle's labels and tag names."""

    labels: tuple[str, ...]
    tags: tuple[str, ...]
    weight: float
    floor: float
    mapping: Mapping[str, Sequence[str]] = field(default_factory=lambda: dict(TAG_GENRES))
    temperature: float = 1.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.weight) and self.weight >= 0):
            raise ValueError("the fusion weight must be a finite number ≥ 0")
        if not (np.isfinite(self.floor) and self.floor > 0):
            raise ValueError("the fusion floor must be a finite number > 0")
        if not (np.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError("the fusion temperature must be a finite number > 0")
        unknown_tags = {t for names in self.mapping.values() for t in names} - set(self.tags)
        if unknown_tags:
            raise ValueError(f"the tag mapping names unknown tags: {sorted(unknown_tags)}")

    def _columns(self) -> list[list[int]]:
        """For every label, the columns of its tags (empty: neutral)."""
        return [[self.tags.index(t) for t in self.mapping.get(label, ())] for label in self.labels]

    def evidence(self, window_tags: np.ndarray) -> np.ndarray:
        """[windows, labels]: the strongest tag speaking for each genre (neutral if none)."""
        window_tags = np.atleast_2d(np.asarray(window_tags, dtype=np.float64))
        out = np.zeros((window_tags.shape[0], len(self.labels)))
        columns = self._columns()
        named = [i for i, cols in enumerate(columns) if cols]
        for i in named:
            out[:, i] = window_tags[:, columns[i]].max(axis=1)
        unnamed = [i for i, cols in enumerate(columns) if not cols]
        if unnamed:
            neutral = out[:, named].mean(axis=1) if named else np.zeros(len(out))
            out[:, unnamed] = neutral[:, None]
        return out

    def log_prior(self, window_tags: np.ndarray) -> np.ndarray:
        """[windows, labels] log prior(g | tags), normalised over the labels."""
        score = self.floor + np.clip(self.evidence(window_tags), 0.0, 1.0)
        return np.log(score / score.sum(axis=1, keepdims=True))

    def fuse(self, head_log_probs: np.ndarray, window_tags: np.ndarray) -> np.ndarray:
        """[windows, labels] fused probabilities (rows sum to 1) from the head's log-probs."""
        logits = np.asarray(head_log_probs, dtype=np.float64)
        if self.weight:
            logits = logits + self.weight * self.log_prior(window_tags)
        logits = logits / self.temperature
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)

    def to_json(self) -> dict[str, Any]:
        return {
            "weight": self.weight,
            "floor": self.floor,
            "temperature": self.temperature,
            "mapping": {label: list(self.mapping.get(label, ())) for label in self.labels},
        }


def fusion_from_meta(
    block: Any, labels: Sequence[str], tags: Sequence[str], where: str
) -> TagFusion | None:
    """The ``"fusion"`` block of a bundle.json (``None`` when absent); raises BundleError."""
    if block is None:
        return None
    try:
        if not isinstance(block, dict):
            raise ValueError("it must be an object")
        if not tags:
            raise ValueError("the model has no tag output to fuse with")
        mapping = block.get("mapping", TAG_GENRES)
        if not isinstance(mapping, dict) or not all(
            isinstance(v, list | tuple) and all(isinstance(t, str) for t in v)
            for v in mapping.values()
        ):
            raise ValueError("'mapping' must map genres to lists of tag names")
        return TagFusion(
            labels=tuple(labels),
            tags=tuple(tags),
            weight=float(block["weight"]),
            floor=float(block["floor"]),
            mapping={str(k): tuple(v) for k, v in mapping.items()},
            temperature=float(block.get("temperature", 1.0)),
        )
    except (KeyError, TypeError, ValueError, OverflowError) as err:  # Overflow: a 400-digit int
        raise BundleError(
            f"The model bundle at {where} has an unusable 'fusion' block ({err})."
        ) from err
