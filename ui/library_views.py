"""The Library page's map and table views, drawn from a cached :class:`Catalog`.

Everything per track (table rows, map coordinates, tag lists) was computed once when the
catalog was loaded; a rerun only slices it for the current filters.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import streamlit as st

from genre.library import export, store
from genre.library.browse import TABLE_COLUMNS, mood_words
from genre.library.catalog import Catalog, tracks_at
from genre.library.store import Track
from ui import library_charts
from ui.charts import display_name

PLAYERS_AT_ONCE = 10  # rows ticked in the table beyond this are not given players
MAP_KEY = "library_map"
TABLE_KEY = "library_table"
VIEW_KEY = "library_view"
VIEWS = {"map": "🗺️ Map", "table": "📋 Tracks", "similar": "🔎 More like this"}


def play(track: Track, *, caption: bool = True) -> None:
    if caption:
        who = f" — {track.artist}" if track.artist else ""
        st.markdown(f"**{track.name}**{who} · {display_name(track.genre or '?')}")
    if Path(track.path).is_file():
        st.audio(track.path)
    else:
        st.warning(f"The file is no longer at {track.path}; add its folder again to update.")


def open_similar(path: str) -> None:
    """Before the rerun: show "More like this" for ``path``."""
    st.session_state["similar_source"] = "A track in the library"
    st.session_state["similar_pick"] = path
    st.session_state["similar_find"] = ""
    st.session_state[VIEW_KEY] = VIEWS["similar"]


def clicked_path(selection) -> str | None:  # type: ignore[no-untyped-def]
    """The file path of the clicked dot (its ``customdata``), if any."""
    for point in (selection or {}).get("points", []) or []:
        data = point.get("customdata")
        if isinstance(data, list) and data:
            return str(data[0])
        if isinstance(data, str):
            return data
    return None


def map_tab(cat: Catalog, shown: np.ndarray, conn: sqlite3.Connection) -> None:
    rows = cat.map_sample(shown)
    if len(rows) < 2:
        st.info("The map needs at least two tracks (with the current filters).")
        return
    on_map = int(np.isin(shown, cat.mapped).sum())
    st.caption(
        "Each dot is a track; tracks that sound alike sit close together. Colours are the "
        "genres the model hears. Hover for a track's tags, click a dot to play it."
    )
    if len(rows) < on_map:
        st.caption(
            f"The map shows a sample of {len(rows):,} of these {on_map:,} tracks (the same "
            "sample on every visit) so that it stays quick; the table and **More like this** "
            "search them all."
        )
    event = st.plotly_chart(
        map_figure(cat, rows), on_select="rerun", selection_mode="points", key=MAP_KEY
    )
    chosen = clicked_path(event.selection)
    track = store.get(conn, chosen) if chosen and cat.position(chosen) is not None else None
    if track is None:
        st.caption("▶ Click a dot to hear the track.")
        return
    with st.container(border=True):
        play(track)
        st.button(
            "🔎 More like this", key="map_more_like_this", on_click=open_similar, args=(track.path,)
        )
        moods = mood_words(track)
        mood = f" · mood: {', '.join(moods)}" if moods else ""
        st.caption("Sounds like: " + ", ".join(track.top_tags(5)) + mood)


def map_figure(cat: Catalog, rows: np.ndarray):  # type: ignore[no-untyped-def]
    """The map of ``rows`` (of ``cat.xy``): the last one drawn is kept with the catalog, so a
    click on a dot (same tracks, same filters) does not build it again; hover texts are made
    once per track."""
    key = rows.tobytes()
    kept: list = cat.remember("map_figure", lambda: [None])  # [(rows, figure)], swapped whole
    if kept[0] is not None and kept[0][0] == key:
        return kept[0][1]
    hovers: dict[int, str] = cat.remember("map_hovers", dict)
    positions = [int(i) for i in cat.mapped[rows]]
    for i in positions:
        if i not in hovers:
            hovers[i] = library_charts.hover_text(**cat.hover(i))
    figure = library_charts.map_figure(
        cat.xy[rows],
        [cat.genres[i] or "?" for i in positions],
        [cat.paths[i] for i in positions],
        [hovers[i] for i in positions],
        cat.axis_words,
    )
    kept[0] = (key, figure)
    return figure


def table_tab(cat: Catalog, shown: np.ndarray, conn: sqlite3.Connection) -> None:
    st.caption("Click a column to sort; tick rows to play them.")
    table = cat.table().iloc[shown]
    event = st.dataframe(
        table[list(TABLE_COLUMNS)],
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        key=TABLE_KEY,
        column_config={
            "Confidence": st.column_config.ProgressColumn(
                format="percent", min_value=0, max_value=1
            ),
            "Length (s)": st.column_config.NumberColumn(format="%d s"),
            "File": st.column_config.TextColumn(width="small"),
        },
    )
    rows = [i for i in event.selection.rows if i < len(shown)]
    ticked = [cat.paths[shown[i]] for i in rows[:PLAYERS_AT_ONCE]]
    for track in tracks_at(conn, ticked):
        if track is not None:
            play(track)
    if len(rows) > PLAYERS_AT_ONCE:
        st.caption(f"Players are shown for the first {PLAYERS_AT_ONCE} ticked rows.")
    m3u, csv = st.columns(2)
    # The files are written only when a button is clicked, not on every rerun.
    m3u.download_button(
        "Download as a playlist (M3U)",
        lambda: export.to_m3u(cat.rows(shown)),
        file_name="library.m3u",
        mime="audio/x-mpegurl",
    )
    csv.download_button(
        "Download as a table (CSV)",
        lambda: export.to_csv(cat.rows(shown)),
        file_name="library.csv",
        mime="text/csv",
    )
    st.caption(
        "The downloads hold the tracks shown above (with your filters). The playlist "
        "lists each file's place on this computer; any music player here opens it."
    )
