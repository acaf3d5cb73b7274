"""Splits never leak: no track (and so no window) on two sides; the filtered split is exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genre.errors import DatasetError
from genre.labels import GTZAN_GENRES
from genre.paths import REPO_ROOT
from genre.splits import (
    SPLITS_DIR,
    coverage_warnings,
    filtered_lists,
    filtered_split,
    grouped_kfold,
    kfold_block_size,
    kfold_splits,
    make_splits,
    recommended_split,
    stratified_holdout,
)
from genre.training.config import RunConfig
from genre.training.data import load_feature_table
from genre.training.torch_loop import epoch_windows

GENRES = ["blues", "classical", "country", "disco", "hiphop"]


def sides(split) -> list[set[int]]:
    return [set(split.train.tolist()), set(split.valid.tolist()), set(split.test.tolist())]


def assert_disjoint(split) -> None:
    train, valid, test = sides(split)
    assert not (train & valid) and not (train & test) and not (valid & test)


def test_shipped_filtered_split_is_443_197_290_and_matches_the_shared_copy(gtzan_dir: Path):
    lists = filtered_lists()
    assert {k: len(v) for k, v in lists.items()} == {"train": 443, "valid": 197, "test": 290}
    assert not (lists["train"] & lists["test"]) and not (lists["valid"] & lists["test"])
    assert lists == filtered_lists(gtzan_dir / "splits")
    assert "MIT License" in (SPLITS_DIR / "LICENSE").read_text()


def test_filtered_split_on_the_full_feature_table() -> None:
    data = load_feature_table(REPO_ROOT / "data" / "gtzan" / "features_30_sec.csv")
    split = filtered_split(data.keys)
    assert split.sizes == {"train": 443, "valid": 197, "test": 290}
    assert_disjoint(split)


def test_filtered_split_on_the_shared_clips_warns_about_missing_genres(gtzan_dir: Path) -> None:
    clips = sorted((gtzan_dir / "audio").glob("*/*.ogg"))
    keys = [f"{p.parent.name}/{p.stem}" for p in clips]
    split = filtered_split(keys)
    assert split.sizes == {"train": 40, "valid": 49, "test": 4}
    warnings = coverage_warnings([split], [p.parent.name for p in clips])
    assert warnings[0].startswith("No training tracks of blues, classical, country")
    full = load_feature_table(REPO_ROOT / "data" / "gtzan" / "features_30_sec.csv")
    assert coverage_warnings([filtered_split(full.keys)], full.track_labels) == []


def test_filtered_split_refuses_non_gtzan_data() -> None:
    with pytest.raises(DatasetError, match="only for GTZAN"):
        filtered_split(["calm/morning", "loud/take 3"])


labels_strategy = st.lists(st.sampled_from(GENRES), min_size=2, max_size=120)


@given(labels=labels_strategy, seed=st.integers(0, 1000), valid=st.sampled_from([0.0, 0.1, 0.2]))
@settings(max_examples=80, deadline=None)
def test_holdout_never_puts_a_track_on_two_sides(labels, seed, valid) -> None:
    split = stratified_holdout(labels, valid_fraction=valid, seed=seed)
    assert_disjoint(split)
    assert sorted(np.concatenate([split.train, split.valid, split.test]).tolist()) == list(
        range(len(labels))
    )
    y = np.asarray(labels)
    for genre in set(labels):
        if (y == genre).sum() >= 2:
            assert genre in set(y[split.test]) and genre in set(y[split.train])


@given(
    numbers=st.lists(st.integers(0, 99), min_size=6, max_size=150),
    folds=st.integers(2, 5),
    with_valid=st.booleans(),
)
@settings(max_examples=80, deadline=None)
def test_grouped_kfold_tests_each_track_once_and_never_splits_an_id_block(
    numbers, folds, with_valid
) -> None:
    try:
        splits = kfold_splits(numbers, folds, with_valid=with_valid)
    except DatasetError:
        return  # too few distinct ID blocks for this many folds: refused, not leaked
    tested = np.concatenate([s.test for s in splits])
    assert sorted(tested.tolist()) == list(range(len(numbers)))
    block = kfold_block_size(numbers, folds)
    ids = np.asarray(numbers) // block
    for split in splits:
        assert_disjoint(split)
        train_blocks = set(ids[split.train].tolist())
        assert not train_blocks & set(ids[split.test].tolist())
        assert not train_blocks & set(ids[split.valid].tolist())


@given(
    labels=labels_strategy,
    seed=st.integers(0, 100),
    kind=st.sampled_from(["holdout", "kfold"]),
)
@settings(max_examples=40, deadline=None)
def test_training_windows_come_only_from_training_tracks(labels, seed, kind) -> None:
    """Windows are cut from tracks after the split, so a track's windows share its side."""
    numbers = list(range(len(labels)))
    try:
        splits = make_splits(kind, keys=[], labels=labels, numbers=numbers, seed=seed)
    except DatasetError:
        return
    rng = np.random.default_rng(seed)
    specs = [np.zeros((4, int(rng.integers(20, 60))), np.float16) for _ in labels]
    config = RunConfig(model="linear_mel", dataset="x", crops_per_track=3)
    for split in splits:
        for augment in (True, False):
            config.augment = augment
            windows = epoch_windows(specs, split.train, 16, 8, config, rng)
            assert {t for t, _ in windows} <= set(split.train.tolist())
            assert all(0 <= s <= specs[t].shape[1] - 16 for t, s in windows)


def test_grouped_kfold_keeps_its_original_behaviour() -> None:
    folds = grouped_kfold(list(range(10)) * 2, n_folds=5, block_size=2)
    assert len(folds) == 5
    assert sorted(folds[0][1].tolist()) == [0, 1, 10, 11]


def test_the_suggested_split_follows_the_data(gtzan_dir: Path) -> None:
    from genre.training.experiment import suggest_split

    # all 1000 GTZAN tracks (the full copy): every genre on each side of the filtered split
    keys = [f"{g}/{g}.{i:05d}" for g in GTZAN_GENRES for i in range(100)]
    labels = [k.split("/")[0] for k in keys]
    numbers = [int(k[-5:]) for k in keys]
    kind, why = recommended_split(keys, labels, numbers)
    assert kind == "filtered" and "443/197/290" in why
    table = REPO_ROOT / "data" / "gtzan" / "features_30_sec.csv"
    assert suggest_split(features=str(table))[0] == "filtered"
    # the 100 shared clips: the lists keep 40/49/4 of them, so grouped k-fold
    kind, why = suggest_split(dataset=str(gtzan_dir / "audio"))
    assert kind == "kfold" and "40/49/4" in why
    # not GTZAN: k-fold when the IDs give enough blocks, else hold-out
    labels = ["rock", "jazz"] * 5
    keys = [f"{g}/{g}-song-{i}" for i, g in enumerate(labels)]
    assert recommended_split(keys, labels, list(range(10)))[0] == "kfold"
    assert recommended_split(["a/x", "b/y"], ["a", "b"], [0, 0], folds=2)[0] == "holdout"
