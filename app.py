"""Genre Studio: the Streamlit entry point. Lists only pages that work."""

import os

# OpenMP threads busy-wait by default; with 2 cores shared with anything else that makes torch
# several times slower. Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st

st.set_page_config(page_title="Genre Studio", page_icon="🎵", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/classify.py", title="Classify", icon="🎧", url_path="classify"),
    st.Page("pages/training.py", title="Training", icon="📈", url_path="training"),
    st.Page("pages/generate.py", title="Generate", icon="🎹", url_path="generate"),
    st.Page("pages/mood.py", title="Mood", icon="🙂", url_path="mood"),
]

st.navigation(PAGES).run()
