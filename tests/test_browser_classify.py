"""Real-browser journeys on the Classify page: record from the fake microphone, upload a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import chromium_available, chromium_page, streamlit_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed"),
]

RESULT_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("browser-home")
    with streamlit_server(env={"GENRE_STUDIO_HOME": str(home)}) as url:
        yield url


def test_record_from_the_microphone_and_see_a_genre(server_url: str, artifacts_dir: Path) -> None:
    with chromium_page() as page:
        page.goto(f"{server_url}/classify", wait_until="networkidle")
        page.get_by_text("Play ~30 s of music near your microphone").wait_for(timeout=60_000)
        recorder = page.locator('[data-testid="stAudioInput"]')
        recorder.get_by_role("button", name="Record").click()
        page.wait_for_timeout(4_000)  # the fake device plays a beep tone
        recorder.get_by_role("button", name="Stop recording").click()
        heading = page.locator("h2").filter(has_text="%").or_(page.locator("h2")).first
        page.get_by_text("confident").first.wait_for(timeout=RESULT_TIMEOUT_MS)
        page.locator(".js-plotly-plot").first.wait_for(timeout=RESULT_TIMEOUT_MS)
        assert heading.is_visible()
        page.screenshot(path=str(artifacts_dir / "classify-record.png"), full_page=True)


def test_upload_a_file_and_see_its_result(
    server_url: str, gtzan_dir: Path, artifacts_dir: Path
) -> None:
    clip = gtzan_dir / "audio" / "reggae" / "reggae.00002.ogg"
    with chromium_page() as page:
        page.goto(f"{server_url}/classify", wait_until="networkidle")
        page.get_by_role("tab", name="📁 Upload").click()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(clip))
        page.get_by_text("confident").first.wait_for(timeout=RESULT_TIMEOUT_MS)
        charts = page.locator(".js-plotly-plot")
        charts.nth(1).wait_for(timeout=RESULT_TIMEOUT_MS)
        assert charts.count() >= 2
        assert "Traceback" not in page.content()
        page.screenshot(path=str(artifacts_dir / "classify-upload.png"), full_page=True)
