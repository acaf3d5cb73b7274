"""streamlit-webrtc on a page: the ICE settings, the streamer started without crashing the
page, and the hint when the connection never comes up.

One home for what the Mood page's live video and the Classify page's Live tab share; each
page keeps its own frame callback, wording and panel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from mood import MoodError
from mood.live import ice_servers

WAIT_S = 10.0  # signalling but not playing after this long: the connection is blocked


def rtc_configuration() -> dict | None:
    """The ICE servers for the streamer, or None after showing why the setting is wrong."""
    try:
        return {"iceServers": ice_servers()}
    except MoodError as err:
        st.error(str(err))
        return None


def start_streamer(
    key: str,
    rtc: dict,
    *,
    video: Callable[[Any], Any] | None = None,
    audio: Callable[[Any], Any] | None = None,
    unavailable: str,
    log: logging.Logger,
    failure: str,
) -> Any | None:
    """The ``webrtc_streamer`` context for one kind of input, or None after a warning.

    ``video``: camera frames go through the callback and come back to the browser
    (SENDRECV). ``audio``: microphone frames are only sent (SENDONLY). Where no WebRTC
    runtime can start (AppTest, aiortc failing to load) the traceback goes to ``log`` as
    ``failure`` and the user reads ``unavailable``.
    """
    if (video is None) == (audio is None):
        raise ValueError("give exactly one of video= and audio=")
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    forget_last_render(key)
    try:
        return webrtc_streamer(
            key=key,
            mode=WebRtcMode.SENDRECV if video else WebRtcMode.SENDONLY,
            video_frame_callback=video,
            audio_frame_callback=audio,
            rtc_configuration=rtc,
            media_stream_constraints={"video": video is not None, "audio": audio is not None},
            async_processing=True,
        )
    except Exception:  # e.g. no WebRTC runtime (AppTest) or aiortc failing to load
        log.exception(failure)
        st.warning(unavailable)
        return None


def forget_last_render(key: str) -> None:
    """Keep streamlit-webrtc from closing a live connection on a miscount of the script's runs.

    streamlit-webrtc 0.79 resets a streamer (stops its connection, drops its answer) when
    Streamlit's count of finished runs has grown by more than one since the streamer was last
    drawn, reading that as "the user went to another page and back". Streamlit raises that
    count on its event loop when it *sends* a run's "finished" message, so on a busy machine
    a run that starts straight after another reads it one short, the next run sees a jump of
    two, and the stream is closed mid-handshake or mid-song: START comes back by itself. With
    no last render recorded the check is skipped. A real return to the page needs no such
    check: the remounted component reports itself stopped at once, and the library's own
    stop step then clears the old connection and answer.
    """
    context = st.session_state.get(key)
    if context is not None and hasattr(context, "_last_rendered_run_count"):
        context._last_rendered_run_count = None


def track_waiting(ctx: Any, state_key: str) -> bool:
    """Clock how long the stream signals without playing (kept under ``state_key``).

    Returns whether the page should tick: while it plays or while it tries to connect.
    """
    playing = bool(ctx.state.playing)
    signalling = bool(ctx.state.signalling)
    if signalling and not playing:
        st.session_state.setdefault(state_key, time.monotonic())
    else:
        st.session_state.pop(state_key, None)
    return playing or signalling


def warn_if_stuck(ctx: Any, state_key: str, message: str) -> None:
    """Show ``message`` once the stream has tried to connect for longer than ``WAIT_S``."""
    since = st.session_state.get(state_key)
    if since and not ctx.state.playing and time.monotonic() - since > WAIT_S:
        st.warning(message)
