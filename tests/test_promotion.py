"""The promotion guard's comparison, on the shipped bundles and damaged ones."""

from __future__ import annotations

import json
from pathlib import Path

from genre.paths import ASSETS_DIR
from genre.training.promotion import bundle_accuracy, check_promotion


def test_the_shipped_bundles_give_their_held_out_accuracy() -> None:
    musicnn = json.loads((ASSETS_DIR / "musicnn-genre" / "bundle.json").read_text())
    expected = musicnn["metrics"]["grouped_cv_accuracy_mean"]["value"]
    assert bundle_accuracy(ASSETS_DIR / "musicnn-genre") == expected
    check = check_promotion(ASSETS_DIR / "gtzan-cnn-baseline", ASSETS_DIR / "musicnn-genre")
    assert check.candidate_accuracy is not None and check.candidate_accuracy < expected
    assert check.needs_confirmation
    assert f"{expected:.1%}" in check.message() and "musicnn-genre" in check.message()
    reverse = check_promotion(ASSETS_DIR / "musicnn-genre", ASSETS_DIR / "gtzan-cnn-baseline")
    assert not reverse.needs_confirmation


def test_a_bundle_without_a_readable_figure_is_not_compared(tmp_path: Path) -> None:
    (tmp_path / "bundle.json").write_text("{not json")
    assert bundle_accuracy(tmp_path) is None
    assert bundle_accuracy(tmp_path / "missing") is None
    check = check_promotion(tmp_path, ASSETS_DIR / "musicnn-genre")
    assert check.in_use_accuracy is not None and not check.needs_confirmation
