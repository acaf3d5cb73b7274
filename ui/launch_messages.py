"""What a launch button said, kept under that button until the next launch.

A run that ends within seconds makes its live section rerun the whole page; a message drawn
only in the rerun of the click would vanish before anyone read it (and a browser test once
missed it that way). So the messages live in the session, tagged with the button they belong to.
"""

from __future__ import annotations

import streamlit as st

Message = tuple[str, str]  # (Streamlit call: "success" / "warning" / "error", text)
_KEY = "launch-messages"


def remember(where: str, messages: list[Message]) -> None:
    """The latest launch's messages, to be shown under the button ``where``."""
    st.session_state[_KEY] = (where, messages)


def show(where: str) -> None:
    """Draw the latest launch's messages if they belong to the button ``where``."""
    shown_where, messages = st.session_state.get(_KEY, (None, []))
    if shown_where != where:
        return
    for level, text in messages:
        getattr(st, level)(text)
