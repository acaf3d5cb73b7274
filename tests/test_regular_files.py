"""special_file_kind: the words the audio and image readers use for what they refuse."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from regular_files import special_file_kind


def test_only_a_regular_file_has_no_kind(tmp_path: Path) -> None:
    song = tmp_path / "song.wav"
    song.write_bytes(b"RIFF")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    sock_path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        kinds = {
            "file": special_file_kind(os.stat(song).st_mode),
            "folder": special_file_kind(os.stat(tmp_path).st_mode),
            "fifo": special_file_kind(os.stat(pipe).st_mode),
            "device": special_file_kind(os.stat("/dev/null").st_mode),
            "socket": special_file_kind(os.stat(sock_path).st_mode),
        }
    assert kinds == {
        "file": None,
        "folder": "a folder",
        "fifo": "a named pipe (FIFO)",
        "device": "a device",
        "socket": "a socket",
    }
