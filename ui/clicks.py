"""Buttons whose click must not be lost: the click is recorded by a callback.

A button's value is one-shot: it is True only in the script run that the click started. If
another rerun request arrives before that run reaches the code reading it (a second message
from the browser, a busy server), Streamlit stops the run and starts the next one with the
button back at False, so the click silently does nothing. A callback runs before the script
body, and what it records stays in the session until the page takes it: the click counts
however the runs are interrupted.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st


def remember_click(key: str) -> Callable[[], None]:
    """An ``on_click`` callback that records a click under ``key``."""
    return lambda: st.session_state.update({key: True})


def take_click(key: str) -> bool:
    """Whether a click was recorded under ``key`` since the last call; forgets it."""
    return bool(st.session_state.pop(key, False))
