"""AppTest of the Mood page: snapshot → emotion → recommendations or fallback links."""

from __future__ import annotations

import cv2
import numpy as np
import skimage.data
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT


def start() -> AppTest:
    # Through app.py, as users reach it (run directly, pages/mood.py would shadow the package).
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/mood.py")
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
    assert any("No face found" in w.value for w in at.warning)
    assert not at.subheader  # no mood, no music
    # pick a mood by hand: the chosen artist leads the offline links
    at.segmented_control(key="mood_mode").set_value("Pick a mood")
    at.run()
    at.selectbox(key="mood_pick").set_value("sad")
    at.run()
    shown = text_of(at)
    assert "Shakira soothing comforting songs" in shown
    assert "search_query=Shakira+soothing+comforting+songs" in shown
    assert at.info and "Offline mode" in at.info[0].value


def test_broken_upload_is_an_error_not_a_crash():
    at = open_page("Snapshot")
    at.file_uploader(key="mood_upload").set_value(("face.png", b"\x89PNG broken", "image/png"))
    at.run()
    assert not at.exception
    assert at.error and "not a readable image" in at.error[0].value
