"""Landing page: what the studio does, in two sentences, and where to start."""

import streamlit as st

st.title("🎵 Genre Studio")
st.markdown(
    "Play or upload music and the studio tells you which of ten genres it hears, moment by "
    "moment. You can also train and compare your own genre models, generate new genre music "
    "with a neural network, and get a YouTube playlist matched to the mood on your face."
)

left, right = st.columns(2)
with left:
    with st.container(border=True):
        st.page_link("app_pages/classify.py", label="**Classify** a song", icon="🎧")
        st.caption("Record ~30 s near your microphone or upload tracks.")
    with st.container(border=True):
        st.page_link("app_pages/library.py", label="**Library** of your music", icon="📚")
        st.caption("Add a folder once; see it on a map and find songs like one you love.")
    with st.container(border=True):
        st.page_link("app_pages/training.py", label="**Train** and compare models", icon="📈")
        st.caption("Launch training runs, watch them learn, promote the best one.")
with right:
    with st.container(border=True):
        st.page_link("app_pages/generate.py", label="**Generate** genre music", icon="🎹")
        st.caption("A neural network invents a few seconds of music you can hear.")
    with st.container(border=True):
        st.page_link("app_pages/mood.py", label="**Mood** playlist", icon="🙂")
        st.caption("Your webcam reads your mood; get matching songs on YouTube.")

st.caption(
    "Everything runs on this computer with the models that ship with the app; no internet "
    "connection is needed except for YouTube recommendations."
)
