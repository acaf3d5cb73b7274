"""Real-browser journeys on the Classify page: record from the fake microphone, upload a file.

The upload runs with the browser in light and in dark colour scheme: with no theme set in
``.streamlit/config.toml``, Streamlit follows the system setting, as it does for a user.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from genre.labels import GTZAN_GENRES
from pages.charts import display_name
from tests.browser import chromium_available, chromium_page, streamlit_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed"),
]

RESULT_TIMEOUT_MS = 90_000
# The predicted genre is shown in large type, as the page writes it ("Hip-hop", "Jazz", ...).
GENRE_HEADING = re.compile(
    "^(" + "|".join(re.escape(display_name(g).capitalize()) for g in GTZAN_GENRES) + ")$"
)
MIN_TEXT_CONTRAST = 4.5  # WCAG AA for body text


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("browser-home")
    with streamlit_server(env={"GENRE_STUDIO_HOME": str(home)}) as url:
        yield url


@contextlib.contextmanager
def screenshot_after(page, path: Path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Keep a screenshot of how the page ended, whether the journey passed or failed."""
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # a dead page must not hide the real failure
            page.screenshot(path=str(path), full_page=True)


def wait_for_genre(page) -> str:  # type: ignore[no-untyped-def]
    heading = page.locator("h2").filter(has_text=GENRE_HEADING).first
    heading.wait_for(timeout=RESULT_TIMEOUT_MS)
    return heading.inner_text().strip()


def luminance(css_colour: str) -> float:
    """Relative luminance (WCAG) of an ``rgb(...)``/``rgba(...)`` colour."""
    channels = [int(v) / 255 for v in re.findall(r"[\d.]+", css_colour)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def colours(page, selector: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(text colour of ``selector``, the app's background colour)."""
    return page.evaluate(
        """(selector) => [
            getComputedStyle(document.querySelector(selector)).color,
            getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor,
        ]""",
        selector,
    )


def test_record_from_the_microphone_and_see_a_genre(server_url: str, artifacts_dir: Path) -> None:
    with chromium_page() as page, screenshot_after(page, artifacts_dir / "classify-record.png"):
        page.goto(f"{server_url}/classify", wait_until="networkidle")
        page.get_by_text("Play ~30 s of music near your microphone").wait_for(timeout=60_000)
        recorder = page.locator('[data-testid="stAudioInput"]')
        recorder.get_by_role("button", name="Record").click()
        page.wait_for_timeout(4_000)  # the fake device plays a beep tone
        recorder.get_by_role("button", name="Stop recording").click()
        genre = wait_for_genre(page)
        assert genre.lower() in {display_name(g) for g in GTZAN_GENRES}
        page.get_by_text("confident").first.wait_for(timeout=RESULT_TIMEOUT_MS)
        page.locator(".js-plotly-plot").first.wait_for(timeout=RESULT_TIMEOUT_MS)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_upload_a_file_and_see_its_result(
    server_url: str, gtzan_dir: Path, artifacts_dir: Path, scheme: str
) -> None:
    clip = gtzan_dir / "audio" / "reggae" / "reggae.00002.ogg"
    with chromium_page() as page:
        page.emulate_media(color_scheme=scheme)
        with screenshot_after(page, artifacts_dir / f"classify-upload-{scheme}.png"):
            page.goto(f"{server_url}/classify", wait_until="networkidle")
            page.get_by_role("tab", name="📁 Upload").click()
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(clip))
            wait_for_genre(page)
            page.get_by_text("confident").first.wait_for(timeout=RESULT_TIMEOUT_MS)
            charts = page.locator(".js-plotly-plot")
            charts.nth(1).wait_for(timeout=RESULT_TIMEOUT_MS)
            assert charts.count() >= 2
            assert "Traceback" not in page.content()
            # Readable in this scheme: the genre and the body text stand out from the background.
            heading, background = colours(page, "h2")
            body, _ = colours(page, '[data-testid="stMarkdownContainer"] p')
            app_is_dark = luminance(background) < 0.2
            assert app_is_dark == (scheme == "dark"), background
            assert contrast(heading, background) >= MIN_TEXT_CONTRAST, (heading, background)
            assert contrast(body, background) >= MIN_TEXT_CONTRAST, (body, background)
