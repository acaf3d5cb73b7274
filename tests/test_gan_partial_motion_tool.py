"""tools/gan_partial_motion.py: whether generated partials change like real music's or hold
like a drone (run as a user would, on the shipped generator and the shared clips)."""

from __future__ import annotations

import json
from functools import partial

import pytest

from tests.tool_loading import TOOLS_DIR, run_script

TOOL = TOOLS_DIR / "gan_partial_motion.py"
run_tool = partial(run_script, TOOL)


def test_the_tool_reports_real_and_generated_motion_per_genre() -> None:
    done = run_tool("--per-genre", "4", "--genres", "jazz,metal", "--lags", "1,16")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["lags"] == [1, 16] and set(report["genres"]) == {"jazz", "metal"}
    for genre in report["genres"].values():
        for side in ("real", "generated"):
            lag1, lag16 = genre[side]
            assert -1.0 <= lag16 < lag1 <= 1.0  # detail decorrelates with time, never the reverse
    real_jazz = report["genres"]["jazz"]["real"]
    assert report["mean"]["real"][0] == pytest.approx(
        (real_jazz[0] + report["genres"]["metal"]["real"][0]) / 2, abs=0.001
    )
    # the same genre is the same crops whatever else is asked for
    alone = json.loads(run_tool("--per-genre", "4", "--genres", "jazz", "--lags", "1,16").stdout)
    assert alone["genres"]["jazz"] == report["genres"]["jazz"]


@pytest.mark.parametrize(
    ("args", "words"),
    [(("--genres", "polka"), "Unknown genre 'polka'"), (("--lags", "0"), "--lags must be 1-64"),
     (("--lags", "a,b"), "whole numbers")],
)  # fmt: skip
def test_bad_requests_get_one_line_and_no_traceback(args: tuple[str, ...], words: str) -> None:
    done = run_tool(*args)
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr
