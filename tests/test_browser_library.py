"""Real-browser journey on the Library page: index a folder of shared clips, open the map,
click a dot, hear the track, and ask for more like it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.browser import chromium_available, chromium_page, streamlit_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed"),
]

CLIPS = ("reggae/reggae.00002.ogg", "classical/classical.00003.ogg", "metal/metal.00005.ogg")
INDEX_TIMEOUT_MS = 600_000  # three clips; generous because the test machine's cores are shared


def test_index_a_folder_open_the_map_play_a_track_and_find_more_like_it(
    tmp_path_factory: pytest.TempPathFactory, gtzan_dir: Path, artifacts_dir: Path
) -> None:
    home = tmp_path_factory.mktemp("library-browser-home")
    music = tmp_path_factory.mktemp("library-browser-music")
    for clip in CLIPS:
        shutil.copy(gtzan_dir / "audio" / clip, music)
    with (
        streamlit_server(env={"GENRE_STUDIO_HOME": str(home)}) as url,
        chromium_page() as page,
    ):
        page.set_viewport_size({"width": 1400, "height": 1400})
        try:
            page.goto(f"{url}/library", wait_until="networkidle")
            page.get_by_text("Your library is empty").wait_for(timeout=60_000)
            page.get_by_role("textbox", name="Folder on this computer").fill(str(music))
            page.get_by_role("button", name="Add this folder").click()
            page.get_by_text(f"Added {len(CLIPS)} new tracks").wait_for(timeout=INDEX_TIMEOUT_MS)

            page.get_by_role("tab", name="Map").click()
            dots = page.locator(".js-plotly-plot .scatterlayer .points path")
            dots.first.wait_for(timeout=60_000)
            assert dots.count() == len(CLIPS)
            dot = dots.nth(1)
            dot.scroll_into_view_if_needed()
            box = dot.bounding_box()
            assert box is not None
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)  # Plotly picks the point under the pointer on hover
            page.mouse.click(x, y)

            player = page.locator("[data-testid='stAudio']").first
            player.wait_for(timeout=60_000)
            playing = page.evaluate(
                """async () => {
                    const audio = document.querySelector("[data-testid='stAudio']");
                    await audio.play();
                    return !audio.paused;
                }"""
            )
            assert playing
            page.wait_for_function(
                "document.querySelector(\"[data-testid='stAudio']\").currentTime > 0.1",
                timeout=60_000,
            )
            names = page.locator("[data-testid='stMarkdownContainer'] strong")
            heard = names.filter(has_text=re.compile(r"^\w+\.\d{5}$")).first.inner_text()

            page.get_by_role("button", name="More like this").click()
            page.get_by_text(f"The {len(CLIPS) - 1} most similar tracks").wait_for(timeout=60_000)
            picked = page.locator("[data-testid='stSelectbox'] input").first.input_value()
            assert picked.startswith(f"{heard} · ")
        finally:
            page.screenshot(path=str(artifacts_dir / "library-map.png"), full_page=True)
