"""Library: index your own music once, then browse it, map it, and find songs alike."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pandas as pd
import streamlit as st

from genre.classifier import Classifier
from genre.errors import GenreError
from genre.library import browse, export, store
from genre.library.projection import library_map
from genre.library.schema import connect
from genre.library.similarity import similar
from genre.library.store import Track
from genre.paths import active_bundle_dir
from ui import library_charts
from ui.charts import display_name
from ui.library_add import add_music

PLAYERS_AT_ONCE = 10  # rows ticked in the table beyond this are not given players
SIMILAR_SHOWN = 10
MAP_KEY = "library_map"
TABLE_KEY = "library_table"
VIEW_KEY = "library_view"
VIEWS = {"map": "🗺️ Map", "table": "📋 Tracks", "similar": "🔎 More like this"}


@st.cache_resource(show_spinner="Loading the genre model…")
def load_classifier(bundle_dir: str) -> Classifier:
    return Classifier(bundle_dir)


def classifier_or_none() -> Classifier | None:
    try:
        return load_classifier(str(active_bundle_dir()))
    except GenreError as err:
        st.error(f"The genre model cannot be loaded, so no music can be analysed. {err}")
        return None


def play(track: Track, *, caption: bool = True) -> None:
    if caption:
        who = f" — {track.artist}" if track.artist else ""
        st.markdown(f"**{track.name}**{who} · {display_name(track.genre or '?')}")
    if Path(track.path).is_file():
        st.audio(track.path)
    else:
        st.warning(f"The file is no longer at {track.path}; add its folder again to update.")


def empty_state() -> None:
    st.info(
        "**Your library is empty.** Open **➕ Add music** above and type the path of a folder "
        "of music on this computer (or upload a few tracks). Each track takes about a second "
        "to analyse. Then you can browse your music by genre and mood, see a map of it, and "
        "ask for songs like one you love. Nothing leaves this computer."
    )


def overview(all_tracks: list[Track], counts: dict[str, int]) -> None:
    hours = sum(t.duration_s or 0 for t in all_tracks) / 3600
    a, b, c = st.columns(3)
    a.metric("Tracks", len(all_tracks))
    b.metric("Genres heard", len({t.genre for t in all_tracks}))
    c.metric("Listening time", f"{hours:.1f} h" if hours >= 1 else f"{hours * 60:.0f} min")
    if counts["missing"]:
        st.caption(
            f"{counts['missing']} file(s) are no longer where they were; they are kept "
            "in case they come back (add their folder again to check)."
        )


def failed_files(conn) -> None:  # type: ignore[no-untyped-def]
    failed = store.tracks(conn, status="failed")
    if failed:
        with st.expander(f"⚠️ {len(failed)} file(s) could not be analysed"):
            st.markdown("\n".join(f"- `{t.path}`: {t.error}" for t in failed))


def filters(all_tracks: list[Track]) -> browse.TrackFilter:
    genre_col, mood_col, tag_col, text_col = st.columns(4)
    genres = genre_col.multiselect(
        "Genre",
        sorted({t.genre for t in all_tracks if t.genre}),
        format_func=display_name,
        key="filter_genres",
        placeholder="any genre",
    )
    moods = mood_col.multiselect(
        "Mood", list(browse.MOOD_TAGS), key="filter_moods", placeholder="any mood"
    )
    tags = tag_col.multiselect(
        "Sounds like", browse.tag_choices(all_tracks), key="filter_tags", placeholder="any tag"
    )
    text = text_col.text_input("Artist, title or file name", key="filter_text")
    lengths = [t.duration_s for t in all_tracks if t.duration_s is not None]
    low, high = (min(lengths), max(lengths)) if lengths else (0.0, 0.0)
    span: tuple[float, float] = (0.0, float("inf"))
    if high - low >= 2:  # a slider over one length has nothing to choose
        chosen = st.slider(
            "Length (seconds)",
            int(low),
            int(high) + 1,
            (int(low), int(high) + 1),
            key="filter_length",
        )
        span = (float(chosen[0]), float(chosen[1]))
    return browse.TrackFilter(tuple(genres), tuple(tags), tuple(moods), text, *span)


def map_tab(shown: list[Track]) -> None:
    points = library_map(shown)
    if len(points.tracks) < 2:
        st.info("The map needs at least two tracks (with the current filters).")
        return
    st.caption(
        "Each dot is a track; tracks that sound alike sit close together. Colours are the "
        "genres the model hears. Hover for a track's tags, click a dot to play it."
    )
    figure = library_charts.library_map(points)
    event = st.plotly_chart(figure, on_select="rerun", selection_mode="points", key=MAP_KEY)
    chosen = clicked_path(event.selection)
    track = next((t for t in points.tracks if t.path == chosen), None)
    if track is None:
        st.caption("▶ Click a dot to hear the track.")
        return
    with st.container(border=True):
        play(track)
        st.button(
            "🔎 More like this", key="map_more_like_this", on_click=open_similar, args=(track.path,)
        )
        moods = browse.mood_words(track)
        mood = f" · mood: {', '.join(moods)}" if moods else ""
        st.caption("Sounds like: " + ", ".join(track.top_tags(5)) + mood)


def open_similar(path: str) -> None:
    """Before the rerun: show "More like this" for ``path``."""
    st.session_state["similar_source"] = "A track in the library"
    st.session_state["similar_pick"] = path
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


def table_tab(shown: list[Track]) -> None:
    st.caption("Click a column to sort; tick rows to play them.")
    event = st.dataframe(
        pd.DataFrame(browse.table_rows(shown), columns=list(browse.TABLE_COLUMNS)),
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
    for i in rows[:PLAYERS_AT_ONCE]:
        play(shown[i])
    if len(rows) > PLAYERS_AT_ONCE:
        st.caption(f"Players are shown for the first {PLAYERS_AT_ONCE} ticked rows.")
    m3u, csv = st.columns(2)
    m3u.download_button(
        "Download as a playlist (M3U)",
        export.to_m3u(shown),
        file_name="library.m3u",
        mime="audio/x-mpegurl",
    )
    csv.download_button(
        "Download as a table (CSV)", export.to_csv(shown), file_name="library.csv", mime="text/csv"
    )
    st.caption(
        "The downloads hold the tracks shown above (with your filters). The playlist "
        "lists each file's place on this computer; any music player here opens it."
    )


def similar_tab(all_tracks: list[Track], classifier: Classifier | None) -> None:
    source = st.radio(
        "Start from",
        ["A track in the library", "A track you upload"],
        horizontal=True,
        key="similar_source",
        label_visibility="collapsed",
    )
    if source == "A track in the library":
        by_path = {t.path: t for t in all_tracks}
        picked = st.selectbox(
            "Pick a track you like",
            list(by_path),
            key="similar_pick",
            format_func=lambda p: f"{by_path[p].name} · {display_name(by_path[p].genre or '?')}",
        )
        pick = by_path.get(picked) if picked else None
        if pick is None or pick.embedding is None:
            return
        query, genre, tags, exclude = pick.embedding, pick.genre, pick.top_tags(), pick.path
    else:
        upload = st.file_uploader(
            "A track you like (it is not added to the library)", key="similar_upload"
        )
        if upload is None or classifier is None:
            return
        with st.spinner("Listening to your track…"):
            analysis = browse.analyse_upload(classifier, upload.name, upload.getvalue())
        if analysis.error or analysis.embedding is None:
            st.error(f"{upload.name}: {analysis.error or 'this model cannot compare tracks.'}")
            return
        query, genre, exclude = analysis.embedding, analysis.genre, None
        tags = browse.sorted_tags(analysis.tags)
    matches = similar(query, all_tracks, k=SIMILAR_SHOWN, exclude=exclude)
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


st.title("📚 Library")
st.markdown(
    "Your own music, analysed once and remembered: browse it by genre and mood, see it on a "
    "map where alike songs sit together, and find more songs like one you love."
)
classifier = classifier_or_none()
with contextlib.closing(connect()) as conn:
    all_tracks = store.tracks(conn)
    counts = store.counts(conn)
    add_music(classifier, expanded=not all_tracks)
    failed_files(conn)
if not all_tracks:
    empty_state()
    st.stop()
overview(all_tracks, counts)
chosen_filter = filters(all_tracks)
shown = browse.apply(all_tracks, chosen_filter)
st.caption(f"Showing {len(shown)} of {len(all_tracks)} tracks.")
# Only the open tab runs (on_change="rerun"): the other tabs' players are not loaded for nothing.
map_view, table_view, similar_view = st.tabs(list(VIEWS.values()), key=VIEW_KEY, on_change="rerun")
if map_view.open:
    with map_view:
        map_tab(shown)
if table_view.open:
    with table_view:
        table_tab(shown)
if similar_view.open:
    with similar_view:
        similar_tab(all_tracks, classifier)
