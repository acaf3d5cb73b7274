"""What the Library page applies, tested without Streamlit: filters, mood words, the map's
projection and axis words, uploads kept in the data folder, and a cancelled background run."""

from __future__ import annotations

import shutil
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from genre.classifier import Classifier
from genre.library import browse, store
from genre.library.jobs import IndexJob, eta_text
from genre.library.projection import end_words, library_map, pca_2d
from genre.library.schema import connect
from genre.library.similarity import Match, closeness
from genre.library.store import Track
from genre.paths import default_bundle_dir


def track(
    name: str,
    genre: str = "rock",
    tags: dict[str, float] | None = None,
    duration_s: float = 30.0,
    artist: str | None = None,
    embedding: np.ndarray | None = None,
) -> Track:
    return Track(
        path=f"/music/{name}.ogg", status="ok", size=1, mtime=0.0, sha256=None, error=None,
        duration_s=duration_s, title=None, artist=artist, genre=genre, confidence=0.9,
        probabilities={genre: 0.9}, tags=tags or {}, embedding=embedding, bundle="b",
        indexed_at="now",
    )  # fmt: skip


def test_mood_words_keep_only_moods_heard_above_the_floor_strongest_first() -> None:
    calm = track("calm", tags={"Mellow": 0.05, "chillout": 0.08, "chill": 0.01, "sad": 0.03})
    assert browse.mood_words(calm) == ["chill", "mellow"]  # chillout counts as chill
    assert browse.mood_words(calm, n=3) == ["chill", "mellow", "sad"]
    loud = track("loud", tags={"metal": 0.9, "beautiful": browse.MOOD_FLOOR / 2})
    assert browse.mood_words(loud) == []


def test_filters_combine_fields_and_match_any_value_within_one() -> None:
    tracks = [
        track("a", "rock", {"guitar": 0.5, "happy": 0.3}, 200, artist="The Band"),
        track("b", "jazz", {"jazz": 0.6, "sad": 0.2}, 40),
        track("c", "metal", {"metal": 0.7, "guitar": 0.4}, 300, artist="Loud"),
    ]
    names = lambda f: [Path(t.path).stem for t in browse.apply(tracks, f)]  # noqa: E731
    assert names(browse.TrackFilter()) == ["a", "b", "c"]
    assert names(browse.TrackFilter(genres=("rock", "metal"))) == ["a", "c"]
    assert names(browse.TrackFilter(tags=("guitar",), genres=("metal",))) == ["c"]
    assert names(browse.TrackFilter(moods=("sad", "happy"))) == ["a", "b"]
    assert names(browse.TrackFilter(text="the band")) == ["a"]
    assert names(browse.TrackFilter(text="b.ogg")) == ["b"]
    assert names(browse.TrackFilter(min_s=100, max_s=250)) == ["a"]
    assert browse.tag_choices(tracks)[0] == "guitar"  # on two tracks' top five
    rows = browse.table_rows(tracks)
    assert tuple(rows[0]) == browse.TABLE_COLUMNS
    assert rows[1]["Length (s)"] == 40 and rows[1]["Mood"] == "sad"


def test_uploads_are_kept_once_and_never_outside_the_folder(tmp_path: Path) -> None:
    first = browse.save_upload("../../song.ogg", b"one", tmp_path)
    assert first == tmp_path / "song.ogg" and first.read_bytes() == b"one"
    assert browse.save_upload("song.ogg", b"one", tmp_path) == first
    other = browse.save_upload("song.ogg", b"two", tmp_path)
    assert other == tmp_path / "song (2).ogg" and other.read_bytes() == b"two"
    assert browse.safe_name("..\\a<b>:c.mp3") == "a_b__c.mp3"
    assert browse.safe_name("...") == "upload"


def test_pca_finds_the_main_direction_with_a_fixed_orientation() -> None:
    rng = np.random.default_rng(0)
    along = np.linspace(-5, 5, 40)
    direction = rng.standard_normal(16)
    direction /= np.linalg.norm(direction)
    points = along[:, None] * direction + 0.01 * rng.standard_normal((40, 16))
    xy, explained = pca_2d(points)
    assert abs(np.corrcoef(xy[:, 0], along)[0, 1]) > 0.999
    assert explained[0] > 0.99 and explained[1] < 0.01
    mirrored, _ = pca_2d(-points)  # the same cloud flipped: same axes, so mirrored coordinates
    np.testing.assert_allclose(mirrored, -xy, atol=1e-9)
    again, _ = pca_2d(points[::-1])
    np.testing.assert_allclose(again, xy[::-1], atol=1e-9)
    assert pca_2d(points[:1])[0].tolist() == [[0.0, 0.0]]


def test_map_axes_are_named_by_the_tags_that_grow_along_them() -> None:
    values = np.arange(5, dtype=float)
    tracks = [
        track(f"t{i}", tags={"calm": 1 - i / 5, "loud": i / 5, "same": 0.3}) for i in range(5)
    ]
    assert end_words(values, tracks) == ("calm", "loud")
    embedded = [
        track(f"e{i}", tags=t.tags, embedding=np.array([i, 0, 0], dtype=np.float32))
        for i, t in enumerate(tracks)
    ]
    mapped = library_map([*embedded, track("none")])
    assert len(mapped.tracks) == 5  # the track without an embedding is left out
    assert mapped.axis_words[0] == ("calm", "loud")


def test_match_reason_is_plain_words() -> None:
    mine = track("m", "metal", {"metal": 0.9, "guitar": 0.5})
    same = Match(track("s", "metal", {"guitar": 0.6, "rock": 0.5}), 0.7)
    assert same.reason("metal", mine.top_tags()) == (
        "both metal; both sound like guitar · very close in sound (70%)"
    )
    other = Match(track("h", "hiphop", {"rnb": 0.5}), -0.2)
    assert other.reason("metal", mine.top_tags()) == (
        "hip-hop (yours: metal) · little in common, the nearest there is"
    )
    assert closeness(0.31).startswith("close") and closeness(0.0).startswith("somewhat")


def test_eta_text() -> None:
    assert eta_text(None) == ""
    assert eta_text(4.4) == "about 4 s left"
    assert eta_text(130) == "about 2 min 10 s left"


@pytest.mark.slow
def test_a_cancelled_run_stops_after_one_file_and_keeps_it(tmp_path: Path, gtzan_dir: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    for clip in ("blues/blues.00000.ogg", "rock/rock.00001.ogg", "pop/pop.00002.ogg"):
        shutil.copy(gtzan_dir / "audio" / clip, music)
    job = IndexJob(tmp_path / "lib.sqlite3", [music], Classifier(default_bundle_dir()))
    job.cancel()  # before it starts: the run stops after its first file, every time
    job.start()
    assert job.wait(timeout=600)
    state = job.state()
    assert not state.running and state.error is None and state.summary is not None
    assert state.summary.cancelled and state.summary.added == 1 and state.summary.tracks == 1
    assert (state.done, state.total) == (1, 3)
    with closing(connect(tmp_path / "lib.sqlite3")) as conn:
        assert len(store.tracks(conn)) == 1
