"""A generator bundle's sampling guards, set from real clips: per genre, the level of the
quietest real 3-s segment of its training clips (gan.levels draws a generated patch below it
again), and the deepest half-second dips in level, of the whole and of one band, that only 1 %
of those segments pass (gan.holes: a patch with a deeper hole is drawn again too)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from audio import LogMel
from gan.bundle import GanBundle, load_gan_bundle, write_meta
from gan.config import HOLE_LIMITS_KEY, LEVEL_FLOORS_KEY
from gan.data import ClipMel, load_clips
from gan.errors import GanError
from gan.holes import hole_limits
from gan.levels import genre_floors, real_levels_and_dips
from gan.metrics import Segment, real_segments
from gan.sample import clip_samples


def clip_guards(bundle: GanBundle, clips: list[ClipMel]) -> dict[str, Any] | None:
    """``sampling`` entries from ``clips``: LEVEL_FLOORS_KEY, per genre the level (dB) of the
    quietest real 3-s segment (rounded down, so that segment itself is never below its floor),
    and HOLE_LIMITS_KEY (dB, gan.holes.hole_limits). None unless every genre of ``bundle`` has
    a segment."""
    return segment_guards(
        bundle, real_segments(clips, clip_samples(3.0, bundle), bundle.spec.sample_rate)
    )


def segment_guards(bundle: GanBundle, segments: list[Segment]) -> dict[str, Any] | None:
    """:func:`clip_guards` from real 3-s segments already cut (``gan.metrics``'s
    (genre, clip, samples)), for callers that decode the clips for something else too."""
    if not segments:
        return None
    levels, dips = real_levels_and_dips([s[2] for s in segments], LogMel(bundle.spec))
    floors = genre_floors(levels, [s[0] for s in segments])
    limits = hole_limits(dips)
    if not set(bundle.labels) <= set(floors) or limits is None:
        return None
    return {
        LEVEL_FLOORS_KEY: {g: math.floor(floors[g] * 100) / 100 for g in bundle.labels},
        HOLE_LIMITS_KEY: limits.to_dict(),
    }


def guarded(bundle: GanBundle, guards: dict[str, Any]) -> GanBundle:
    """``bundle`` sampled with the guards of :func:`clip_guards`, as it will be once stored."""
    return bundle.with_level_floors(guards[LEVEL_FLOORS_KEY]).with_hole_limits(
        guards[HOLE_LIMITS_KEY]
    )


def store_guards(folder: Path, clips: list[ClipMel]) -> dict[str, Any] | None:
    """Write ``clips``' guards into the bundle at ``folder``, so its sampling draws dropouts
    and holes again; None, and nothing written, unless every genre has a 3-s clip."""
    bundle = load_gan_bundle(folder)
    guards = clip_guards(bundle, clips)
    if guards is not None:
        meta = dict(bundle.meta)
        meta["sampling"] = {**meta.get("sampling", {}), **guards}
        write_meta(folder, meta)
    return guards


def store_folder_guards(folder: Path, data: Path | None = None) -> dict[str, Any]:
    """:func:`store_guards` from the clips under ``data`` (genre folders; default: the shared
    GTZAN clips). Raises :class:`GanError`, saying why, when they cannot give every genre of
    the bundle a floor (and then writes nothing)."""
    guards = store_guards(folder, load_clips(data))
    if guards is None:
        raise GanError("Every genre of the generator needs at least one 3-s real clip.")
    return guards
