"""Unexpected errors go to a log file with their traceback; users see one clear sentence."""

from __future__ import annotations

import logging

from genre.paths import data_dir

_configured = False


def get_logger(name: str = "genre") -> logging.Logger:
    global _configured
    logger = logging.getLogger(name)
    if not _configured:
        log_dir = data_dir() / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_dir / "genre-studio.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger("genre")
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        _configured = True
    return logger
