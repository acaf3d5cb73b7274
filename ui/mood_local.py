"""The Mood page's offline view: tracks of the user's library that fit the mood, playable inline.

Kept apart from ``app_pages/mood.py`` (which runs as a page when imported) so the view can be
rendered and tested on its own from any list of :class:`LocalTrack`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from genre.library.schema import default_db_path
from mood.errors import MoodError
from mood.library import EMPTY_HINT, LocalTrack, library_tracks, rank_tracks

PLAYERS_SHOWN = 5  # inline players; the rest are listed (each player loads its whole file)
LIBRARY_CACHE_S = 30.0  # tracks indexed meanwhile show up within this long


@st.cache_data(ttl=LIBRARY_CACHE_S, show_spinner=False)
def cached_library(db: str) -> list:
    return library_tracks(Path(db))


def local_recommendations(emotion: str, cfg: dict) -> tuple[list[LocalTrack], int] | None:
    """The library's tracks for this mood and how many tracks the library has; None on error."""
    try:
        tracks = cached_library(str(default_db_path()))
        ranked = rank_tracks(
            tracks,
            emotion,
            language=cfg["language"],
            artists=cfg["artists"],
            profiles=cfg["profiles"],
            limit=max(cfg["per_query"], 10),
        )
    except MoodError as err:
        st.error(str(err))
        return None
    return ranked, len(tracks)


def show_local(tracks: list[LocalTrack], library_size: int) -> None:
    """Players for the best tracks, a list of the others, or how to fill the library."""
    if library_size == 0:
        st.info(EMPTY_HINT)
        return
    if not tracks:
        st.info(
            f"None of the {library_size} tracks in your library fits this mood and language "
            "(a file tagged with another language is left out). Try another language, or the "
            "YouTube tab."
        )
        return
    st.caption(
        f"The best of {library_size} library tracks for this mood, from their sounds-like tags. "
        "They play from this computer: no network needed."
    )
    for rank, track in enumerate(tracks[:PLAYERS_SHOWN], start=1):
        who = f" — {track.artist}" if track.artist else ""
        st.markdown(f"**{rank}. {track.title}**{who} · {track.genre} · {track.reason}")
        st.audio(track.file)
    rest = tracks[PLAYERS_SHOWN:]
    if rest:
        with st.expander(f"{len(rest)} more"):
            st.markdown(
                "\n".join(
                    f"- {track.title} · {track.genre} · {track.reason} (`{Path(track.file).name}`)"
                    for track in rest
                )
            )
