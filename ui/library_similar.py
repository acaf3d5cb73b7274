"""The Library page's "More like this" view: type to find a track (or upload one), get the
nearest ten with players and a one-line reason."""

from __future__ import annotations

import sqlite3

import streamlit as st

from genre.classifier import Classifier
from genre.library import browse, store
from genre.library.catalog import Catalog
from genre.library.similarity import similar
from ui.library_views import play
from ui.upload_limit import upload_limit_note

SIMILAR_SHOWN = 10
LIBRARY, UPLOAD = "A track in the library", "A track you upload"


def pick_track(cat: Catalog) -> str | None:
    """A text box narrows the pick list to at most SEARCH_LIMIT matches (a list of every track
    would send every track on each rerun); with nothing typed, the track picked before (on the
    map, say) stays on the list."""
    typed = st.text_input(
        "Find a track", key="similar_find", placeholder="type part of a title, artist or file name"
    )
    found, total = cat.search(typed)
    options = [cat.paths[i] for i in found]
    picked = st.session_state.get("similar_pick")
    if picked not in options:
        if not typed.strip() and picked and cat.position(picked) is not None:
            options.insert(0, picked)  # e.g. chosen on the map: kept until something is typed
        elif options:
            st.session_state["similar_pick"] = options[0]  # typed: the best match is picked
    if not options:
        st.info(f"No track's title, artist or file name contains “{typed.strip()}”.")
        return None
    if total > len(found):
        hint = "type more to narrow" if typed.strip() else "type to find any of them"
        st.caption(f"{total:,} tracks match; the list offers the first {len(found)} ({hint}).")
    return st.selectbox(
        "Pick a track you like",
        options,
        key="similar_pick",
        format_func=lambda p: cat.label(cat.position(p) or 0),
    )


def similar_tab(cat: Catalog, conn: sqlite3.Connection, classifier: Classifier | None) -> None:
    source = st.radio(
        "Start from",
        [LIBRARY, UPLOAD],
        horizontal=True,
        key="similar_source",
        label_visibility="collapsed",
    )
    if source == LIBRARY:
        picked = pick_track(cat)
        pick = store.get(conn, picked) if picked else None
        if pick is None or pick.embedding is None:
            return
        query, genre, tags, exclude = pick.embedding, pick.genre, pick.top_tags(), pick.path
    else:
        upload = st.file_uploader(
            "A track you like (it is not added to the library)", key="similar_upload"
        )
        upload_limit_note("For a larger file, add its folder to the library and pick it there.")
        if upload is None or classifier is None:
            return
        with st.spinner("Listening to your track…"):
            analysis = browse.analyse_upload(classifier, upload.name, upload.getvalue())
        if analysis.error or analysis.embedding is None:
            st.error(f"{upload.name}: {analysis.error or 'this model cannot compare tracks.'}")
            return
        query, genre, exclude = analysis.embedding, analysis.genre, None
        tags = browse.sorted_tags(analysis.tags)
    matches = cat.similar(conn, query, k=SIMILAR_SHOWN, exclude=exclude)
    if not matches and cat.index is not None and query.shape != cat.index.shape:
        # another model's embedding: compare with the tracks that model analysed
        matches = similar(query, store.tracks(conn), k=SIMILAR_SHOWN, exclude=exclude)
    if not matches:
        st.info("No other track in the library to compare with yet.")
        return
    st.markdown(f"**The {len(matches)} most similar tracks**, best first:")
    for match in matches:
        with st.container(border=True):
            text, player = st.columns([3, 2])
            with text:
                who = f" — {match.track.artist}" if match.track.artist else ""
                st.markdown(f"**{match.track.name}**{who}")
                st.caption(match.reason(genre, tags))
            with player:
                play(match.track, caption=False)
