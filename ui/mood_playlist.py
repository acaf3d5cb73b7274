"""The Mood page's results view: a playable, exportable playlist, or the search links.

Kept apart from ``app_pages/mood.py`` (which runs as a page when imported) so the view can be
rendered and tested on its own from any ``Recommendations``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mood.labels import EMOJI, article
from mood.youtube import Recommendations, SearchLink, Video, to_csv, to_m3u


def show_results(result: Recommendations, emotion: str, key: str, heading: bool = True) -> None:
    """Heading, the queries, then the playlist (online) or clickable search links (offline)."""
    if heading:
        st.subheader(f"{EMOJI.get(emotion, '')} Music for {article(emotion)} {emotion} mood")
    st.caption("Searches: " + " · ".join(f"“{q.text}”" for q in result.queries))
    if not result.online:
        if result.status == "links":
            st.info(result.message)
        else:
            st.warning(f"{result.message} Open these YouTube searches in your browser instead:")
        show_links(result.links)
        return
    st.success(result.message)
    show_playlist(result.videos, emotion, key)
    with st.expander("Search links"):
        show_links(result.links)


def show_links(links: list[SearchLink]) -> None:
    st.markdown("\n".join(f"- [{link.query}]({link.url})" for link in links))


def show_playlist(videos: list[Video], emotion: str, key: str) -> None:
    """Table (thumbnail, title, channel, length, link), a player, CSV and M3U downloads."""
    if not videos:
        return
    frame = pd.DataFrame(
        {
            "thumbnail": [v.thumbnail for v in videos],
            "title": [v.title for v in videos],
            "channel": [v.channel for v in videos],
            "length": [v.duration_text for v in videos],
            "link": [v.url for v in videos],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "thumbnail": st.column_config.ImageColumn("", width="small"),
            "link": st.column_config.LinkColumn("link", display_text="open ↗"),
        },
        key=f"mood_playlist_{key}",
    )
    titles = [f"{v.title} — {v.channel}" for v in videos]
    chosen = st.selectbox(
        "Play", range(len(videos)), format_func=titles.__getitem__, key=f"mood_play_{key}"
    )
    # By its watch URL: Streamlit embeds those, while a /shorts/ URL would become a broken
    # native <video>.
    st.video(f"https://www.youtube.com/watch?v={videos[chosen].id}")
    left, right = st.columns(2)
    left.download_button(
        "Playlist as CSV", to_csv(videos), f"mood-{emotion}.csv", "text/csv", key=f"mood_csv_{key}"
    )
    right.download_button(
        "Playlist as M3U",
        to_m3u(videos),
        f"mood-{emotion}.m3u",
        "audio/x-mpegurl",
        key=f"mood_m3u_{key}",
    )
