"""AppTest of the Mood page: snapshot → emotion → recommendations or fallback links."""

from __future__ import annotations

import csv
import io
import tomllib

import cv2
import numpy as np
import skimage.data
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT
from tests.mood_helpers import (
    install_deepface_standin,
    refusing_proxy_url,
    remove_deepface_standin,
)


def start() -> AppTest:
    # Through app.py, as users reach it (run directly, app_pages/mood.py would shadow the package).
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/mood.py")
    at.run()
    return at


def jpeg(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]))
    assert ok
    return data.tobytes()


def open_page(mode: str) -> AppTest:
    at = start()
    assert not at.exception
    at.segmented_control(key="mood_mode").set_value(mode)
    at.run()
    assert not at.exception
    return at


def text_of(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in [*at.info, *at.warning, *at.success, *at.error]]
    return "\n".join(parts)


def test_live_mode_renders_with_privacy_note():
    at = start()
    assert not at.exception and not at.error
    assert at.title[0].value == "🙂 Mood"
    assert "never stored" in text_of(at) and "Only the text search query" in text_of(at)
    # AppTest has no WebRTC runtime: the page must point to the snapshot mode, not crash.
    assert at.warning and "Snapshot" in at.warning[0].value


def test_snapshot_of_a_smiling_face_gives_happy_and_music():
    at = open_page("Snapshot")
    assert "never stored" in text_of(at)  # the privacy note sits next to the camera
    at.camera_input(key="mood_snapshot").set_value(
        ("shot.jpg", jpeg(skimage.data.astronaut()), "image/jpeg")
    )
    at.run()
    assert not at.exception and not at.error
    shown = text_of(at)
    assert "You look **happy**" in shown
    assert "Music for a happy mood" in at.subheader[0].value
    assert "upbeat happy English songs" in shown
    # No network here: the fallback links; with a network: a playlist to play and export.
    if at.success:
        assert len(at.get("download_button")) == 2
    else:
        assert "https://www.youtube.com/results?search_query=upbeat+happy+English+songs" in shown
        assert at.warning and "YouTube" in at.warning[0].value


def test_snapshot_without_face_and_artist_queries():
    at = open_page("Snapshot")
    at.text_input(key="mood_artists").set_value("Shakira")
    at.toggle(key="mood_offline").set_value(True)
    at.camera_input(key="mood_snapshot").set_value(
        ("shot.jpg", jpeg(skimage.data.coffee()), "image/jpeg")
    )
    at.run()
    assert not at.exception
    assert any("No face found" in w.value and "Pick a mood" in w.value for w in at.warning)
    assert not at.subheader  # no mood, no music
    # pick a mood by hand: the chosen artist leads the offline links
    at.segmented_control(key="mood_mode").set_value("Pick a mood")
    at.run()
    at.selectbox(key="mood_pick").set_value("sad")
    at.run()
    shown = text_of(at)
    assert "Shakira soothing comforting songs" in shown
    assert "search_query=Shakira+soothing+comforting+songs" in shown
    assert any("Offline mode" in i.value for i in at.info)


def test_broken_upload_is_an_error_not_a_crash():
    at = open_page("Snapshot")
    at.file_uploader(key="mood_upload").set_value(("face.png", b"\x89PNG broken", "image/png"))
    at.run()
    assert not at.exception
    assert at.error and "not a readable image" in at.error[0].value


def test_the_photo_uploader_states_its_size_limit_and_why(monkeypatch):
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    limit_mb = config["server"]["maxUploadSize"]
    monkeypatch.setenv("MOOD_MAX_IMAGE_MB", "12")
    at = open_page("Snapshot")
    notes = [c.value for c in at.caption]
    note = next((n for n in notes if f"Up to {limit_mb} MB per file" in n), None)
    assert note is not None, notes
    assert "larger files are refused" in note
    assert "Photos over 12 MB or 40 megapixels are refused too" in note  # the photo's own cap
    # the refused file's reason is shown as text (the same style as on Classify)
    assert any("stFileChip" in h.proto.body for h in at.get("html")), "no refusal style"


def test_deepface_that_cannot_fetch_its_weights_warns_and_uses_the_builtin_model(
    monkeypatch, tmp_path
):
    # deepface "installed" (a stand-in with its download behaviour), its weights not on disk,
    # and a proxy that refuses: the page must say why and carry on with the built-in model.
    install_deepface_standin(monkeypatch, tmp_path / "deepface-home")
    monkeypatch.setenv("HTTPS_PROXY", refusing_proxy_url())
    try:
        at = open_page("Snapshot")
        backend = at.selectbox(key="mood_backend")
        assert backend.options == ["built-in", "deepface"]
        backend.set_value("deepface")
        at.toggle(key="mood_offline").set_value(True)
        at.camera_input(key="mood_snapshot").set_value(
            ("shot.jpg", jpeg(skimage.data.astronaut()), "image/jpeg")
        )
        at.run()
        assert not at.exception and not at.error
        why = at.warning[0].value
        assert why.startswith("deepface could not load its emotion weights")
        assert "An exception occurred while downloading facial_expression_model_weights" in why
        assert "Using the built-in model instead." in why
        assert "You look **happy**" in text_of(at)
    finally:
        st.cache_resource.clear()  # the page keeps the fallback analyzer per backend
        remove_deepface_standin()


