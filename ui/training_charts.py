"""The Training page's charts: a run's learning curves, its confusion matrix, and the
accuracy bars of the comparison."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from genre.training import compare
from ui.charts import display_name


def curves(epochs: list[dict]) -> go.Figure | None:
    """Loss and accuracy per epoch, train (solid) and validation (dotted), fold by fold."""
    frame = compare.curves_frame(epochs)
    if frame.empty:
        return None
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    dash = {"train": "solid", "validation": "dot"}
    for (fold, side), part in frame.groupby(["fold", "side"], sort=True):
        for col, metric in ((1, "loss"), (2, "accuracy")):
            rows = part[part.metric == metric]
            if rows.empty:
                continue
            name = side if frame.fold.nunique() == 1 else f"{side}, fold {fold}"
            fig.add_trace(
                go.Scatter(
                    x=rows.epoch,
                    y=rows.value,
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    line=dict(dash=dash[side]),
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(tickformat=".0%", row=1, col=2, range=[0, 1])
    fig.update_xaxes(title_text="epoch", dtick=1 if frame.epoch.max() <= 20 else None)
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def confusion(metrics: dict) -> go.Figure:
    """The run's confusion matrix as a heat map: rows true, columns predicted."""
    labels = [display_name(g) for g in metrics["labels"]]
    matrix = metrics["confusion"]
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=labels,
            y=labels,
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(
        height=380,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="predicted", tickangle=-45),
        yaxis=dict(title="true", autorange="reversed"),
    )
    return fig


def accuracy_bars(table: pd.DataFrame) -> go.Figure:
    """Held-out accuracy of the best 20 runs, with the folds' spread; green: promotable."""
    shown = table.sort_values("accuracy %", ascending=False).head(20)
    errors = shown["k-fold std %"].fillna(0.0).tolist()
    fig = go.Figure(
        go.Bar(
            x=[
                f"{m} ({s}) {r[-6:]}"
                for m, s, r in zip(shown.model, shown.split, shown.run, strict=True)
            ],
            y=shown["accuracy %"],
            error_y=dict(type="data", array=errors, visible=any(errors)),
            marker_color=["#2e7d32" if p else "#607d8b" for p in shown.promotable],
            text=[f"{a:.1f} %" for a in shown["accuracy %"]],
            textposition="outside",
            hovertemplate="%{x}: %{y:.1f} %<extra></extra>",
        )
    )
    fig.update_layout(
        height=340,
        margin=dict(l=10, r=10, t=10, b=10),
        yaxis=dict(title="test accuracy (%)", range=[0, 105]),
    )
    return fig
