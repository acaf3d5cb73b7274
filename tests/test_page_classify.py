"""AppTest of the Classify page: upload, corrupt file, several files, recording."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from genre.labels import GTZAN_GENRES
from tests.conftest import REPO_ROOT, wav_bytes

CHART_COUNT_PER_TRACK = 3  # probability bars, genre timeline, spectrogram


def open_page() -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/classify.py")
    at.run()
    assert not at.exception
    return at


def plotly_charts(at: AppTest) -> list:
    return at.get("plotly_chart")


def shown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_empty_state_is_friendly() -> None:
    at = open_page()
    assert at.title[0].value == "🎧 Classify"
    assert any("Drop files here" in c.value for c in at.caption)
    assert not at.error


def test_upload_a_wav_shows_genre_and_charts(gtzan_dir: Path) -> None:
    at = open_page()
    clip = (gtzan_dir / "audio" / "classical" / "classical.00003.ogg").read_bytes()
    at.file_uploader(key="uploads").set_value(("classical.ogg", clip, "audio/ogg"))
    at.run()
    assert not at.exception
    assert not at.error
    headings = [m.value for m in at.markdown if m.value.startswith("<h2")]
    assert len(headings) == 1
    assert any(g.capitalize() in headings[0] for g in ["Hip-hop", *GTZAN_GENRES])
    assert len(plotly_charts(at)) == CHART_COUNT_PER_TRACK
    assert any("confident" in p.proto.text for p in at.get("progress"))


def test_corrupt_file_shows_an_error_not_an_exception() -> None:
    at = open_page()
    at.file_uploader(key="uploads").set_value(("broken.wav", b"RIFF" + bytes(40), "audio/wav"))
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    assert "broken.wav" in at.error[0].value
    assert "damaged or truncated" in at.error[0].value


def test_two_files_and_a_bad_one_give_a_table(gtzan_dir: Path) -> None:
    at = open_page()
    files = [
        ("metal.ogg", (gtzan_dir / "audio/metal/metal.00001.ogg").read_bytes(), "audio/ogg"),
        ("tone.wav", wav_bytes(seconds=4), "audio/wav"),
        ("empty.wav", b"", "audio/wav"),
    ]
    at.file_uploader(key="uploads").set_value(files)
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["file"]) == ["metal.ogg", "tone.wav", "empty.wav"]
    assert list(table["status"][:2]) == ["ok", "ok"]
    assert "empty" in table["status"][2]
    assert len(at.get("download_button")) == 1
    assert len(plotly_charts(at)) == 2 * CHART_COUNT_PER_TRACK
    assert len(at.error) == 1


@pytest.mark.parametrize("seconds", [12])
def test_recording_is_classified(seconds: int) -> None:
    at = open_page()
    recorder = at.audio_input(key="recording")
    assert recorder.sample_rate == 44100
    recorder.set_value(("recording.wav", wav_bytes(seconds=seconds, rate=44100), "audio/wav"))
    at.run()
    assert not at.exception
    assert any(m.value.startswith("<h2") for m in at.markdown)
    assert len(plotly_charts(at)) == CHART_COUNT_PER_TRACK
