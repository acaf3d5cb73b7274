"""Dataset discovery on synthesized folder trees, and spectrogram caching on real files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from genre.datasets import discover
from genre.errors import DatasetError
from genre.training.cache import cache_dir
from genre.training.data import load_audio_dataset, load_feature_table
from genre.training.frontend import make_frontend
from tests.conftest import tone

RATE = 22050


def write_clip(path: Path, freq: float, seconds: float = 3.5, fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, tone(seconds, RATE, freq=freq)[:, 0], RATE, format=fmt)
    return path


def write_tiny_dataset(root: Path, classes: int = 3, per_class: int = 4, seconds: float = 3.5):
    """Class folders of WAV tones, each class at its own pitch, GTZAN-style names."""
    genres = ["blues", "classical", "country", "disco"][:classes]
    for c, genre in enumerate(genres):
        for i in range(per_class):
            write_clip(root / genre / f"{genre}.{i:05d}.wav", 110.0 * 2 ** (c + i / 12), seconds)
    return root


def test_kaggle_layout(tmp_path: Path) -> None:
    for genre in ("blues", "metal"):
        for i in (0, 1, 12):
            write_clip(tmp_path / "Data" / "genres_original" / genre / f"{genre}.{i:05d}.wav", 220)
    found = discover(tmp_path)
    assert found.layout == "kaggle"
    assert found.counts() == {"blues": 3, "metal": 3}
    assert sorted({t.number for t in found.tracks}) == [0, 1, 12]
    assert found.tracks[0].gtzan_key == "blues/blues.00000"
    assert found.is_gtzan and not found.skipped


def test_original_tarball_layout_with_au_files(tmp_path: Path) -> None:
    for genre in ("jazz", "rock"):
        for i in range(2):
            write_clip(tmp_path / "genres" / genre / f"{genre}.{i:05d}.au", 330, fmt="AU")
    found = discover(tmp_path)
    assert found.layout == "gtzan-original"
    assert found.counts() == {"jazz": 2, "rock": 2}
    assert all(t.path.suffix == ".au" for t in found.tracks)


def test_any_class_folders_with_other_formats(tmp_path: Path) -> None:
    write_clip(tmp_path / "calm" / "morning.flac", 220, fmt="FLAC")
    write_clip(tmp_path / "calm" / "evening.ogg", 240, fmt="OGG")
    write_clip(tmp_path / "loud" / "take 3.wav", 440)
    found = discover(tmp_path)
    assert found.layout == "class-folders"
    assert found.counts() == {"calm": 2, "loud": 1}
    assert not found.is_gtzan


def test_the_shared_clips(gtzan_dir: Path) -> None:
    found = discover(gtzan_dir)
    assert len(found.tracks) == 100 and len(found.genres) == 10
    assert found.is_gtzan


def test_corrupt_empty_and_stray_files_are_listed_never_fatal(tmp_path: Path) -> None:
    write_tiny_dataset(tmp_path, classes=2, per_class=2)
    (tmp_path / "blues" / "jazz.00054.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    (tmp_path / "blues" / "silence.wav").write_bytes(b"")
    (tmp_path / "blues" / "notes.txt").write_text("liner notes")
    (tmp_path / "classical" / "cover.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / "classical" / ".DS_Store").write_bytes(b"junk")
    (tmp_path / "reggae").mkdir()  # an empty class
    found = discover(tmp_path)
    assert found.counts() == {"blues": 2, "classical": 2}
    reasons = {p.name: why for p, why in found.skipped}
    assert reasons["jazz.00054.wav"].startswith("unreadable")
    assert reasons["silence.wav"] == "empty file"
    assert reasons["notes.txt"] == reasons["cover.jpg"] == "not an audio file"
    assert ".DS_Store" not in reasons
    assert found.empty_classes == ["reggae"]


@pytest.mark.timeout(60)  # a FIFO that is opened blocks: fail fast rather than hang
def test_broken_links_and_fifos_are_listed_with_their_reason(tmp_path: Path) -> None:
    write_tiny_dataset(tmp_path, classes=2, per_class=2)
    (tmp_path / "blues" / "dead.wav").symlink_to(tmp_path / "gone.wav")
    (tmp_path / "blues" / "loop.wav").symlink_to(tmp_path / "blues" / "loop.wav")
    os.mkfifo(tmp_path / "classical" / "pipe.wav")
    (tmp_path / "country").symlink_to(tmp_path / "moved-away")  # a class folder that is gone
    found = discover(tmp_path)
    assert found.counts() == {"blues": 2, "classical": 2}
    reasons = {p.name: why for p, why in found.skipped}
    assert reasons == {
        "dead.wav": f"a broken symbolic link: it points to {tmp_path / 'gone.wav'}, which does "
        "not exist",
        "loop.wav": "a symbolic link loop: following its links never reaches a file",
        "pipe.wav": "a named pipe (FIFO), not a regular file",
        "country": f"a broken symbolic link: it points to {tmp_path / 'moved-away'}, which "
        "does not exist",
    }
    for track in list(tmp_path.glob("*/*.0000?.wav")):
        track.unlink()  # nothing usable left: the error still names what was there
    with pytest.raises(DatasetError) as refused:
        discover(tmp_path)
    assert "Skipped 4 file(s): country (a broken symbolic link" in str(refused.value)
    assert "pipe.wav (a named pipe (FIFO), not a regular file)" in str(refused.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_an_unreadable_sub_folder_is_listed_with_its_reason(tmp_path: Path) -> None:
    write_tiny_dataset(tmp_path, classes=2, per_class=2)
    write_clip(tmp_path / "blues" / "live" / "blues.00042.wav", 220)
    locked = [tmp_path / "blues" / "live", tmp_path / "classical"]  # a sub-folder, a class
    for folder in locked:
        folder.chmod(0)
    try:
        found = discover(tmp_path)
    finally:
        for folder in locked:
            folder.chmod(0o755)
    assert found.counts() == {"blues": 2}
    assert found.empty_classes == ["classical"]
    reasons = {p.name: why for p, why in found.skipped}
    assert reasons == {
        "live": "folder cannot be read: permission denied",
        "classical": "folder cannot be read: permission denied",
    }


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "does not exist"),
        (lambda p: write_clip(p / "one.wav", 220), "is a file, not a folder"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "No audio tracks found"),
    ],
)
def test_bad_paths_give_clear_messages(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        discover(make(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_unreadable_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        with pytest.raises(DatasetError, match="cannot be read"):
            discover(locked)
    finally:
        locked.chmod(0o755)


def test_spectrograms_are_cached_and_undecodable_files_skipped(tmp_path: Path) -> None:
    root = write_tiny_dataset(tmp_path / "data", classes=2, per_class=2)
    (root / "blues" / "blues.00009.m4a").write_bytes(b"\x00" * 64)  # not checked by discover
    frontend = make_frontend("mel", RATE, 2048, 512, 64)
    first = load_audio_dataset(root, frontend)
    assert first.n_tracks == 4 and first.cache_hits == 0
    assert [Path(p).name for p, _ in first.skipped] == ["blues.00009.m4a"]
    assert first.spectrograms[0].shape[0] == 64 and first.spectrograms[0].dtype == np.float16
    assert len(list(cache_dir(frontend).glob("*.npy"))) == 4
    second = load_audio_dataset(root, frontend)
    assert second.cache_hits == 4
    pairs = zip(first.spectrograms, second.spectrograms, strict=True)
    assert all(np.array_equal(a, b) for a, b in pairs)
    other = make_frontend("stft", RATE, 2048, 512, 64)  # another front-end: another key
    assert load_audio_dataset(root, other).cache_hits == 0
    assert cache_dir(other) != cache_dir(frontend)


def test_feature_table_groups_segment_rows_by_track(tmp_path: Path) -> None:
    table = tmp_path / "features_3_sec.csv"
    lines = ["filename,length,f1,f2,label"]
    for genre in ("blues", "rock"):
        for track in range(3):
            for segment in range(2):
                lines.append(f"{genre}.{track:05d}.{segment}.wav,66149,{track},{segment},{genre}")
    lines.append("rock.00009.0.wav,66149,,1,rock")  # incomplete row: skipped
    table.write_text("\n".join(lines) + "\n")
    data = load_feature_table(table)
    assert data.n_tracks == 6 and data.features.shape == (12, 2)
    assert data.keys[0] == "blues/blues.00000"
    assert np.bincount(data.row_track).tolist() == [2] * 6
    assert [why for _, why in data.skipped] == ["missing or non-numeric values"]


def test_feature_table_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,value\na,1\n")
    with pytest.raises(DatasetError, match="lacks the column"):
        load_feature_table(bad)
    with pytest.raises(DatasetError, match="does not exist"):
        load_feature_table(tmp_path / "nope.csv")
    with pytest.raises(DatasetError, match="is a folder"):
        load_feature_table(tmp_path)