FLAT_FIXTURE = REPO_ROOT / "tests" / "fixtures" / "mood" / "ytsearch_flat.json"


def playlist_script(fixture: str) -> None:
    """Render the Mood page's results view from a recorded yt-dlp flat search."""
    import json
    from pathlib import Path

    import streamlit as st
    from streamlit import runtime

    from mood.queries import build_queries
    from mood.youtube import Recommendations, fallback_links, parse_flat_results, rank
    from ui.mood_playlist import show_results

    queries = build_queries("happy", "English", ["Maya Rivers"])
    flat = json.loads(Path(fixture).read_text())
    videos = rank([parse_flat_results(flat, queries[0].text)], ["Maya Rivers"])
    result = Recommendations(
        queries, videos, fallback_links(queries), "ok", f"{len(videos)} videos found."
    )
    show_results(result, "happy", key="test")
    # The download buttons' files live in this run's media store: keep it for the test.
    st.session_state["media_files"] = runtime.get_instance().media_file_mgr


def downloaded(at: AppTest, label: str):
    button = next(b for b in at.get("download_button") if b.proto.label == label)
    stored = at.session_state["media_files"].read_file(button.proto.url.rsplit("/", 1)[-1])
    assert stored is not None, f"{label}: nothing to download"
    return stored


def test_playlist_view_from_recorded_search_results():
    at = AppTest.from_function(playlist_script, args=(str(FLAT_FIXTURE),), default_timeout=60)
    at.run()
    assert not at.exception and not at.error and not at.warning
    assert at.subheader[0].value.endswith("Music for a happy mood")
    assert at.success[0].value == "6 videos found."
    assert "“Maya Rivers upbeat happy songs”" in at.caption[0].value

    table = at.dataframe[0].value
    assert list(table.columns) == ["thumbnail", "title", "channel", "length", "link"]
    # the chosen artist first, the duplicate, the channel and the premiere gone
    assert table["title"].tolist() == [
        "Maya Rivers - Golden Hour (Official Video)",
        "Sunny Side Up - Happy Upbeat Pop Playlist 2026 🌞",
        "Upbeat Happy Songs 🎶 Morning Energy Mix",
        "happy songs to dance to #shorts",
        "Feel Good Friday LIVE 🔴 24/7 happy music radio",
        "Walking On Sunshine-style 80s Happy Hits Remastered",
    ]
    assert table["link"][0] == "https://www.youtube.com/watch?v=Xb7pQ2nV8sE"
    assert table["link"][3] == "https://www.youtube.com/shorts/Lw3Ng8Hs2Kd"
    assert table["channel"][0] == "Maya Rivers" and table["length"][0] == "3:34"
    assert table["length"].tolist()[4] == "–"  # a live stream has no duration
    assert table["thumbnail"][4] == "https://i.ytimg.com/vi/Vt5Yu7Io9Pa/hqdefault.jpg"

    # the embedded player: the first video, then the one picked (a Short plays embedded too)
    player = at.get("video")[0].proto
    assert player.url == "https://www.youtube.com/embed/Xb7pQ2nV8sE"
    assert player.type == player.YOUTUBE_IFRAME
    at.selectbox(key="mood_play_test").set_value(3)
    at.run()
    player = at.get("video")[0].proto
    assert player.url == "https://www.youtube.com/embed/Lw3Ng8Hs2Kd"
    assert player.type == player.YOUTUBE_IFRAME

    csv_file = downloaded(at, "Playlist as CSV")
    assert csv_file.filename == "mood-happy.csv" and csv_file.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(csv_file.content.decode())))
    assert [r["title"] for r in rows] == table["title"].tolist()
    assert rows[0]["url"] == "https://www.youtube.com/watch?v=Xb7pQ2nV8sE"
    assert rows[0]["duration_s"] == "214" and rows[4]["duration_s"] == ""
    assert rows[0]["query"] == "Maya Rivers upbeat happy songs"

    m3u_file = downloaded(at, "Playlist as M3U")
    assert m3u_file.filename == "mood-happy.m3u" and m3u_file.mimetype == "audio/x-mpegurl"
    m3u = m3u_file.content.decode().splitlines()
    assert m3u[0] == "#EXTM3U" and len(m3u) == 1 + 2 * 6
    assert m3u[1:3] == [
        "#EXTINF:214,Maya Rivers - Golden Hour (Official Video)",
        "https://www.youtube.com/watch?v=Xb7pQ2nV8sE",
    ]
    assert m3u[-2:] == [
        "#EXTINF:245,Retro Gold - Walking On Sunshine-style 80s Happy Hits Remastered",
        "https://www.youtube.com/watch?v=Jk8Hg6Fd4Sa",
    ]
    # the search links stay at hand below the playlist
    assert any("search_query=Maya+Rivers+upbeat+happy+songs" in m.value for m in at.markdown)
