"""What a click on the Library page costs at 10 000 and 50 000 tracks.

Writes bench/results/library_browse.json. Made-up rows (genre.library.synthetic: 50 tag scores,
a 200-d embedding, title, artist) are written with the real store into a temporary SQLite file,
then timed, per library size:

- ``rows_decoded_s``: store.tracks(), every row decoded (what each rerun used to do);
- ``load_s``: catalog.load(): the columns, the similarity index and the map's projection, once
  per database state (``pca_s``: the projection's share);
- ``state_check_ms``: store.data_state(), what a rerun pays to learn the cache is current;
- ``table_build_s`` (once) and ``table_rows_ms`` (per rerun: the rows a filter keeps, as Arrow,
  which is what Streamlit sends);
- ``map_ms``: one rerun's map: the fixed sample, hover texts, the Plotly figure, validated and
  turned to JSON as st.plotly_chart does (``same_again``: the same tracks as the last rerun,
  e.g. after a click on a dot, when the kept figure is reused);
- ``similar_ms``: one "More like this" (median over queries), and ``similar_rowwise_ms``, the
  same answer from decoded rows (the CLI's path);
- ``first_rerun_s`` / ``cached_rerun_ms``: the page's data work for one rerun with a cold
  cache and with a warm one (state check, filters, map, table rows, one similar()).

Timings on a shared machine are noisy; the load average is recorded before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import plotly.io
import plotly.tools
import pyarrow as pa
from common import median_ms, write_results

from genre.library import browse, catalog, store, synthetic
from genre.library.projection import pca_2d
from genre.library.schema import connect
from genre.library.similarity import similar
from ui import library_views

SIZES = (10_000, 50_000)
FILTER = browse.TrackFilter(genres=("jazz", "rock", "blues"), moods=("happy", "chill"))


def seconds(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def map_work(cat: catalog.Catalog, shown: np.ndarray, *, fresh: bool = True) -> str:
    """The page's map for ``shown``, to the JSON Streamlit sends (validation included, as
    st.plotly_chart does it). ``fresh``: forget the figure and hover texts kept from before."""
    if fresh:
        cat._memo.pop("map_figure", None)
        cat._memo.pop("map_hovers", None)
    figure = library_views.map_figure(cat, cat.map_sample(shown))
    checked = plotly.tools.return_figure_from_figure_or_data(figure, validate_figure=True)
    return plotly.io.to_json(checked, validate=False)


def rerun(conn, db: Path, query: np.ndarray, exclude: str) -> None:  # type: ignore[no-untyped-def]
    cat = catalog.cached(conn, db)
    shown = cat.select(FILTER)
    map_work(cat, shown, fresh=False)
    pa.Table.from_pandas(cat.table().iloc[shown])
    cat.similar(conn, query, k=10, exclude=exclude)


def measure(n: int, folder: Path, repeats: int) -> dict:
    db = folder / f"library-{n}.sqlite3"
    result: dict = {"tracks": n}
    with closing(connect(db)) as conn:
        result["write_rows_s"] = round(seconds(lambda: synthetic.fill(conn, n))[0], 2)
        result["rows_decoded_s"] = round(seconds(lambda: store.tracks(conn))[0], 2)
        load_s, cat = seconds(lambda: catalog.load(conn, db))
        result["load_s"] = round(load_s, 2)
        matrix = np.stack([cat.index.rows[i] for i in range(len(cat.mapped))])  # type: ignore[union-attr]
        result["pca_s"] = round(seconds(lambda: pca_2d(matrix))[0], 2)
        result["state_check_ms"] = round(median_ms(lambda: store.data_state(conn), repeats), 3)
        result["table_build_s"] = round(seconds(cat.table)[0], 2)
        shown = cat.select(FILTER)
        everything = np.arange(len(cat))
        result["filter_ms"] = round(median_ms(lambda: cat.select(FILTER), repeats), 1)
        result["filtered_tracks"] = len(shown)
        result["table_rows_ms"] = {
            "all": round(median_ms(lambda: pa.Table.from_pandas(cat.table()), 5), 1),
            "filtered": round(
                median_ms(lambda: pa.Table.from_pandas(cat.table().iloc[shown]), repeats), 1
            ),
        }
        result["map_points_drawn"] = len(cat.map_sample(everything))
        result["map_ms"] = {
            "all": round(median_ms(lambda: map_work(cat, everything), 5), 1),
            "filtered": round(median_ms(lambda: map_work(cat, shown), 5), 1),
            "same_again": round(median_ms(lambda: map_work(cat, shown, fresh=False), 5), 1),
        }
        rng = np.random.default_rng(1)
        picks = [int(i) for i in rng.choice(len(cat.mapped), size=repeats, replace=False)]
        queries = [(cat.index.rows[i] + cat.index.offset, cat.index.paths[i]) for i in picks]  # type: ignore[union-attr]
        times = [seconds(lambda q=q: cat.similar(conn, q[0], exclude=q[1]))[0] for q in queries]
        result["similar_ms"] = round(statistics.median(times) * 1000, 1)
        tracks = store.tracks(conn)
        q, path = queries[0]
        result["similar_rowwise_ms"] = round(
            seconds(lambda: similar(q.astype(np.float32), tracks, exclude=path))[0] * 1000, 1
        )
        tracks.clear()  # the decoded rows: ~450 MB at 50 000
        catalog._cache.clear()
        result["first_rerun_s"] = round(seconds(lambda: rerun(conn, db, q, path))[0], 2)
        result["cached_rerun_ms"] = round(median_ms(lambda: rerun(conn, db, q, path), 5), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    results: dict = {
        "note": "shared machine: timings are noisy; made-up rows written with the real store",
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "map_points_cap": catalog.MAP_POINTS,
        "filter": "genres jazz|rock|blues, moods happy|chill",
    }
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            results[str(n)] = measure(n, Path(tmp), args.repeats)
            print(n, results[str(n)], flush=True)
    results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    write_results("library_browse", results)


if __name__ == "__main__":
    main()
