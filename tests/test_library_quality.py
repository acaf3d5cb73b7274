"""The library's similarity on all 100 shared clips, and readers that never wait for the indexer."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from genre.classifier import Classifier
from genre.library import store
from genre.library.indexer import index
from genre.library.schema import connect
from genre.library.similarity import similar
from genre.paths import default_bundle_dir

# Leave-one-out precision@5 of "same genre" (truth: the clip's folder) measured at 0.85 when
# the library was built; the floor leaves room for a model update, not for a broken similarity
# (chance is 9 of 99 other clips: 0.09).
PRECISION_AT_5_FLOOR = 0.75


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(default_bundle_dir())


def test_similar_tracks_share_the_genre_on_the_shared_clips(
    classifier: Classifier, gtzan_dir: Path, tmp_path: Path
) -> None:
    conn = connect(tmp_path / "library.sqlite3")
    summary = index(conn, [gtzan_dir / "audio"], classifier)
    assert summary.failed == [] and summary.tracks == 100
    library = store.tracks(conn)
    hits = []
    for track in library:
        matches = similar(track.embedding, library, k=5, exclude=track.path)
        assert len(matches) == 5 and all(m.track.path != track.path for m in matches)
        truth = Path(track.path).parent.name
        hits.append(np.mean([Path(m.track.path).parent.name == truth for m in matches]))
    precision = float(np.mean(hits))
    print(f"precision@5 (same genre, leave-one-out, 100 clips): {precision:.3f}")
    assert precision >= PRECISION_AT_5_FLOOR


def test_readers_never_wait_while_the_indexer_writes(
    classifier: Classifier, gtzan_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "music"
    folder.mkdir()
    for genre in ("blues", "jazz", "metal", "pop"):
        shutil.copy(sorted((gtzan_dir / "audio" / genre).glob("*.ogg"))[0], folder)
    db = tmp_path / "library.sqlite3"
    connect(db).close()  # schema in place before either side opens it
    failures: list[BaseException] = []

    def run_indexer() -> None:
        try:
            index(connect(db), [folder], classifier)  # its own connection, in its thread
        except BaseException as err:  # reported by the test below
            failures.append(err)

    thread = threading.Thread(target=run_indexer)
    reader = connect(db)
    thread.start()
    seen = []
    while thread.is_alive():
        seen.append(len(store.tracks(reader)))  # raises "database is locked" if it waited
    thread.join()
    seen.append(len(store.tracks(reader)))
    assert failures == []
    assert seen == sorted(seen) and seen[-1] == 4
    assert len(seen) > 2  # it really read while the indexer was working
