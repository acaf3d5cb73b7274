"""The music library on real clips and a real SQLite file: incremental index, migrations, CLI."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from genre.classifier import Classifier
from genre.library import store
from genre.library.analysis import bundle_id
from genre.library.indexer import index
from genre.library.schema import SCHEMA_VERSION, connect, schema_version
from genre.paths import default_bundle_dir
from tests.conftest import REPO_ROOT

CLIPS = ("blues/blues.00000.ogg", "metal/metal.00001.ogg", "classical/classical.00002.ogg")


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(default_bundle_dir())


@pytest.fixture
def music(tmp_path: Path, gtzan_dir: Path) -> Path:
    folder = tmp_path / "music"
    folder.mkdir()
    for clip in CLIPS:
        shutil.copy(gtzan_dir / "audio" / clip, folder / Path(clip).name)
    return folder


def test_migrates_an_empty_and_an_older_database(tmp_path: Path) -> None:
    fresh = connect(tmp_path / "new.sqlite3")
    assert schema_version(fresh) == SCHEMA_VERSION
    assert fresh.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    old_path = tmp_path / "old.sqlite3"
    old = connect(old_path, target=1)
    old.execute(
        "INSERT INTO tracks (path, size, mtime, status, indexed_at) "
        "VALUES ('/x.ogg', 1, 2.0, 'ok', 'then')"
    )
    old.commit()
    old.close()
    upgraded = connect(old_path)
    assert schema_version(upgraded) == SCHEMA_VERSION
    row = upgraded.execute("SELECT path, is_music, file_tags FROM tracks").fetchone()
    assert tuple(row) == ("/x.ogg", None, None)
    newer = sqlite3.connect(tmp_path / "newer.sqlite3")
    newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.close()
    with pytest.raises(sqlite3.DatabaseError, match="newer Genre Studio"):
        connect(tmp_path / "newer.sqlite3")


def test_incremental_reindex_touch_modify_delete_and_a_corrupt_file(
    tmp_path: Path, music: Path, classifier: Classifier, gtzan_dir: Path
) -> None:
    (music / "broken.ogg").write_bytes(b"OggS" + b"\0" * 300)  # sorts between the real clips
    conn = connect(tmp_path / "lib.sqlite3")
    first = index(conn, [music], classifier)
    assert (first.added, first.updated, first.unchanged, first.tracks) == (3, 0, 0, 3)
    assert [f["file"] for f in first.failed] == [str((music / "broken.ogg").resolve())]
    assert first.failed[0]["error"]
    blues = store.get(conn, str((music / "blues.00000.ogg").resolve()))
    assert blues is not None and blues.embedding is not None and blues.embedding.shape == (200,)
    assert blues.genre in blues.probabilities and len(blues.tags) == 50

    stat = (music / "metal.00001.ogg").stat()
    os.utime(music / "metal.00001.ogg", (stat.st_atime, stat.st_mtime + 100))  # touched only
    shutil.copy(gtzan_dir / "audio" / "pop/pop.00003.ogg", music / "classical.00002.ogg")
    (music / "blues.00000.ogg").unlink()
    second = index(conn, [music], classifier)
    assert (second.added, second.updated, second.unchanged, second.missing) == (0, 1, 1, 1)
    assert len(second.failed) == 1  # the broken file is retried, and fails again
    gone = store.get(conn, str((music / "blues.00000.ogg").resolve()))
    assert gone is not None and gone.status == "missing" and gone.embedding is not None
    assert second.tracks == 2


def run_library(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GENRE_STUDIO_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "genre", "library", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def test_cli_contracts(music: Path, private_data_dir: Path, gtzan_dir: Path) -> None:
    added = run_library(private_data_dir, "add", str(music), "--json")
    assert added.returncode == 0, added.stderr
    summary = json.loads(added.stdout.strip().splitlines()[-1])
    assert set(summary) >= {"added", "updated", "unchanged", "missing", "failed", "tracks"}
    assert (summary["added"], summary["tracks"], summary["failed"]) == (3, 3, [])

    listed = run_library(private_data_dir, "list", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted(Path(r["file"]).name for r in rows) == sorted(Path(c).name for c in CLIPS)
    for r in rows:
        assert set(r) == {"file", "genre", "confidence", "tags", "duration_s"}
        assert 29 < r["duration_s"] < 31 and len(r["tags"]) == 5
    metal = run_library(private_data_dir, "list", "--genre", "metal", "--json")
    assert all(json.loads(x)["genre"] == "metal" for x in metal.stdout.splitlines())

    inside = str((music / "metal.00001.ogg").resolve())
    similar = run_library(private_data_dir, "similar", inside, "--k", "5", "--json")
    matches = [json.loads(line) for line in similar.stdout.splitlines()]
    assert len(matches) == 2 and inside not in {m["file"] for m in matches}
    assert matches[0]["similarity"] >= matches[1]["similarity"]
    outside = gtzan_dir / "audio" / "metal" / "metal.00004.ogg"  # analysed, not added
    near = run_library(private_data_dir, "similar", str(outside), "--json")
    assert near.returncode == 0, near.stderr
    assert len(near.stdout.splitlines()) == 3
    assert "3" in run_library(private_data_dir, "add", str(music), "--json").stdout

    m3u = run_library(private_data_dir, "export", "--m3u").stdout
    assert m3u.startswith("#EXTM3U") and m3u.count("#EXTINF") == 3
    csv_text = run_library(private_data_dir, "export", "--csv", "--genre", "classical").stdout
    assert csv_text.splitlines()[0].startswith("file,title,artist,genre")


def test_cli_reanalyse_redoes_only_tracks_of_another_model(
    music: Path, private_data_dir: Path, classifier: Classifier
) -> None:
    assert run_library(private_data_dir, "add", str(music), "--json").returncode == 0
    db = private_data_dir / "library.sqlite3"
    older = str((music / "metal.00001.ogg").resolve())
    with closing(connect(db)) as conn, conn:
        conn.execute(
            "UPDATE tracks SET bundle = 'musicnn-older@2025-01-01' WHERE path = ?", (older,)
        )
    plain = run_library(private_data_dir, "add", str(music), "--json")
    summary = json.loads(plain.stdout.strip().splitlines()[-1])
    assert (summary["updated"], summary["unchanged"]) == (0, 3)  # not without --reanalyse
    redo = run_library(private_data_dir, "add", str(music), "--reanalyse", "--json")
    assert redo.returncode == 0, redo.stderr
    summary = json.loads(redo.stdout.strip().splitlines()[-1])
    assert (summary["added"], summary["updated"], summary["unchanged"]) == (0, 1, 2)
    with closing(connect(db)) as conn:
        bundles = {t.path: t.bundle for t in store.tracks(conn)}
    assert set(bundles.values()) == {bundle_id(classifier)}
