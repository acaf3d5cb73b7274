"""The cached catalog the Library page browses: equal to the row-by-row rules it replaces,
reloaded exactly when a row changes, sampled and searched within fixed bounds.

Rows are made up (genre.library.synthetic) but written with the real store into a real
SQLite file; no timings are asserted (bench/bench_library_browse.py measures them).
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from genre.library import browse, catalog, export, store, synthetic
from genre.library.projection import library_map
from genre.library.schema import connect
from genre.library.similarity import similar

N = 300


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "lib.sqlite3"
    with closing(connect(path)) as conn:
        synthetic.fill(conn, N)
    return path


def test_filters_and_table_match_the_row_by_row_rules(db: Path) -> None:
    with closing(connect(db)) as conn:
        cat = catalog.load(conn, db)
        tracks = store.tracks(conn)
    assert cat.paths == [t.path for t in tracks]
    assert cat.moods == [tuple(browse.mood_words(t)) for t in tracks]
    assert cat.tag_choices() == browse.tag_choices(tracks)
    chosen = [
        browse.TrackFilter(),
        browse.TrackFilter(genres=("jazz", "metal")),
        browse.TrackFilter(tags=("rock", "chill")),
        browse.TrackFilter(moods=("happy",), min_s=100, max_s=300),
        browse.TrackFilter(text="song 1"),
        browse.TrackFilter(text="ARTIST 5", genres=("pop",)),
    ]
    for f in chosen:
        kept = cat.select(f)
        assert [cat.paths[i] for i in kept] == [t.path for t in browse.apply(tracks, f)], f
    table = cat.table()
    rows = browse.table_rows(tracks)
    assert list(table.columns) == list(browse.TABLE_COLUMNS)
    for column in ("Title", "Artist", "Genre", "Mood", "Sounds like", "File", "Length (s)"):
        assert list(table[column]) == [r[column] for r in rows], column
    some = cat.select(browse.TrackFilter(genres=("blues",)))
    picked = [tracks[i] for i in some]
    assert export.to_csv(cat.rows(some)) == export.to_csv(picked)
    assert export.to_m3u(cat.rows(some)) == export.to_m3u(picked)


def test_similar_and_the_map_match_the_list_versions(db: Path) -> None:
    with closing(connect(db)) as conn:
        cat = catalog.load(conn, db)
        tracks = store.tracks(conn)
        for t in tracks[:5]:
            got = cat.similar(conn, t.embedding, k=10, exclude=t.path)
            want = similar(t.embedding, tracks, k=10, exclude=t.path)
            assert [m.track.path for m in got] == [m.track.path for m in want]
            np.testing.assert_allclose([m.similarity for m in got], [m.similarity for m in want])
        outside = synthetic.analyses(1, seed=7, start=N)[0].embedding
        assert [m.track.path for m in cat.similar(conn, outside)] == [
            m.track.path for m in similar(outside, tracks)
        ]
    mapped = library_map(tracks)
    np.testing.assert_allclose(cat.xy, mapped.xy, atol=1e-6)
    assert cat.axis_words == mapped.axis_words


def test_the_cache_reloads_exactly_when_a_row_changes(db: Path) -> None:
    with closing(connect(db)) as conn, closing(connect(db)) as other:
        first = catalog.cached(conn, db)
        assert catalog.cached(conn, db) is first  # nothing changed: the same object
        before = store.data_state(conn)
        store.mark_missing(other, [first.paths[0]])  # another connection; no indexed_at moves
        assert store.data_state(conn) != before
        second = catalog.cached(conn, db)
        assert second is not first and len(second) == N - 1
        store.touch(other, first.paths[0], 1.0)  # back: same analysis, new mtime
        third = catalog.cached(conn, db)
        assert third is not second and len(third) == N
        synthetic.fill(other, 1, seed=3, bundle="newer@1")
        assert catalog.cached(conn, db).outdated("newer@1")[:1] == [first.paths[0]]


def test_the_map_draws_a_fixed_sample_and_search_is_bounded(db: Path) -> None:
    with closing(connect(db)) as conn:
        cat = catalog.load(conn, db)
    everything = np.arange(len(cat))
    rows = cat.map_sample(everything, limit=50)
    assert len(rows) == 50 and list(rows) == sorted(rows)
    assert list(cat.map_sample(everything, limit=50)) == list(rows)  # the same each time
    jazz = cat.select(browse.TrackFilter(genres=("jazz",)))
    assert set(cat.mapped[cat.map_sample(jazz, limit=10)]) <= set(jazz)
    assert len(cat.map_sample(everything)) == min(N, catalog.MAP_POINTS)
    found, total = cat.search("", limit=20)
    assert found == list(range(20)) and total == N
    found, total = cat.search("SONG 12", limit=5)
    assert total == sum("song 12" in p for p in cat.haystack) and len(found) == min(5, total)
    assert all("song 12" in cat.haystack[i] for i in found)


def test_a_slow_catalog_is_kept_while_indexing_writes_and_reloaded_after(db: Path) -> None:
    with closing(connect(db)) as conn:
        first = catalog.cached(conn, db)
        first.load_s = catalog.RELOAD_WHILE_WRITING_S + 1  # as if it had taken that long
        synthetic.fill(conn, 1, seed=5, bundle="newer@1")
        kept = catalog.cached(conn, db, writing=True)
        assert kept is first and kept.stale
        fresh = catalog.cached(conn, db)  # the run has ended
        assert fresh is not first and not fresh.stale
        fresh.load_s = 0.0  # quick to load: reloaded even while a run writes
        synthetic.fill(conn, 1, seed=6, bundle="newer@1")
        assert catalog.cached(conn, db, writing=True) is not fresh
