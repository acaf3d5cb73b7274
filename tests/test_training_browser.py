"""Real browser: launch a training run on the Training page, watch it finish, see the charts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.browser import (
    chromium_available,
    chromium_page,
    streamlit_server,
    wait_until_idle,
    wait_until_still,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed"),
]

TIMEOUT_MS = 150_000


def test_launch_watch_and_compare_in_a_real_browser(tmp_path: Path, artifacts_dir: Path) -> None:
    home = tmp_path / "home"
    with streamlit_server(env={"GENRE_STUDIO_HOME": str(home)}) as url, chromium_page() as page:
        page.goto(f"{url}/training", wait_until="networkidle")
        page.get_by_text("never heard in training").wait_for(timeout=60_000)
        page.get_by_role("button", name="why?").click()  # the leakage explanation's popover
        page.get_by_text("artist-filtered split keeps each artist on one side").wait_for(
            timeout=60_000
        )
        page.keyboard.press("Escape")
        page.get_by_text("No training is running").wait_for(timeout=60_000)
        page.get_by_role("button", name="Quick start").wait_for(timeout=60_000)
        page.get_by_text("Advanced: your own data").click()  # the expander
        wait_until_idle(page)  # the first run of the page may still be drawing the sections below
        # defaults: the shipped GTZAN feature table, logistic regression, artist-filtered split
        launch = page.get_by_role("button", name="Launch training")
        # Clicked once the expander has finished opening: twice in clean-clone CI runs the click
        # reached no server (the websocket trace of the second showed no rerun sent at all).
        box = wait_until_still(launch)
        launch.click()
        print(f"Launch training clicked at {box}", file=sys.stderr)  # kept if the test fails
        page.get_by_text("Started 1 run(s) in the background").wait_for(timeout=TIMEOUT_MS)
        # the live fragment notices the end of the run and refreshes the comparison
        page.get_by_text("Compare in detail").wait_for(timeout=TIMEOUT_MS)
        page.locator(".js-plotly-plot").nth(1).wait_for(timeout=TIMEOUT_MS)
        table = page.locator('[data-testid="stDataFrame"]').first
        table.wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("the Classify page cannot use this model").first.wait_for(
            timeout=TIMEOUT_MS
        )
        assert "Traceback" not in page.content()
        page.screenshot(path=str(artifacts_dir / "training-page.png"), full_page=True)
    runs = list((home / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "metrics.json").is_file()
