"""The data a visitor picks on the Training page, and the check of what it holds, on real data:
the shipped GTZAN clips and feature table, and folders of real clips in a private data folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from genre.training.compare import AUDIO_SOURCE, FEATURE_SOURCE
from genre.training.data_choices import (
    SHIPPED_CLIPS,
    SHIPPED_TABLE,
    TYPED,
    check_data,
    data_choices,
    datasets_dir,
    fingerprint,
    kind_of_path,
    resolve,
    shipped_table,
)

GTZAN_GENRES = "blues, classical, country, disco, hiphop, jazz, metal, pop, reggae, rock"


def real_clips(root: Path, gtzan_dir: Path, genres=("blues", "rock"), per_genre: int = 3) -> Path:
    """Copies of real GTZAN clips in genre folders, plus one corrupt file in the first."""
    for genre in genres:
        (root / genre).mkdir(parents=True)
        for i in range(per_genre):
            name = f"{genre}.{i:05d}.ogg"
            shutil.copy(gtzan_dir / "audio" / genre / name, root / genre / name)
    (root / genres[0] / f"{genres[0]}.00054.wav").write_bytes(b"RIFF\0\0\0\0WAVEjunk")
    return root


def test_the_shipped_data_comes_first_and_nothing_is_created(private_data_dir: Path) -> None:
    choices = data_choices()
    assert [c.key for c in choices] == [SHIPPED_TABLE, SHIPPED_CLIPS, TYPED]
    assert [c.kind for c in choices] == [FEATURE_SOURCE, AUDIO_SOURCE, None]
    assert choices[-1].label == "Another folder or table…"
    assert not datasets_dir().exists()  # listing creates no folder in the visitor's data


def test_the_shipped_clips_hold_100_tracks_in_10_genres(gtzan_dir: Path) -> None:
    (clips,) = [c for c in data_choices() if c.key == SHIPPED_CLIPS]
    assert clips.path == gtzan_dir / "audio"
    check = check_data(*resolve(clips))
    assert check.ok and check.tracks == 100 and len(check.genres) == 10
    assert check.message == f"Found 100 tracks in 10 genres ({GTZAN_GENRES})."
    assert check.suggestion is not None and check.suggestion[0] == "kfold"


def test_the_shipped_feature_table_holds_all_1000_tracks() -> None:
    (table,) = [c for c in data_choices() if c.key == SHIPPED_TABLE]
    assert resolve(table) == (FEATURE_SOURCE, str(shipped_table()))
    check = check_data(*resolve(table))
    assert check.ok and check.tracks == 1000
    assert check.message == f"Found 1000 tracks in 10 genres ({GTZAN_GENRES})."
    assert check.suggestion is not None and check.suggestion[0] == "filtered"


def test_a_table_with_incomplete_rows_says_which_were_left_out(tmp_path: Path) -> None:
    rows = pd.read_csv(shipped_table()).groupby("label").head(3).reset_index(drop=True)
    rows.loc[0, "tempo"] = None
    rows.to_csv(tmp_path / "mine.csv", index=False)
    check = check_data(*resolve(data_choices()[-1], f"  {tmp_path / 'mine.csv'}  "))
    assert check.ok and check.tracks == 29
    assert "Skipped 1 file(s): blues.00000.au (missing or non-numeric values)." in check.message


def test_a_folder_in_the_data_folder_is_offered_and_checked(gtzan_dir: Path) -> None:
    real_clips(datasets_dir() / "my songs", gtzan_dir)
    (mine,) = [c for c in data_choices() if c.key == "datasets/my songs"]
    assert mine.label == "Your folder “my songs”" and mine.kind == AUDIO_SOURCE
    assert [c.key for c in data_choices()][-1] == TYPED  # "another…" stays last
    check = check_data(*resolve(mine))
    assert check.ok and check.tracks == 6 and check.genres == ("blues", "rock")
    assert check.message.startswith("Found 6 tracks in 2 genres (blues, rock). Skipped 1 file(s)")
    assert "blues.00054.wav (unreadable" in check.message


def test_what_is_wrong_is_said_plainly(tmp_path: Path, gtzan_dir: Path) -> None:
    nowhere = tmp_path / "nowhere"
    assert check_data(AUDIO_SOURCE, str(nowhere)).message == f"The folder {nowhere} does not exist."
    assert not check_data(FEATURE_SOURCE, str(tmp_path / "x.csv")).ok
    (tmp_path / "empty").mkdir()
    empty = check_data(AUDIO_SOURCE, str(tmp_path / "empty"))
    assert not empty.ok and empty.message.startswith(f"No audio tracks found in {tmp_path}")
    one = real_clips(tmp_path / "one", gtzan_dir, genres=("jazz",))
    assert "only one class" in check_data(AUDIO_SOURCE, str(one)).message
    blank = check_data(*resolve(data_choices()[-1], "   "))
    assert not blank.ok and blank.message.startswith("Type the path")


def test_a_typed_path_is_read_as_a_table_or_a_folder(tmp_path: Path) -> None:
    assert kind_of_path(shipped_table()) == FEATURE_SOURCE
    assert kind_of_path(tmp_path / "not-yet.CSV") == FEATURE_SOURCE
    assert kind_of_path(tmp_path) == AUDIO_SOURCE
    assert kind_of_path(tmp_path / "missing") == AUDIO_SOURCE


def test_the_fingerprint_changes_when_genre_folders_come_or_go(
    tmp_path: Path, gtzan_dir: Path
) -> None:
    data = real_clips(tmp_path / "clips", gtzan_dir)
    before = fingerprint(str(data))
    assert before == fingerprint(str(data))  # nothing changed: a cached check is reused
    (data / "jazz").mkdir()
    assert fingerprint(str(data)) != before
    assert fingerprint(str(tmp_path / "nowhere")) == (0, 0)
