"""Real-browser journeys on the Classify page: record from the fake microphone (a music file,
then Chromium's default beep), upload a file, a batch on a phone-sized screen, a refused upload.

The upload runs with the browser in light and in dark colour scheme: with no theme set in
``.streamlit/config.toml``, Streamlit follows the system setting, as it does for a user.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf

from genre.labels import GTZAN_GENRES
from tests.browser import (
    chromium_available,
    chromium_page,
    streamlit_server,
    wait_until_laid_out,
)
from ui.charts import display_name

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed"),
]

RESULT_TIMEOUT_MS = 120_000
# The verdict is shown in large type: a genre ("Hip-hop"), a close call ("Jazz or blues"), a
# mix or "Hard to say — closest: ..."; each names at least one genre as the page writes it.
GENRE_HEADING = re.compile(
    "(" + "|".join(re.escape(display_name(g)) for g in GTZAN_GENRES) + ")", re.IGNORECASE
)
NOT_MUSIC_HEADING = "This doesn't sound like music"
PHONE = {"width": 390, "height": 844}
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


def wait_for_verdict(page) -> str:  # type: ignore[no-untyped-def]
    """The heading in large type once the result is shown."""
    heading = page.locator("h2").filter(has_text=re.compile(r"\S")).first
    heading.wait_for(timeout=RESULT_TIMEOUT_MS)
    return heading.inner_text().strip()


def wait_for_genre(page) -> str:  # type: ignore[no-untyped-def]
    heading = wait_for_verdict(page)
    assert heading != NOT_MUSIC_HEADING and GENRE_HEADING.search(heading), heading
    return heading


def record(page, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Record from Chromium's fake microphone for about ``seconds``."""
    page.get_by_text("Play ~30 s of music near your microphone").wait_for(timeout=60_000)
    recorder = page.locator('[data-testid="stAudioInput"]')
    recorder.get_by_role("button", name="Record").click()
    page.wait_for_timeout(seconds * 1000)  # the fake device plays while we wait
    recorder.get_by_role("button", name="Stop recording").click()


@pytest.fixture(scope="module")
def music_wav(gtzan_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real GTZAN clip as the WAV file Chromium's fake microphone plays."""
    samples, rate = sf.read(gtzan_dir / "audio" / "reggae" / "reggae.00002.ogg", dtype="float32")
    path = tmp_path_factory.mktemp("fake-mic") / "reggae.wav"
    sf.write(path, samples, rate, subtype="PCM_16")
    return path


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


def test_music_from_the_microphone_gets_a_genre(
    server_url: str, music_wav: Path, artifacts_dir: Path
) -> None:
    fake_mic = [f"--use-file-for-fake-audio-capture={music_wav}"]
    with (
        chromium_page(fake_mic) as page,
        screenshot_after(page, artifacts_dir / "classify-record-music.png"),
    ):
        page.goto(f"{server_url}/classify", wait_until="networkidle")
        record(page, seconds=10)
        wait_for_genre(page)
        page.locator(".js-plotly-plot").first.wait_for(timeout=RESULT_TIMEOUT_MS)


def test_the_microphone_beep_is_not_music(server_url: str, artifacts_dir: Path) -> None:
    with chromium_page() as page, screenshot_after(page, artifacts_dir / "classify-record.png"):
        page.goto(f"{server_url}/classify", wait_until="networkidle")
        record(page, seconds=5)  # no file given: the fake device plays its beep
        assert wait_for_verdict(page) == NOT_MUSIC_HEADING
        page.get_by_text("The genre model's guess").wait_for(timeout=RESULT_TIMEOUT_MS)
        assert "Traceback" not in page.content()


def test_a_batch_on_a_phone_shows_genre_and_confidence_without_sideways_scrolling(
    server_url: str, gtzan_dir: Path, artifacts_dir: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes_from_the_rehearsal_that_are_not_audio.wav"
    notes.write_text("not audio at all " * 20)
    files = [gtzan_dir / "audio" / g / f"{g}.00001.ogg" for g in ("jazz", "metal")] + [notes]
    with chromium_page() as page, screenshot_after(page, artifacts_dir / "classify-phone.png"):
        page.set_viewport_size(PHONE)
        page.goto(f"{server_url}/classify", wait_until="networkidle")
        page.get_by_role("tab", name="📁 Upload").click()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(files)
        table = page.locator('[data-testid="stTable"]')
        table.wait_for(timeout=RESULT_TIMEOUT_MS)
        table.scroll_into_view_if_needed()
        table.screenshot(path=str(artifacts_dir / "classify-phone-table.png"))
        overflow = table.evaluate("t => t.scrollWidth - t.clientWidth")
        assert overflow <= 1, f"the table scrolls sideways by {overflow} px"
        for column in ("genre", "confidence", "note"):
            box = table.locator("th", has_text=column).bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"], column
        error = table.locator("td", has_text="The file is not a recognised audio file")
        assert "(supported:" in error.inner_text()  # the whole message, wrapped, not cut off


def test_a_file_over_the_upload_limit_says_why(
    gtzan_dir: Path, artifacts_dir: Path, tmp_path: Path
) -> None:
    samples, rate = sf.read(gtzan_dir / "audio" / "jazz" / "jazz.00001.ogg", dtype="float32")
    big = tmp_path / "jazz.wav"
    sf.write(big, samples, rate, subtype="PCM_16")
    assert 1.0 < big.stat().st_size / 2**20 < 2  # just over the 1 MB limit set below
    home = {"GENRE_STUDIO_HOME": str(tmp_path / "home")}
    with (
        streamlit_server(env=home, args=["--server.maxUploadSize", "1"]) as url,
        chromium_page() as page,
        screenshot_after(page, artifacts_dir / "classify-too-large.png"),
    ):
        page.goto(f"{url}/classify", wait_until="networkidle")
        page.get_by_role("tab", name="📁 Upload").click()
        page.get_by_text("Up to 1 MB per file").wait_for(timeout=60_000)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(big))
        # The reason on the refused file's chip is laid out as text, not only kept for screen
        # readers and a hover tooltip. Streamlit first draws it in its 1 x 1 screen-reader form,
        # so wait (briefly) for the page's style to lay it out before measuring it.
        reason = page.locator("[data-testid='stFileChip'] [role='alert']",
                              has_text="File must be 1.0MB or smaller")  # fmt: skip
        reason.wait_for(timeout=60_000)
        box = wait_until_laid_out(reason)
        assert box is not None and box["width"] > 100 and box["height"] > 10, box


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
