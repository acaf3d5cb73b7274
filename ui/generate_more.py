"""Generate page, the Morph and From-words tabs: one clip each, with what the classifier hears
over time drawn under the player."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from audio import resample
from gan.bundle import GanBundle
from gan.errors import GanError
from gan.morph import MIN_MORPH_SECONDS, Rendered, blend, morph
from gan.prompt import read_prompt
from genre.classifier import Classifier
from genre.logs import get_logger
from ui import charts

RESULT_KEY = "gan_more_result"  # the latest morph or blend of this session (one clip)
EXAMPLES = ("mellow jazz with guitar", "a blend of reggae and pop", "metal with a touch of rock")


def variety_slider(bundle: GanBundle, key: str) -> float:
    """ψ of the truncation trick, in plain words: lower sounds more typical of the genre and
    more alike, higher more varied (and sometimes less recognisable)."""
    low, high = bundle.truncation_range
    return st.slider(
        "Variety", low, high, value=bundle.truncation, step=0.05, key=key,
        help="Lower: each clip sounds more typical of its genre, and the clips sound more "
        "alike. Higher: more varied, sometimes less recognisable. "
        f"{bundle.truncation:g} is the setting the generator was tuned at.",
    )  # fmt: skip


def variety_note(bundle: GanBundle, variety: float) -> None:
    """Say so when a result was drawn at another variety than the tuned one."""
    if variety != bundle.truncation:
        st.caption(f"Drawn at variety {variety:g} (tuned: {bundle.truncation:g}).")


def heard_over_time(classifier: Classifier, clip: Rendered, asked: str | None) -> go.Figure:
    """The classifier's genre mix window by window, with the asked share of ``asked`` dashed."""
    prediction = classifier.predict_samples(
        resample(clip.audio, clip.sample_rate, classifier.bundle.sample_rate)
    )
    window_s = classifier.bundle.window_s
    fig = charts.genre_timeline(
        prediction.window_starts_s, prediction.window_probs, prediction.labels, window_s
    )
    if asked is not None:
        patch_s = clip.patch_step_s * np.arange(len(clip.weights)) + clip.patch_step_s / 2
        share = clip.weights[:, clip.labels.index(asked)]
        fig.add_trace(
            go.Scatter(
                x=patch_s, y=share, mode="lines", name=f"asked: {charts.display_name(asked)}",
                line=dict(color="black", dash="dash", width=2),
            )
        )  # fmt: skip
    return fig


def _make(
    kind: str,
    action: Callable[[], Rendered],
    classifier: Classifier | None,
    asked: str | None,
    variety: float,
    note: str = "",
) -> None:
    try:
        with st.spinner("Drawing the spectrogram and turning it into sound…"):
            clip = action()
            figure = heard_over_time(classifier, clip, asked) if classifier else None
    except GanError as err:
        st.error(str(err))
        return
    except Exception:  # a bug: log the traceback, tell the user plainly
        get_logger("genre.pages").exception("generating a morph or blend failed")
        st.error("Something went wrong while generating; the details are in the log.")
        return
    st.session_state[RESULT_KEY] = {
        "kind": kind, "clip": clip, "figure": figure, "note": note, "variety": variety
    }  # fmt: skip


def morph_tab(bundle: GanBundle, classifier: Classifier | None) -> None:
    st.caption(
        "A clip that starts as one genre and slowly becomes another: each 2-second step of the "
        "generator gets a little more of the second genre."
    )
    labels = bundle.labels
    name = lambda g: charts.display_name(g).capitalize()  # noqa: E731
    first, second = st.columns(2)
    start = first.selectbox("From", labels, index=labels.index("rock") if "rock" in labels
                            else 0, format_func=name, key="morph_from")  # fmt: skip
    end = second.selectbox("To", labels, index=labels.index("metal") if "metal" in labels
                           else 1, format_func=name, key="morph_to")  # fmt: skip
    length, variety_column, seed = st.columns([3, 3, 1], vertical_alignment="bottom")
    seconds = length.slider("Length (seconds)", int(MIN_MORPH_SECONDS), 30, 20, step=5,
                            key="morph_seconds")  # fmt: skip
    with variety_column:
        variety = variety_slider(bundle, key="morph_variety")
    chosen = seed.number_input("Seed", 0, 999_999, 7, key="morph_seed")
    if st.button("🌗 Morph", type="primary", key="morph_go", disabled=start == end):
        drawn = bundle.with_truncation(variety)
        _make("morph", lambda: morph(drawn, start, end, float(seconds), int(chosen)),
              classifier, end, variety)  # fmt: skip
    if start == end:
        st.caption("Pick two different genres.")
    show_result("morph", bundle)


def prompt_tab(bundle: GanBundle, classifier: Classifier | None) -> None:
    st.caption(
        "Describe it in a few words. The generator follows genre words (and their cousins: "
        "“orchestral”, “rap”, “funky”, “dub”…); it says which words it understood."
    )
    text = st.text_input("What should it sound like?", placeholder=EXAMPLES[0], key="prompt_text")
    st.caption("Try: " + " · ".join(f"“{e}”" for e in EXAMPLES))
    length, variety_column = st.columns(2)
    seconds = length.slider("Length (seconds)", 3, 30, 10, key="prompt_seconds")
    with variety_column:
        variety = variety_slider(bundle, key="prompt_variety")
    # never disabled: a click straight after typing must count (the box commits on blur)
    if st.button("💬 Make it", type="primary", key="prompt_go"):
        try:
            reading = read_prompt(text, bundle.labels)
        except GanError as err:
            st.error(str(err))
            return
        main = max(reading.mix, key=reading.mix.__getitem__)
        drawn = bundle.with_truncation(variety)
        _make("words", lambda: blend(drawn, reading.mix, float(seconds), seed=7), classifier,
              main, variety, reading.summary())  # fmt: skip
    show_result("words", bundle)


def show_result(kind: str, bundle: GanBundle) -> None:
    """The session's latest clip, in the tab that made it."""
    result = st.session_state.get(RESULT_KEY)
    if not result or result["kind"] != kind:
        return
    clip: Rendered = result["clip"]
    st.subheader(clip.title.replace("hiphop", "hip-hop"))
    variety_note(bundle, result.get("variety", bundle.truncation))
    if result["note"]:
        st.info(result["note"])
    st.audio(clip.wav_bytes(), format="audio/wav")
    st.download_button("Download WAV", clip.wav_bytes(), file_name="generated.wav",
                       mime="audio/wav", icon="⬇️", key=f"gan_more_download_{kind}")  # fmt: skip
    if result["figure"] is not None:
        st.markdown("**What the genre classifier hears, second by second** (dashed: what was "
                    "asked for)")  # fmt: skip
        st.plotly_chart(result["figure"], key=f"gan_more_timeline_{kind}")
    st.image(clip.png_bytes(), width="stretch", caption="The generated spectrogram")
