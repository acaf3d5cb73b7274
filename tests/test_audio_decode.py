"""Decoding edge cases on files synthesized here: formats, bit depths, channels, rates, damage."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio import AudioError, load_audio
from tests.conftest import tone, wav_bytes


def encode(fmt: str, subtype: str | None, rate: int = 22050, channels: int = 1, seconds=2.0):
    buffer = io.BytesIO()
    sf.write(buffer, tone(seconds, rate, channels), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "subtype"),
    [
        ("WAV", "PCM_U8"),
        ("WAV", "PCM_16"),
        ("WAV", "PCM_24"),
        ("WAV", "PCM_32"),
        ("WAV", "FLOAT"),
        ("WAV", "DOUBLE"),
        ("FLAC", "PCM_16"),
        ("FLAC", "PCM_24"),
        ("OGG", "VORBIS"),
        ("MP3", "MPEG_LAYER_III"),
        ("AU", "PCM_16"),
        ("AU", "FLOAT"),
    ],
)
def test_each_format_and_bit_depth_decodes_to_the_same_tone(fmt: str, subtype: str) -> None:
    audio = load_audio(encode(fmt, subtype), name=f"tone.{fmt.lower()}")
    assert audio.sample_rate == 22050
    assert audio.samples.dtype == np.float32
    assert abs(audio.duration_s - 2.0) < 0.1  # MP3 adds encoder padding
    reference = tone(2.0)[:, 0]
    # The tone's level survives every codec (8-bit and lossy ones within a few per cent).
    rms, ref_rms = float(np.sqrt(np.mean(audio.samples**2))), float(np.sqrt(np.mean(reference**2)))
    assert rms == pytest.approx(ref_rms, rel=0.05)


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_channels_are_mixed_down_to_mono(channels: int) -> None:
    audio = load_audio(wav_bytes(channels=channels))
    assert audio.samples.ndim == 1
    assert audio.channels == channels
    expected = tone(3.0, channels=channels).mean(axis=1)
    assert np.allclose(audio.samples, expected, atol=1e-3)


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 44100, 48000, 96000])
def test_any_rate_is_resampled_to_the_requested_rate(rate: int) -> None:
    audio = load_audio(wav_bytes(seconds=2.0, rate=rate), sample_rate=22050)
    assert audio.source_sample_rate == rate
    assert audio.sample_rate == 22050
    assert abs(len(audio.samples) - 2 * 22050) <= 2
    spectrum = np.abs(np.fft.rfft(audio.samples))
    peak_hz = np.argmax(spectrum) * 22050 / len(audio.samples)
    assert peak_hz == pytest.approx(440, abs=2)


def test_empty_file_is_rejected() -> None:
    with pytest.raises(AudioError, match="empty"):
        load_audio(b"", name="empty.wav")


@pytest.fixture
def ffmpeg() -> str:
    """ffmpeg on PATH (``make test`` installs Debian's); CI must not skip what needs it."""
    found = shutil.which("ffmpeg")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("ffmpeg is missing in CI: `make test` installs it (make system-deps)")
        pytest.skip("ffmpeg is not installed (make system-deps)")
    return found


@pytest.fixture
def without_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH with no ffmpeg on it, as on a machine where it was never installed."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("ffmpeg") is None


def encode_with_ffmpeg(
    ffmpeg: str, folder: Path, suffix: str, codec: list[str], seconds: float = 3.0
) -> Path:
    source, target = folder / "source.wav", folder / f"tone{suffix}"
    source.write_bytes(wav_bytes(seconds=seconds, rate=22050, channels=2))
    subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(source), *codec, str(target)],
                   check=True, timeout=120)  # fmt: skip
    return target


FFMPEG_ONLY = {
    ".m4a": (["-c:a", "aac", "-b:a", "32k"], "MP4/M4A/AAC"),
    ".webm": (["-c:a", "libopus", "-b:a", "24k"], "WebM/Matroska"),
    ".wma": (["-c:a", "wmav2", "-b:a", "32k"], "WMA/ASF"),
}
NON_AUDIO = [b"%PDF-1.7 this is a document, not music" * 20, b"hello, this is text" * 100]


