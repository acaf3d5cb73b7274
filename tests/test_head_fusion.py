"""Tag fusion chosen for a user's head run (genre.training.head_fusion)."""

from __future__ import annotations

import numpy as np

from genre.fusion import TAG_GENRES
from genre.labels import GTZAN_GENRES
from genre.musicnn import MSD_TAGS
from genre.training.head_fusion import choose_run_fusion


def held_out_windows(
    labels: tuple[str, ...], tags_know: bool, n_tracks: int = 60, per_track: int = 4
) -> tuple[np.ndarray, ...]:
    """A weak head (right genre a little above chance) and tags that, when ``tags_know``,
    light up the right genre's tag; five folds of tracks."""
    rng = np.random.default_rng(0)
    truth = np.arange(n_tracks) % len(labels)
    track = np.repeat(np.arange(n_tracks), per_track)
    fold = track % 5
    logits = rng.normal(0, 1, (len(track), len(labels)))
    logits[np.arange(len(track)), truth[track]] += 0.6
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    tags = rng.uniform(0, 0.1, (len(track), len(MSD_TAGS)))
    if tags_know:
        for w, t in enumerate(track):
            named = TAG_GENRES.get(labels[truth[t]], ())
            if named:
                tags[w, MSD_TAGS.index(named[0])] = rng.uniform(0.5, 0.9)
    return log_probs, tags, track, fold, truth


def test_tags_that_know_the_genres_get_weight_and_raise_held_out_accuracy() -> None:
    log_probs, tags, track, fold, truth = held_out_windows(GTZAN_GENRES, tags_know=True)
    fusion = choose_run_fusion(log_probs, tags, track, fold, truth, GTZAN_GENRES)
    assert fusion is not None and fusion.used
    c = fusion.choice
    assert np.mean(c.fused_fold_acc) > np.mean(c.head_fold_acc) + 0.1
    assert fusion.meta()["weight"] > 0
    assert "Tag fusion: the head is combined" in fusion.describe()


def test_uninformative_tags_leave_the_head_alone() -> None:
    log_probs, tags, track, fold, truth = held_out_windows(GTZAN_GENRES, tags_know=False)
    fusion = choose_run_fusion(log_probs, tags, track, fold, truth, GTZAN_GENRES)
    assert fusion is not None and not fusion.used
    assert "Tag fusion: off" in fusion.describe()


def test_no_fusion_for_classes_the_tags_do_not_name_or_a_single_split() -> None:
    own = ("birdsong", "choir", "field")
    log_probs, tags, track, fold, truth = held_out_windows(own, tags_know=False)
    assert choose_run_fusion(log_probs, tags, track, fold, truth, own) is None
    log_probs, tags, track, fold, truth = held_out_windows(GTZAN_GENRES, tags_know=True)
    one_split = np.zeros_like(fold)
    assert choose_run_fusion(log_probs, tags, track, one_split, truth, GTZAN_GENRES) is None
    few = track < 10  # ten held-out tracks are too few to choose anything
    assert (
        choose_run_fusion(log_probs[few], tags[few], track[few], fold[few], truth, GTZAN_GENRES)
        is None
    )
