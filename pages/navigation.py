"""Keep every visit on app.py's navigation.

Streamlit treats a ``pages/`` folder beside the main script as a legacy multipage app until the
main script has run once in the server process: a deep link such as ``/classify`` into a fresh
server would run the page alone, with a sidebar listing every file in ``pages/``. Each page calls
:func:`ensure_app_navigation` first; it switches the server to ``st.navigation`` and reruns.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_app_navigation() -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
