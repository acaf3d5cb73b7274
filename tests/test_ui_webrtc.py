"""AppTest of ui/webrtc.py, the WebRTC start-up the Mood and Classify live views share."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT


def helper_script(signalling: bool, playing: bool, waited_s: float) -> None:
    import time
    from types import SimpleNamespace

    import streamlit as st

    from ui.webrtc import track_waiting, warn_if_stuck

    ctx = SimpleNamespace(state=SimpleNamespace(signalling=signalling, playing=playing))
    if waited_s and "wait" not in st.session_state:
        st.session_state["wait"] = time.monotonic() - waited_s
    st.write(f"ticking={track_waiting(ctx, 'wait')}")
    warn_if_stuck(ctx, "wait", "It could not connect.")


def run_helper(signalling: bool, playing: bool, waited_s: float = 0.0) -> AppTest:
    at = AppTest.from_function(helper_script, args=(signalling, playing, waited_s))
    at.run()
    assert not at.exception
    return at


def test_a_connection_stuck_past_the_wait_is_pointed_to_the_other_mode() -> None:
    at = run_helper(signalling=True, playing=False, waited_s=30.0)
    assert at.markdown[0].value == "ticking=True"
    assert [w.value for w in at.warning] == ["It could not connect."]


def test_a_fresh_attempt_ticks_without_a_warning() -> None:
    at = run_helper(signalling=True, playing=False)
    assert at.markdown[0].value == "ticking=True" and not at.warning
    assert "wait" in at.session_state  # the clock started


@pytest.mark.parametrize("playing", [True, False])
def test_playing_or_giving_up_clears_the_clock(playing: bool) -> None:
    at = run_helper(signalling=playing, playing=playing, waited_s=30.0)
    assert at.markdown[0].value == f"ticking={playing}"
    assert not at.warning and "wait" not in at.session_state


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception
    return at


def test_classify_live_tab_without_webrtc_points_to_record() -> None:
    at = open_page("classify")  # AppTest has no WebRTC runtime
    assert "Live listening is not available here. Use **Record** above instead." in [
        w.value for w in at.warning
    ]


@pytest.mark.parametrize("page", ["classify", "mood"])
def test_bad_ice_settings_are_an_error_on_both_pages(
    page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOOD_ICE_SERVERS", "[not json")
    at = open_page(page)
    assert any("MOOD_ICE_SERVERS is not valid JSON" in e.value for e in at.error)
