"""Unexpected errors go to a log file with their traceback; users see one clear sentence."""

from __future__ import annotations

import logging
from pathlib import Path

from genre.paths import data_dir

_configured = False


def log_file() -> Path:
    """The app's one log file (in the data folder): tracebacks of unexpected errors go here."""
    return data_dir() / "logs" / "genre-studio.log"


def get_logger(name: str = "genre") -> logging.Logger:
    global _configured
    logger = logging.getLogger(name)
    if not _configured:
        path = log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger("genre")
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        _configured = True
    return logger