@pytest.mark.parametrize("data", NON_AUDIO, ids=["pdf", "text"])
def test_non_audio_bytes_are_rejected_clearly_with_ffmpeg(ffmpeg: str, data: bytes) -> None:
    with pytest.raises(AudioError, match="doc is not a recognised audio file") as caught:
        load_audio(data, name="doc")
    assert "ffmpeg" not in str(caught.value).split("(")[0]
    assert "Invalid data" in (caught.value.detail or "")  # ffmpeg's reason, for the log only


@pytest.mark.parametrize("data", NON_AUDIO, ids=["pdf", "text"])
def test_non_audio_bytes_are_rejected_clearly_without_ffmpeg(
    without_ffmpeg: None, data: bytes
) -> None:
    with pytest.raises(AudioError, match="doc is not a recognised audio file"):
        load_audio(data, name="doc")


@pytest.mark.parametrize("suffix", FFMPEG_ONLY)
def test_formats_soundfile_cannot_read_are_decoded_by_ffmpeg(
    ffmpeg: str, tmp_path: Path, suffix: str
) -> None:
    codec, kind = FFMPEG_ONLY[suffix]
    path = encode_with_ffmpeg(ffmpeg, tmp_path, suffix, codec)
    with pytest.raises(sf.LibsndfileError):
        sf.info(str(path))  # really a format libsndfile does not read
    audio = load_audio(path, sample_rate=22050)
    assert audio.format == kind
    assert audio.channels == 2
    assert audio.duration_s == pytest.approx(3.0, abs=0.1)
    assert not audio.warnings
    spectrum = np.abs(np.fft.rfft(audio.samples))
    assert np.argmax(spectrum) * 22050 / len(audio.samples) == pytest.approx(440, abs=2)


