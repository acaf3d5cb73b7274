"""The upload size limit, as text next to an uploader: one home for every page that has one.

Streamlit refuses a file over ``server.maxUploadSize`` in the browser, so the file never reaches
the server; its only sign is a red icon on the file's chip, with the reason kept for screen
readers and a hover tooltip. :func:`upload_limit_note` states the limit under the uploader and
shows that reason as text under the refused file's name.
"""

from __future__ import annotations

import streamlit as st

REFUSED_FILE_STYLE = """<style>
/* A file the uploader refuses (e.g. too large) never reaches the server; Streamlit keeps its
   reason for screen readers and a hover tooltip only. Show it under the file's name. */
[data-testid='stFileChip'] { flex-wrap: wrap; height: auto !important; }
[data-testid='stFileChip'] [role='alert'] {
  position: static !important; width: auto !important; height: auto !important;
  clip: auto !important; clip-path: none !important; overflow: visible !important;
  white-space: normal !important; margin: 0.25rem 0 0 0 !important; flex-basis: 100%;
  color: var(--st-red-text-color, #bd4043); font-size: 0.875rem;
}
</style>"""


def limit_text(tip: str = "") -> str:
    """The caption: the limit, why there is one, and ``tip`` (what to do with a larger file)."""
    limit_mb = st.get_option("server.maxUploadSize")
    text = (
        f"Up to {limit_mb} MB per file: the server keeps each upload in memory while it is "
        "analysed, so larger files are refused."
    )
    return f"{text} {tip}" if tip else text


def upload_limit_note(tip: str = "") -> None:
    """Call right after ``st.file_uploader``: the limit as a caption, refusals as text."""
    st.html(REFUSED_FILE_STYLE)
    st.caption(limit_text(tip))
