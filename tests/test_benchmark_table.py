"""The README's results table: its text follows the measured rows and says where (b) comes from."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from genre.paths import REPO_ROOT, shared_gtzan_dir
from genre.training.benchmark import DEEP_DEFAULTS, SHARED_CLIPS, markdown


def feature_row(model: str, accuracy: float) -> dict:
    return {
        "model": model, "test_accuracy": accuracy, "macro_f1": accuracy - 0.01,
        "train_seconds": 0.5, "wall_seconds": 0.6,
    }  # fmt: skip


def deep_row(model: str, mean: float) -> dict:
    return {
        "model": model, "kfold_mean": mean, "kfold_std": 0.1, "macro_f1": mean, "weights": 1000,
        "train_seconds": 60.0, "windows_per_second": 100.0, "inference_ms_per_track": 5.0,
        "settings": dict(DEEP_DEFAULTS),
    }  # fmt: skip


def test_why_line_quotes_the_best_feature_model() -> None:
    features = [feature_row("logreg", 0.534), feature_row("lda", 0.612)]
    text = markdown(features, [deep_row("simple_cnn", 0.8)], "2026-01-02T03:04:05")
    why = next(line for line in text.splitlines() if line.startswith("Why the seeds"))
    assert "61.2 % (lda, table a)" in why
    assert "56 %" not in why


def test_deep_table_says_which_run_it_comes_from() -> None:
    features = [feature_row("logreg", 0.5)]
    dated = markdown(features, [deep_row("bigru", 0.7)], "2026-01-02T03:04:05")
    assert "the last full one started 2026-01-02 03:04:05" in dated
    assert "| 01-02 03:04 |" in dated  # a row without its own stamp shows the full run's date
    assert "without `--deep` re-runs only table (a) and copies (b)" in dated
    assert "date not recorded" in markdown(features, [deep_row("bigru", 0.7)], None)
    assert "--deep" not in markdown(features, None, None)  # no table (b), nothing to explain


def test_shared_clip_ids_in_the_table_match_the_clips() -> None:
    audio = shared_gtzan_dir() / "audio"
    if not audio.is_dir():
        pytest.skip("the shared clips are not on this machine")
    ids: dict[str, set[int]] = {}
    for clip in audio.glob("*/*.*.*"):
        genre, number = clip.name.split(".")[:2]
        ids.setdefault(genre, set()).add(int(number))
    usual = set(range(10))
    odd = {genre for genre, found in ids.items() if found != usual}
    assert "IDs 00000–00009 of each genre" in SHARED_CLIPS
    assert odd == {"jazz"} and ids["jazz"] == usual - {3, 9} | {11, 12}
    assert "jazz has 00011 and 00012 in place of 00003 and 00009" in SHARED_CLIPS


def test_feature_only_run_keeps_the_saved_deep_table_and_its_date(tmp_path: Path) -> None:
    out = tmp_path / "benchmark.json"
    saved_deep = [deep_row("linear_mel", 0.7)]
    out.write_text(
        json.dumps({"features": [], "deep": saved_deep, "deep_started": "2026-01-02T03:04:05"})
    )
    done = subprocess.run(
        [sys.executable, "-m", "genre", "benchmark", "--models", "lda", "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert [r["model"] for r in result["features"]] == ["lda"]
    assert result["features"][0]["n_train"] + result["features"][0]["n_valid"] == 640
    assert result["deep"] == saved_deep and result["deep_started"] == "2026-01-02T03:04:05"
    assert "(the last full one started 2026-01-02 03:04:05)" in done.stdout
    accuracy = result["features"][0]["test_accuracy"]
    assert re.search(rf"reach at best {100 * accuracy:.1f} % \(lda, table a\)", done.stdout)


def test_rows_carry_their_own_date_and_load() -> None:
    row = {**deep_row("crnn", 0.7), "measured_at": "2026-03-04T05:06:07", "load_average": 1.23}
    text = markdown([feature_row("logreg", 0.5)], [row], "2026-01-02T03:04:05")
    assert "| 03-04 05:06 (1.2) |" in text


def test_a_deep_subset_rerun_replaces_only_its_rows(tmp_path: Path) -> None:
    """`--deep --models X` re-measures X for real and keeps every other saved row."""
    out = tmp_path / "benchmark.json"
    saved = [deep_row("linear_mel", 0.1), deep_row("bigru", 0.7)]
    started = "2026-01-02T03:04:05"
    out.write_text(json.dumps({"features": [], "deep": saved, "deep_started": started}))
    command = [
        sys.executable, "-m", "genre", "benchmark", "--only-deep", "--models", "linear_mel",
        "--epochs", "1", "--folds", "2", "--out", str(out),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    rows = {r["model"]: r for r in result["deep"]}
    assert set(rows) == {"linear_mel", "bigru"}
    assert rows["bigru"] == saved[1]  # untouched
    fresh = rows["linear_mel"]
    assert fresh["kfold_mean"] != 0.1 and len(fresh["fold_accuracies"]) == 2
    assert fresh["measured_at"] and fresh["load_average"] >= 0
    assert result["deep_started"] == started  # no full run happened


def test_readme_speed_table_quotes_the_measured_classify_peak_memory() -> None:
    measured = json.loads((REPO_ROOT / "bench" / "results" / "classify.json").read_text())
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| Classify, peak memory"))
    assert f"| {measured['peak_memory_mb_all_bundles']} MB |" in row, row