@pytest.mark.parametrize("suffix", FFMPEG_ONLY)
def test_format_that_needs_ffmpeg_names_it_when_ffmpeg_is_missing(
    ffmpeg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    codec, kind = FFMPEG_ONLY[suffix]
    data = encode_with_ffmpeg(ffmpeg, tmp_path, suffix, codec).read_bytes()
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg there
    message = rf"The format of song{suffix} \({kind}\) is not supported; install ffmpeg"
    with pytest.raises(AudioError, match=message):
        load_audio(data, name=f"song{suffix}")


def test_long_file_decoded_by_ffmpeg_is_cut_and_says_so(ffmpeg: str, tmp_path: Path) -> None:
    path = encode_with_ffmpeg(ffmpeg, tmp_path, ".m4a", ["-c:a", "aac", "-b:a", "16k"], 20.0)
    audio = load_audio(path, sample_rate=16000, max_minutes=0.1)  # 6 s of 20 s
    assert audio.duration_s == pytest.approx(6.0, abs=0.01)
    assert audio.source_duration_s == pytest.approx(20.0, abs=0.2)
    assert audio.was_cut
    assert audio.warnings == ["Only the first 0.1 min of 0.3 min were analysed."]


def test_damaged_ffmpeg_only_file_is_reported_as_damaged(ffmpeg: str, tmp_path: Path) -> None:
    codec, _ = FFMPEG_ONLY[".m4a"]
    data = encode_with_ffmpeg(ffmpeg, tmp_path, ".m4a", codec).read_bytes()
    with pytest.raises(AudioError, match="looks like an MP4/M4A/AAC file but is damaged"):
        load_audio(data[: len(data) // 3], name="cut.m4a")


def test_damaged_header_is_reported_as_damaged() -> None:
    data = bytearray(wav_bytes())
    data[8:16] = b"XXXXXXXX"  # destroy WAVE/fmt markers
    with pytest.raises(AudioError, match="damaged or truncated"):
        load_audio(bytes(data), name="broken.wav")


def test_file_cut_inside_its_header_is_reported() -> None:
    with pytest.raises(AudioError, match="damaged or truncated"):
        load_audio(wav_bytes()[:30], name="cut.wav")


def test_truncated_data_is_decoded_with_a_warning() -> None:
    data = wav_bytes(seconds=4.0)
    audio = load_audio(data[: len(data) // 2], name="half.wav")
    assert 1.5 < audio.duration_s < 2.5
    assert any("truncated" in w for w in audio.warnings)


def cut(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


@pytest.mark.parametrize(
    ("fmt", "subtype"), [("FLAC", "PCM_16"), ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")]
)
def test_compressed_file_cut_in_half_is_decoded_with_a_warning(fmt: str, subtype: str) -> None:
    audio = load_audio(cut(encode(fmt, subtype, seconds=6.0), 0.5), name=f"half.{fmt}")
    assert 1.5 < audio.duration_s < 4.5
    assert any("truncated" in w for w in audio.warnings), audio.warnings
    assert audio.source_duration_s == pytest.approx(audio.duration_s, abs=0.05)


@pytest.mark.parametrize(
    ("fmt", "subtype"), [("FLAC", "PCM_16"), ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")]
)
def test_compressed_file_cut_early_is_rejected_as_truncated(fmt: str, subtype: str) -> None:
    with pytest.raises(AudioError, match="truncated"):
        load_audio(cut(encode(fmt, subtype, seconds=6.0), 0.1), name=f"cut.{fmt}")
    with pytest.raises(AudioError, match="damaged or truncated"):
        load_audio(cut(encode(fmt, subtype, seconds=6.0), 0.02), name=f"cut.{fmt}")


def test_whole_compressed_files_carry_no_truncation_warning() -> None:
    for fmt, subtype in [("FLAC", "PCM_16"), ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")]:
        assert not load_audio(encode(fmt, subtype, seconds=6.0)).warnings


def test_too_short_is_rejected_with_its_length() -> None:
    with pytest.raises(AudioError, match=r"too short: 0\.50 s"):
        load_audio(wav_bytes(seconds=0.5), name="blip.wav")


def test_silence_is_rejected() -> None:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(22050 * 2, dtype=np.float32), 22050, format="WAV")
    with pytest.raises(AudioError, match="silent"):
        load_audio(buffer.getvalue(), name="quiet.wav")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "+inf", "-inf"])
def test_non_finite_samples_are_rejected(bad: float) -> None:
    samples = tone(2.0)[:, 0].copy()
    samples[1000] = bad
    buffer = io.BytesIO()
    sf.write(buffer, samples, 22050, format="WAV", subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN or infinity"):
        load_audio(buffer.getvalue(), name="nan.wav")


def test_long_files_are_cut_and_say_so() -> None:
    audio = load_audio(wav_bytes(seconds=12.0), max_minutes=0.1)  # 6 s
    assert audio.duration_s == pytest.approx(6.0, abs=0.01)
    assert audio.was_cut
    assert any("first 0.1 min" in w for w in audio.warnings)


def test_container_that_needs_ffmpeg_names_it(without_ffmpeg: None) -> None:
    fake_m4a = b"\x00\x00\x00\x20ftypM4A " + bytes(2000)
    with pytest.raises(AudioError, match=r"\(MP4/M4A/AAC\) is not supported; install ffmpeg"):
        load_audio(fake_m4a, name="song.m4a")


@pytest.mark.parametrize(
    "name", ["späte Lieder – №1.wav", "with spaces.wav", "no_extension", ".hidden.wav"]
)
def test_odd_file_names_are_read_from_disk(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(wav_bytes())
    assert load_audio(path).duration_s == pytest.approx(3.0, abs=0.01)


def test_missing_path_and_folder_are_clear(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="File not found"):
        load_audio(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="is a folder"):
        load_audio(tmp_path)


def test_file_objects_are_accepted() -> None:
    assert load_audio(io.BytesIO(wav_bytes())).duration_s == pytest.approx(3.0, abs=0.01)


def test_real_gtzan_clip_decodes(gtzan_clip: Path) -> None:
    audio = load_audio(gtzan_clip, sample_rate=16000)
    assert 29.5 < audio.duration_s < 30.5
    assert audio.format.startswith("OGG")
