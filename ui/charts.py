"""Plotly figures shared by the pages. Colours stay fixed per genre across every chart."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from genre.report import display_name

GENRE_COLOURS = {
    "blues": "#1f77b4",
    "classical": "#b39ddb",
    "country": "#d4a017",
    "disco": "#e377c2",
    "hiphop": "#ff7f0e",
    "jazz": "#17becf",
    "metal": "#7f7f7f",
    "pop": "#ff4b8b",
    "reggae": "#2ca02c",
    "rock": "#d62728",
}
__all__ = [
    "colour",
    "display_name",
    "genre_strip",
    "genre_timeline",
    "probability_bars",
    "spectrogram",
]


def colour(genre: str) -> str:
    return GENRE_COLOURS.get(genre, "#8c8c8c")


def probability_bars(ranked: Sequence[tuple[str, float]]) -> go.Figure:
    """Horizontal bars, most likely genre on top."""
    names = [display_name(g) for g, _ in ranked][::-1]
    values = [p for _, p in ranked][::-1]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=names,
            orientation="h",
            marker_color=[colour(g) for g, _ in ranked][::-1],
            text=[f"{p:.0%}" for p in values],
            textposition="outside",
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    fig.update_layout(
        height=320,
        margin=dict(l=10, r=30, t=10, b=10),
        xaxis=dict(range=[0, 1.1], tickformat=".0%", title="probability"),
        showlegend=False,
    )
    return fig


NOT_MUSIC_FILL = "rgba(140, 140, 140, 0.75)"  # opaque enough to grey out the genres beneath


def not_music_spans(
    starts_s: np.ndarray, music: np.ndarray, window_s: float
) -> list[tuple[float, float]]:
    """(start, end) seconds of each run of consecutive not-music windows."""
    spans: list[tuple[float, float]] = []
    for start, is_music in zip(np.asarray(starts_s, dtype=float), music, strict=True):
        if is_music:
            continue
        end = start + window_s
        if spans and start <= spans[-1][1] + 1e-6:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def genre_timeline(
    starts_s: np.ndarray,
    window_probs: np.ndarray,
    labels: Sequence[str],
    window_s: float,
    music: np.ndarray | None = None,
) -> go.Figure:
    """Stacked areas: how the genre mix changes through the track, window by window.

    ``music`` (one bool per window) greys out the stretches that do not sound like music.
    """
    centres = np.asarray(starts_s) + window_s / 2
    order = np.argsort(-window_probs.mean(axis=0))
    fig = go.Figure()
    for i in order:
        fig.add_trace(
            go.Scatter(
                x=centres,
                y=window_probs[:, i],
                name=display_name(labels[i]),
                stackgroup="genres",
                mode="lines",
                line=dict(width=0.5, color=colour(labels[i])),
                hovertemplate=display_name(labels[i]) + ": %{y:.0%} at %{x:.1f} s<extra></extra>",
            )
        )
    spans = [] if music is None else not_music_spans(starts_s, np.asarray(music), window_s)
    for start, end in spans:
        fig.add_vrect(x0=start, x1=end, fillcolor=NOT_MUSIC_FILL, line_width=0, layer="above")
    if spans:  # a legend entry for the grey, which shapes alone do not get
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                name="not music",
                mode="markers",
                marker=dict(symbol="square", size=14, color=NOT_MUSIC_FILL),
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        height=300,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="time (s)"),
        yaxis=dict(title="share of belief", tickformat=".0%", range=[0, 1]),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        hovermode="x unified",
    )
    return fig


STRIP_S = 60.0  # the live strip covers the last minute
MAX_CELL_S = 5.0  # a cell never stretches further over a pause between analyses
# Lighter than metal's grey and hatched, so a not-music stretch never reads as metal.
STRIP_NOT_MUSIC = "#d9d9d9"


def genre_strip(history: Sequence[tuple[float, str | None]], span_s: float = STRIP_S) -> go.Figure:
    """The live tab's last minute: one cell per analysis, in its genre's colour (grey: not music).

    ``history`` holds (seconds ago, genre or None), oldest first, as ``LiveSnapshot.history``.
    Each cell reaches from its analysis to the next one (analyses come about once a second),
    so the strip has no gaps; one trace per genre gives it a legend.
    """
    kept = [(float(ago), genre) for ago, genre in history if 0 <= ago <= span_s]
    cells: dict[str | None, list[tuple[float, float, float]]] = {}  # genre: (centre, width, ago)
    for i, (ago, genre) in enumerate(kept):
        newer = kept[i + 1][0] if i + 1 < len(kept) else max(0.0, ago - 1.0)
        width = min(max(ago - newer, 0.2), MAX_CELL_S)
        cells.setdefault(genre, []).append((-ago + width / 2, width, ago))
    fig = go.Figure()
    for genre, spans in cells.items():
        name = "not music" if genre is None else display_name(genre)
        fig.add_trace(
            go.Bar(
                x=[c for c, _, _ in spans],
                y=[1.0] * len(spans),
                width=[w for _, w, _ in spans],
                customdata=[a for _, _, a in spans],
                name=name,
                marker=dict(
                    color=STRIP_NOT_MUSIC if genre is None else colour(genre),
                    pattern=dict(shape="/" if genre is None else "", fgcolor="#9e9e9e"),
                    line_width=0,
                ),
                hovertemplate="%{customdata:.0f} s ago: " + name + "<extra></extra>",
            )
        )
    fig.update_layout(
        height=120,
        margin=dict(l=35, r=15, t=30, b=10),  # room for the "60 s ago" tick at the edge
        barmode="overlay",
        bargap=0,
        xaxis=dict(
            range=[-span_s - 0.5, 0.5],  # a little room: the end ticks stay drawn
            tickvals=[-span_s, -span_s / 2, 0],
            ticktext=[f"{span_s:.0f} s ago", f"{span_s / 2:.0f} s ago", "now"],
            fixedrange=True,
        ),
        yaxis=dict(visible=False, range=[0, 1], fixedrange=True),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
        showlegend=True,
    )
    return fig


def spectrogram(mel: np.ndarray, hop_s: float, max_columns: int = 800) -> go.Figure:
    """Log-mel heatmap; long tracks are thinned to ``max_columns`` so the page stays light."""
    step = max(1, int(np.ceil(mel.shape[1] / max_columns)))
    shown = mel[:, ::step]
    times = np.arange(shown.shape[1]) * hop_s * step
    fig = go.Figure(
        go.Heatmap(
            z=shown,
            x=times,
            colorscale="Magma",
            colorbar=dict(title="energy"),
            hovertemplate="%{x:.1f} s, band %{y}<extra></extra>",
        )
    )
    fig.update_layout(
        height=260,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="time (s)"),
        yaxis=dict(title="pitch band (low → high)"),
    )
    return fig
