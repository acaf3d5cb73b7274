"""The library map as a Plotly figure: one coloured cloud of tracks per genre."""

from __future__ import annotations

import html

import plotly.graph_objects as go

from genre.library.browse import mood_words
from genre.library.projection import MapPoints
from ui.charts import colour, display_name

SVG_POINTS_LIMIT = 3000  # above this, WebGL draws the points (SVG gets slow)


def _hover(track) -> str:  # type: ignore[no-untyped-def]
    who = f"<br>{html.escape(track.artist)}" if track.artist else ""
    confidence = "" if track.confidence is None else f" ({track.confidence:.0%})"
    tags = ", ".join(track.top_tags(4))
    moods = ", ".join(mood_words(track))
    mood_line = f"<br>mood: {html.escape(moods)}" if moods else ""
    return (
        f"<b>{html.escape(track.name)}</b>{who}<br>{display_name(track.genre or '?')}"
        f"{confidence}<br><i>{html.escape(tags)}</i>{mood_line}"
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
    """``customdata`` of each point is its file path, so a click names the track to play.

    The clicked dot grows and the others fade (Plotly's own selection styling): a figure that
    changed after a click would make Streamlit forget the click.
    """
    scatter = go.Scattergl if len(points.tracks) > SVG_POINTS_LIMIT else go.Scatter
    fig = go.Figure()
    genres = sorted({t.genre or "?" for t in points.tracks}, key=display_name)
    for genre in genres:
        idx = [i for i, t in enumerate(points.tracks) if (t.genre or "?") == genre]
        fig.add_trace(
            scatter(
                x=points.xy[idx, 0],
                y=points.xy[idx, 1],
                mode="markers",
                name=display_name(genre),
                customdata=[[points.tracks[i].path] for i in idx],
                hovertext=[_hover(points.tracks[i]) for i in idx],
                hovertemplate="%{hovertext}<extra></extra>",
                marker=dict(
                    size=13,
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
            range=_padded(points.xy[:, 0]),
            title=dict(text=_axis_title(points.axis_words[0]), font=dict(size=13)),
        ),
        yaxis=dict(
            axis,
            range=_padded(points.xy[:, 1]),
            title=dict(text=_axis_title(points.axis_words[1]), font=dict(size=13)),
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
