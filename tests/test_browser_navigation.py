"""Real browser: a deep link into a fresh server lands on app.py's navigation.

A folder named ``pages/`` beside the main script would make Streamlit run a deep link such as
``/classify`` as a legacy multipage app, with a sidebar listing every file in that folder. The
page scripts live in ``app_pages/`` and the shared pieces in ``ui/``, so the first visit of a
fresh server already sees the six pages app.py lists, and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser import chromium_available, chromium_page, streamlit_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed"),
]

PAGES = ("Home", "Classify", "Library", "Training", "Generate", "Mood")
# Names Streamlit would give the shared modules if it listed files (run_watch -> "run watch").
HELPER_MODULES = [path.stem for path in (Path(__file__).parents[1] / "ui").glob("[!_]*.py")]


def test_deep_link_into_a_fresh_server_shows_the_apps_six_pages(
    tmp_path: Path, artifacts_dir: Path
) -> None:
    with (
        streamlit_server(env={"GENRE_STUDIO_HOME": str(tmp_path / "home")}) as url,
        chromium_page() as page,
    ):
        page.goto(f"{url}/classify", wait_until="networkidle")  # the server's first visit
        try:
            page.get_by_text("Play ~30 s of music near your microphone").wait_for(timeout=60_000)
            links = page.locator('[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]')
            links.first.wait_for(timeout=60_000)
            names = [text.strip() for text in links.all_inner_texts()]
            assert len(names) == len(PAGES), names
            for title in PAGES:
                assert sum(title in name for name in names) == 1, (title, names)
            for module in HELPER_MODULES:
                pattern = re.compile(module.replace("_", "[ _]"), re.IGNORECASE)
                assert not any(pattern.search(name) for name in names), (module, names)
            assert page.url.rstrip("/").endswith("/classify")
        finally:
            page.screenshot(path=str(artifacts_dir / "deep-link-classify.png"), full_page=True)
