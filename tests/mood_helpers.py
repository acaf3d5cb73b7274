"""Helpers for the mood tests: network endpoints that fail in known ways, the deepface stand-in."""

from __future__ import annotations

import importlib
import socket
import sys
import threading
from pathlib import Path

import pytest

from mood.network import PROXY_VARIABLES

DEEPFACE_STANDIN = Path(__file__).parent / "fixtures" / "mood" / "deepface_standin"


class SilentProxy:
    """A loopback 'proxy' that accepts connections and never answers (a blocked network)."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.clients: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
                self.clients.append(conn)
            except OSError:
                continue

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        for conn in self.clients:
            conn.close()
        self.server.close()


def refusing_proxy_url() -> str:
    """A loopback port nobody listens on: every connection is refused at once (no network)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def install_deepface_standin(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Make ``import deepface`` find the stand-in, with its weights folder under ``home``.

    No proxy is set (tests add one); the stand-in's modules are dropped again by
    :func:`remove_deepface_standin`.
    """
    monkeypatch.syspath_prepend(str(DEEPFACE_STANDIN))
    monkeypatch.setenv("DEEPFACE_HOME", str(home))
    monkeypatch.delenv("DEEPFACE_BACKEND_ENGINE", raising=False)
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    remove_deepface_standin()


def remove_deepface_standin() -> None:
    for name in [m for m in sys.modules if m == "deepface" or m.startswith("deepface.")]:
        del sys.modules[name]
    importlib.invalidate_caches()
