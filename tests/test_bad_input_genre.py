"""``python -m genre classify`` against hostile input, as a user runs it.

Each case is built on the fly and the CLI runs in a real subprocess under a timeout and an
address-space limit: it must answer with exit 1 or 2 and a specific message, never a traceback,
a hang or an unbounded read.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from genre.cli import build_parser
from genre.labels import GTZAN_GENRES
from genre.training.config import RunConfig
from runs.store import RunRegistry
from tests.conftest import REPO_ROOT
from tests.test_training_datasets import write_tiny_dataset

ADDRESS_SPACE = 3 * 2**30  # torch maps a lot of address space; the files may not add to it
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def limit_memory_and_obey_permissions() -> None:
    """Also make permission bits apply: root without the capabilities that bypass them."""
    limit_memory()
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_cli(
    *args: str, home: Path, preexec: Callable[[], None] = limit_memory
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genre", *args], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=400, preexec_fn=preexec, env={**os.environ, "GENRE_STUDIO_HOME": str(home)},
    )  # fmt: skip


def rows(stdout: str) -> dict[str, dict]:
    return {Path(row["file"]).name: row for row in map(json.loads, stdout.strip().splitlines())}


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder with a short path (a Unix socket's path must fit in 108 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="gs-bad-", dir="/tmp"))
    yield folder
    for parent, dirnames, _ in os.walk(folder):  # give back what a test locked, then remove
        for name in dirnames:
            if not os.path.islink(os.path.join(parent, name)):
                os.chmod(os.path.join(parent, name), 0o755)
    shutil.rmtree(folder, ignore_errors=True)


def sparse(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        f.truncate(size)
    return path


def test_files_named_that_cannot_be_read_get_their_reason(
    short_dir: Path, private_data_dir: Path
) -> None:
    os.mkfifo(short_dir / "pipe.wav")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(short_dir / "sock.wav"))
    (short_dir / "a.wav").symlink_to(short_dir / "b.wav")
    (short_dir / "b.wav").symlink_to(short_dir / "a.wav")
    (short_dir / "broken.wav").symlink_to(short_dir / "gone.wav")
    sparse(short_dir / "big.wav", 200 * 10**6)
    sparse(short_dir / "huge.wav", 4 * 2**30)
    names = ["pipe.wav", "sock.wav", "a.wav", "broken.wav", "big.wav", "huge.wav", "nowhere.wav"]
    try:
        done = run_cli("classify", "--json", "--max-file-mb", "100", "/dev/zero",
                       *(str(short_dir / n) for n in names), home=private_data_dir)  # fmt: skip
    finally:
        sock.close()
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    got = {name: row["error"] for name, row in rows(done.stdout).items()}
    assert got == {
        "zero": "/dev/zero is a device, not a regular file.",
        "pipe.wav": f"{short_dir}/pipe.wav is a named pipe (FIFO), not a regular file.",
        "sock.wav": f"{short_dir}/sock.wav is a socket, not a regular file.",
        "a.wav": f"{short_dir}/a.wav is a symbolic link loop: following its links never "
        "reaches a file.",
        "broken.wav": f"{short_dir}/broken.wav is a broken symbolic link: it points to "
        f"{short_dir}/gone.wav, which does not exist.",
        "big.wav": "big.wav is too large: 200 MB; the limit is 100 MB. Raise it with "
        "--max-file-mb or GENRE_STUDIO_MAX_FILE_MB, or cut the file first.",
        "huge.wav": "huge.wav is too large: 4,295 MB; the limit is 100 MB. Raise it with "
        "--max-file-mb or GENRE_STUDIO_MAX_FILE_MB, or cut the file first.",
        "nowhere.wav": f"File not found: {short_dir}/nowhere.wav",
    }


def test_folder_reports_every_entry_it_does_not_classify(
    short_dir: Path, gtzan_dir: Path, private_data_dir: Path
) -> None:
    music = short_dir / "music"
    (music / "album").mkdir(parents=True)
    clip = gtzan_dir / "audio" / "rock" / "rock.00004.ogg"
    shutil.copy(clip, music / "album" / "good.ogg")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=5",
         "-i", str(clip), "-t", "8", "-shortest", "-c:v", "mpeg4", "-c:a", "aac",
         str(music / "video.mp4")],
        check=True, timeout=120,
    )  # fmt: skip
    locked = music / "locked"
    locked.mkdir()
    shutil.copy(clip, locked / "hidden.ogg")
    locked.chmod(0)
    os.mkfifo(music / "pipe.flac")
    (music / "broken.mp3").symlink_to(music / "gone.mp3")
    (music / "loop").symlink_to(music / "loop")
    (music / "album" / "back").symlink_to(music)
    (music / "notes.txt").write_text("not music")
    home = short_dir / "home"  # outside the locked folder, writable
    done = run_cli("classify", "--json", str(music), home=home,
                   preexec=limit_memory_and_obey_permissions)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    got = rows(done.stdout)
    assert got["video.mp4"]["genre"] in GTZAN_GENRES  # an MP4 with a sound track is audio
    assert got["good.ogg"]["genre"] in GTZAN_GENRES
    errors = {name: row["error"] for name, row in got.items() if "error" in row}
    assert errors == {
        "back": f"{music}/album/back links back to a folder already read; not read again.",
        "broken.mp3": f"{music}/broken.mp3 is a broken symbolic link: it points to "
        f"{music}/gone.mp3, which does not exist.",
        "locked": f"Cannot read the folder {locked}: permission denied.",
        "loop": f"{music}/loop is a symbolic link loop: following its links never reaches a file.",
        "pipe.flac": f"{music}/pipe.flac is a named pipe (FIFO), not a regular file.",
    }
    skipped = next(line for line in done.stderr.splitlines() if line.startswith("skipped"))
    assert skipped.startswith(f"skipped 1 file(s) that are not audio by name or content: {music}")


def test_output_into_a_closed_pipe_ends_quietly(gtzan_dir: Path, private_data_dir: Path) -> None:
    clips = [str(p) for p in sorted((gtzan_dir / "audio" / "blues").glob("*.ogg"))[:6]]
    cli = subprocess.Popen(
        [sys.executable, "-m", "genre", "classify", "--json", "--workers", "1",
         "--max-minutes", "0.1", *clips],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit_memory,
        env={**os.environ, "GENRE_STUDIO_HOME": str(private_data_dir)},
    )  # fmt: skip
    assert cli.stdout is not None
    head = subprocess.run(["head", "-1"], stdin=cli.stdout, capture_output=True, timeout=400)
    cli.stdout.close()  # head held the only other reading end: the pipe is now closed
    _, err = cli.communicate(timeout=400)
    assert json.loads(head.stdout)["file"] == clips[0]
    assert cli.returncode == 141  # like a tool stopped by SIGPIPE
    assert b"Traceback" not in err and b"BrokenPipe" not in err and b"error" not in err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--workers", "0", "argument --workers: 0 is out of range: use a whole number from 1"),
        ("--workers", "33", "argument --workers: 33 is out of range"),
        ("--workers", "two", "argument --workers: 'two' is not a whole number"),
        ("--max-minutes", "31", "argument --max-minutes: 31 is out of range: use more than 0"),
        ("--max-minutes", "inf", "argument --max-minutes: inf is out of range"),
        ("--max-file-mb", "0", "argument --max-file-mb: 0 is out of range"),
        ("--max-file-mb", "1e300", "argument --max-file-mb: 1e300 is out of range"),
    ],
)
def test_arguments_out_of_range_are_usage_errors(
    flag: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["classify", flag, value, "x.wav"])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_a_second_trainer_on_a_run_folder_in_use_refuses_at_once(
    tmp_path: Path, private_data_dir: Path
) -> None:
    """Two ``genre train --run-id SAME``: the second refuses (exit 2, naming the process that
    holds the folder) without waiting for the lock, and the first trains on untouched."""
    data = write_tiny_dataset(tmp_path / "clips")
    registry = RunRegistry()
    tiny = {"n_mels": 32, "window_s": 1.0, "hop_s": 0.5, "batch_size": 8, "crops_per_track": 4}
    config = RunConfig(model="linear_mel", dataset=str(data), split="holdout", epochs=5000, **tiny)
    run = registry.create(model=config.model, split=config.split, dataset=config.data_source,
                          config=config.to_dict())  # fmt: skip
    env = {**os.environ, "GENRE_STUDIO_HOME": str(private_data_dir)}
    with (tmp_path / "first.log").open("w") as log:
        first = subprocess.Popen(
            [sys.executable, "-m", "genre", "train", "--run-id", run.id], cwd=REPO_ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=limit_memory,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 240
            while not registry.epochs(run.id):  # training, so the folder is locked
                assert first.poll() is None, (tmp_path / "first.log").read_text()
                assert time.monotonic() < deadline, "no epoch within 4 minutes"
                time.sleep(0.3)
            asked = time.monotonic()
            second = run_cli("train", "--run-id", run.id, home=private_data_dir)
            waited = time.monotonic() - asked
            assert second.returncode == 2, second.stderr
            line = second.stderr.strip().splitlines()[-1]
            assert line == (
                f"error: The run folder {run.folder} is in use by process {first.pid}, which is "
                "training in it now. Wait for it to finish or stop it first."
            )
            assert "Traceback" not in second.stderr
            assert waited < 60, f"the refusal took {waited:.0f} s"  # start-up, not a wait
            assert first.poll() is None  # the first trainer goes on…
            now = registry.get(run.id)
            assert now.status == "running" and now.pid == first.pid and not now.error
            seen = len(registry.epochs(run.id))
            while len(registry.epochs(run.id)) <= seen:  # …and keeps training
                assert first.poll() is None and time.monotonic() < deadline + 60
                time.sleep(0.3)
            assert (run.folder / "run.lock").read_text().strip() == str(first.pid)
        finally:
            first.kill()
            first.wait()
