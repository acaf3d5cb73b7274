"""The default data folder: the one definition, also behind ``genre.paths.data_dir``."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "GENRE_STUDIO_HOME"  # a started run's process gets its registry's root here


def default_root() -> Path:
    """``GENRE_STUDIO_HOME``, else ``~/.local/share/genre-studio`` (not created here)."""
    configured = os.environ.get(HOME_ENV)
    return Path(configured) if configured else Path.home() / ".local" / "share" / "genre-studio"
