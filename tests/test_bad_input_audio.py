"""Hostile input to the decoder: clear errors at once, bounded memory, and fuzzing.

The file cases run in a child process under a timeout and an address-space limit, so a hang or
an unbounded read fails the test instead of the machine.
"""

from __future__ import annotations

import functools
import io
import json
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audio import MAX_FILE_MB_ENV, MIN_SECONDS, Audio, AudioError, load_audio
from tests.conftest import REPO_ROOT, wav_bytes

ADDRESS_SPACE = 1536 * 2**20  # the child may map at most 1.5 GB
SPARSE_SIZE = 4 * 2**30
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def sparse_wav_with_header(path: Path) -> None:
    """A 4 GB WAV whose header declares ~4 GB of 48 kHz stereo; the data is a hole of zeros."""
    rate, channels, bits = 48000, 2, 16
    align = channels * bits // 8
    size = SPARSE_SIZE - 44
    fmt = struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * align, align, bits)
    path.write_bytes(b"RIFF" + struct.pack("<I", size + 36) + b"WAVEfmt " + fmt + b"data"
                     + struct.pack("<I", size))  # fmt: skip
    os.truncate(path, SPARSE_SIZE)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder with a short path: a Unix socket's path must fit in 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="gs-bad-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


CHILD = textwrap.dedent(
    """
    import io, json, os, sys, time
    sys.path.insert(0, {root!r})
    from audio import AudioError, load_audio

    results = {{}}
    for case, source, cap in json.loads(sys.argv[1]):
        if cap:
            os.environ["{env}"] = str(cap)
        else:
            os.environ.pop("{env}", None)
        if source.startswith("stream:"):
            source = io.BytesIO(bytes(int(source[7:])))
        started = time.monotonic()
        try:
            audio = load_audio(source, sample_rate=16000)
            outcome = f"ok {{audio.duration_s:.1f}} s"
        except AudioError as err:
            outcome = str(err)
        results[case] = [outcome, time.monotonic() - started]
    print(json.dumps(results))
    """
)


def test_files_that_are_not_audio_are_refused_at_once_and_within_memory(short_dir: Path) -> None:
    fifo = short_dir / "pipe.wav"
    os.mkfifo(fifo)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(short_dir / "sock.wav"))
    (short_dir / "loop_a.wav").symlink_to(short_dir / "loop_b.wav")
    (short_dir / "loop_b.wav").symlink_to(short_dir / "loop_a.wav")
    (short_dir / "broken.wav").symlink_to(short_dir / "gone.wav")
    (short_dir / "folder.wav").mkdir()
    zeros = short_dir / "zeros.wav"
    with zeros.open("wb") as f:
        f.truncate(SPARSE_SIZE)
    sparse_wav_with_header(short_dir / "header.wav")
    (short_dir / "random.mp3").write_bytes(np.random.default_rng(0).bytes(64 * 2**20))
    cases = [
        ("fifo", str(fifo), None),
        ("device", "/dev/zero", None),
        ("socket", str(short_dir / "sock.wav"), None),
        ("loop", str(short_dir / "loop_a.wav"), None),
        ("broken", str(short_dir / "broken.wav"), None),
        ("folder", str(short_dir / "folder.wav"), None),
        ("zeros over the cap", str(zeros), None),
        ("zeros under a raised cap", str(zeros), 5000),
        ("4 GB header under a raised cap", str(short_dir / "header.wav"), 5000),
        ("random", str(short_dir / "random.mp3"), None),
        ("stream over the cap", f"stream:{2 * 10**6}", 1),
    ]
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD.format(root=str(REPO_ROOT), env=MAX_FILE_MB_ENV),
             json.dumps(cases)],
            capture_output=True, text=True, timeout=300, preexec_fn=limited,
        )  # fmt: skip
    finally:
        sock.close()
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    got = {case: outcome for case, (outcome, _) in json.loads(done.stdout).items()}
    assert got["fifo"] == f"{fifo} is a named pipe (FIFO), not a regular file."
    assert got["device"] == "/dev/zero is a device, not a regular file."
    assert got["socket"] == f"{short_dir / 'sock.wav'} is a socket, not a regular file."
    assert got["loop"].endswith("loop_a.wav is a symbolic link loop: following its links never "
                                "reaches a file.")  # fmt: skip
    assert got["broken"] == (
        f"{short_dir / 'broken.wav'} is a broken symbolic link: it points to "
        f"{short_dir / 'gone.wav'}, which does not exist."
    )
    assert got["folder"] == f"{short_dir / 'folder.wav'} is a folder, not a regular file."
    assert got["zeros over the cap"].startswith(
        "zeros.wav is too large: 4,295 MB; the limit is 2048 MB. Raise it with --max-file-mb or "
        f"{MAX_FILE_MB_ENV}"
    )
    assert got["zeros under a raised cap"].startswith("zeros.wav is not a recognised audio file")
    # Streamed: 10 minutes of the 4 GB were read (all silence) within the 1.5 GB address space.
    silent = "header.wav is silent: there is no sound to analyse."
    assert got["4 GB header under a raised cap"] == silent
    assert got["random"].startswith("random.mp3 is not a recognised audio file")
    assert got["stream over the cap"].startswith(
        "the file is too large: more than 1 MB; the limit is 1 MB."
    )


