"""The checks of a generator's ``gan.json``, made once as :mod:`gan.bundle` loads it: a damaged
or hand-edited file gives one :class:`GanError` that names what is wrong, instead of a
traceback later on the Generate page or halfway through a clip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from audio import MelSpec
from audio.spectrogram import finite_number, whole_number
from gan.config import HOLE_LIMITS_KEY, LEFT_OUT_KEY, LEVEL_FLOORS_KEY, RECORDINGS_KEY, SEED_MAX
from gan.errors import GanError
from gan.holes import HoleLimits
from gan.recordings import RecordingPicker, recording_genres

META_FILE = "gan.json"


def _unusable(folder: Path, what: str, need: str = "") -> GanError:
    return GanError(f"The generator at {folder} has {what} in {META_FILE}{': ' if need else ''}"
                    f"{need}.")  # fmt: skip


def _distinct_names(names: object) -> bool:
    return (isinstance(names, list) and all(isinstance(name, str) and name for name in names)
            and len(set(names)) == len(names))  # fmt: skip


def checked_labels(labels: object, n_classes: int | None, folder: Path) -> tuple[str, ...]:
    """The genre names, one distinct non-empty name per class of the generator (``n_classes``
    None: a generator with one class per recording, whose count is checked with them)."""
    if not _distinct_names(labels):
        raise _unusable(folder, "unusable labels", "a list of distinct genre names is needed")
    assert isinstance(labels, list)
    if n_classes is not None and len(labels) != n_classes:
        raise _unusable(folder, f"{len(labels)} labels for {n_classes} classes")
    return tuple(labels)


def checked_picker(
    entry: object, labels: tuple[str, ...], n_classes: int, z_dim: int, folder: Path
) -> RecordingPicker | None:
    """What turns genres into recordings for a generator with one class per recording
    (gan.recordings); None for one with a class per genre (no entry)."""
    if entry is None:
        return None
    recordings = entry.get("labels") if isinstance(entry, dict) else None
    seed = entry.get("picker_seed") if isinstance(entry, dict) else None
    need = ("labels (one distinct '<genre>/<file>' per class) and a whole-number picker_seed "
            f"from 0 to {SEED_MAX}")  # fmt: skip
    if not _distinct_names(recordings) or not whole_number(seed) or not 0 <= seed <= SEED_MAX:
        raise _unusable(folder, f"an unusable '{RECORDINGS_KEY}' entry", need)
    assert isinstance(recordings, list) and isinstance(seed, int)
    if len(recordings) != n_classes:
        raise _unusable(folder, f"{len(recordings)} recordings for {n_classes} classes")
    try:
        genres_of = recording_genres(recordings, labels)
    except GanError as err:
        raise _unusable(folder, f"an unusable '{RECORDINGS_KEY}' entry", str(err)) from err
    playable = _checked_playable(entry.get(LEFT_OUT_KEY, []), recordings, folder)
    played = set(genres_of[playable].tolist())
    bare = [genre for index, genre in enumerate(labels) if index not in played]
    if bare:
        raise _unusable(folder, f"no playable recordings of {', '.join(bare)}")
    return RecordingPicker.build(genres_of, z_dim, seed, playable)


def _checked_playable(left_out: object, recordings: list[str], folder: Path) -> torch.Tensor:
    """Which recordings sampling may pick [n_recordings]: all but the ``left_out`` ones
    (``gan gate``), which must be distinct recordings of the generator."""
    if not (left_out == [] or _distinct_names(left_out)) or not set(left_out) <= set(recordings):
        raise _unusable(folder, f"an unusable '{LEFT_OUT_KEY}' list",
                        "distinct recordings of the generator are needed")  # fmt: skip
    return torch.tensor([name not in left_out for name in recordings])


def checked_frontend(frontend: object, n_mels: int, folder: Path) -> MelSpec:
    """The spectrogram the generator draws, as sound is made from it; as many bands as it draws."""
    try:
        spec = MelSpec.checked(frontend)
    except ValueError as err:
        raise _unusable(folder, "an unusable front-end", str(err)) from err
    if spec.n_mels != n_mels:
        raise _unusable(folder, f"a {spec.n_mels}-band front-end for a generator that draws "
                                f"{n_mels} bands")  # fmt: skip
    return spec


def checked_normalisation(normalisation: object, folder: Path) -> tuple[float, float]:
    """The dB range the generator's output in [-1, 1] stands for: (floor, ceiling)."""
    floor = normalisation.get("db_floor") if isinstance(normalisation, dict) else None
    ceil = normalisation.get("db_ceil") if isinstance(normalisation, dict) else None
    if not (finite_number(floor) and finite_number(ceil) and floor < ceil):
        raise _unusable(folder, "an unusable normalisation", "db_floor and db_ceil (dB), the "
                                "floor below the ceiling, are needed")  # fmt: skip
    return float(floor), float(ceil)


