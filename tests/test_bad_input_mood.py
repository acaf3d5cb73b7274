"""``python -m mood emotion`` against hostile input: each case is built on the fly and run as a
real subprocess with a timeout and an address-space limit. A clear one-line message and exit 1
(bad input) or 2 (bad usage) is expected; never a traceback, a hang or a memory blow-up.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from mood.images import DEFAULT_MAX_FILE_MB, header_size

REPO = Path(__file__).resolve().parents[1]
MEMORY_LIMIT = 3 * 2**30  # address space per CLI run; torch alone reserves ~1 GB of it
TIMEOUT_S = 300  # a hang guard for a loaded 2-core machine, not a speed requirement
TILE = 512  # skimage's astronaut: one face, box about (177, 66, 95, 95)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run(
        [sys.executable, "-m", "mood", *args],
        cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT_S, preexec_fn=limit_memory,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def assert_refused(proc: subprocess.CompletedProcess, message: str, code: int = 1) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "unexpected error" not in proc.stderr
    assert proc.stdout == ""


def bomb_png(path: Path, width: int, height: int) -> None:
    """A valid 1-bit PNG of width×height, all black: a few hundred kB on disk, 3.6 GB of pixels
    at 60000×60000 once decoded. Compressed row by row, so making it needs no memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit gray
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.ascontiguousarray(skimage.data.astronaut()[:, :, ::-1])


# ------------------------------------------------------------------ what is not a regular file
def test_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "camera.jpg"
    os.mkfifo(fifo)  # nobody writes to it: reading it would block forever
    assert_refused(run_cli("emotion", str(fifo)), "it is a named pipe (FIFO), not a regular file")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp, "it is a folder, not a regular file"),
        (lambda tmp: Path("/dev/zero"), "it is a device, not a regular file"),
    ],
    ids=["folder", "device"],
)
def test_folders_and_devices_are_refused(tmp_path, make, message):
    assert_refused(run_cli("emotion", str(make(tmp_path))), message)


def test_symlink_loop_and_broken_link_say_so(tmp_path):
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    assert_refused(run_cli("emotion", str(tmp_path / "a.png")), "it is a symbolic link loop")
    (tmp_path / "gone.png").symlink_to(tmp_path / "deleted.png")
    assert_refused(
        run_cli("emotion", str(tmp_path / "gone.png")),
        "it is a broken symbolic link (its target",
    )


def test_file_over_the_size_cap_is_refused_before_reading(tmp_path):
    sparse = tmp_path / "huge.png"
    with sparse.open("wb") as f:  # 4 GB that take no disk and would take 4 GB to read
        f.truncate(4 * 10**9)
    proc = run_cli("emotion", str(sparse))
    assert_refused(proc, f"images of at most {DEFAULT_MAX_FILE_MB:g} MB are read")
    assert "4000.0 MB" in proc.stderr and "MOOD_MAX_IMAGE_MB" in proc.stderr


# ------------------------------------------------------------------ images too large in pixels
def test_decompression_bomb_png_is_refused_from_its_header(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb_png(bomb, 60000, 60000)
    assert bomb.stat().st_size < 1_000_000 and header_size(bomb.read_bytes()) == (60000, 60000)
    proc = run_cli("emotion", str(bomb))
    assert_refused(proc, "The image is too large (60000×60000, 3600.0 megapixels)")
    assert "at most 40 megapixels" in proc.stderr and "MOOD_MAX_IMAGE_MEGAPIXELS" in proc.stderr
    assert "CV_IO_MAX_IMAGE_PIXELS" not in proc.stderr


def test_pixel_limit_is_configurable(tmp_path, astronaut):
    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), astronaut)  # 512×512 = 0.26 megapixels
    assert_refused(
        run_cli("emotion", str(path), "--max-megapixels", "0.25"),
        "at most 0.25 megapixels are read",
    )
    assert_refused(
        run_cli("emotion", str(path), env={"MOOD_MAX_IMAGE_MEGAPIXELS": "0.2"}),
        "at most 0.2 megapixels are read",
    )
    # the option wins over the environment
    proc = run_cli(
        "emotion", str(path), "--json", "--max-megapixels", "1",
        env={"MOOD_MAX_IMAGE_MEGAPIXELS": "0.2"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [f["emotion"] for f in json.loads(proc.stdout)["faces"]] == ["happy"]


# ------------------------------------------------------------------ argument extremes
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-megapixels", "0"], "'0' is not a number between 0.01 and 250"),
        (["--max-megapixels", "-5"], "'-5' is not a number between 0.01 and 250"),
        (["--max-megapixels", "nan"], "'nan' is not a number between 0.01 and 250"),
        (["--max-megapixels", "1e308"], "'1e308' is not a number between 0.01 and 250"),
        (["--max-file-mb", "lots"], "'lots' is not a number between 0.01 and 1000"),
        (["--backend", "magic"], "invalid choice: 'magic'"),
    ],
)
def test_bad_arguments_are_usage_errors(tmp_path, args, message):
    assert_refused(run_cli("emotion", str(tmp_path / "any.png"), *args), message, code=2)


