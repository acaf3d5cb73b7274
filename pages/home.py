"""Landing page: what the studio does, in two sentences, and where to start."""

import streamlit as st

from pages.navigation import ensure_app_navigation

ensure_app_navigation()

st.title("🎵 Genre Studio")
st.markdown(
    "Play or upload music and the studio tells you which of ten genres it hears, moment by "
    "moment. You can also train and compare your own genre models, generate new genre music "
    "with a neural network, and get a YouTube playlist matched to the mood on your face."
)
st.page_link("pages/classify.py", label="Start: classify a song", icon="🎧")
st.caption(
    "Everything runs on this computer with the models that ship with the app; no internet "
    "connection is needed except for YouTube recommendations."
)