def optional_section(meta: dict[str, Any], key: str, folder: Path) -> dict[str, Any]:
    """An optional object of the metadata (``sampling``, ``training``): {} when absent."""
    section = meta.get(key, {})
    if not isinstance(section, dict):
        raise _unusable(folder, f"a '{key}' entry that is not an object")
    return section


def checked_truncation(sampling: dict[str, Any], folder: Path) -> float:
    truncation = sampling.get("truncation", 1.0)
    if not finite_number(truncation) or not 0 < truncation <= 1:
        raise GanError(f"The generator at {folder} has a truncation of {truncation!r} in "
                       f"{META_FILE}; it must be a number above 0 and at most 1.")  # fmt: skip
    return float(truncation)


def checked_level_floors(
    floors: object, labels: tuple[str, ...], folder: Path
) -> torch.Tensor | None:
    """Per-genre dropout floors (as stored in the metadata) in label order; None for none."""
    if floors is None:
        return None
    if (
        not isinstance(floors, dict)
        or set(floors) != set(labels)
        or not all(finite_number(v) for v in floors.values())
    ):
        raise _unusable(folder, f"unusable {LEVEL_FLOORS_KEY}",
                        "one number (dB) per genre is needed")  # fmt: skip
    return torch.tensor([float(floors[label]) for label in labels])


def checked_hole_limits(limits: object, folder: Path) -> HoleLimits | None:
    """The stored hole limits ({"whole": dB, "band": dB}, each above 0); None for none."""
    if limits is None:
        return None
    if (
        not isinstance(limits, dict)
        or set(limits) != {"whole", "band"}
        or not all(finite_number(v) and v > 0 for v in limits.values())
    ):
        raise _unusable(folder, f"unusable {HOLE_LIMITS_KEY}",
                        'a number of dB above 0 for "whole" and for "band" is needed')  # fmt: skip
    return HoleLimits(whole=float(limits["whole"]), band=float(limits["band"]))


def metrics_problem(metrics: object) -> str | None:
    """What makes the stored quality figures the app shows unreadable; None when they can be
    read (or there are none). Not an error: the generator still plays, the figures are left
    out, and ``gan evaluate --write`` measures them again (it loads the bundle, so it must)."""
    if metrics is None:
        return None
    if not isinstance(metrics, dict):
        return "they are not a JSON object"
    for key in ("agreement", "truncation"):
        if key in metrics and not _share(metrics[key]):
            return f"'{key}' is {metrics[key]!r}, not a number from 0 to 1"
    ratio = metrics.get("diversity_ratio")  # None: no genre had two real clips to compare
    if ratio is not None and not (finite_number(ratio) and ratio >= 0):
        return f"'diversity_ratio' is {ratio!r}, not a number of at least 0"
    per_genre = metrics.get("agreement_per_genre", {})
    if not isinstance(per_genre, dict) or not all(_share(v) for v in per_genre.values()):
        return "'agreement_per_genre' does not give each genre a number from 0 to 1"
    heard = metrics.get("heard_as_per_genre", {})
    if not isinstance(heard, dict) or not all(
        isinstance(shares, dict) and all(_share(v) for v in shares.values())
        for shares in heard.values()
    ):
        return "'heard_as_per_genre' does not give each genre shares from 0 to 1"
    return None


def _share(value: object) -> bool:
    return finite_number(value) and 0 <= value <= 1
