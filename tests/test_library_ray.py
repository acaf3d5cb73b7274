"""The Ray engine on a local Ray instance started here: same results as the local engine, file
by file (a corrupt file included), and the CLI with Ray and without it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from genre.classifier import Classifier
from genre.library import store
from genre.library.engines import RAY_INSTALL_HINT, RayEngine, local_engine
from genre.library.indexer import index
from genre.library.schema import connect
from genre.paths import default_bundle_dir
from tests.conftest import REPO_ROOT

ray = pytest.importorskip("ray", reason="Ray is optional: pip install -r requirements-ray.txt")

CLIPS = ("blues/blues.00000.ogg", "metal/metal.00001.ogg", "classical/classical.00002.ogg")


@pytest.fixture(scope="module")
def ray_address():
    """A small local Ray instance (2 CPUs) for this module; the engine uses it as it finds it."""
    ray.init(num_cpus=2, include_dashboard=False, runtime_env=RayEngine.runtime_env())
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture
def music(tmp_path: Path, gtzan_dir: Path) -> Path:
    folder = tmp_path / "music"
    folder.mkdir()
    for clip in CLIPS:
        shutil.copy(gtzan_dir / "audio" / clip, folder / Path(clip).name)
    (folder / "broken.ogg").write_bytes(b"OggS" + b"\x00" * 4000)  # in the middle of the run
    return folder


def rows(db: Path) -> dict[str, store.Track]:
    return {Path(t.path).name: t for t in store.tracks(connect(db), status=None)}


def test_ray_results_equal_the_local_engine_file_by_file(
    ray_address: str, music: Path, tmp_path: Path
) -> None:
    classifier = Classifier(default_bundle_dir())
    local = index(connect(tmp_path / "local.sqlite3"), [music], classifier,
                  engine=local_engine(classifier))  # fmt: skip
    engine = RayEngine(default_bundle_dir(), workers=2, batch_files=2)
    assert not engine.started and engine.cpus() == 2  # the instance started above
    on_ray = index(connect(tmp_path / "ray.sqlite3"), [music], classifier, engine=engine)
    assert on_ray.as_dict() == local.as_dict()
    assert on_ray.added == len(CLIPS) and [Path(f["file"]).name for f in on_ray.failed] == [
        "broken.ogg"
    ]
    expected, got = rows(tmp_path / "local.sqlite3"), rows(tmp_path / "ray.sqlite3")
    assert sorted(got) == sorted(expected) == sorted([Path(c).name for c in CLIPS] + ["broken.ogg"])
    for name, want in expected.items():
        row = got[name]
        assert (row.status, row.error, row.genre, row.sha256, row.bundle) == (
            want.status, want.error, want.genre, want.sha256, want.bundle,
        ), name  # fmt: skip
        assert row.duration_s == pytest.approx(want.duration_s), name
        assert row.probabilities.keys() == want.probabilities.keys()
        for label, p in want.probabilities.items():
            assert row.probabilities[label] == pytest.approx(p, abs=1e-5), (name, label)
        assert row.tags.keys() == want.tags.keys()
        assert np.allclose(list(row.tags.values()), list(want.tags.values()), atol=1e-5)
        if want.embedding is None:
            assert row.embedding is None and row.status == "failed"
        else:
            assert row.embedding.shape == want.embedding.shape == (200,)
            assert np.allclose(row.embedding, want.embedding, atol=1e-5), name


def genre_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "genre", "library", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_cli_adds_through_a_running_ray_cluster(
    ray_address: str, gtzan_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "two"
    folder.mkdir()
    for clip in CLIPS[:2]:
        shutil.copy(gtzan_dir / "audio" / clip, folder / Path(clip).name)
    db = tmp_path / "cli.sqlite3"
    proc = genre_cli("--db", str(db), "add", str(folder), "--engine", "ray",
                     "--address", ray_address, "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert (summary["added"], summary["failed"], summary["tracks"]) == (2, [], 2)
    assert {t.genre for t in rows(db).values()} == {"blues", "metal"}


def test_cli_without_ray_says_how_to_install_it(music: Path, tmp_path: Path) -> None:
    # Ray absent: a `ray` package that cannot be imported shadows the installed one.
    shadow = tmp_path / "no-ray" / "ray"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError(\"No module named 'ray'\")\n")
    env = {"PYTHONPATH": str(shadow.parent)}
    proc = genre_cli("--db", str(tmp_path / "x.sqlite3"), "add", str(music), "--engine", "ray",
                     env=env)  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"error: Ray is not installed; install it with: {RAY_INSTALL_HINT}"
    ]
    proc = genre_cli("add", str(music), "--address", "auto")
    assert proc.returncode == 2 and "--address needs --engine ray" in proc.stderr


def test_cli_with_an_unreachable_cluster_fails_at_once(music: Path, tmp_path: Path) -> None:
    for address in ("127.0.0.1:1", "ray://127.0.0.1:1"):
        proc = genre_cli("--db", str(tmp_path / "x.sqlite3"), "add", str(music), "--engine", "ray",
                         "--address", address)  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            "error: cannot reach the Ray cluster: nothing answers at 127.0.0.1:1 "
            "([Errno 111] Connection refused)"
        ]
