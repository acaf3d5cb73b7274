"""AppTest of the Library page on real clips and a real SQLite library.

One library is indexed from the page once per module (six shared clips and a corrupt file, in
a folder of their own); the other tests browse it. Page tests open the page file itself:
AppTest does not deliver form submits after ``switch_page()``.
"""

from __future__ import annotations

import json
import shutil
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from genre.classifier import Classifier
from genre.library import catalog, store
from genre.library.analysis import bundle_id
from genre.library.schema import connect
from genre.library.similarity import similar
from genre.paths import active_bundle_dir
from genre.verdict import display_name
from tests.conftest import REPO_ROOT

CLIPS = (
    "blues/blues.00000.ogg",
    "metal/metal.00001.ogg",
    "metal/metal.00002.ogg",
    "classical/classical.00002.ogg",
    "jazz/jazz.00004.ogg",
    "pop/pop.00004.ogg",
)
INDEX_WAIT_S = 900  # generous: indexing shares two cores with everything else
VIEWS = {"map": "🗺️ Map", "table": "📋 Tracks", "similar": "🔎 More like this"}


def open_page() -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app_pages" / "library.py"), default_timeout=180)
    at.run()
    assert not at.exception
    return at


def wait_for_summary(at: AppTest) -> AppTest:
    """Rerun (as the page's progress section does each second) until the run has ended."""
    deadline = time.monotonic() + INDEX_WAIT_S
    while not (at.success or at.error or any("Stopped" in i.value for i in at.info)):
        assert time.monotonic() < deadline, "indexing did not finish"
        assert not at.exception, at.exception
        time.sleep(2)
        at.run()
    return at


@dataclass
class Indexed:
    home: Path
    music: Path
    summary: list[str]
    warnings: list[str]
    details: str
    progress_seen: bool


def library_tracks(home: Path) -> list[store.Track]:
    with closing(connect(home / "library.sqlite3")) as conn:
        return store.tracks(conn)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, gtzan_dir: Path) -> Indexed:
    home = tmp_path_factory.mktemp("library-home")
    music = tmp_path_factory.mktemp("library-music")
    for clip in CLIPS:
        shutil.copy(gtzan_dir / "audio" / clip, music / Path(clip).name)
    (music / "broken.ogg").write_bytes(b"OggS" + bytes(300))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GENRE_STUDIO_HOME", str(home))
        at = open_page()
        empty = " ".join(i.value for i in at.info)
        assert "library is empty" in empty and "folder" in empty
        # shown outright, not in a section that could start folded (the browser keeps that)
        assert not [e for e in at.expander if "Add music" in e.label]
        at.text_input(key="library_folder").input(str(music))
        next(b for b in at.button if b.label == "Add this folder").click()
        at.run()
        progress_seen = bool(at.get("progress"))
        wait_for_summary(at)
        return Indexed(
            home=home,
            music=music,
            summary=[s.value for s in at.success],
            warnings=[w.value for w in at.warning],
            details="\n".join(m.value for m in at.markdown),
            progress_seen=progress_seen,
        )


@pytest.fixture
def library_home(indexed: Indexed, monkeypatch: pytest.MonkeyPatch) -> Indexed:
    monkeypatch.setenv("GENRE_STUDIO_HOME", str(indexed.home))
    return indexed


def show(at: AppTest, view: str) -> AppTest:
    at.session_state["library_view"] = VIEWS[view]
    at.run()
    assert not at.exception
    return at


def test_indexing_from_the_page_adds_the_clips_and_names_the_corrupt_file(
    indexed: Indexed,
) -> None:
    assert indexed.progress_seen
    assert indexed.summary == [f"Added {len(CLIPS)} new tracks, updated 0, 0 already up to date."]
    assert indexed.warnings == ["1 file(s) could not be added:"]
    assert "`broken.ogg`:" in indexed.details
    tracks = library_tracks(indexed.home)
    assert sorted(Path(t.path).name for t in tracks) == sorted(Path(c).name for c in CLIPS)


def test_the_same_folder_again_is_unchanged(library_home: Indexed) -> None:
    at = open_page()
    at.text_input(key="library_folder").input(str(library_home.music))
    next(b for b in at.button if b.label == "Add this folder").click()
    at.run()
    wait_for_summary(at)
    assert at.success[0].value.startswith(f"Added 0 new tracks, updated 0, {len(CLIPS)} already")


def test_a_missing_folder_is_said_plainly(library_home: Indexed) -> None:
    at = open_page()
    at.text_input(key="library_folder").input(str(library_home.music / "nope"))
    next(b for b in at.button if b.label == "Add this folder").click()
    at.run()
    assert [e.value for e in at.error] == [
        f"There is no folder or file at {library_home.music / 'nope'} on this computer."
    ]


def test_filters_narrow_the_table_and_ticked_rows_play(library_home: Indexed) -> None:
    tracks = library_tracks(library_home.home)
    at = show(open_page(), "table")
    assert len(at.dataframe[0].value) == len(tracks)
    at.multiselect(key="filter_genres").set_value(["metal"]).run()
    table = at.dataframe[0].value
    metal = [t for t in tracks if t.genre == "metal"]
    assert len(metal) >= 1
    assert list(table["Genre"]) == [display_name("metal")] * len(metal)
    assert f"Showing {len(metal)} of {len(tracks)} tracks." in [c.value for c in at.caption]
    at.multiselect(key="filter_genres").set_value([]).run()
    at.text_input(key="filter_text").input("jazz.0000").run()
    assert list(at.dataframe[0].value["Title"]) == ["jazz.00004"]
    at.text_input(key="filter_text").input("").run()
    at.session_state["library_table"] = {"selection": {"rows": [0, 2], "columns": []}}
    at.run()
    assert len(at.get("audio")) == 2
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download as a playlist (M3U)", "Download as a table (CSV)"]


