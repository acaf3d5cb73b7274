"""The GAN's loss curves, from a ``losses.csv`` (a run's, live) or a bundle's training log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

TRACES = (
    ("d_loss", "discriminator loss"),
    ("g_loss", "generator loss"),
    ("aux_fake", "genre loss of generated patches"),
)


def read_loss_log(path: Path) -> pd.DataFrame:
    """The per-step losses; empty when the file is missing or has no complete row yet.

    A training process may be appending while we read: a half-written last row has missing
    values and is dropped.
    """
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError):
        return pd.DataFrame()
    if "step" not in table:
        return pd.DataFrame()
    return table.dropna()


def loss_figure(path: Path, height: int = 320) -> go.Figure | None:
    table = read_loss_log(path)
    if table.empty:
        return None
    window = max(1, len(table) // 100)  # smooth: a GAN's per-step losses are very noisy
    figure = go.Figure()
    for column, name in TRACES:
        if column not in table:
            continue
        figure.add_trace(
            go.Scatter(x=table["step"], y=table[column].rolling(window, min_periods=1).mean(),
                       mode="lines", name=name)
        )  # fmt: skip
    figure.update_layout(
        xaxis_title="training step",
        yaxis_title=f"loss (mean of {window} steps)" if window > 1 else "loss",
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.12},
    )
    return figure
