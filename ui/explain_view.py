"""The "why this genre?" view, shared by the Classify page's Record/Upload results and its Live
tab's snapshots (its own module: the Live tab cannot import the Classify page script)."""

from __future__ import annotations

import streamlit as st

from genre.explain import CAUTION, Explanation
from genre.verdict import display_name


def show_explanation(explanation: Explanation) -> None:
    """The overlay, the plain-words summary, the caution, the 3-s extremes."""
    st.image(
        explanation.overlay_png(),
        caption="Time runs left to right, pitch from bass (bottom) to treble (top). Orange "
        "marks the sound that pushed the model towards this genre.",
        width="stretch",
        output_format="PNG",  # Streamlit would re-encode it as a blurrier JPEG
    )
    st.markdown(explanation.summary)
    st.caption(CAUTION)
    strongest, weakest = explanation.strongest_window, explanation.weakest_window
    if strongest == weakest:
        return
    genre = display_name(explanation.genre)
    most, least = st.columns(2)
    with most:
        st.markdown(f"**Most like {genre}** ({explanation.window_label(strongest)})")
        st.audio(explanation.window_wav(strongest), format="audio/wav")
    with least:
        st.markdown(f"**Least like {genre}** ({explanation.window_label(weakest)})")
        st.audio(explanation.window_wav(weakest), format="audio/wav")
