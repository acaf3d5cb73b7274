"""Mood: the camera reads your expression, and songs that fit are searched on YouTube.

Thin page: widgets and layout only; the work is in the ``mood`` package.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from genre.logs import get_logger
from mood import EMOTIONS, MoodError
from mood.analysis import NO_FACE_MESSAGE, Analysis, MoodAnalyzer, annotate
from mood.emotion import BUILTIN, available_backends, recognizer_with_fallback
from mood.faces import FaceDetector, live_detector, read_image
from mood.images import ImageLimits
from mood.labels import EMOJI, article
from mood.library import DEFAULT_PROFILES
from mood.live import LiveMoodProcessor
from mood.queries import DEFAULT_TABLE, LANGUAGES, build_queries, normalise_table
from mood.youtube import Recommendations, recommend
from ui.mood_local import local_recommendations, show_local
from ui.mood_playlist import show_results
from ui.upload_limit import upload_limit_note
from ui.webrtc import rtc_configuration, start_streamer, track_waiting, warn_if_stuck

PRIVACY_NOTE = (
    "🔒 **Privacy:** camera frames are analysed in memory on this computer and are never "
    "stored, logged or sent anywhere. Only the text search query (e.g. *{example}*) goes to "
    "YouTube; songs from your library play from this computer."
)
PICK_A_MOOD_HINT = "Or choose **Pick a mood** above and pick one yourself."
SEARCH_TIMEOUT_S = 8.0
KEEP_OK_S = 600.0  # a good result list is reused for 10 minutes
KEEP_FAILED_S = 20.0  # a failed search is retried after 20 s
WAIT_KEY = "mood_webrtc_wait_since"  # when the live video began trying to connect
log = get_logger("genre.pages.mood")


@st.cache_resource(show_spinner="Loading the emotion model…")
def load_analyzer(backend: str, live: bool) -> tuple[MoodAnalyzer, str | None]:
    recognizer, why_not = recognizer_with_fallback(backend)
    detector = live_detector() if live else FaceDetector(max_width=1280)
    return MoodAnalyzer(recognizer, detector), why_not


def analyzer_for(backend: str, live: bool) -> MoodAnalyzer | None:
    try:
        analyzer, why_not = load_analyzer(backend, live)
    except MoodError as err:
        st.error(f"The emotion model cannot be loaded. {err}")
        return None
    if why_not:
        st.warning(why_not)
    return analyzer


# ------------------------------------------------------------------ settings
def emotion_table(
    caption: str, defaults: Mapping[str, Sequence[str]], column: str, key: str
) -> dict[str, str]:
    """An editable emotion → comma-separated words table; returns what it holds now."""
    st.caption(caption)
    table = st.data_editor(
        pd.DataFrame(
            {"emotion": list(defaults), column: [", ".join(w) for w in defaults.values()]}
        ),
        disabled=["emotion"],
        hide_index=True,
        key=key,
        width="stretch",
    )
    return dict(zip(table["emotion"], table[column], strict=True))


def settings() -> dict:
    left, mid, right = st.columns([1, 2, 1])
    language = left.selectbox(
        "Language",
        LANGUAGES,
        index=0,
        accept_new_options=True,
        key="mood_language",
        help="Pick one or type another language.",
    )
    artists_text = mid.text_input(
        "Artists you like (optional)",
        key="mood_artists",
        placeholder="e.g. Shakira, Arijit Singh",
        help="Comma-separated; their songs come first in the playlist.",
    )
    backends = available_backends()
    backend = right.selectbox(
        "Emotion model",
        backends,
        key="mood_backend",
        help="built-in: works offline. deepface: optional, downloads its weights on first use.",
    )
    with st.expander("Mood → music words and search settings"):
        table = emotion_table(
            "Each detected emotion turns into these words in the YouTube query. Edit them to "
            "taste (comma-separated).",
            DEFAULT_TABLE,
            "words",
            key="mood_table",
        )
        profiles = emotion_table(
            "Songs from your music library are ranked by these sounds-like tags (the ones the "
            "Library page shows; comma-separated).",
            DEFAULT_PROFILES,
            "library tags",
            key="mood_profiles",
        )
        cols = st.columns(3)
        per_query = cols[0].number_input("Results per query", 1, 20, 6, key="mood_per_query")
        timeout = cols[1].number_input(
            "Search timeout (s)", 2.0, 30.0, SEARCH_TIMEOUT_S, step=1.0, key="mood_timeout"
        )
        offline = cols[2].toggle(
            "Offline: only search links", key="mood_offline", help="Never contact YouTube."
        )
    artists = [a.strip() for a in artists_text.split(",") if a.strip()]
    return {
        "language": language or "English",
        "artists": artists,
        "backend": backend,
        "table": table,
        "profiles": profiles,
        "per_query": int(per_query),
        "timeout": float(timeout),
        "offline": bool(offline),
    }


# ------------------------------------------------------------------ recommendations
def get_recommendations(emotion: str, cfg: dict) -> Recommendations | None:
    """Search (bounded by the timeout) or reuse this session's recent result."""
    try:
        table = normalise_table(cfg["table"])
        queries = build_queries(emotion, cfg["language"], cfg["artists"], table)
    except MoodError as err:
        st.error(str(err))
        return None
    key = (tuple(q.text for q in queries), cfg["per_query"], cfg["offline"])
    memory: dict = st.session_state.setdefault("mood_searches", {})
    if key in memory:
        made, result = memory[key]
        if time.monotonic() - made < (KEEP_OK_S if result.online else KEEP_FAILED_S):
            return result
    spinner = (
        "Searching YouTube…" if cfg["offline"] else f"Searching YouTube (≤ {cfg['timeout']:g} s)…"
    )
    with st.spinner(spinner):
        try:
            result = recommend(
                queries,
                cfg["artists"],
                per_query=cfg["per_query"],
                timeout=cfg["timeout"],
                offline=cfg["offline"],
            )
        except MoodError as err:
            st.error(str(err))
            return None
    if len(memory) > 32:
        memory.pop(next(iter(memory)))
    memory[key] = (time.monotonic(), result)
    return result