def test_bad_limit_in_the_environment_is_a_clear_error(tmp_path, astronaut):
    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), astronaut)
    assert_refused(
        run_cli("emotion", str(path), env={"MOOD_MAX_IMAGE_MB": "-1"}),
        "MOOD_MAX_IMAGE_MB='-1' is not a number between 0.01 and 1000.",
    )


# ------------------------------------------------------------------ large images, real faces
def face_in_tile(box: list[int], tile: int = TILE, scale: float = 1.0) -> bool:
    """True when a box sits where the astronaut's face is within its tile."""
    x, y, w, h = box
    fx, fy = (x % tile) / scale, (y % tile) / scale
    return 160 < fx < 200 and 50 < fy < 85 and 80 < w / scale < 115 and w == h


def test_large_photo_with_144_faces_finds_them(tmp_path, astronaut):
    path = tmp_path / "crowd.jpg"
    cv2.imwrite(str(path), np.tile(astronaut, (12, 12, 1)), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert header_size(path.read_bytes()) == (6144, 6144)  # 37.7 megapixels
    proc = run_cli("emotion", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    faces = json.loads(proc.stdout)["faces"]
    # Boxes are in the original image's pixels, each on a face: none in the background.
    assert len(faces) >= 136, len(faces)  # measured: 141 of 144 with the default settings
    assert all(face_in_tile(f["box"]) for f in faces), [f["box"] for f in faces]
    assert len({(f["box"][0] // TILE, f["box"][1] // TILE) for f in faces}) == len(faces)
    assert sum(f["emotion"] == "happy" for f in faces) >= 0.9 * len(faces)


def test_large_tiled_faces_give_no_background_faces(tmp_path, astronaut):
    # 6000×6000, nine 2000-px astronauts: the face cascade alone also fires on the seams and
    # uniform (answers "angry"/"sad" there, the largest of them ranked first).
    tile = cv2.resize(astronaut, (2000, 2000), interpolation=cv2.INTER_CUBIC)
    path = tmp_path / "nine.jpg"
    cv2.imwrite(str(path), np.tile(tile, (3, 3, 1)), [cv2.IMWRITE_JPEG_QUALITY, 90])
    proc = run_cli("emotion", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    faces = json.loads(proc.stdout)["faces"]
    assert len(faces) == 9, [f["box"] for f in faces]
    assert all(face_in_tile(f["box"], 2000, 2000 / TILE) for f in faces)
    assert all(f["emotion"] == "happy" for f in faces)


def test_large_texture_without_faces_gives_no_face(tmp_path):
    # Photo-like 1/f noise, 4096×4096 (the face cascade alone finds a 179-px "face" in it).
    rng = np.random.default_rng(0)
    freq = np.fft.fftfreq(4096)
    power = freq[:, None] ** 2 + freq[None, :] ** 2
    power[0, 0] = 1.0
    spectrum = (
        rng.standard_normal(power.shape) + 1j * rng.standard_normal(power.shape)
    ) / power**0.5
    noise = np.real(np.fft.ifft2(spectrum))
    image = ((noise - noise.min()) / (noise.max() - noise.min()) * 255).astype(np.uint8)
    path = tmp_path / "texture.png"
    cv2.imwrite(str(path), image)
    proc = run_cli("emotion", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("No face found.") and "Traceback" not in proc.stderr


# ------------------------------------------------------------------ output closed early
def test_closed_stdout_exits_quietly(tmp_path, astronaut):
    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), astronaut)
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `python -m mood emotion … | head -0`
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mood", "emotion", str(path)],
            cwd=REPO, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=TIMEOUT_S,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert proc.returncode == 141 and proc.stderr == "", proc.stderr
