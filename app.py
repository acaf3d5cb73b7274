"""Genre Studio: the Streamlit entry point. Lists only pages that work."""

import os

# OpenMP threads busy-wait by default; with 2 cores shared with anything else that makes torch
# several times slower. Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st

from server_memory import start_releasing
from ui.session_cleanup import free_forgotten_sessions

# Once per server process: closed sessions' uploads are dropped, freed memory goes back to the OS.
start_releasing(before=free_forgotten_sessions)

st.set_page_config(page_title="Genre Studio", page_icon="🎵", layout="wide")

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("app_pages/classify.py", title="Classify", icon="🎧", url_path="classify"),
    st.Page("app_pages/library.py", title="Library", icon="📚", url_path="library"),
    st.Page("app_pages/training.py", title="Training", icon="📈", url_path="training"),
    st.Page("app_pages/generate.py", title="Generate", icon="🎹", url_path="generate"),
    st.Page("app_pages/mood.py", title="Mood", icon="🙂", url_path="mood"),
]

st.navigation(PAGES).run()