def show_recommendations(emotion: str, cfg: dict, key: str) -> None:
    """Library first (plays offline), YouTube beside it, search links as the last fallback."""
    st.subheader(f"{EMOJI[emotion]} Music for {article(emotion)} {emotion} mood")
    local_tab, online_tab = st.tabs(["🎧 From your library (offline)", "▶️ YouTube (online)"])
    with local_tab:
        local = local_recommendations(emotion, cfg)
        if local is not None:
            show_local(*local)
    with online_tab:
        result = get_recommendations(emotion, cfg)
        if result is not None:
            show_results(result, emotion, key, heading=False)


def privacy_note(language: str) -> str:
    try:
        example = build_queries("angry", language)[0].text  # the chosen language, as sent
    except MoodError:
        example = build_queries("angry")[0].text
    return PRIVACY_NOTE.format(example=example)


def photo_limits_tip() -> str:
    """The photo's own limits (smaller than the uploader's), as the tip under the uploader."""
    try:
        limits = ImageLimits.from_env()
    except MoodError:  # a bad setting: read_image says so when a photo arrives
        return "For a larger photo, save a smaller copy first."
    return (f"Photos over {limits.max_file_mb:g} MB or {limits.max_megapixels:g} megapixels are "
            "refused too; save a smaller copy first.")  # fmt: skip


def show_probabilities(probabilities: dict[str, float]) -> None:
    ranked = sorted(probabilities.items(), key=lambda kv: -kv[1])
    st.dataframe(
        pd.DataFrame(
            {
                "emotion": [f"{EMOJI[e]} {e}" for e, _ in ranked],
                "probability": [p for _, p in ranked],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "probability": st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="percent"
            )
        },
    )


# ------------------------------------------------------------------ snapshot mode
def snapshot_mode(cfg: dict) -> str | None:
    """Photo (camera or upload) → the mood of the largest face, or None."""
    analyzer = analyzer_for(cfg["backend"], live=False)
    if analyzer is None:
        return None
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown(privacy_note(cfg["language"]))
        photo = st.camera_input("Take a photo of your face", key="mood_snapshot")
        upload = st.file_uploader(
            "…or upload a photo", type=["jpg", "jpeg", "png", "webp", "bmp"], key="mood_upload"
        )
        upload_limit_note(photo_limits_tip())
    source = photo or upload
    if source is None:
        right.caption("Take a photo (or upload one) and your mood appears here.")
        return None
    try:
        image = read_image(source.getvalue())
        analysis: Analysis = analyzer.analyze(image)
    except MoodError as err:
        right.error(str(err))
        return None
    except Exception:
        log.exception("analysing a snapshot failed")
        right.error("Something went wrong while reading the photo; the details are in the log.")
        return None
    with right:
        st.image(annotate(image, analysis), channels="BGR", width="stretch")
        face = analysis.primary
        if face is None:
            st.warning(f"{NO_FACE_MESSAGE} {PICK_A_MOOD_HINT}")
            return None
        if len(analysis.faces) > 1:
            st.caption(f"{len(analysis.faces)} faces: the largest one (green box) counts.")
        st.markdown(
            f"### {EMOJI[face.emotion]} You look **{face.emotion}** ({face.confidence:.0%})"
        )
        show_probabilities(face.probabilities)
    return face.emotion


