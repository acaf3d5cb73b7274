"""The Live tab's genre strip: one cell per analysis, genre colours, grey when not music."""

from __future__ import annotations

import pytest

from ui.charts import STRIP_NOT_MUSIC, STRIP_S, colour, genre_strip


def test_cells_take_their_genres_colour_and_not_music_is_grey() -> None:
    # (seconds ago, genre), oldest first, as LiveSnapshot.history: one analysis a second
    history = [(59.0, "rock"), (58.0, "rock"), (57.0, None), (56.0, "jazz"), (1.0, "rock")]
    fig = genre_strip(history)
    traces = {t.name: t for t in fig.data}
    assert set(traces) == {"rock", "not music", "jazz"}
    assert traces["rock"].marker.color == colour("rock")
    assert traces["jazz"].marker.color == colour("jazz")
    assert traces["not music"].marker.color == STRIP_NOT_MUSIC
    assert traces["not music"].marker.pattern.shape == "/"  # hatched: never read as metal
    assert len(traces["rock"].x) == 3 and len(traces["not music"].x) == 1
    assert list(traces["rock"].customdata) == [59.0, 58.0, 1.0]  # hover: how long ago
    assert "s ago: rock" in traces["rock"].hovertemplate
    # each cell reaches to the next analysis: a second wide, drawn oldest left, newest right
    assert traces["rock"].width[0] == pytest.approx(1.0)
    assert traces["rock"].x[0] == pytest.approx(-58.5)
    assert fig.layout.xaxis.range[0] <= -STRIP_S and fig.layout.xaxis.range[1] >= 0
    assert fig.layout.height <= 150  # a compact strip


def test_a_pause_does_not_stretch_a_cell_over_the_whole_strip_and_old_entries_drop() -> None:
    fig = genre_strip([(90.0, "metal"), (40.0, "metal"), (2.0, "metal")])
    (trace,) = fig.data
    assert list(trace.customdata) == [40.0, 2.0]  # older than a minute: not drawn
    assert max(trace.width) <= 5.0


def test_an_empty_history_gives_an_empty_strip() -> None:
    assert len(genre_strip([]).data) == 0
