"""tools/gan_spread_parts.py: where a generator's variety falls short, between recordings or
within one (run as a user would, on real clips and the shipped classifier)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from tests.test_gan_cli import TINY_MODEL, run_gan
from tests.test_gan_recordings import two_tones_per_genre
from tests.tool_loading import TOOLS_DIR, load_tool, run_script

TOOL = TOOLS_DIR / "gan_spread_parts.py"
run_tool = partial(run_script, TOOL)


def test_the_parts_of_a_spread_are_the_pairs_across_and_within_groups() -> None:
    parts = load_tool(TOOL).spread_parts
    points = np.array([[0.0, 0.0], [0.0, 1.0], [3.0, 0.0], [3.0, 1.0]])
    found = parts(points, np.array([0, 0, 1, 1]))
    assert found["within"] == 1.0 and found["between_means"] == 3.0
    assert found["across"] == pytest.approx((3 + 3 + 2 * np.sqrt(10)) / 4, abs=1e-4)
    alone = parts(points, np.array([0, 1, 2, 3]))  # every point its own group
    assert alone["within"] is None  # and across is every pair
    assert alone["across"] == pytest.approx((1 + 1 + 3 + 3 + 2 * np.sqrt(10)) / 6, abs=1e-4)
    together = parts(points, np.zeros(4))
    assert together["across"] is None and together["between_means"] is None


def test_a_recording_generator_is_split_by_the_recording_each_clip_plays(tmp_path: Path) -> None:
    data = two_tones_per_genre(tmp_path / "clips")
    bundle = tmp_path / "bundle"
    made = run_gan("train", "--run", str(tmp_path / "run"), "--condition", "recording",
                   "--steps", "2", "--export", str(bundle), "--data", str(data), "--batch", "4",
                   "--quiet", *TINY_MODEL)  # fmt: skip
    assert made.returncode == 0, made.stderr
    done = run_tool("--bundle", str(bundle), "--per-genre", "5", "--genres", "jazz")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["by_recording"] and set(report["genres"]) == {"jazz"}
    jazz = report["genres"]["jazz"]
    # five clips of two recordings: pairs of one recording and of both
    for side in ("real", "generated"):
        assert all(jazz[side][part] > 0 for part in ("across", "within", "between_means"))
    ratios = jazz["ratios"]
    assert ratios["across"] == round(jazz["generated"]["across"] / jazz["real"]["across"], 4)
    # beside the judge's view, the same clips' spread in plain log-mel statistics
    assert set(jazz["plain"]) == {"profile", "dynamics", "cepstrum"}
    assert all(value > 0 for value in jazz["plain"].values())
    assert report["mean_ratios"] == {**ratios, **jazz["plain"]}


def test_a_genre_generator_has_only_the_overall_ratio_and_bad_genres_are_refused(
    tmp_path: Path,
) -> None:
    data = two_tones_per_genre(tmp_path / "clips")
    bundle = tmp_path / "bundle"  # one class per genre
    made = run_gan("train", "--run", str(tmp_path / "run"), "--steps", "2", "--export",
                   str(bundle), "--data", str(data), "--batch", "4", "--quiet",
                   *TINY_MODEL)  # fmt: skip
    assert made.returncode == 0, made.stderr
    done = run_tool("--bundle", str(bundle), "--per-genre", "3", "--genres", "jazz")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert not report["by_recording"]
    ratios = report["genres"]["jazz"]["ratios"]
    assert ratios["across"] is None and ratios["between_means"] is None
    assert 0 < ratios["overall"] < 2
    refused = run_tool("--bundle", str(bundle), "--genres", "polka")
    assert refused.returncode == 2
    assert "Unknown genre 'polka'. The generator knows: blues" in refused.stderr
    assert "Traceback" not in refused.stderr