# ------------------------------------------------------------------ live mode
def live_processor(backend: str) -> LiveMoodProcessor | None:
    """One processor per browser session (its frames and mood are that user's only)."""
    held = st.session_state.get("mood_live_processor")
    if held is not None and held[0] == backend:
        return held[1]
    analyzer = analyzer_for(backend, live=True)  # lighter detection settings for video
    if analyzer is None:
        return None
    processor = LiveMoodProcessor(analyzer)
    st.session_state["mood_live_processor"] = (backend, processor)
    return processor


def live_mode(cfg: dict) -> None:
    rtc = rtc_configuration()
    if rtc is None:
        return
    processor = live_processor(cfg["backend"])
    if processor is None:
        return
    import av

    def on_frame(frame: av.VideoFrame) -> av.VideoFrame:
        # Runs in streamlit-webrtc's worker thread: no st.* here, only the locked processor.
        image = frame.to_ndarray(format="bgr24")
        return av.VideoFrame.from_ndarray(processor.process(image), format="bgr24")

    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown(privacy_note(cfg["language"]))
        ctx = start_streamer(
            "mood-live",
            rtc,
            video=on_frame,
            unavailable="Live video is not available here. Use **Snapshot** above: it works "
            "everywhere.",
            log=log,
            failure="starting the live video failed",
        )
        if ctx is None:
            return
        st.caption(
            "Press START and allow the camera. If the video does not appear (a firewall can "
            "block WebRTC), use **Snapshot** above."
        )
    ticking = track_waiting(ctx, WAIT_KEY)

    @st.fragment(run_every=1.0 if ticking else None)
    def live_panel() -> None:
        state = processor.snapshot()
        warn_if_stuck(
            ctx,
            WAIT_KEY,
            "The live video could not connect. Switch to **Snapshot** mode above: it works "
            "everywhere, even without WebRTC.",
        )
        if not ctx.state.playing and state.frames_seen == 0:
            st.caption("Start the camera and your mood appears here.")
            return
        if state.frames_seen == 0:
            st.caption("Waiting for the first video frame…")
            return
        if state.faces == 0:
            st.info(f"{NO_FACE_MESSAGE} {PICK_A_MOOD_HINT}")
        elif state.current:
            st.markdown(f"### {EMOJI[state.current]} You look **{state.current}**")
            show_probabilities(state.probabilities)
        if st.session_state.get("mood_live_details"):
            st.caption(
                f"Analysing {state.analysed_fps:.1f} frames/s · {state.analysis_ms:.0f} ms per "
                f"frame · {state.frames_analysed} of {state.frames_seen} frames analysed"
            )
        if state.mood and state.mood != st.session_state.get("mood_live_mood"):
            # A new steady mood: rerun the whole page so the playlist follows it.
            st.session_state["mood_live_mood"] = state.mood
            st.rerun()

    with right:
        st.toggle("Details", key="mood_live_details", help="How fast the video is analysed.")
        live_panel()
    mood = st.session_state.get("mood_live_mood")
    if mood:
        show_recommendations(mood, cfg, key="live")


# ------------------------------------------------------------------ page
st.title("🙂 Mood")
st.markdown(
    "Show your face to the camera: the app reads your expression and finds songs that fit it, "
    "first in your own music library (they play offline), then on YouTube."
)
config = settings()
mode = st.segmented_control(
    "Camera", ["Live video", "Snapshot", "Pick a mood"], default="Live video", key="mood_mode"
)
if mode == "Snapshot":
    emotion = snapshot_mode(config)
    if emotion:
        show_recommendations(emotion, config, key="snapshot")
elif mode == "Pick a mood":
    picked = st.selectbox(
        "Mood", EMOTIONS, format_func=lambda e: f"{EMOJI[e]} {e}", key="mood_pick"
    )
    show_recommendations(picked, config, key="picked")
else:
    live_mode(config)
st.caption(
    f"Emotion model: {BUILTIN} mini-Xception (FER-2013, MIT, from the fer package; runs "
    "offline). Expressions are not feelings: treat the result as a playful suggestion."
)
