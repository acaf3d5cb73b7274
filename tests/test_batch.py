"""Classifying many files at once: same answers as one by one, in order, bad files in place."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from genre.batch import classify_files, default_workers
from genre.classifier import Classifier
from genre.paths import default_bundle_dir


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(default_bundle_dir())


def test_parallel_results_match_one_by_one_in_input_order(
    classifier: Classifier, gtzan_dir: Path, tmp_path: Path
) -> None:
    clips = [gtzan_dir / "audio" / g / f"{g}.00001.ogg" for g in ("metal", "blues", "classical")]
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 40)
    paths = [clips[0], corrupt, clips[1], tmp_path / "missing.ogg", clips[2]]
    threads = torch.get_num_threads()

    together = list(classify_files(classifier, paths, max_minutes=1, workers=2))
    one_by_one = list(classify_files(classifier, paths, max_minutes=1, workers=1))

    assert torch.get_num_threads() == threads  # the process-wide setting is restored
    assert [r.path for r in together] == paths
    assert [r.error is None for r in together] == [True, False, True, False, True]
    assert "corrupt.wav" in (together[1].error or "")
    for a, b in zip(together, one_by_one, strict=True):
        assert a.error == b.error
        if a.prediction is not None and b.prediction is not None:
            assert a.prediction.genre == b.prediction.genre
            # One torch thread instead of two changes only the rounding of the sums.
            assert np.abs(a.prediction.probs - b.prediction.probs).max() < 1e-3
    genres = [r.prediction.genre for r in together if r.prediction is not None]
    assert genres == ["metal", "blues", "classical"]


def test_stopping_early_cancels_the_rest_and_restores_threads(
    classifier: Classifier, gtzan_dir: Path
) -> None:
    clips = sorted((gtzan_dir / "audio" / "rock").glob("*.ogg"))
    threads = torch.get_num_threads()
    results = classify_files(classifier, clips, max_minutes=0.1, workers=2)
    first = next(results)
    results.close()  # e.g. the reader went away
    assert first.path == clips[0] and first.prediction is not None
    assert torch.get_num_threads() == threads


def test_default_workers() -> None:
    assert default_workers(1) == 1
    assert 1 <= default_workers(100) <= 4
