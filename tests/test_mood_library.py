"""Mood → library tracks: ranking from tag profiles on a real library of real clips, the CLI's
``local`` contract (real subprocesses, no network) and the Mood page playing library tracks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mutagen
import pytest
from streamlit.testing.v1 import AppTest

from genre.classifier import Classifier
from genre.library import store
from genre.library.indexer import index
from genre.library.schema import DB_NAME, connect
from genre.paths import default_bundle_dir
from mood.errors import MoodError
from mood.library import DEFAULT_PROFILES, EMPTY_HINT, library_tracks, rank_tracks
from tests.conftest import REPO_ROOT

GTZAN = ("metal/metal.00001.ogg", "classical/classical.00002.ogg", "disco/disco.00004.ogg")
BY_ARTIST = "Kevin_MacLeod_-_Vibe_Ace.ogg"  # tagged ARTIST=Kevin MacLeod in the file itself
SPANISH = "country.00006.ogg"  # a copy given a language tag below


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, gtzan_dir: Path) -> Path:
    """A real library (real indexer, real SQLite) of five real clips; returns the DB file."""
    root = tmp_path_factory.mktemp("mood-library")
    music = root / "music"
    music.mkdir()
    for clip in GTZAN:
        shutil.copy(gtzan_dir / "audio" / clip, music / Path(clip).name)
    shutil.copy(gtzan_dir.parent / "extra" / "music" / BY_ARTIST, music / BY_ARTIST)
    shutil.copy(gtzan_dir / "audio" / "country" / SPANISH, music / SPANISH)
    tagged = mutagen.File(music / SPANISH, easy=True)
    tagged["language"] = "spa"
    tagged["artist"] = "Los Ejemplos"
    tagged.save()
    db = root / DB_NAME
    conn = connect(db)
    summary = index(conn, [music], Classifier(default_bundle_dir()))
    assert summary.added == 5 and not summary.failed
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # one self-contained file to copy
    conn.close()
    return db


def mean_of(track: store.Track, tags: tuple[str, ...]) -> float:
    return sum(track.tags[t] for t in tags) / len(tags)


def test_ranking_is_the_mean_of_the_mood_profile_tags(library: Path) -> None:
    tracks = library_tracks(library)
    assert len(tracks) == 5
    by_path = {t.path: t for t in tracks}
    for emotion, profile in DEFAULT_PROFILES.items():
        ranked = rank_tracks(tracks, emotion, limit=10)
        assert len(ranked) == 5
        for local in ranked:
            expected = mean_of(by_path[local.file], profile)
            assert local.score == pytest.approx(expected, abs=1e-9)
            assert set(local.tags) == set(profile)
        assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    # what the model hears decides: the metal clip is the angry pick, and the last calm one
    assert Path(rank_tracks(tracks, "angry")[0].file).name == "metal.00001.ogg"
    assert Path(rank_tracks(tracks, "neutral")[-1].file).name == "metal.00001.ogg"
    assert len(rank_tracks(tracks, "happy", limit=2)) == 2


def test_edited_profiles_change_the_ranking_and_unknown_tags_are_named(library: Path) -> None:
    tracks = library_tracks(library)
    calm = rank_tracks(tracks, "happy", profiles={"happy": "metal, Heavy Metal"})
    assert Path(calm[0].file).name == "metal.00001.ogg"
    assert set(calm[0].tags) == {"metal", "heavy metal"}  # matched whatever the case
    with pytest.raises(MoodError, match=r"'cheerful' \(for happy\) is not a tag the model knows"):
        rank_tracks(tracks, "happy", profiles={"happy": "cheerful, party"})
    for cleared in (" , ", None):  # a table cell emptied on the page
        with pytest.raises(MoodError, match="at least one tag for 'sad'"):
            rank_tracks(tracks, "sad", profiles={"sad": cleared})


def test_chosen_artist_first_and_language_from_the_file_tags(library: Path) -> None:
    tracks = library_tracks(library)
    plain = rank_tracks(tracks, "angry")
    assert Path(plain[0].file).name != BY_ARTIST
    boosted = rank_tracks(tracks, "angry", artists=["kevin macleod"])
    assert Path(boosted[0].file).name == BY_ARTIST
    assert boosted[0].artist == "Kevin MacLeod" and "an artist you chose" in boosted[0].reason
    assert [r.file for r in boosted[1:]] == [r.file for r in plain if r.file != boosted[0].file]
    # tagged Spanish: left out of English recommendations, kept (and said) for Spanish
    english = {Path(r.file).name for r in rank_tracks(tracks, "sad", language="English")}
    assert SPANISH not in english and len(english) == 4  # untagged files stay
    spanish = rank_tracks(tracks, "sad", language="Spanish")
    assert len(spanish) == 5
    assert "tagged spa" in next(r.reason for r in spanish if r.file.endswith(SPANISH))
    instrumental = rank_tracks(tracks, "sad", language="Instrumental")
    assert "instrumental" in instrumental[0].tags and len(instrumental) == 5


def run_mood(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GENRE_STUDIO_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "mood", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def test_cli_recommends_from_the_library_offline(library: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(library, home / DB_NAME)  # the library in the data folder, as a user has it
    proc = run_mood("recommend", "--emotion", "angry", "--offline", "--json", home=home)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "links" and out["local_hint"] is None
    local = out["local"]
    assert len(local) == 4 and not any(t["file"].endswith(SPANISH) for t in local)  # English
    assert {"file", "title", "genre", "tags", "score"} <= set(local[0])
    assert Path(local[0]["file"]).name == "metal.00001.ogg" and local[0]["genre"] == "metal"
    assert set(local[0]["tags"]) == set(DEFAULT_PROFILES["angry"])
    assert [t["score"] for t in local] == sorted((t["score"] for t in local), reverse=True)
    # --n bounds the library list too; an artist tag from the file leads it
    args = ("--offline", "--json", "--n", "2", "--artist", "Kevin MacLeod", "--library")
    proc = run_mood("recommend", "--emotion", "angry", *args, str(library), home=tmp_path)
    local = json.loads(proc.stdout)["local"]
    assert [Path(t["file"]).name for t in local] == [BY_ARTIST, "metal.00001.ogg"]
    assert local[0]["title"] == "Vibe Ace"
    text = run_mood("recommend", "--emotion", "angry", "--offline", home=home)
    assert "from your music library (plays offline):" in text.stdout
    assert "metal.00001" in text.stdout


def test_cli_with_an_empty_library_gives_a_hint(tmp_path: Path) -> None:
    proc = run_mood("recommend", "--emotion", "happy", "--offline", "--json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["local"] == [] and out["local_hint"] == EMPTY_HINT
    assert "python -m genre library add FOLDER" in out["local_hint"]
    assert not (tmp_path / DB_NAME).exists()  # asking does not create a library
    proc = run_mood("recommend", "--emotion", "happy", "--timeout", "0", home=tmp_path)
    assert proc.returncode == 2 and "--timeout: 0 is not between 1 and 120" in proc.stderr


def test_mood_page_plays_library_tracks_for_a_picked_mood(
    library: Path, private_data_dir: Path
) -> None:
    shutil.copy(library, private_data_dir / DB_NAME)
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/mood.py")
    at.run()
    at.toggle(key="mood_offline").set_value(True)
    at.segmented_control(key="mood_mode").set_value("Pick a mood")
    at.run()
    at.selectbox(key="mood_pick").set_value("angry")
    at.run()
    assert not at.exception and not at.error
    assert at.subheader[0].value.endswith("Music for an angry mood")
    assert [t.label for t in at.tabs] == ["🎧 From your library (offline)", "▶️ YouTube (online)"]
    local_tab = at.tabs[0]
    lines = [m.value for m in local_tab.markdown]
    assert lines[0].startswith("**1. metal.00001**") and "metal" in lines[0]
    players = local_tab.get("audio")
    assert len(players) == 4  # every English-or-untagged track of this small library plays
    # the online option stays beside it: offline, the search links
    online = "\n".join(m.value for m in at.tabs[1].markdown)
    assert "search_query=calm+relaxing+English+songs" in online
    # the chosen language reaches the privacy note's example query
    at.selectbox(key="mood_language").set_value("Spanish")
    at.segmented_control(key="mood_mode").set_value("Snapshot")
    at.run()
    assert any("*calm relaxing Spanish songs*" in m.value for m in at.markdown)
