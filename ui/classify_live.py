"""The Classify page's Live tab: the genre follows the music as it plays (genre.live)."""

from __future__ import annotations

import html

import streamlit as st

from genre.classifier import Classifier
from genre.errors import GenreError
from genre.live import SNAPSHOT_S, LiveListener, LiveSnapshot, LiveWhy, explain_recent
from genre.logs import get_logger
from genre.report import headline
from ui import charts
from ui.explain_view import show_explanation
from ui.webrtc import rtc_configuration, start_streamer, track_waiting, warn_if_stuck

WAIT_KEY = "classify_live_wait_since"  # when live listening began trying to connect
PRIVACY_NOTE = (
    "🔒 Nothing is recorded or stored: the last few seconds of sound are kept in memory only "
    "while you listen, and dropped when you press STOP. A 📸 snapshot you ask about is kept "
    "in memory until your next one or until you leave the page."
)
WHY_KEY = "classify_live_why"  # the latest snapshot's explanation; the next one replaces it
WHY_BUTTON = f"📸 Why this genre? (last {SNAPSHOT_S:.0f} s)"
WHY_NOTE = (
    f"Explains up to the last {SNAPSHOT_S:.0f} s heard. The snapshot stays in this browser "
    "session's memory only: it is never saved, and the next snapshot replaces it."
)


def listener_for(classifier: Classifier) -> LiveListener:
    """One listener per browser session (its sound is that user's only)."""
    held = st.session_state.get("classify_live_listener")
    if not isinstance(held, LiveListener) or held.classifier is not classifier:
        if isinstance(held, LiveListener):
            held.stop()
        held = LiveListener(classifier)
        st.session_state["classify_live_listener"] = held
    return held


def show_snapshot(state: LiveSnapshot) -> None:
    if state.heading is None:
        st.caption("Listening… the first answer comes after about 3 s of sound.")
        return
    heading = state.heading if state.is_music else "Listening… (not music)"
    st.markdown(
        f"<h2 style='margin-bottom:0'>{html.escape(heading, quote=False)}</h2>",
        unsafe_allow_html=True,
    )
    if state.is_music and state.tags:
        st.markdown("**Sounds like:** " + ", ".join(state.tags))
    ranked = sorted(state.probabilities.items(), key=lambda kv: kv[1], reverse=True)
    st.plotly_chart(charts.probability_bars(ranked), key="live-bars")
    if state.history:
        st.caption("The last minute, oldest on the left (hover a cell for its genre).")
        st.plotly_chart(charts.genre_strip(state.history), key="live-strip")
    st.caption(
        f"{state.analyses_per_s:.1f} analyses/s · {state.analysis_ms:.0f} ms per 3-s window · "
        f"sound {state.sound_age_s:.1f} s old when analysed"
    )


def live_tab(classifier: Classifier) -> None:
    rtc = rtc_configuration()
    if rtc is None:
        return
    listener = listener_for(classifier)
    import av

    def on_audio(frame: av.AudioFrame) -> av.AudioFrame:
        # streamlit-webrtc's worker thread: no st.* here, only the listener's locked buffer.
        listener.add_frame(
            frame.to_ndarray(), frame.sample_rate, len(frame.layout.channels), frame.time
        )
        return frame

    st.markdown(PRIVACY_NOTE)
    ctx = start_streamer(
        "classify-live",
        rtc,
        audio=on_audio,
        unavailable="Live listening is not available here. Use **Record** above instead.",
        log=get_logger("genre.pages"),
        failure="starting live listening failed",
    )
    if ctx is None:
        return
    st.caption(
        "Press START, allow the microphone and play music nearby. If nothing happens (a "
        "firewall can block WebRTC), use the **Record** tab: it works everywhere."
    )
    playing = bool(ctx.state.playing)
    if playing:
        listener.start()
    else:
        listener.stop()  # STOP pressed or never started: the sound is dropped
    ticking = track_waiting(ctx, WAIT_KEY)

    @st.fragment(run_every=1.0 if ticking else None)
    def live_panel() -> None:
        warn_if_stuck(
            ctx,
            WAIT_KEY,
            "Live listening could not connect. Use the **Record** tab: it works everywhere.",
        )
        if ctx.state.playing:
            show_snapshot(listener.snapshot())

    live_panel()
    if playing:
        # Outside the fragment: its once-a-second reruns would redraw (and could drop) the
        # button, and the explanation below must outlast them.
        clicked = st.button(WHY_BUTTON, key="classify-live-why")
        st.caption(WHY_NOTE)
        if clicked:
            take_snapshot(listener, classifier)
    why = st.session_state.get(WHY_KEY)
    if isinstance(why, LiveWhy):
        show_why(why)


def take_snapshot(listener: LiveListener, classifier: Classifier) -> None:
    """Copy the recent sound, classify and explain it, keep the result in this session."""
    state = listener.snapshot()
    if state.heading is None or not state.is_music:
        st.info("Nothing to explain yet: wait until the model hears music, then try again.")
        return
    recent = listener.recent_audio(SNAPSHOT_S)
    if recent is None or len(recent[0]) / recent[1] < classifier.bundle.window_s:
        st.info("Keep the music playing a few more seconds, then try again.")
        return
    try:
        with st.spinner("Finding where the model heard it…"):
            st.session_state[WHY_KEY] = explain_recent(classifier, recent[0])
    except GenreError as err:
        st.warning(str(err))
    except Exception:  # a bug: log the traceback, tell the user plainly
        get_logger("genre.pages").exception("explaining a live snapshot failed")
        st.warning(
            "Something went wrong while explaining the snapshot; the details are in the log."
        )


def show_why(why: LiveWhy) -> None:
    line = headline(why.prediction)
    st.markdown(f"**Snapshot of {why.seconds:.0f} s: {line.heading}**")
    if why.explanation is None:  # the live verdict said music, the whole snapshot did not
        st.info("As a whole, the snapshot does not sound like music: there is nothing to explain.")
        return
    show_explanation(why.explanation)