def test_more_like_this_lists_the_others_with_reasons(library_home: Indexed) -> None:
    tracks = library_tracks(library_home.home)
    metal = next(t for t in tracks if Path(t.path).name == "metal.00001.ogg")
    at = show(open_page(), "similar")
    at.selectbox(key="similar_pick").set_value(metal.path).run()
    assert not at.exception
    expected = similar(metal.embedding, tracks, k=10, exclude=metal.path)
    names = [m.value for m in at.markdown if m.value.startswith("**") and "." in m.value]
    assert names == [f"**{m.track.name}**" for m in expected]
    assert len(names) == len(tracks) - 1
    reasons = [c.value for c in at.caption if "(yours:" in c.value or c.value.startswith("both")]
    assert reasons == [m.reason(metal.genre, metal.top_tags()) for m in expected]
    assert len(at.get("audio")) == len(expected)


def test_more_like_this_from_an_upload_does_not_add_it(
    library_home: Indexed, gtzan_dir: Path
) -> None:
    before = len(library_tracks(library_home.home))
    at = show(open_page(), "similar")
    at.radio(key="similar_source").set_value("A track you upload").run()
    clip = (gtzan_dir / "audio" / "metal" / "metal.00004.ogg").read_bytes()
    at.file_uploader(key="similar_upload").set_value(("mine.ogg", clip, "audio/ogg")).run()
    assert not at.exception and not at.error
    assert len(at.get("audio")) == before
    assert len(library_tracks(library_home.home)) == before
    assert any(c.value.startswith("Up to ") and "add its folder" in c.value for c in at.caption)


def test_the_map_shows_every_track_coloured_by_genre(library_home: Indexed) -> None:
    tracks = library_tracks(library_home.home)
    at = open_page()  # the map is the first view
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    figure = json.loads(charts[0].proto.spec)
    shown = [row[0] for trace in figure["data"] for row in trace["customdata"]]
    assert sorted(shown) == sorted(t.path for t in tracks)
    legend = {trace["name"] for trace in figure["data"]}
    assert legend == {display_name(t.genre or "?") for t in tracks}
    assert "Click a dot to hear the track" in " ".join(c.value for c in at.caption)


def test_typing_narrows_the_more_like_this_pick_list(library_home: Indexed) -> None:
    at = show(open_page(), "similar")
    at.text_input(key="similar_find").input("METAL.0000").run()
    options = at.selectbox(key="similar_pick").options
    assert len(options) == 2 and all(o.startswith("metal.0000") for o in options)
    at.text_input(key="similar_find").input("no such song").run()
    assert any("contains “no such song”" in i.value for i in at.info)
    assert not at.selectbox


def test_a_large_library_map_draws_a_fixed_sample_and_says_so(
    library_home: Indexed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog, "MAP_POINTS", 3)
    tracks = library_tracks(library_home.home)
    drawn = []
    for _ in range(2):
        at = open_page()
        figure = json.loads(at.get("plotly_chart")[0].proto.spec)
        drawn.append(sorted(row[0] for trace in figure["data"] for row in trace["customdata"]))
        captions = " ".join(c.value for c in at.caption)
        assert f"a sample of 3 of these {len(tracks)} tracks" in captions
    assert len(drawn[0]) == 3 and drawn[0] == drawn[1]


def test_tracks_of_an_older_model_are_reanalysed_from_the_page(library_home: Indexed) -> None:
    current = bundle_id(Classifier(active_bundle_dir()))
    older = sorted(t.path for t in library_tracks(library_home.home))[:2]
    with closing(connect(library_home.home / "library.sqlite3")) as conn, conn:
        conn.executemany(
            "UPDATE tracks SET bundle = 'musicnn-older@2025-01-01' WHERE path = ?",
            [(p,) for p in older],
        )
    at = open_page()
    notice = " ".join(m.value for m in at.markdown)
    assert "**2 tracks were analysed by an older model**" in notice
    at.button(key="library_reanalyse").click()
    at.run()
    assert not at.exception
    progress_seen = bool(at.get("progress"))
    wait_for_summary(at)
    assert progress_seen
    assert at.success[0].value == "Added 0 new tracks, updated 2, 0 already up to date."
    after = {t.path: t for t in library_tracks(library_home.home)}
    assert {after[p].bundle for p in older} == {current}
    assert all(t.bundle == current for t in after.values())
    again = open_page()
    assert "older model" not in " ".join(m.value for m in again.markdown)
    assert "library_reanalyse" not in [b.key for b in again.button]


def test_uploaded_files_are_kept_in_the_data_folder_and_added(
    library_home: Indexed, gtzan_dir: Path
) -> None:
    before = len(library_tracks(library_home.home))
    at = open_page()
    limit = [c.value for c in at.caption if c.value.startswith("Up to ")]
    assert limit and "add the folder they are in" in limit[0]  # the upload limit, in words
    clip = (gtzan_dir / "audio" / "country" / "country.00001.ogg").read_bytes()
    at.file_uploader(key="library_uploads").set_value(("my song.ogg", clip, "audio/ogg")).run()
    next(b for b in at.button if b.label == "Add these files").click()
    at.run()
    wait_for_summary(at)
    assert at.success[0].value.startswith("Added 1 new track,")
    kept = library_home.home / "music" / "my song.ogg"
    assert kept.read_bytes() == clip
    tracks = library_tracks(library_home.home)
    assert len(tracks) == before + 1 and str(kept) in {t.path for t in tracks}
