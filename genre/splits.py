"""Train/test splits that never leak an artist's neighbouring tracks across the boundary.

GTZAN files are ordered by artist, so tracks with neighbouring IDs usually share one: a fold
holds out whole blocks of consecutive IDs, and all windows of a track stay with the track
(splits are made over tracks, never over windows).

Three kinds, all over track indices:
- ``filtered``: the artist-filtered GTZAN split (Kereliuk et al. 2015; 443/197/290 tracks),
  shipped in ``data/splits`` (MIT, from jongpillee/music_dataset_split);
- ``holdout``: a stratified, seeded track-level hold-out (artists may repeat across sides);
- ``kfold``: grouped k-fold over blocks of neighbouring IDs (see :func:`grouped_kfold`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from genre.errors import DatasetError
from genre.paths import REPO_ROOT

SplitKind = Literal["filtered", "holdout", "kfold"]
SPLIT_KINDS: tuple[SplitKind, ...] = ("filtered", "holdout", "kfold")
SPLITS_DIR = REPO_ROOT / "data" / "splits"
FILTERED_SIZES = {"train": 443, "valid": 197, "test": 290}
WHY_SPLITS_MATTER = (
    "Every 3-s window of a track goes to the same side of the split, and with GTZAN the "
    "artist-filtered split keeps each artist on one side: cutting one track (or one artist) "
    "into both training and test is how most published 90 %+ GTZAN accuracies were obtained, "
    "and it measures memory of a recording, not genre."
)


@dataclass(frozen=True)
class Split:
    """Track indices of one train/valid/test partition (``valid`` may be empty)."""

    name: str
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    def __post_init__(self) -> None:
        sides = [set(self.train.tolist()), set(self.valid.tolist()), set(self.test.tolist())]
        if sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2]:
            raise ValueError(f"split {self.name} puts a track on two sides")

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)}


def _indices(values: Sequence[int] | np.ndarray) -> np.ndarray:
    return np.asarray(sorted(values), dtype=np.int64)


def grouped_kfold(
    numbers: Sequence[int], n_folds: int, block_size: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds over track indices: track ``i`` is tested in fold ``(numbers[i] // block) % k``.

    ``numbers`` are the tracks' GTZAN IDs (``blues.00012`` → 12). Every genre contributes the
    same ID blocks to a fold, so folds stay roughly stratified.
    """
    if n_folds < 2:
        raise ValueError("n_folds must be at least 2")
    ids = np.asarray(numbers, dtype=np.int64)
    fold_of = (ids // block_size) % n_folds
    folds = []
    for fold in range(n_folds):
        test = np.flatnonzero(fold_of == fold)
        train = np.flatnonzero(fold_of != fold)
        if len(test) and len(train):
            folds.append((train, test))
    return folds


def kfold_block_size(numbers: Sequence[int], n_folds: int) -> int:
    """Blocks of neighbouring IDs such that each fold gets about the same number of blocks."""
    return max(1, (max(numbers, default=0) + 1) // n_folds)


def kfold_splits(
    numbers: Sequence[int], n_folds: int = 5, *, with_valid: bool = False
) -> list[Split]:
    """Grouped k-fold as :class:`Split` objects; ``with_valid`` holds out the next fold too.

    The validation fold (for early stopping and curves) is fold ``k + 1``, so validation and
    test tracks are never the same and never share an ID block with training tracks.
    """
    ids = np.asarray(numbers, dtype=np.int64)
    if len(ids) < n_folds:
        raise DatasetError(
            f"{n_folds}-fold cross-validation needs at least {n_folds} tracks; found {len(ids)}."
        )
    block = kfold_block_size(ids.tolist(), n_folds)
    fold_of = (ids // block) % n_folds
    present = sorted(set(fold_of.tolist()))
    if len(present) < 2 or (with_valid and len(present) < 3):
        raise DatasetError(
            "The tracks' IDs fall into too few blocks for grouped cross-validation; "
            "use the hold-out split instead."
        )
    splits = []
    for k, fold in enumerate(present):
        test = np.flatnonzero(fold_of == fold)
        valid = np.flatnonzero(fold_of == present[(k + 1) % len(present)]) if with_valid else []
        held = set(test.tolist()) | set(np.asarray(valid).tolist())
        train = [i for i in range(len(ids)) if i not in held]
        splits.append(Split(f"fold {k + 1}/{len(present)}", _indices(train), _indices(valid), test))
    return splits


def stratified_holdout(
    labels: Sequence[str] | np.ndarray,
    *,
    test_fraction: float = 0.2,
    valid_fraction: float = 0.1,
    seed: int = 0,
) -> Split:
    """Per class, a seeded shuffle of its tracks cut into test, valid and train parts.

    Every class with at least 3 tracks has at least one test and (if asked) one valid track.
    """
    if not (
        0 < test_fraction < 1 and 0 <= valid_fraction < 1 and test_fraction + valid_fraction < 1
    ):
        raise ValueError("fractions must be in (0, 1) and sum to less than 1")
    y = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train: list[int] = []
    valid: list[int] = []
    test: list[int] = []
    for label in sorted(set(y.tolist())):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        n = len(members)
        n_test = max(1, round(n * test_fraction)) if n >= 2 else 0
        n_valid = max(1, round(n * valid_fraction)) if valid_fraction > 0 and n >= 3 else 0
        n_test = min(n_test, n - n_valid - 1) if n > 1 else 0
        test += members[:n_test].tolist()
        valid += members[n_test : n_test + n_valid].tolist()
        train += members[n_test + n_valid :].tolist()
    return Split("holdout", _indices(train), _indices(valid), _indices(test))


def filtered_lists(splits_dir: Path | None = None) -> dict[str, set[str]]:
    """The artist-filtered lists as ``{"train"|"valid"|"test": {"blues/blues.00012", ...}}``."""
    folder = splits_dir or SPLITS_DIR
    out: dict[str, set[str]] = {}
    for side in ("train", "valid", "test"):
        path = folder / f"{side}_filtered.txt"
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise DatasetError(f"The artist-filtered split list {path} cannot be read.") from err
        out[side] = {line.strip().rsplit(".", 1)[0] for line in lines if line.strip()}
    return out


def gtzan_key(genre: str, number: int) -> str:
    """``("blues", 12)`` → ``"blues/blues.00012"``, the key used by the split lists."""
    return f"{genre}/{genre}.{number:05d}"


def filtered_split(keys: Sequence[str], splits_dir: Path | None = None) -> Split:
    """Map tracks (by GTZAN key) onto the artist-filtered split; unlisted tracks are left out.

    Raises :class:`DatasetError` when no track is GTZAN, since the split is only defined there.
    """
    lists = filtered_lists(splits_dir)
    side_of = {key: side for side, members in lists.items() for key in members}
    parts: dict[str, list[int]] = {"train": [], "valid": [], "test": []}
    for i, key in enumerate(keys):
        side = side_of.get(key)
        if side:
            parts[side].append(i)
    if not parts["train"] or not parts["test"]:
        raise DatasetError(
            "The artist-filtered split is defined only for GTZAN tracks named like "
            "blues.00012 in the ten GTZAN genres, and this data has "
            f"{len(parts['train'])} training and {len(parts['test'])} test tracks in it. "
            "Use the hold-out or k-fold split."
        )
    return Split(
        "filtered", _indices(parts["train"]), _indices(parts["valid"]), _indices(parts["test"])
    )


def coverage_warnings(splits: Sequence[Split], labels: Sequence[str]) -> list[str]:
    """Classes that a split leaves without training tracks, or without test tracks."""
    y = np.asarray(labels)
    classes = sorted(set(y.tolist()))
    warnings = []
    for split in splits:
        untrained = [c for c in classes if c not in set(y[split.train].tolist())]
        untested = [c for c in classes if c not in set(y[split.test].tolist())]
        where = f" in {split.name}" if split.name.startswith("fold") else ""
        if untrained:
            warnings.append(
                f"No training tracks of {', '.join(untrained)}{where}: the model cannot learn them."
            )
        if untested:
            warnings.append(f"No test tracks of {', '.join(untested)}{where}.")
    return list(dict.fromkeys(warnings))


def recommended_split(
    keys: Sequence[str], labels: Sequence[str], numbers: Sequence[int], folds: int = 5
) -> tuple[SplitKind, str]:
    """The split that suits these tracks, and one sentence saying why.

    The artist-filtered split when it gives every class training and test tracks (GTZAN, the
    full 1000 tracks or its feature table); else grouped k-fold (e.g. the 100 shared clips,
    where the filtered lists keep only a few tracks per side); hold-out when even that fails.
    """
    try:
        filtered = filtered_split(keys)
    except DatasetError:
        filtered = None
    if filtered is not None and not coverage_warnings([filtered], labels):
        sizes = "/".join(str(n) for n in filtered.sizes.values())
        return "filtered", (
            f"Suggested: the artist-filtered split ({sizes} train/valid/test tracks), since this "
            "is GTZAN with every genre on both sides."
        )
    if filtered is not None:
        sizes = "/".join(str(n) for n in filtered.sizes.values())
        why = (
            f"on these tracks the artist-filtered lists give only {sizes} train/valid/test "
            "tracks and leave some genres out of training or test"
        )
    else:
        why = "the artist-filtered split is defined only for GTZAN's listed tracks"
    try:
        kfold_splits(numbers, folds)
    except DatasetError:
        return "holdout", f"Suggested: stratified hold-out, since {why}."
    return "kfold", (
        f"Suggested: grouped k-fold (every track tested once, neighbouring IDs kept together), "
        f"since {why}."
    )


def make_splits(
    kind: SplitKind,
    *,
    keys: Sequence[str],
    labels: Sequence[str],
    numbers: Sequence[int],
    folds: int = 5,
    with_valid: bool = True,
    seed: int = 0,
) -> list[Split]:
    """One split (filtered, holdout) or ``folds`` splits (kfold) over the given tracks."""
    if kind == "filtered":
        return [filtered_split(keys)]
    if kind == "holdout":
        return [stratified_holdout(labels, seed=seed, valid_fraction=0.1 if with_valid else 0.0)]
    if kind == "kfold":
        return kfold_splits(numbers, folds, with_valid=with_valid)
    raise DatasetError(f"Unknown split '{kind}'. Choose one of: {', '.join(SPLIT_KINDS)}.")
