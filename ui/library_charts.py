"""The library map as a Plotly figure: one coloured cloud of tracks per genre."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from genre.library.browse import mood_words
from genre.library.projection import MapPoints
from ui.charts import colour, display_name

SVG_POINTS_LIMIT = 3000  # above this, WebGL draws the points (SVG gets slow)


def hover_text(
    name: str,
    artist: str | None,
    genre: str,
    confidence: float | None,
    tags: list[str],
    moods: list[str],
) -> str:
    who = f"<br>{html.escape(artist)}" if artist else ""
    conf = "" if confidence is None else f" ({confidence:.0%})"
    mood_line = f"<br>mood: {html.escape(', '.join(moods))}" if moods else ""
    return (
        f"<b>{html.escape(name)}</b>{who}<br>{display_name(genre or '?')}"
        f"{conf}<br><i>{html.escape(', '.join(tags))}</i>{mood_line}"
    )


def _hover(track) -> str:  # type: ignore[no-untyped-def]
    return hover_text(
        track.name,
        track.artist,
        track.genre or "?",
        track.confidence,
        list(track.top_tags(4)),
        mood_words(track),
    )


def _padded(values) -> list[float]:  # type: ignore[no-untyped-def]
    """An axis range with room around the outermost dots, so none is cut by the frame."""
    low, high = float(values.min()), float(values.max())
    pad = 0.08 * (high - low) or 1.0
    return [low - pad, high + pad]


def _axis_title(words: tuple[str, str]) -> str:
    low, high = words
    if not (low or high):
        return ""
    return f"← more {(low or '…').lower()}      ·      more {(high or '…').lower()} →"


def library_map(points: MapPoints, height: int = 560) -> go.Figure:
    """The map of a list of tracks (see :func:`map_figure`)."""
    return map_figure(
        points.xy,
        [t.genre or "?" for t in points.tracks],
        [t.path for t in points.tracks],
        [_hover(t) for t in points.tracks],
        points.axis_words,
        height,
    )


def map_figure(
    xy,  # type: ignore[no-untyped-def]
    genres: list[str],
    paths: list[str],
    hovers: list[str],
    axis_words: tuple[tuple[str, str], tuple[str, str]],
    height: int = 560,
) -> go.Figure:
    """``customdata`` of each point is its file path, so a click names the track to play.

    The clicked dot grows and the others fade (Plotly's own selection styling): a figure that
    changed after a click would make Streamlit forget the click.
    """
    scatter = go.Scattergl if len(paths) > SVG_POINTS_LIMIT else go.Scatter
    size = 13 if len(paths) <= SVG_POINTS_LIMIT else 7  # thousands of big dots hide each other
    fig = go.Figure()
    # Object arrays, not lists: Plotly validates a list of 5 000 strings item by item (0.7 s
    # per map, measured), an array at once (0.05 s); the JSON it sends is the same.
    genre_of = np.array(genres, dtype=object)
    path_of = np.array(paths, dtype=object)[:, None]
    hover_of = np.array(hovers, dtype=object)
    for genre in sorted(set(genres), key=display_name):
        idx = np.flatnonzero(genre_of == genre)
        fig.add_trace(
            scatter(
                x=xy[idx, 0],
                y=xy[idx, 1],
                mode="markers",
                name=display_name(genre),
                customdata=path_of[idx],
                hovertext=hover_of[idx],
                hovertemplate="%{hovertext}<extra></extra>",
                marker=dict(
                    size=size,
                    color=colour(genre),
                    opacity=0.88,
                    line=dict(width=1, color="rgba(255,255,255,0.85)"),
                ),
                selected=dict(marker=dict(size=20, opacity=1.0)),
                unselected=dict(marker=dict(opacity=0.3)),
            )
        )
    axis = dict(
        showticklabels=False, zeroline=False, showgrid=True, gridcolor="rgba(128,128,128,0.12)"
    )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=10, b=70),
        xaxis=dict(
            axis,
            range=_padded(xy[:, 0]),
            title=dict(text=_axis_title(axis_words[0]), font=dict(size=13)),
        ),
        yaxis=dict(
            axis,
            range=_padded(xy[:, 1]),
            title=dict(text=_axis_title(axis_words[1]), font=dict(size=13)),
        ),
        legend=dict(
            orientation="h",
            yanchor="top",
            y=-0.09,
            x=0.5,
            xanchor="center",
            title=None,
            itemsizing="constant",
        ),
        hoverlabel=dict(align="left"),
        dragmode="pan",
        clickmode="event+select",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(128,128,128,0.05)",
    )
    return fig
