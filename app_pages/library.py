"""Library: index your own music once, then browse it, map it, and find songs alike.

The rows are read once per library state (genre.library.catalog, shared by every visitor);
a click only slices the cached columns, so it costs about the same at 50 000 tracks as at 50.
"""

from __future__ import annotations

import contextlib

import numpy as np
import streamlit as st

from genre.classifier import Classifier
from genre.errors import GenreError
from genre.library import browse, catalog
from genre.library.analysis import bundle_id
from genre.library.catalog import Catalog
from genre.library.schema import connect, default_db_path
from genre.paths import active_bundle_dir
from ui.charts import display_name
from ui.library_add import add_music, indexing, reanalyse_notice
from ui.library_similar import similar_tab
from ui.library_views import VIEW_KEY, VIEWS, map_tab, table_tab


@st.cache_resource(show_spinner="Loading the genre model…")
def load_classifier(bundle_dir: str) -> Classifier:
    return Classifier(bundle_dir)


def classifier_or_none() -> Classifier | None:
    try:
        return load_classifier(str(active_bundle_dir()))
    except GenreError as err:
        st.error(f"The genre model cannot be loaded, so no music can be analysed. {err}")
        return None


def empty_state() -> None:
    st.info(
        "**Your library is empty.** In **➕ Add music** above, type the path of a folder "
        "of music on this computer (or upload a few tracks). Each track takes about a second "
        "to analyse. Then you can browse your music by genre and mood, see a map of it, and "
        "ask for songs like one you love. Nothing leaves this computer."
    )


def overview(cat: Catalog) -> None:
    hours = cat.hours()
    a, b, c = st.columns(3)
    a.metric("Tracks", len(cat))
    b.metric("Genres heard", len(set(cat.genres)))
    c.metric("Listening time", f"{hours:.1f} h" if hours >= 1 else f"{hours * 60:.0f} min")
    if cat.counts["missing"]:
        st.caption(
            f"{cat.counts['missing']} file(s) are no longer where they were; they are kept "
            "in case they come back (add their folder again to check)."
        )


def failed_files(cat: Catalog) -> None:
    if cat.failed:
        with st.expander(f"⚠️ {len(cat.failed)} file(s) could not be analysed"):
            st.markdown("\n".join(f"- `{path}`: {error}" for path, error in cat.failed))


def filters(cat: Catalog) -> browse.TrackFilter:
    genre_col, mood_col, tag_col, text_col = st.columns(4)
    genres = genre_col.multiselect(
        "Genre",
        cat.genre_choices(),
        format_func=display_name,
        key="filter_genres",
        placeholder="any genre",
    )
    moods = mood_col.multiselect(
        "Mood", list(browse.MOOD_TAGS), key="filter_moods", placeholder="any mood"
    )
    tags = tag_col.multiselect(
        "Sounds like", cat.tag_choices(), key="filter_tags", placeholder="any tag"
    )
    text = text_col.text_input("Artist, title or file name", key="filter_text")
    known = cat.duration[~np.isnan(cat.duration)]
    low, high = (float(known.min()), float(known.max())) if len(known) else (0.0, 0.0)
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


st.title("📚 Library")
st.markdown(
    "Your own music, analysed once and remembered: browse it by genre and mood, see it on a "
    "map where alike songs sit together, and find more songs like one you love."
)
classifier = classifier_or_none()
with contextlib.closing(connect()) as conn:
    cat = catalog.cached(conn, default_db_path(), writing=indexing())
    if cat.stale:
        st.caption(
            "Indexing is running: the tracks below are those from before it started; the "
            "page shows the new ones when it ends (reloading a large library on every click "
            "would slow the page down)."
        )
    if classifier is not None:
        reanalyse_notice(classifier, cat.outdated(bundle_id(classifier)))
    add_music(classifier, library_empty=not len(cat))
    failed_files(cat)
    if not len(cat):
        empty_state()
        st.stop()
    overview(cat)
    shown = cat.select(filters(cat))
    st.caption(f"Showing {len(shown)} of {len(cat)} tracks.")
    # Only the open tab runs (on_change="rerun"): the other tabs' players are not loaded.
    map_view, table_view, similar_view = st.tabs(
        list(VIEWS.values()), key=VIEW_KEY, on_change="rerun"
    )
    if map_view.open:
        with map_view:
            map_tab(cat, shown, conn)
    if table_view.open:
        with table_view:
            table_tab(cat, shown, conn)
    if similar_view.open:
        with similar_view:
            similar_tab(cat, conn, classifier)