def test_a_path_swapped_for_a_fifo_cannot_block(short_dir: Path) -> None:
    """Opened without blocking and checked on the descriptor: no hang even past the first check."""
    from audio.source import _open_regular

    fifo = short_dir / "late.wav"
    os.mkfifo(fifo)
    with pytest.raises(AudioError, match=r"late\.wav is a named pipe \(FIFO\)"):
        os.close(_open_regular(fifo, "late.wav"))


def test_size_cap_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_FILE_MB_ENV, "lots")
    with pytest.raises(AudioError, match=f"{MAX_FILE_MB_ENV} must be a positive number"):
        load_audio(wav_bytes())
    monkeypatch.setenv(MAX_FILE_MB_ENV, "0.01")
    with pytest.raises(AudioError, match=r"the file is too large: 0\.1 MB; the limit is 0\.01 MB"):
        load_audio(wav_bytes(seconds=2))


# --- property-based fuzzing: only AudioError or a valid result ------------------------------


@functools.cache
def real_files() -> dict[str, bytes]:
    """Short real recordings in the formats the decoder meets: WAV, FLAC, OGG and M4A (ffmpeg)."""
    clip = REPO_ROOT.parent / "shared" / "data" / "gtzan" / "audio" / "blues" / "blues.00000.ogg"
    samples, rate = sf.read(clip, dtype="float32", frames=22050 * 3)
    out = {"ogg": clip.read_bytes()}
    for fmt in ("WAV", "FLAC"):
        buffer = io.BytesIO()
        sf.write(buffer, samples, rate, format=fmt)
        out[fmt.lower()] = buffer.getvalue()
    with tempfile.TemporaryDirectory() as folder:
        m4a = Path(folder) / "clip.m4a"
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(clip), "-t", "3", "-c:a",
                        "aac", str(m4a)], check=True, timeout=120)  # fmt: skip
        out["m4a"] = m4a.read_bytes()
    return out


def decodes_or_refuses(data: bytes) -> None:
    try:
        audio = load_audio(data, sample_rate=16000, name="fuzzed")
    except AudioError as err:
        message = str(err)
        assert message.strip() and "\n" not in message
        assert "Traceback" not in message
        return
    assert isinstance(audio, Audio) and audio.sample_rate == 16000
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert np.all(np.isfinite(audio.samples))
    assert audio.duration_s >= MIN_SECONDS


@FUZZ
@given(data=st.binary(max_size=8192))
def test_fuzz_random_bytes(data: bytes) -> None:
    decodes_or_refuses(data)


@FUZZ
@given(kind=st.sampled_from(["wav", "flac", "ogg", "m4a"]), keep=st.floats(0.0, 1.0))
def test_fuzz_truncated_real_files(kind: str, keep: float) -> None:
    data = real_files()[kind]
    decodes_or_refuses(data[: int(len(data) * keep)])


FLIPS = st.lists(
    st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(0, 7)), min_size=1, max_size=16
)


@FUZZ
@given(kind=st.sampled_from(["wav", "flac", "ogg", "m4a"]), flips=FLIPS)
def test_fuzz_bit_flips_in_real_files(kind: str, flips: list[tuple[float, int]]) -> None:
    data = bytearray(real_files()[kind])
    for where, bit in flips:
        # Half the flips land in the first 64 bytes, where the headers are.
        index = int(where * 128) if where < 0.5 else int(where * len(data))
        data[min(index, len(data) - 1)] ^= 1 << bit
    decodes_or_refuses(bytes(data))
