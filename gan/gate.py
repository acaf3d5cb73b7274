"""Which recordings a generator with one class per recording should play (``gan gate``).

Why: such a generator learns each training recording as its own class, and some recordings it
learns in a way the genre classifier does not hear as their genre (in the W = 10 run's step
64 000, two blues recordings gave 0 of 22 and 1 of 27 clips heard as blues, while others gave
23 of 26). A genre asked for then sounds like itself only when the noise happens to pick a good
recording, and the genre's figure swings with the draw. The gate measures each recording's
clips once, on a seed no evaluation uses, and leaves out the recordings whose clips are seldom
heard as their genre; sampling then picks among the rest (:class:`gan.recordings.RecordingPicker`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from gan.bundle import GanBundle, write_meta
from gan.config import GATE_KEY, LEFT_OUT_KEY, RECORDINGS_KEY, SCORED_SECONDS, GateRule
from gan.errors import GanError
from gan.metrics import ClassifierProbe
from gan.sample import (
    clip_noise,
    genre_noise,
    mels_from_noise,
    normalise_loudness,
    patches_for,
    sonify,
)


@dataclass(frozen=True)
class RecordingShare:
    """How often one recording's clips were heard as its genre."""

    label: str
    genre: str
    clips: int
    heard_as_genre: int

    @property
    def share(self) -> float:
        return self.heard_as_genre / self.clips if self.clips else 0.0


def draw_clips(
    bundle: GanBundle, genre_id: int, n: int, seed: int
) -> tuple[torch.Tensor, np.ndarray]:
    """``n`` clips' log-mels in dB as ``gan evaluate`` draws them (in tens, from the genre's
    noise stream), and the class each plays: its recording (picked by its first noise) or the
    genre itself."""
    patches = patches_for(SCORED_SECONDS, bundle)
    rng, mels, picked = genre_noise(seed, genre_id), [], []
    for start in range(0, n, 10):
        count = min(10, n - start)
        z = clip_noise(bundle, [genre_id] * count, patches, rng)
        genre = torch.full((count,), genre_id, dtype=torch.long)
        picked += bundle.condition(genre, z[:, 0]).tolist()
        mels.append(mels_from_noise(bundle, [genre_id] * count, z))
    return torch.cat(mels), np.array(picked)


def heard_waves(mels: torch.Tensor, bundle: GanBundle) -> list[np.ndarray]:
    """:func:`draw_clips`' log-mels as sound, as ``gan evaluate`` makes it: sonified in the same
    tens (Griffin-Lim's result depends a little on its batch), loudness-normalised."""
    rate = bundle.spec.sample_rate
    return [normalise_loudness(w, rate) for start in range(0, len(mels), 10)
            for w in sonify(mels[start : start + 10], bundle)]  # fmt: skip


def recording_shares(
    bundle: GanBundle,
    probe: ClassifierProbe,
    rule: GateRule,
    progress: Callable[[str], None] | None = None,
) -> list[RecordingShare]:
    """Every recording's clips and how many the classifier heard as its genre, every recording
    playable (a gate already stored is ignored, so the gate can be chosen again)."""
    if bundle.picker is None:
        raise GanError("This generator has one class per genre: there are no recordings to gate.")
    picker = bundle.picker
    bundle = replace(bundle, picker=replace(picker, playable=torch.ones_like(picker.playable)))
    labels, rate = bundle.class_labels, bundle.spec.sample_rate
    heard_labels, per_genre = list(probe.labels), rule.clips_per_genre
    shares = []
    for genre_id, genre in bundle.genres_asked(None):
        if progress:
            progress(f"gate: {per_genre} {genre} clips")
        mels, picked = draw_clips(bundle, genre_id, per_genre, rule.seed)
        probs, _ = probe.clips(heard_waves(mels, bundle), rate)
        heard = np.array([heard_labels[i] == genre for i in probs.argmax(axis=1)])
        for index in np.nonzero(picker.genres_of.numpy() == genre_id)[0]:
            mine = picked == index
            shares.append(RecordingShare(labels[index], genre, int(mine.sum()),
                                         int(heard[mine].sum())))  # fmt: skip
    return shares


def left_out(shares: list[RecordingShare], rule: GateRule) -> list[str]:
    """The recordings to leave out, in the order of ``shares``: those heard as their genre in
    under ``rule.min_share`` of their clips, except that each genre keeps at least its
    ``rule.keep`` best (all, if it has fewer; ties go to the earlier recording)."""
    kept: set[str] = set()
    for genre in dict.fromkeys(s.genre for s in shares):
        mine = sorted((s for s in shares if s.genre == genre), key=lambda s: -s.share)
        kept.update(s.label for s in mine[: rule.keep])
    return [s.label for s in shares if s.label not in kept and s.share < rule.min_share]


def store_gate(
    bundle: GanBundle, rule: GateRule, shares: list[RecordingShare], left: list[str]
) -> None:
    """Store the left-out recordings in the bundle's ``gan.json`` (and how they were chosen,
    for its model card)."""
    gate = {**asdict(rule), "shares": {s.label: [s.heard_as_genre, s.clips] for s in shares}}
    meta = dict(bundle.meta)
    meta[RECORDINGS_KEY] = {**meta[RECORDINGS_KEY], LEFT_OUT_KEY: left}
    meta[GATE_KEY] = gate
    write_meta(bundle.path, meta)
