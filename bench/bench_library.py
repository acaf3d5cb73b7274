"""Library indexing throughput: the local engine vs the Ray engine on this machine.

Writes bench/results/library.json. Both engines index the same real clips (two per GTZAN genre
by default) into fresh databases; a run's time includes the analysis of every file and, for Ray,
starting its actors (each loads the model once), but not starting the Ray instance itself (said
apart). The cluster figures are a projection, labelled so: workers x the per-worker rate measured
here, which assumes the files are on storage every node reads as fast as this disk.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import write_results

from genre.classifier import Classifier
from genre.library.engines import RayEngine, local_engine
from genre.library.indexer import index
from genre.library.schema import connect
from genre.paths import default_bundle_dir, shared_gtzan_dir

CLUSTER_WORKERS = (16, 64, 256)  # e.g. 1, 4 and 16 machines of 16 cores
LIBRARY_TRACKS = 100_000  # the hours_for_100k column


def clips(per_genre: int) -> list[Path]:
    audio = shared_gtzan_dir() / "audio"
    return [p for g in sorted(audio.iterdir()) for p in sorted(g.glob("*.ogg"))[:per_genre]]


def timed(files: list[Path], classifier: Classifier, engine, folder: Path) -> dict:
    started = time.perf_counter()
    summary = index(connect(folder / "db.sqlite3"), files, classifier, engine=engine)
    seconds = time.perf_counter() - started
    assert summary.added == len(files) and not summary.failed, summary.as_dict()
    return {"files": len(files), "seconds": round(seconds, 2),
            "files_per_s": round(len(files) / seconds, 3)}  # fmt: skip


def projection(workers: int, per_worker: float) -> dict:
    rate = workers * per_worker
    hours = LIBRARY_TRACKS / rate / 3600
    return {"workers": workers, "files_per_s": round(rate, 1), "hours_for_100k": round(hours, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-genre", type=int, default=2, help="clips per genre (default 2)")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1, help="Ray CPUs")
    args = parser.parse_args()
    files = clips(args.per_genre)
    classifier = Classifier(default_bundle_dir())
    results: dict = {"note": "shared machine: timings are noisy", "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        for name, engine in (("local_1_worker", local_engine(classifier, workers=1)),
                             ("local", local_engine(classifier))):  # fmt: skip
            folder = Path(tmp) / name
            folder.mkdir()
            results[name] = timed(files, classifier, engine, folder)
        try:
            import ray
        except ImportError:
            results["ray"] = "not installed (pip install -r requirements-ray.txt)"
        else:
            started = time.perf_counter()
            ray.init(num_cpus=args.cpus, include_dashboard=False,
                     runtime_env=RayEngine.runtime_env())  # fmt: skip
            startup = time.perf_counter() - started
            folder = Path(tmp) / "ray"
            folder.mkdir()
            engine = RayEngine(default_bundle_dir())
            results["ray"] = {**timed(files, classifier, engine, folder),
                              "workers": args.cpus, "ray_start_s": round(startup, 2)}  # fmt: skip
            ray.shutdown()
            per_worker = results["ray"]["files_per_s"] / args.cpus
            results["ray"]["per_worker_files_per_s"] = round(per_worker, 3)
            results["cluster_projection"] = {
                "label": "PROJECTION, not measured: workers x the per-worker rate above",
                "per_worker_files_per_s": round(per_worker, 3),
                "rows": [projection(w, per_worker) for w in CLUSTER_WORKERS],
            }
    results["load_after"] = os.getloadavg()
    write_results("library", results)


if __name__ == "__main__":
    main()
