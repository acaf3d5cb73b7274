"""Dropout floors of a generator bundle: per genre, the level of the quietest real segment of
its training clips (gan.levels draws a generated patch below it again)."""

from __future__ import annotations

import math
from pathlib import Path

from audio import LogMel
from gan.bundle import GanBundle, load_gan_bundle, write_meta
from gan.config import LEVEL_FLOORS_KEY
from gan.data import ClipMel, load_clips
from gan.errors import GanError
from gan.levels import genre_floors, real_levels
from gan.metrics import Segment, real_segments
from gan.sample import clip_samples


def clip_level_floors(bundle: GanBundle, clips: list[ClipMel]) -> dict[str, float] | None:
    """Per genre, the level (dB) of the quietest real 3-s segment of ``clips``: the dropout
    floors sampling redraws below (rounded down, so that segment itself is never below its
    floor). None unless every genre of ``bundle`` has a segment."""
    return segment_level_floors(
        bundle, real_segments(clips, clip_samples(3.0, bundle), bundle.spec.sample_rate)
    )


def segment_level_floors(bundle: GanBundle, segments: list[Segment]) -> dict[str, float] | None:
    """:func:`clip_level_floors` from real 3-s segments already cut (``gan.metrics``'s
    (genre, clip, samples)), for callers that decode the clips for something else too."""
    if not segments:
        return None
    levels = real_levels([s[2] for s in segments], LogMel(bundle.spec))
    floors = genre_floors(levels, [s[0] for s in segments])
    if not set(bundle.labels) <= set(floors):
        return None
    return {g: math.floor(floors[g] * 100) / 100 for g in bundle.labels}


def store_level_floors(folder: Path, clips: list[ClipMel]) -> dict[str, float] | None:
    """Write ``clips``' level floors into the bundle at ``folder``, so its sampling draws
    dropouts again; None, and nothing written, unless every genre has a 3-s clip."""
    bundle = load_gan_bundle(folder)
    floors = clip_level_floors(bundle, clips)
    if floors is not None:
        meta = dict(bundle.meta)
        meta["sampling"] = {**meta.get("sampling", {}), LEVEL_FLOORS_KEY: floors}
        write_meta(folder, meta)
    return floors


def store_folder_floors(folder: Path, data: Path | None = None) -> dict[str, float]:
    """:func:`store_level_floors` from the clips under ``data`` (genre folders; default: the
    shared GTZAN clips). Raises :class:`GanError`, saying why, when they cannot give every
    genre of the bundle a floor (and then writes nothing)."""
    floors = store_level_floors(folder, load_clips(data))
    if floors is None:
        raise GanError("Every genre of the generator needs at least one 3-s real clip.")
    return floors
